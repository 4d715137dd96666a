package io.virtualfile.benchmarks.device;

import com.sun.nio.file.ExtendedOpenOption;
import io.virtualfile.reactive.AsyncFileIo;
import io.virtualfile.reactive.AsyncVirtualFile;
import java.nio.ByteBuffer;
import java.nio.file.OpenOption;
import java.nio.file.StandardOpenOption;

/**
 * The library: {@link AsyncVirtualFile#readAt} on an {@code AsyncFileIo.builder().engine(e).build()}
 * engine (other settings default), the next read of a lane subscribed from inside the previous read's
 * signal.
 */
final class VirtualFileLoad implements Load {
  private final TestFile file;
  private final AsyncFileIo io;
  private final AsyncVirtualFile handle;

  private VirtualFileLoad(TestFile file, AsyncFileIo io, AsyncVirtualFile handle) {
    this.file = file;
    this.io = io;
    this.handle = handle;
  }

  /**
   * Opens the file with {@code READ, DIRECT}, or with {@code READ} alone if {@code direct} is false, on
   * an engine of {@code engine}'s kind.
   */
  static VirtualFileLoad open(TestFile file, boolean direct, AsyncFileIo.Engine engine) {
    AsyncFileIo.Builder b = AsyncFileIo.builder().engine(engine);
    Integer ioThreads = Integer.getInteger("ioThreads");
    if (ioThreads != null) { // to compare ring counts (io_uring: one ring per IO thread)
      b.ioThreads(ioThreads);
    }
    AsyncFileIo io = b.build();
    try {
      return new VirtualFileLoad(file, io, AsyncVirtualFile.open(file.path(), io, options(direct)).block());
    } catch (RuntimeException e) {
      io.close();
      throw e;
    }
  }

  static OpenOption[] options(boolean direct) {
    return direct
        ? new OpenOption[] {StandardOpenOption.READ, ExtendedOpenOption.DIRECT}
        : new OpenOption[] {StandardOpenOption.READ};
  }

  AsyncVirtualFile handle() {
    return handle;
  }

  @Override
  public void start(Lanes lanes) {
    for (int i = 0; i < lanes.count(); i++) {
      next(TestFile.alignedBlockBuffer(), lanes);
    }
  }

  private void next(ByteBuffer buf, Lanes lanes) {
    if (!lanes.running()) {
      lanes.laneStopped();
      return;
    }
    long offset = file.randomOffset();
    handle.readAt(buf.clear(), offset).subscribe(n -> {
      try {
        TestFile.checkFullBlock(n, offset);
      } catch (Exception e) {
        lanes.laneFailed(e);
        return;
      }
      lanes.readCompleted();
      next(buf, lanes);
    }, lanes::laneFailed);
  }

  @Override
  public void close() {
    try {
      handle.close().block();
    } finally {
      io.close();
    }
  }
}
