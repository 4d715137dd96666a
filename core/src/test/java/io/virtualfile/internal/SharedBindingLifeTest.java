package io.virtualfile.internal;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.VirtualFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The life of shared bindings ({@link FileBinding}): a binding stays listed while it has handles or a
 * cached descriptor, and dies when it has neither, so the listed bindings never outgrow the open handles
 * plus the cache's capacity.
 */
class SharedBindingLifeTest {
  static final int CAPACITY = 2;
  static final CachedFile.PathOpener<FileChannel> OPENER = FileChannel::open;

  @TempDir Path dir;
  ClockCache<FileChannel> cache;

  @BeforeEach
  void setUp() {
    cache = new ClockCache<>(CAPACITY, Duration.ofSeconds(10));
  }

  @AfterEach
  void tearDown() {
    cache.close();
  }

  CachedFile<FileChannel> open(Path p) throws IOException {
    return CachedFile.open(cache, p, OpenOptions.of(READ), OPENER);
  }

  static int readOne(CachedFile<FileChannel> f) throws IOException {
    Slot<FileChannel> s = f.pin();
    try {
      ByteBuffer b = ByteBuffer.allocate(1);
      s.channel().read(b, 0);
      return b.get(0);
    } finally {
      s.unpin();
    }
  }

  @Test
  void bindingsWithoutHandles_dieWhenEvicted_soTheListStaysWithinCapacity() throws Exception {
    for (int i = 0; i < 100; i++) {
      CachedFile<FileChannel> f = open(Files.write(dir.resolve("f" + i), new byte[] {(byte) i}));
      assertThat(readOne(f)).isEqualTo(i);
      f.close();
      assertThat(cache.shared.size()).isLessThanOrEqualTo(CAPACITY);
    }
    assertThat(cache.openDescriptors()).isEqualTo(CAPACITY);
  }

  @Test
  void aBindingWithoutHandles_diesWhenALibraryOverwriteReplacesItsFile() throws Exception {
    Path p = Files.write(dir.resolve("f"), new byte[] {1});
    open(p).close();
    assertThat(cache.shared).hasSize(1);
    VirtualFile.crashSafeOverwrite(p, ByteBuffer.wrap(new byte[] {2}));
    assertThat(cache.shared).isEmpty();
    assertThat(cache.openDescriptors()).isZero();
    assertThat(OpenFileRegistry.registered(p)).isZero();
  }

  @Test
  void aBindingWithHandles_survivesEviction_andReopens() throws Exception {
    Path p = Files.write(dir.resolve("f"), new byte[] {7});
    CachedFile<FileChannel> f = open(p);
    for (int i = 0; i < 4; i++) {
      open(Files.write(dir.resolve("e" + i), new byte[] {0})).close();
    }
    assertThat(readOne(f)).isEqualTo(7);
    assertThat(cache.shared).containsValue(bindingOf(f, p));
    f.close();
  }

  /**
   * Regression (found by a probe): a first open records its file's identity by a stat of the path just
   * after the open, and another process's rename in between made the binding name the new file while
   * its descriptor read the old one; a later open of the path joined it and read stale content. Here
   * the opener itself makes that rename, right after its open.
   */
  @Test
  void anOpenWhoseFileWasReplacedDuringIt_isNotJoinedByLaterOpens() throws Exception {
    Path p = Files.write(dir.resolve("f"), new byte[] {1});
    Path x = Files.write(dir.resolve("x"), new byte[] {2});
    java.util.concurrent.atomic.AtomicBoolean replaceOnce = new java.util.concurrent.atomic.AtomicBoolean(true);
    CachedFile.PathOpener<FileChannel> replacing = (path, options) -> {
      FileChannel ch = FileChannel.open(path, options);
      if (replaceOnce.getAndSet(false)) {
        Files.move(x, path, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      }
      return ch;
    };
    CachedFile<FileChannel> first = CachedFile.open(cache, p, OpenOptions.of(READ), replacing);
    assertThat(readOne(first)).as("the first handle reads the file it opened").isEqualTo(1);
    first.close();
    CachedFile<FileChannel> second = CachedFile.open(cache, p, OpenOptions.of(READ), replacing);
    try {
      assertThat(readOne(second)).as("an open after the replacement completed").isEqualTo(2);
    } finally {
      second.close();
    }
  }

  /**
   * Regression: a binding kept for later opens (no handles, descriptor cached) that another binding of
   * the same key displaced from the list stayed, unjoinable, with its descriptor until evicted: two
   * descriptors of one path where the cache promises one. Two racing first opens do that; so does an
   * open after an outside replacement, which is how it is made here.
   */
  @Test
  void aKeptBindingDisplacedFromTheList_dies() throws Exception {
    Path p = Files.write(dir.resolve("f"), new byte[] {1});
    open(p).close();
    assertThat(cache.openDescriptors()).isEqualTo(1);
    Path x = Files.write(dir.resolve("x"), new byte[] {2});
    Files.move(x, p, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    CachedFile<FileChannel> f = open(p);
    assertThat(readOne(f)).isEqualTo(2);
    f.close();
    assertThat(cache.openDescriptors()).as("the displaced binding's descriptor closed").isEqualTo(1);
    assertThat(cache.shared).hasSize(1);
  }

  private FileBinding<FileChannel> bindingOf(CachedFile<FileChannel> f, Path p) {
    return cache.shared.values().stream().filter(b -> b.path.equals(p)).findFirst().orElseThrow();
  }

  /**
   * Threads open, read and close handles of a few files in a cache smaller than the files, while other
   * thread overwrites them (with the same content: what is checked is that no reopen ever fails, as
   * only this library replaced the files): at the end no handle is registered, and the list holds no
   * more bindings than the cache holds descriptors.
   */
  @Test
  void opensClosesAndOverwritesAtOnce_keepTheListBounded_andReadsCorrect() throws Exception {
    int files = 6;
    Path[] paths = new Path[files];
    for (int i = 0; i < files; i++) {
      paths[i] = Files.write(dir.resolve("s" + i), new byte[] {(byte) i});
    }
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      boolean writer = t == 0;
      threads.add(new Thread(() -> {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        try {
          for (int i = 0; i < 3_000; i++) {
            int k = r.nextInt(files);
            if (writer) {
              VirtualFile.crashSafeOverwrite(paths[k], ByteBuffer.wrap(new byte[] {(byte) k}));
              continue;
            }
            CachedFile<FileChannel> f = open(paths[k]);
            try {
              assertThat(readOne(f)).isEqualTo(k);
            } finally {
              f.close();
            }
          }
        } catch (Throwable e) {
          failure.compareAndSet(null, e);
        }
      }));
    }
    threads.forEach(Thread::start);
    for (Thread t : threads) {
      t.join();
    }
    assertThat(failure.get()).isNull();
    for (Path p : paths) {
      assertThat(OpenFileRegistry.registered(p)).isZero();
    }
    assertThat(cache.shared.size()).isLessThanOrEqualTo(CAPACITY);
    assertThat(cache.openDescriptors()).isLessThanOrEqualTo(CAPACITY);
  }
}
