package io.virtualfile.reactive;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Regression for chunks emitted out of order: {@code ChunkedReader} cleared its in-flight flag before
 * emitting a chunk, so a request from another thread could start, complete and emit the next chunk
 * first. Each chunk is checked against its offset, over many runs with demand from another thread.
 */
class StreamingReadOrderTest {
  @TempDir Path dir;

  @Test
  void read_withDemandFromAnotherThread_emitsEveryChunkOnceInFileOrder() throws Exception {
    int chunk = 4096;
    byte[] data = new byte[96 * chunk + 123]; // a short last chunk
    new Random(7).nextBytes(data);
    Path p = dir.resolve("blob");
    Files.write(p, data);
    Scheduler consumer = Schedulers.newBoundedElastic(4, 10_000, "consumer");
    try (CpuHogs hogs = new CpuHogs(3); AsyncFileIo io = AsyncFileIo.builder().ioThreads(2).cacheCapacity(2).build()) {
      AsyncVirtualFile f = AsyncVirtualFile.open(p, io, READ).block();
      for (int run = 0; run < 1500; run++) {
        List<ByteBuffer> chunks = f.read(0, chunk)
            .limitRate(2)
            .publishOn(consumer, 1) // demand now comes from the consumer's thread
            .collectList()
            .block(Duration.ofSeconds(30));
        assertChunksInOrder(run, chunks, data, chunk);
      }
      f.close().block();
    } finally {
      consumer.dispose();
    }
  }

  @Test
  void read_withRandomDemandFromSeveralThreads_emitsEveryChunkOnceInFileOrder() throws Exception {
    int chunk = 1024;
    byte[] data = new byte[64 * chunk];
    new Random(8).nextBytes(data);
    Path p = dir.resolve("blob");
    Files.write(p, data);
    try (CpuHogs hogs = new CpuHogs(3);
        AsyncFileIo io = AsyncFileIo.builder().ioThreads(2).cacheCapacity(2).build()) {
      AsyncVirtualFile f = AsyncVirtualFile.open(p, io, READ).block();
      for (int run = 0; run < 500; run++) {
        List<ByteBuffer> chunks = new ArrayList<>();
        Flux<ByteBuffer> flux = f.read(0, chunk);
        // requests of 1 from the parallel scheduler's threads, as each chunk arrives
        List<ByteBuffer> got = flux
            .limitRate(1)
            .subscribeOn(Schedulers.parallel(), true)
            .publishOn(Schedulers.parallel(), 1)
            .collectList()
            .block(Duration.ofSeconds(30));
        chunks.addAll(got);
        assertChunksInOrder(run, chunks, data, chunk);
      }
      f.close().block();
    }
  }

  /**
   * Threads that keep both cores busy, so that the library's threads are preempted at arbitrary points:
   * the window between two statements of a completion handler is then wide enough for another thread's
   * request to run inside it.
   */
  static final class CpuHogs implements AutoCloseable {
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stop;

    CpuHogs(int n) {
      for (int i = 0; i < n; i++) {
        Thread t = new Thread(() -> {
          long x = 0;
          while (!stop) {
            x += System.nanoTime();
          }
          if (x == 42) {
            System.out.print("");
          }
        }, "cpu-hog-" + i);
        t.setDaemon(true);
        t.start();
        threads.add(t);
      }
    }

    @Override
    public void close() throws InterruptedException {
      stop = true;
      for (Thread t : threads) {
        t.join();
      }
    }
  }

  static void assertChunksInOrder(int run, List<ByteBuffer> chunks, byte[] data, int chunk) {
    int expected = (data.length + chunk - 1) / chunk;
    assertThat(chunks).as("run %d: chunk count", run).hasSize(expected);
    int offset = 0;
    for (int i = 0; i < chunks.size(); i++) {
      ByteBuffer b = chunks.get(i);
      byte[] got = new byte[b.remaining()];
      b.get(got);
      int len = Math.min(chunk, data.length - offset);
      byte[] want = java.util.Arrays.copyOfRange(data, offset, offset + len);
      assertThat(got).as("run %d: chunk %d at offset %d", run, i, offset).isEqualTo(want);
      offset += len;
    }
  }
}
