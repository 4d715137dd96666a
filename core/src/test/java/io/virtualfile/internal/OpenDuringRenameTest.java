package io.virtualfile.internal;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A handle whose open starts while a library overwrite's rename of its path is under way (announced to
 * the open handles, not yet done) must not refuse the file that rename installs: neither between the
 * rename and its "replaced" notification, nor after. The rename is held between its announcement and
 * its system call by a gate in the rename step, and the handle's descriptor is dropped (as an eviction
 * would) so that its read reopens the path right after the rename. A binding that registered after the
 * announcement, and so was never told of it, refused the new file there with {@code
 * FileReplacedException}; now a registration waits for the rename to finish.
 */
class OpenDuringRenameTest {
  private static final CachedFile.PathOpener<FileChannel> OPENER = FileChannel::open;

  @TempDir Path dir;

  @ParameterizedTest(name = "shared={0}")
  @ValueSource(booleans = {true, false})
  void anOpenDuringARenameAcceptsTheFileItInstalls(boolean shared) throws Exception {
    Path path = Files.write(dir.resolve("f"), "old".getBytes(US_ASCII));
    Path tmp = Files.write(dir.resolve("f.tmp"), "new".getBytes(US_ASCII));
    Object newKey = JdkFileOps.INSTANCE.fileKey(tmp);
    CountDownLatch announced = new CountDownLatch(1);
    CountDownLatch go = new CountDownLatch(1);
    CountDownLatch renamed = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    ClockCache<FileChannel> cache = new ClockCache<>(2, Duration.ofSeconds(5));
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      Future<?> rename = threads.submit(() -> {
        OpenFileRegistry.rename(path, newKey, () -> {
          announced.countDown();
          await(go);
          Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE);
          renamed.countDown();
          await(finish); // the handles are not yet told that the rename completed
        });
        return null;
      });
      assertThat(announced.await(5, TimeUnit.SECONDS)).isTrue();
      Future<CachedFile<FileChannel>> opening = threads.submit(() -> shared
          ? CachedFile.open(cache, path, OpenOptions.of(READ), OPENER)
          : CachedFile.open(cache, path, () -> FileChannel.open(path, READ),
              () -> FileChannel.open(path, READ), false));
      // The open either finishes before the rename (it opened the old file) or waits for the rename.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (!opening.isDone() && !OpenFileRegistry.lockWaitedFor(path)) {
        assertThat(System.nanoTime() - deadline).as("the open neither finished nor waited").isNegative();
        Thread.sleep(1);
      }
      go.countDown();
      assertThat(renamed.await(5, TimeUnit.SECONDS)).isTrue();
      if (opening.isDone()) {
        CachedFile<FileChannel> early = opening.get();
        early.invalidate(); // as an eviction would: the read reopens the path, which names the new file
        assertThat(read(early)).isIn("old", "new");
      }
      finish.countDown();
      rename.get(5, TimeUnit.SECONDS);
      CachedFile<FileChannel> file = opening.get(5, TimeUnit.SECONDS);
      try {
        assertThat(read(file)).as("read after the overwrite returned").isEqualTo("new");
      } finally {
        file.close();
      }
    } finally {
      go.countDown();
      finish.countDown();
      threads.shutdownNow();
      cache.close();
    }
    assertThat(OpenFileRegistry.registered(path)).isZero();
  }

  private static void await(CountDownLatch latch) throws IOException {
    try {
      if (!latch.await(5, TimeUnit.SECONDS)) {
        throw new IOException("test gate not opened in time");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  private static String read(CachedFile<FileChannel> file) throws IOException {
    Slot<FileChannel> s = file.pin();
    try {
      ByteBuffer b = ByteBuffer.allocate(16);
      s.channel().read(b, 0);
      return new String(b.array(), 0, b.position(), US_ASCII);
    } finally {
      s.unpin();
    }
  }
}
