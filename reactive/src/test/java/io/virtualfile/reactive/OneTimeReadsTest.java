package io.virtualfile.reactive;

import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.internal.OpenFileRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * {@link AsyncVirtualFile#readAll(Path, AsyncFileIo)} of a file that is not cached: read once, on a
 * descriptor of its own in a slot the cache lends; read again soon, admitted to the cache.
 */
class OneTimeReadsTest {
  @TempDir Path dir;
  AsyncFileIo io;

  @AfterEach
  void tearDown() {
    if (io != null) {
      io.close();
    }
  }

  List<Path> files(int n, int size) throws IOException {
    List<Path> paths = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      byte[] b = new byte[size];
      java.util.Arrays.fill(b, (byte) i);
      paths.add(Files.write(dir.resolve("f" + i), b));
    }
    return paths;
  }

  @Test
  void filesReadOnceEach_areNotKept_andEvictNothing() throws Exception {
    io = AsyncFileIo.builder().ioThreads(2).cacheCapacity(4).build();
    List<Path> paths = files(200, 100);
    for (int i = 0; i < paths.size(); i++) {
      ByteBuffer b = AsyncVirtualFile.readAll(paths.get(i), io).block();
      assertThat(b.remaining()).isEqualTo(100);
      assertThat(b.get(99)).isEqualTo((byte) i);
    }
    assertThat(io.stats().misses()).isEqualTo(200);
    assertThat(io.stats().evictions()).as("evictions").isZero();
    assertThat(io.stats().openHandles()).as("descriptors left open").isZero();
    assertThat(OpenFileRegistry.registered(paths.get(0))).isZero();
  }

  @Test
  void aFileReadAgainSoon_isAdmitted_andItsNextReadIsAHit() throws Exception {
    io = AsyncFileIo.builder().ioThreads(2).cacheCapacity(4).build();
    Path f = files(1, 10).get(0);
    AsyncVirtualFile.readAll(f, io).block();
    assertThat(io.stats().openHandles()).as("after the first read").isZero();
    AsyncVirtualFile.readAll(f, io).block();
    assertThat(io.stats().openHandles()).as("after the second read").isEqualTo(1);
    long misses = io.stats().misses();
    long hits = io.stats().hits();
    StepVerifier.create(AsyncVirtualFile.readAll(f, io))
        .assertNext(b -> assertThat(b.remaining()).isEqualTo(10))
        .verifyComplete();
    assertThat(io.stats().misses()).isEqualTo(misses);
    assertThat(io.stats().hits()).isEqualTo(hits + 1);
  }

  /** The lent slots bound the own descriptors: they never add to the cache's capacity. */
  @Test
  void manyOneTimeReadsAtOnce_neverHoldMoreDescriptorsThanTheCapacity() throws Exception {
    // A pool that cannot grow, so it never reads /proc: the sampler's readlinks are one at a time, and
    // descriptors that other threads open and close meanwhile shift the numbers that the test's files
    // get, so that one pass could meet a file at one number and the next file at another.
    io = AsyncFileIo.builder().ioThreads(2).maxIoThreads(2).cacheCapacity(1).build();
    List<Path> paths = files(100, 1024 * 1024);
    AtomicBoolean done = new AtomicBoolean();
    AtomicInteger most = new AtomicInteger();
    Thread sampler = new Thread(() -> {
      while (!done.get()) {
        most.accumulateAndGet(descriptorsUnder(dir), Math::max);
      }
    });
    sampler.start();
    try {
      Long bytes = Flux.fromIterable(paths)
          .flatMap(p -> AsyncVirtualFile.readAll(p, io).subscribeOn(Schedulers.parallel()), 64)
          .map(b -> (long) b.remaining())
          .reduce(0L, Long::sum)
          .block();
      assertThat(bytes).isEqualTo(100L * 1024 * 1024);
    } finally {
      done.set(true);
      sampler.join();
    }
    assertThat(most.get()).as("descriptors of the test's files open at once").isEqualTo(1);
  }

  /**
   * Reads of files being replaced by library overwrites return one version whole, on either path:
   * the size comes from the descriptor read (it did not, on the cached path, and a read could return a
   * newer version cut to an older one's length).
   */
  @Test
  void readsRacingOverwrites_returnOneVersionWhole() throws Exception {
    io = AsyncFileIo.builder().ioThreads(2).cacheCapacity(1).build();
    List<Path> paths = versions("v", 3);
    List<Step> steps = new ArrayList<>();
    for (Path p : paths) { // one writer per file: each file is replaced back to back
      steps.add(v -> io.overwrite(p, ByteBuffer.wrap(version(v + 1))).block());
    }
    AtomicInteger reads = new AtomicInteger();
    for (int r = 0; r < 2; r++) {
      steps.add(i -> {
        assertWholeVersion(AsyncVirtualFile.readAll(paths.get(i % 3), io).block());
        reads.incrementAndGet();
      });
    }
    assertThat(race(steps)).isEmpty();
    assertThat(reads.get()).as("reads made").isGreaterThan(100);
  }

  /**
   * Reads of files replaced by other processes' atomic renames read what the path names, whole: a
   * cached read whose descriptor was evicted between its open and its pin, and whose path names
   * another file by then, reads that file instead of failing with FileReplacedException.
   */
  @Test
  void readsRacingOutsideReplacements_readWhatThePathNames() throws Exception {
    io = AsyncFileIo.builder().ioThreads(2).cacheCapacity(1).build();
    List<Path> paths = versions("r", 2);
    List<Step> steps = new ArrayList<>();
    steps.add(v -> { // another process's way: write a temp file, rename it over
      Path tmp = Files.write(dir.resolve("outside.tmp"), version(v + 2));
      Files.move(tmp, paths.get(v % 2), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    });
    for (int r = 0; r < 3; r++) {
      steps.add(i -> assertWholeVersion(AsyncVirtualFile.readAll(paths.get(i % 2), io).block()));
    }
    assertThat(race(steps)).isEmpty();
  }

  /** One step of a racing thread; {@code i} counts its steps. */
  @FunctionalInterface
  interface Step {
    void run(int i) throws Exception;
  }

  /** Runs each step over and over on a thread of its own for 1.5 s; returns what they threw. */
  static List<Throwable> race(List<Step> steps) throws InterruptedException {
    AtomicBoolean done = new AtomicBoolean();
    ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
    List<Thread> threads = new ArrayList<>();
    for (Step step : steps) {
      threads.add(new Thread(() -> {
        for (int i = 0; !done.get(); i++) {
          try {
            step.run(i);
          } catch (Exception | AssertionError e) {
            errors.add(e);
          }
        }
      }));
    }
    threads.forEach(Thread::start);
    Thread.sleep(1_500);
    done.set(true);
    for (Thread t : threads) {
      t.join();
    }
    return new ArrayList<>(errors);
  }

  /** {@code n} files named {@code prefix + i}, holding version {@code i}. */
  List<Path> versions(String prefix, int n) throws IOException {
    List<Path> paths = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      paths.add(Files.write(dir.resolve(prefix + i), version(i)));
    }
    return paths;
  }

  /** {@code b} is one {@link #version} whole: its length is that version's, every byte its own. */
  static void assertWholeVersion(ByteBuffer b) {
    byte first = b.get(0);
    if (b.remaining() != version(first).length) {
      throw new AssertionError("a read of " + b.remaining() + " bytes of version " + first
          + ", which has " + version(first).length);
    }
    for (int k = 0; k < b.remaining(); k++) {
      if (b.get(k) != first) {
        throw new AssertionError("a read mixes versions at byte " + k);
      }
    }
  }

  /** Content of version {@code v}: its low byte, repeated; the length follows from that byte. */
  static byte[] version(int v) {
    byte[] content = new byte[1000 + (v & 0xff) % 7 * 512];
    java.util.Arrays.fill(content, (byte) v);
    return content;
  }

  /** Descriptors of this process open on files under {@code dir}, from {@code /proc/self/fd}. */
  static int descriptorsUnder(Path dir) {
    int n = 0;
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      for (Path fd : (Iterable<Path>) fds::iterator) {
        try {
          if (Files.readSymbolicLink(fd).startsWith(dir)) {
            n++;
          }
        } catch (IOException e) {
          // closed meanwhile
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return n;
  }
}
