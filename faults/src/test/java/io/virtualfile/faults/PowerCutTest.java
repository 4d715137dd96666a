package io.virtualfile.faults;

import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.faults.powercut.Overwriters;
import io.virtualfile.faults.powercut.PowerCut;
import io.virtualfile.faults.support.ExpectedEngine;
import io.virtualfile.faults.support.FsKind;
import io.virtualfile.faults.support.Root;
import io.virtualfile.faults.support.Scratch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Power cuts at random instants while the library overwrites a file in a loop, on real ext4 and xfs
 * (see {@link PowerCut}): after every cut the file holds one complete version no older than the last
 * acknowledged one, and at most one temp file is left. 50 cuts per file system and call by default;
 * {@code -Dvirtualfile.powercut.cuts=N} for more.
 */
class PowerCutTest {
  private static final int CUTS = PowerCut.cuts(50);
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
  void coreOverwrite_onExt4_survivesPowerCuts() throws Exception {
    survivesPowerCuts(FsKind.EXT4, Overwriters.CORE, 101);
  }

  @EngineSubject
  @Test
  void reactiveOverwrite_onExt4_survivesPowerCuts() throws Exception {
    survivesPowerCuts(FsKind.EXT4, Overwriters.REACTIVE, 102);
  }

  @Test
  void coreOverwrite_onXfs_survivesPowerCuts() throws Exception {
    Root.assumeAvailable(FsKind.XFS);
    survivesPowerCuts(FsKind.XFS, Overwriters.CORE, 103);
  }

  @EngineSubject
  @Test
  void reactiveOverwrite_onXfs_survivesPowerCuts() throws Exception {
    Root.assumeAvailable(FsKind.XFS);
    survivesPowerCuts(FsKind.XFS, Overwriters.REACTIVE, 104);
  }

  private static void survivesPowerCuts(FsKind fs, Overwriters call, long seed) throws Exception {
    PowerCut.Report r = PowerCut.run(scratch, fs, call, CUTS, seed);
    System.out.println("power cuts: " + r);
    if (call == Overwriters.REACTIVE) {
      ExpectedEngine.check("the power-cut child", r.engine());
    }
    assertThat(r.lastAcknowledged()).as("the child made progress: %s", r).isGreaterThan(CUTS);
    assertThat(r.failures()).as("lost, torn, unmountable or too many temps: %s", r).isZero();
    assertThat(r.maxTemps()).isLessThanOrEqualTo(1);
  }
}
