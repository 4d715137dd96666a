package io.virtualfile.reactive;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.FileIoListener;
import io.virtualfile.testing.ProcessDescriptors;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/** Many files, few channels, many operations in flight: every byte right, descriptors bounded. */
class AsyncVirtualFileStressTest {
  static final int FILES = 1_000;
  static final int CAPACITY = 16;
  static final int CONCURRENCY = 64;
  static final int OPS = 20_000;
  static final int FILE_SIZE = 4096;
  static final int BLOCKING_THREADS = 4;

  @TempDir Path dir;

  @Test
  void thousandFilesSixteenChannelsSixtyFourInFlight_everyByteVerified_descriptorsBounded()
      throws Exception {
    boolean canCount = ProcessDescriptors.countable();
    byte[][] model = new byte[FILES][];
    Random seed = new Random(99);
    for (int i = 0; i < FILES; i++) {
      model[i] = new byte[FILE_SIZE];
      seed.nextBytes(model[i]);
      Files.write(dir.resolve("f" + i), model[i]);
    }
    Scheduler blocking = Schedulers.newBoundedElastic(BLOCKING_THREADS, 100_000, "stress-blocking");
    // A pool that cannot grow never reads /proc: descriptors opened and closed by other threads during a
    // sample would shift the numbers the test's files get, and a sample, one readlink at a time, could
    // then meet one file at one number and the next at another (ProcessDescriptors.countUnder).
    try (AsyncFileIo io = AsyncFileIo.builder().ioThreads(2).maxIoThreads(2).cacheCapacity(CAPACITY)
        .blockingScheduler(blocking).build()) {
      AsyncVirtualFile[] files = Flux.range(0, FILES)
          .concatMap(i -> AsyncVirtualFile.open(dir.resolve("f" + i), io, READ, WRITE))
          .collectList().block().toArray(new AsyncVirtualFile[0]);
      AtomicBoolean done = new AtomicBoolean();
      AtomicInteger maxOpen = new AtomicInteger();
      Thread sampler = new Thread(() -> {
        while (!done.get()) {
          maxOpen.accumulateAndGet((int) ProcessDescriptors.countUnder(dir), Math::max);
        }
      });
      sampler.start();
      // One operation per file at a time, so that the model is exact; files are claimed by CAS.
      AtomicIntegerArray busy = new AtomicIntegerArray(FILES);
      AtomicInteger verified = new AtomicInteger();
      Random opRandom = new Random(7);
      long[] opSeeds = new long[OPS];
      for (int i = 0; i < OPS; i++) {
        opSeeds[i] = opRandom.nextLong();
      }
      Flux.range(0, OPS)
          .flatMap(op -> Mono.defer(() -> {
            Random r = new Random(opSeeds[op]);
            int i = r.nextInt(FILES);
            while (!busy.compareAndSet(i, 0, 1)) {
              i = (i + 1) % FILES;
            }
            int file = i;
            Mono<Void> work;
            if (r.nextBoolean()) {
              ByteBuffer b = ByteBuffer.allocate(FILE_SIZE);
              work = files[file].readExactAt(b, 0).then(Mono.fromRunnable(() -> {
                if (!Arrays.equals(b.array(), model[file])) {
                  throw new AssertionError("file " + file + " read back wrong bytes");
                }
              }));
            } else {
              int off = r.nextInt(FILE_SIZE - 64);
              byte[] bytes = new byte[1 + r.nextInt(64)];
              r.nextBytes(bytes);
              work = files[file].writeAllAt(ByteBuffer.wrap(bytes), off)
                  .then(Mono.fromRunnable(() -> System.arraycopy(bytes, 0, model[file], off, bytes.length)));
            }
            return work.doOnSuccess(v -> verified.incrementAndGet())
                .doFinally(s -> busy.set(file, 0));
          }).subscribeOn(Schedulers.parallel()), CONCURRENCY)
          .blockLast(Duration.ofMinutes(2));
      done.set(true);
      sampler.join();
      Flux.fromArray(files).concatMap(AsyncVirtualFile::close).blockLast();
      assertThat(verified.get()).isEqualTo(OPS);
      for (int i = 0; i < FILES; i++) {
        assertThat(Files.readAllBytes(dir.resolve("f" + i))).as("file %d", i).isEqualTo(model[i]);
      }
      assertThat(io.stats().evictions()).isGreaterThan(1_000);
      assertThat(io.stats().openHandles()).as("descriptors kept for later opens")
          .isLessThanOrEqualTo(io.cacheCapacity());
      if (canCount) {
        // A miss claims its slot before it opens its file, so misses in progress add none, however
        // many IO threads run them.
        assertThat(maxOpen.get()).as("descriptors of the test's files open at once")
            .isLessThanOrEqualTo(CAPACITY);
      }
    } finally {
      blocking.dispose();
    }
  }

  /**
   * At most one read in flight, checked for every read rather than sampled: the listener is told each
   * read's duration from its subscription to its outcome, and no two of these intervals may overlap.
   */
  @Test
  void streamingRead64MiB_withSlowSubscriber_neverHasTwoReadsInFlight() throws Exception {
    Path big = dir.resolve("big");
    byte[] data = new byte[64 << 20];
    new Random(1).nextBytes(data);
    Files.write(big, data);
    AtomicReference<AsyncVirtualFile> file = new AtomicReference<>();
    AtomicInteger readsStarted = new AtomicInteger();
    // Each read as the interval from its subscription to its outcome: no read may start before the
    // one before it has ended. The listener's clock is read after the engine's, and the next read
    // subscribes after this call returns, so sequential reads never look overlapping.
    AtomicLong lastReadEnd = new AtomicLong(System.nanoTime());
    AtomicInteger overlapping = new AtomicInteger();
    FileIoListener reads = new FileIoListener() {
      @Override
      public void operation(Operation op, long nanos, long bytes, Throwable failure) {
        if (op == Operation.READ) {
          long end = System.nanoTime();
          if (end - nanos - lastReadEnd.getAndSet(end) < 0) {
            overlapping.incrementAndGet();
          }
        }
      }
    };
    try (AsyncFileIo io = AsyncFileIo.builder().ioThreads(2).cacheCapacity(4).listener(reads)
        .engine(AsyncFileIo.Engine.THREADS) // the decorator sees the thread engine's tasks
        .executorDecorator(e -> new CountingExecutor(e) {
          @Override
          public void execute(Runnable command) {
            if (file.get() != null) {
              readsStarted.incrementAndGet();
            }
            super.execute(command);
          }
        }).build()) {
      AsyncVirtualFile f = AsyncVirtualFile.open(big, io, READ).block();
      file.set(f);
      AtomicInteger chunks = new AtomicInteger();
      java.util.zip.CRC32 crc = new java.util.zip.CRC32();
      long total = f.read(0, 256 * 1024)
          .limitRate(2)
          .publishOn(Schedulers.boundedElastic(), 1) // the slow consumer may block there
          .doOnNext(b -> {
            crc.update(b);
            if (chunks.incrementAndGet() % 16 == 0) {
              java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // a slow subscriber
            }
          })
          .count()
          .block(Duration.ofMinutes(2));
      assertThat(overlapping.get()).as("reads that started before the one before them ended").isZero();
      java.util.zip.CRC32 expected = new java.util.zip.CRC32();
      expected.update(data);
      assertThat(crc.getValue()).isEqualTo(expected.getValue());
      assertThat(total).isEqualTo(256);
      assertThat(readsStarted.get()).as("the size, then 256 chunks").isEqualTo(257);
      f.close().block();
    }
  }
}
