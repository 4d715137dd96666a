package io.virtualfile.benchmarks.device;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;

/**
 * The JDK baseline without asynchrony: one platform thread per lane, each looping on a blocking
 * positional {@link FileChannel#read(ByteBuffer, long)} of one shared channel opened with {@code
 * READ, DIRECT}.
 */
final class BlockingThreadsLoad implements Load {
  private final TestFile file;
  private final FileChannel channel;

  BlockingThreadsLoad(TestFile file) throws IOException {
    this.file = file;
    this.channel = FileChannel.open(file.path(), StandardOpenOption.READ, ExtendedOpenOption.DIRECT);
  }

  @Override
  public void start(Lanes lanes) {
    for (int i = 0; i < lanes.count(); i++) {
      Thread t = new Thread(() -> loop(lanes), "blocking-reader-" + i);
      t.setDaemon(true);
      t.start();
    }
  }

  private void loop(Lanes lanes) {
    ByteBuffer buf = TestFile.alignedBlockBuffer();
    try {
      while (lanes.running()) {
        long offset = file.randomOffset();
        TestFile.checkFullBlock(channel.read(buf.clear(), offset), offset);
        lanes.readCompleted();
      }
    } catch (Throwable e) {
      lanes.laneFailed(e);
      return;
    }
    lanes.laneStopped();
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
