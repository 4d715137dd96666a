package io.virtualfile.benchmarks.device;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.CompletionHandler;
import java.nio.file.StandardOpenOption;

/**
 * The JDK baseline: an {@link AsynchronousFileChannel} opened with {@code READ, DIRECT} on the JDK's
 * default pool (unbounded: on Linux each read is a blocking {@code pread} on a pool thread), the next
 * read of a lane started from the previous read's {@link CompletionHandler}.
 */
final class AfcDefaultPoolLoad implements Load {
  private final TestFile file;
  private final AsynchronousFileChannel channel;

  AfcDefaultPoolLoad(TestFile file) throws IOException {
    this.file = file;
    this.channel = AsynchronousFileChannel.open(
        file.path(), StandardOpenOption.READ, ExtendedOpenOption.DIRECT);
  }

  @Override
  public void start(Lanes lanes) {
    for (int i = 0; i < lanes.count(); i++) {
      new Lane(lanes, TestFile.alignedBlockBuffer()).next();
    }
  }

  private final class Lane implements CompletionHandler<Integer, Long> {
    private final Lanes lanes;
    private final ByteBuffer buf;

    Lane(Lanes lanes, ByteBuffer buf) {
      this.lanes = lanes;
      this.buf = buf;
    }

    void next() {
      if (!lanes.running()) {
        lanes.laneStopped();
        return;
      }
      long offset = file.randomOffset();
      channel.read(buf.clear(), offset, offset, this);
    }

    @Override
    public void completed(Integer n, Long offset) {
      try {
        TestFile.checkFullBlock(n, offset);
      } catch (IOException e) {
        lanes.laneFailed(e);
        return;
      }
      lanes.readCompleted();
      next();
    }

    @Override
    public void failed(Throwable error, Long offset) {
      lanes.laneFailed(error);
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
