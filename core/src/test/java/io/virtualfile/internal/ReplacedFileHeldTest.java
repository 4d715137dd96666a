package io.virtualfile.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.virtualfile.CrashSafeOverwriteException;
import io.virtualfile.CrashSafeOverwriteException.Step;
import io.virtualfile.testing.ForwardingFileOps;
import io.virtualfile.testing.ProcessDescriptors;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The overwrite holds the file its rename replaces open across the rename, so that the rename does
 * not free that file while it holds the directory's lock (see {@link OverwriteProtocol#prepareRename}).
 */
class ReplacedFileHeldTest {
  @TempDir Path dir;

  private static void assumeLinuxDescriptors() {
    assumeTrue(System.getProperty("os.name", "").startsWith("Linux") && ProcessDescriptors.countable(),
        "holding the replaced file, and seeing it in /proc/self/fd, are Linux's");
  }

  private static void overwrite(FileOps ops, Path file, String content) throws IOException {
    OverwriteProtocol.prepare(ops, JdkFileOps.CHANNEL_TEMP_FILES, file, null)
        .run(ByteBuffer.wrap(content.getBytes(UTF_8)));
  }

  @Test
  void theReplacedFileIsHeldAcrossTheRenameAndReleasedBeforeTheDirectoryIsOpened()
      throws IOException {
    assumeLinuxDescriptors();
    Path file = Files.writeString(dir.resolve("f"), "old");
    AtomicLong heldAfterRename = new AtomicLong(-1);
    AtomicLong openAtDirectorySync = new AtomicLong(-1);
    FileOps ops = new ForwardingFileOps(JdkFileOps.INSTANCE) {
      @Override
      public void atomicMove(Path source, Path target) throws IOException {
        delegate.atomicMove(source, target);
        heldAfterRename.set(ProcessDescriptors.countDeletedUnder(dir));
      }

      @Override
      public Directory openDirectory(Path d) throws IOException {
        openAtDirectorySync.set(ProcessDescriptors.countUnder(dir));
        return delegate.openDirectory(d);
      }
    };

    overwrite(ops, file, "new");

    assertThat(heldAfterRename).as("descriptors of the replaced file right after the rename").hasValue(1);
    assertThat(openAtDirectorySync).as("descriptors when the directory is opened").hasValue(0);
    assertThat(ProcessDescriptors.countUnder(dir)).as("descriptors left after the overwrite").isZero();
    assertThat(Files.readString(file)).isEqualTo("new");
  }

  @Test
  void aFailedRenameReleasesTheHeldFile() throws IOException {
    assumeLinuxDescriptors();
    Path file = Files.writeString(dir.resolve("f"), "old");
    FileOps ops = new ForwardingFileOps(JdkFileOps.INSTANCE) {
      @Override
      public void atomicMove(Path source, Path target) throws IOException {
        throw new IOException("injected rename failure");
      }
    };

    assertThatThrownBy(() -> overwrite(ops, file, "new"))
        .isInstanceOfSatisfying(CrashSafeOverwriteException.class,
            e -> assertThat(e.step()).isEqualTo(Step.RENAME));

    assertThat(ProcessDescriptors.countUnder(dir)).as("descriptors left after the failure").isZero();
    assertThat(Files.readString(file)).isEqualTo("old");
  }

  @Test
  void aFifoPutAtTheFinalPathAfterItWasCheckedDoesNotHoldUpTheOverwrite() throws Exception {
    assumeLinuxDescriptors();
    Path file = Files.writeString(dir.resolve("f"), "old");
    FileOps ops = new ForwardingFileOps(JdkFileOps.INSTANCE) {
      @Override
      public Closeable holdReplaced(Path target) {
        try { // someone else swaps the checked file for a FIFO just before it is held
          Files.delete(target);
          Process mkfifo = new ProcessBuilder("mkfifo", target.toString()).inheritIO().start();
          assertThat(mkfifo.waitFor()).as("mkfifo's exit status").isZero();
        } catch (IOException | InterruptedException e) {
          throw new AssertionError(e);
        }
        return delegate.holdReplaced(target);
      }
    };

    // An open of a FIFO for reading alone waits for a writer that never comes.
    assertTimeoutPreemptively(Duration.ofSeconds(20), () -> overwrite(ops, file, "new"));

    assertThat(Files.isRegularFile(file)).isTrue();
    assertThat(Files.readString(file)).isEqualTo("new");
    assertThat(ProcessDescriptors.countUnder(dir)).isZero();
  }

  @Test
  void theReplacedFileCanStillBeExecutedWhileItIsHeld() throws Exception {
    assumeLinuxDescriptors();
    Path trueProgram = Path.of("/bin/true");
    assumeTrue(Files.isExecutable(trueProgram), "needs /bin/true");
    Path file = Files.copy(trueProgram, dir.resolve("tool"));
    assertThat(file.toFile().setExecutable(true)).isTrue();
    AtomicLong exitWhileHeld = new AtomicLong(-1);
    FileOps ops = new ForwardingFileOps(JdkFileOps.INSTANCE) {
      @Override
      public void atomicMove(Path source, Path target) throws IOException {
        // held now: an open of it for writing would make exec fail with ETXTBSY ("Text file busy")
        try {
          exitWhileHeld.set(new ProcessBuilder(target.toString()).start().waitFor());
        } catch (InterruptedException e) {
          throw new AssertionError(e);
        }
        delegate.atomicMove(source, target);
      }
    };

    overwrite(ops, file, "#!/bin/sh\nexit 3\n");

    assertThat(exitWhileHeld).as("exit status of the old program, run while held").hasValue(0);
  }

  @Test
  void atMostTheBoundOfReplacedFilesIsHeldAtOnce() throws IOException {
    assumeLinuxDescriptors();
    java.util.List<Closeable> held = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < JdkFileOps.MAX_HELD_REPLACED + 8; i++) {
        Closeable c = JdkFileOps.INSTANCE.holdReplaced(Files.writeString(dir.resolve("f" + i), "x"));
        if (c != null) {
          held.add(c);
        }
      }
      assertThat(held).hasSize(JdkFileOps.MAX_HELD_REPLACED);

      Closeable first = held.remove(0);
      first.close();
      first.close(); // a second close gives back nothing more
      Closeable again = JdkFileOps.INSTANCE.holdReplaced(dir.resolve("f0"));
      assertThat(again).as("a permit freed by a close").isNotNull();
      held.add(again);
      assertThat(JdkFileOps.INSTANCE.holdReplaced(dir.resolve("f1"))).as("still at the bound").isNull();
    } finally {
      for (Closeable c : held) {
        c.close();
      }
    }
    assertThat(ProcessDescriptors.countUnder(dir)).isZero();
  }

  @Test
  void nothingIsHeldInADirectoryThatOtherUsersMayChange() throws IOException {
    assumeLinuxDescriptors();
    Path shared = Files.createDirectory(dir.resolve("shared"));
    Path file = Files.writeString(shared.resolve("f"), "old");
    Files.setPosixFilePermissions(shared, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxr-x"));
    assertThat(JdkFileOps.INSTANCE.holdReplaced(file)).as("group may write the directory").isNull();

    Files.setPosixFilePermissions(shared, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    Closeable held = JdkFileOps.INSTANCE.holdReplaced(file);
    assertThat(held).as("only the owner may write the directory").isNotNull();
    held.close();
  }

  @Test
  void nothingIsHeldWhereNoFileIsReplaced() throws IOException {
    assertThat(JdkFileOps.INSTANCE.holdReplaced(dir.resolve("absent"))).isNull();
    Path sub = Files.createDirectory(dir.resolve("sub"));
    assertThat(JdkFileOps.INSTANCE.holdReplaced(sub)).as("a directory").isNull();
  }
}
