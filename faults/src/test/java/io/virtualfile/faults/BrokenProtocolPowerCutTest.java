package io.virtualfile.faults;

import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.faults.powercut.Overwriters;
import io.virtualfile.faults.powercut.PowerCut;
import io.virtualfile.faults.support.FsKind;
import io.virtualfile.faults.support.Root;
import io.virtualfile.faults.support.Scratch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * Negative controls: the power cuts of {@link PowerCutTest}, same harness and same checks, catch broken
 * overwrite protocols. Detection rates per cut are in benchmarks/results/faults.md.
 */
class BrokenProtocolPowerCutTest {
  /**
   * More cuts than the positive tests: the rarest caught failure (no directory fsync on ext4) showed up
   * in about 1 cut in 6, so 80 cuts miss it with a probability of about 1 in a million.
   */
  private static final int CUTS = PowerCut.cuts(80);
  private static Scratch scratch;

  @BeforeAll
  static void scratch() throws Exception {
    Root.assumeFileSystemsCanBeMade();
    scratch = Scratch.create("1g");
  }

  @AfterAll
  static void cleanUp() throws Exception {
    if (scratch != null) {
      scratch.close();
    }
  }

  @Test
  void noFileFsync_onExt4_leavesTornFiles() throws Exception {
    assertTorn(run(FsKind.EXT4, Overwriters.NO_FILE_FSYNC, 201));
  }

  @Test
  void noFileFsync_onXfs_leavesTornFiles() throws Exception {
    Root.assumeAvailable(FsKind.XFS);
    assertTorn(run(FsKind.XFS, Overwriters.NO_FILE_FSYNC, 202));
  }

  @Test
  void noDirectoryFsync_onExt4_losesAcknowledgedVersions() throws Exception {
    assertLost(run(FsKind.EXT4, Overwriters.NO_DIRECTORY_FSYNC, 203));
  }

  @Test
  void noDirectoryFsync_onXfs_losesAcknowledgedVersions() throws Exception {
    Root.assumeAvailable(FsKind.XFS);
    assertLost(run(FsKind.XFS, Overwriters.NO_DIRECTORY_FSYNC, 204));
  }

  // Not caught: the state it can leave (the rename durable, the data not) exists only between the
  // rename and the data's writeback inside the fsync that follows; a cut freezes the writer at a
  // system-call boundary and then copies what the device has, so it would need a journal commit by
  // someone else inside that window. On ext4, auto_da_alloc also starts the data's writeback at a
  // rename over an existing file, so ordered mode writes it before any commit of the rename.
  @Disabled("not caught by these power cuts: 0 of 40 cuts on ext4, 0 of 40 on xfs; see benchmarks/results/faults.md")
  @Test
  void renameBeforeFsync_onExt4_leavesTornFiles() throws Exception {
    assertTorn(run(FsKind.EXT4, Overwriters.RENAME_BEFORE_FSYNC, 205));
  }

  @Disabled("not caught by these power cuts: 0 of 40 cuts on ext4, 0 of 40 on xfs; see benchmarks/results/faults.md")
  @Test
  void renameBeforeFsync_onXfs_leavesTornFiles() throws Exception {
    Root.assumeAvailable(FsKind.XFS);
    assertTorn(run(FsKind.XFS, Overwriters.RENAME_BEFORE_FSYNC, 206));
  }

  private static PowerCut.Report run(FsKind fs, Overwriters broken, long seed) throws Exception {
    PowerCut.Report r = PowerCut.run(scratch, fs, broken, CUTS, seed);
    System.out.println("power cuts (negative control): " + r);
    return r;
  }

  private static void assertTorn(PowerCut.Report r) {
    assertThat(r.torn()).as("cuts that found a torn or zero-filled file: %s", r).isPositive();
  }

  private static void assertLost(PowerCut.Report r) {
    assertThat(r.lost()).as("cuts that found an acknowledged version lost: %s", r).isPositive();
  }
}
