package io.virtualfile.reactive;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Liveness of the descriptor cache under far more operations in flight than it has slots and the
 * engine has IO threads (issue #12). Thousands of reads and writes are subscribed at once, over more
 * files than slots, so most are misses that wait for a slot on an IO thread. They must all finish,
 * quickly and right: a pin must never be held by work that waits for an IO thread, or the misses
 * occupying every IO thread would wait for pins that nobody can release, until the cache's pin wait
 * ran out ("all 2 descriptor slots stayed pinned"). Runs on whichever engine the suite runs.
 */
class PinLivenessTest {
  static final int FILES = 8;
  static final int BLOCKS = 16;
  static final int BLOCK = 512;
  static final int OPS = 4_000;

  @TempDir Path dir;

  @RepeatedTest(3)
  void thousandsInFlight_twoSlots_fourIoThreads_allFinishRight() throws Exception {
    for (int f = 0; f < FILES; f++) {
      byte[] content = new byte[BLOCKS * BLOCK];
      for (int b = 0; b < BLOCKS; b++) {
        fill(content, f, b);
      }
      Files.write(dir.resolve("f" + f), content);
    }
    try (AsyncFileIo io = AsyncFileIo.builder().cacheCapacity(2).ioThreads(2).maxIoThreads(4)
        .build()) {
      List<AsyncVirtualFile> files = Flux.range(0, FILES)
          .concatMap(f -> AsyncVirtualFile.open(dir.resolve("f" + f), io, READ, WRITE))
          .collectList().block();
      AtomicInteger wrong = new AtomicInteger();
      long done = Flux.range(0, OPS)
          // All at once: every operation is subscribed before the first completes.
          .flatMap(op -> operation(io, files, op, wrong).then(Mono.just(op)), OPS)
          .count()
          // The pin wait (10 s) would end a stall with an error first; this bounds the test anyway.
          .block(Duration.ofSeconds(60));
      assertThat(done).isEqualTo(OPS);
      assertThat(wrong.get()).as("reads that returned other bytes").isZero();
      Flux.fromIterable(files).concatMap(AsyncVirtualFile::close).blockLast();
    }
  }

  /**
   * Op {@code op} on file {@code op % FILES}, block {@code (op / FILES) % BLOCKS}: a positional read,
   * a positional write of the block's own bytes (so every read can be checked), or (every tenth) a
   * whole-file read.
   */
  private Mono<?> operation(
      AsyncFileIo io, List<AsyncVirtualFile> files, int op, AtomicInteger wrong) {
    int f = op % FILES;
    int b = (op / FILES) % BLOCKS;
    AsyncVirtualFile file = files.get(f);
    byte[] expected = new byte[BLOCK];
    fillBlock(expected, 0, f, b);
    switch (op % 10) {
      case 0:
        return AsyncVirtualFile.readAll(file.path(), io).doOnNext(all -> {
          byte[] whole = new byte[BLOCKS * BLOCK];
          for (int i = 0; i < BLOCKS; i++) {
            fill(whole, f, i);
          }
          if (!all.equals(ByteBuffer.wrap(whole))) {
            wrong.incrementAndGet();
          }
        });
      case 1: case 3: case 5: case 7: case 9:
        return file.writeAllAt(ByteBuffer.wrap(expected), (long) b * BLOCK);
      default:
        ByteBuffer dst = ByteBuffer.allocate(BLOCK);
        return file.readExactAt(dst, (long) b * BLOCK).then(Mono.fromRunnable(() -> {
          if (!dst.flip().equals(ByteBuffer.wrap(expected))) {
            wrong.incrementAndGet();
          }
        }));
    }
  }

  private static void fill(byte[] content, int f, int b) {
    fillBlock(content, b * BLOCK, f, b);
  }

  private static void fillBlock(byte[] into, int offset, int f, int b) {
    for (int i = 0; i < BLOCK; i++) {
      into[offset + i] = (byte) (f * 31 + b * 7 + i);
    }
  }
}
