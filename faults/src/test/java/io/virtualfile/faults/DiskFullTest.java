package io.virtualfile.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.virtualfile.CrashSafeOverwriteException;
import io.virtualfile.CrashSafeOverwriteException.Step;
import io.virtualfile.VirtualFile;
import io.virtualfile.faults.support.Files2;
import io.virtualfile.faults.support.FsKind;
import io.virtualfile.faults.support.Root;
import io.virtualfile.reactive.AsyncVirtualFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.Exceptions;

/**
 * A full file system (ENOSPC), for real: a small ext4 or xfs on a loop device, filled with a synced
 * file. An overwrite fails before its rename and leaves the old content and no temp file; positional
 * writes report the error; once space is freed, the next overwrite succeeds.
 */
class DiskFullTest extends OnLoopFileSystems {
  private static final byte[] OLD = Files2.content(4096, 1);
  private static final byte[] NEW = Files2.content(1 << 20, 2); // more than a full file system has left

  /** A fresh small file system with {@code data/state} holding OLD, durably. */
  private Path fileSystemWithOldContent(FsKind kind) throws IOException {
    Root.assumeAvailable(kind);
    fs = scratch.newFileSystem(kind, kind == FsKind.EXT4 ? 16L << 20 : kind.defaultSize(), "");
    Path dir = Files.createDirectory(fs.mountPoint().resolve("data"));
    VirtualFile.crashSafeOverwrite(dir.resolve("state"), ByteBuffer.wrap(OLD));
    return dir;
  }

  @ParameterizedTest
  @EnumSource(FsKind.class)
  void coreOverwrite_onFullFileSystem_failsBeforeRename_keepingOldContentAndNoTemp(FsKind kind)
      throws Exception {
    Path dir = fileSystemWithOldContent(kind);
    Files2.fill(dir);

    Throwable e = catchThrowable(() -> VirtualFile.crashSafeOverwrite(dir.resolve("state"), ByteBuffer.wrap(NEW)));

    assertFailedForLackOfSpace(e);
    assertThat(Files.readAllBytes(dir.resolve("state"))).isEqualTo(OLD);
    assertThat(Files2.others(dir, "state", "filler")).as("temp files left").isEmpty();
  }

  @EngineSubject
  @ParameterizedTest
  @EnumSource(FsKind.class)
  void reactiveOverwrite_onFullFileSystem_failsBeforeRename_keepingOldContentAndNoTemp(FsKind kind)
      throws Exception {
    Path dir = fileSystemWithOldContent(kind);
    Files2.fill(dir);

    Throwable e = catchThrowable(() -> io.overwrite(dir.resolve("state"), ByteBuffer.wrap(NEW)).block());

    assertFailedForLackOfSpace(Exceptions.unwrap(e));
    assertThat(Files.readAllBytes(dir.resolve("state"))).isEqualTo(OLD);
    assertThat(Files2.others(dir, "state", "filler")).as("temp files left").isEmpty();
  }

  @EngineSubject
  @ParameterizedTest
  @EnumSource(FsKind.class)
  void overwrites_afterSpaceIsFreed_succeedAgain(FsKind kind) throws Exception {
    Path dir = fileSystemWithOldContent(kind);
    Path filler = Files2.fill(dir);
    Path state = dir.resolve("state");
    assertThat(catchThrowable(() -> VirtualFile.crashSafeOverwrite(state, ByteBuffer.wrap(NEW))))
        .isInstanceOf(CrashSafeOverwriteException.class);
    assertThat(catchThrowable(() -> io.overwrite(state, ByteBuffer.wrap(NEW)).block())).isNotNull();

    Files.delete(filler);

    VirtualFile.crashSafeOverwrite(state, ByteBuffer.wrap(NEW));
    assertThat(Files.readAllBytes(state)).isEqualTo(NEW);
    io.overwrite(state, ByteBuffer.wrap(OLD)).block();
    assertThat(Files.readAllBytes(state)).isEqualTo(OLD);
  }

  @ParameterizedTest
  @EnumSource(FsKind.class)
  void virtualFileWriteAllAt_onFullFileSystem_reportsNoSpace(FsKind kind) throws Exception {
    Path dir = fileSystemWithOldContent(kind);
    try (VirtualFile f = VirtualFile.open(dir.resolve("log"), StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE)) {
      Files2.fill(dir);

      Throwable e = catchThrowable(() -> f.writeAllAt(ByteBuffer.wrap(NEW), 0));

      assertThat(e).isInstanceOf(IOException.class).hasMessageContaining("No space left on device");
    }
  }

  @EngineSubject
  @ParameterizedTest
  @EnumSource(FsKind.class)
  void asyncVirtualFileWriteAllAt_onFullFileSystem_reportsNoSpace(FsKind kind) throws Exception {
    Path dir = fileSystemWithOldContent(kind);
    AsyncVirtualFile f = AsyncVirtualFile.open(dir.resolve("log"), io, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE).block();
    try {
      Files2.fill(dir);

      Throwable e = catchThrowable(() -> f.writeAllAt(ByteBuffer.wrap(NEW), 0).block());

      assertThat(Exceptions.unwrap(e)).isInstanceOf(IOException.class)
          .hasMessageContaining("No space left on device");
    } finally {
      f.close().block();
    }
  }

  /** Failed at creating or writing the temp file, before the rename, for lack of space. */
  static void assertFailedForLackOfSpace(Throwable e) {
    assertThat(e).isInstanceOf(CrashSafeOverwriteException.class);
    CrashSafeOverwriteException c = (CrashSafeOverwriteException) e;
    assertThat(c.step()).as("%s", c).isIn(Step.CREATE_TEMP, Step.WRITE);
    assertThat(c.newContentVisible()).isFalse();
    assertThat(c.getCause()).hasMessageContaining("No space left on device");
  }
}
