package io.virtualfile.faults;

import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.CrashSafeOverwriteException;
import io.virtualfile.VirtualFile;
import io.virtualfile.faults.support.Files2;
import io.virtualfile.faults.support.FsKind;
import io.virtualfile.faults.support.LoopFs;
import io.virtualfile.faults.support.Root;
import io.virtualfile.faults.support.Sh;
import io.virtualfile.torture.VersionedContent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.Exceptions;

/**
 * The file system turns read-only while overwrites run: the overwrite in flight fails with a {@link
 * CrashSafeOverwriteException} that names its step; at the next start (unmount, mount) {@link
 * VirtualFile#removeStaleTempFiles} removes what it left, and the file holds a complete version no
 * older than the last acknowledged one.
 */
class ReadOnlyFileSystemTest extends OnLoopFileSystems {
  /** How the file system turns read-only. */
  enum Event {
    /** An administrator's {@code mount -o remount,ro} (refused while a file is open for writing: retried). */
    EXT4_REMOUNT_READ_ONLY(FsKind.EXT4),
    /** ext4 detects an error and, mounted {@code errors=remount-ro}, aborts its journal and turns read-only. */
    EXT4_ERROR(FsKind.EXT4),
    XFS_REMOUNT_READ_ONLY(FsKind.XFS),
    /**
     * xfs shuts down (as after a metadata write error), having flushed its log: every later operation
     * fails with EIO. Without the flush (shutdown without -f) an acknowledged version was lost once;
     * see benchmarks/results/faults.md.
     */
    XFS_SHUTDOWN(FsKind.XFS);

    final FsKind kind;

    Event(FsKind kind) {
      this.kind = kind;
    }

    void happen(LoopFs fs) throws Exception {
      switch (this) {
        case EXT4_ERROR -> Files.writeString(
            Path.of("/sys/fs/ext4", fs.device().substring("/dev/".length()), "trigger_fs_error"),
            "virtualfile ReadOnlyFileSystemTest");
        case XFS_SHUTDOWN -> Sh.run("xfs_io", "-x", "-c", "shutdown -f", fs.mountPoint().toString());
        default -> {
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
          while (!Sh.exec("mount", "-o", "remount,ro", fs.mountPoint().toString()).ok()) {
            if (System.nanoTime() > deadline) {
              throw new AssertionError("remount,ro kept failing for 30 s");
            }
            Thread.sleep(1);
          }
        }
      }
    }
  }

  @FunctionalInterface
  interface Call {
    void overwrite(Path path, java.nio.ByteBuffer content) throws Exception;
  }

  @ParameterizedTest
  @EnumSource(Event.class)
  void coreOverwrite_whenTheFileSystemTurnsReadOnly_failsClearly_andTheNextStartCleansUp(Event event)
      throws Exception {
    failsClearlyAndTheNextStartCleansUp(event, VirtualFile::crashSafeOverwrite);
  }

  @EngineSubject
  @ParameterizedTest
  @EnumSource(Event.class)
  void reactiveOverwrite_whenTheFileSystemTurnsReadOnly_failsClearly_andTheNextStartCleansUp(Event event)
      throws Exception {
    failsClearlyAndTheNextStartCleansUp(event, (p, c) -> {
      try {
        io.overwrite(p, c).block();
      } catch (RuntimeException e) {
        throw Exceptions.unwrap(e) instanceof Exception x ? x : e;
      }
    });
  }

  private void failsClearlyAndTheNextStartCleansUp(Event event, Call call) throws Exception {
    Root.assumeAvailable(event.kind);
    if (event == Event.XFS_SHUTDOWN) {
      org.junit.jupiter.api.Assumptions.assumeTrue(Sh.has("xfs_io"), "skipped: xfs_io is not installed");
    }
    fs = scratch.newFileSystem(event.kind, event.kind.defaultSize(),
        event.kind == FsKind.EXT4 ? "errors=remount-ro" : "");
    Path dir = Files.createDirectory(fs.mountPoint().resolve("data"));
    VirtualFile.fsyncDirectory(fs.mountPoint());
    Path state = dir.resolve("state");
    AtomicLong acknowledged = new AtomicLong();
    CompletableFuture<Throwable> failure = CompletableFuture.supplyAsync(() -> {
      try {
        for (long v = 1; ; v++) {
          call.overwrite(state, VersionedContent.encode(v));
          acknowledged.set(v);
        }
      } catch (Throwable e) {
        return e;
      }
    });
    while (acknowledged.get() < 20 && !failure.isDone()) {
      Thread.sleep(1);
    }

    event.happen(fs);

    Throwable e = failure.get(60, TimeUnit.SECONDS);
    // Clear: an IOException that names the file. Usually a CrashSafeOverwriteException naming the step;
    // when the fault hits the check of the final path before the first step (a stat failing with EIO
    // on a shut-down xfs), the JDK's FileSystemException for that path.
    assertThat(e).isInstanceOf(java.io.IOException.class).hasMessageContaining(state.toString());
    if (e instanceof CrashSafeOverwriteException c) {
      assertThat(c.getMessage()).contains(c.step().toString());
      assertThat(c.getCause()).isInstanceOf(java.io.IOException.class);
    }
    long lastAcknowledged = acknowledged.get();

    fs.unmount(); // the next start
    fs.mount(event.kind == FsKind.EXT4 ? "errors=remount-ro" : "");
    int removed = VirtualFile.removeStaleTempFiles(dir);

    assertThat(removed).as("temp files left by the failed overwrite").isLessThanOrEqualTo(1);
    assertThat(Files2.others(dir, "state")).isEmpty();
    long version = VersionedContent.decode(Files.readAllBytes(state)); // complete, or this throws
    // ext4's error handling aborts the journal, discarding its running transaction; an fsync that was
    // waiting for that transaction has been seen to return success anyway (benchmarks/results/faults.md),
    // so there the last acknowledged overwrite may be lost. Elsewhere it may not.
    long oldest = event == Event.EXT4_ERROR ? lastAcknowledged - 1 : lastAcknowledged;
    assertThat(version).as("after %s", e).isBetween(oldest, lastAcknowledged + 1);
  }
}
