package io.virtualfile.internal;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.FileReplacedException;
import io.virtualfile.VirtualFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shared bindings race with closes, evictions, library overwrites and replacements from outside the
 * library ({@code Files.move}, delete + link), on a cache of two slots, with a few paths opened, read
 * and closed by several readers. Besides crash-safe overwrites, the library renames files through
 * {@link OpenFileRegistry#rename} with a rename step that is slow before and after its system call, so
 * that opens and reopens meet each step of a rename (announced, renamed, notified). Every file holds
 * {@link #SIZE} bytes, all the same 8-byte version; each path has one writer, so its versions only
 * grow. It checks:
 * <ul>
 *   <li>a handle whose life (from before its open to its failure) overlapped no outside replacement of
 *       its path never fails with {@link FileReplacedException} or {@link NoSuchFileException}, at its
 *       open or its read: library overwrites, even while it opens, are never taken for outside ones;</li>
 *   <li>a handle never reads content older than the last write of its path that completed before it
 *       opened (with one exception, below), and a handle held across writes never reads content older
 *       than the last library overwrite that returned before the read;</li>
 *   <li>the listed bindings never exceed the open handles plus the capacity (plus one in flight per
 *       reader), and the descriptors open under the directory never exceed the capacity plus the misses
 *       and writes that may be in flight;</li>
 *   <li>afterwards nothing stays registered, at most the capacity stays listed, and closing the cache
 *       closes every descriptor and unlists every binding.</li>
 * </ul>
 * The exception is an ambiguity of file keys, stated in {@link FileBinding#openFirst}: if the file read
 * (version v) was opened by some binding's first open while two replacements ran, the one before v
 * having freed its file and the outside one after v having taken that file's number, the binding is
 * listed under the number of the newer file while its descriptor reads v, and later handles that join it
 * read v. That is the only stale read tolerated, and only in exactly that history.
 */
class SharedBindingsOutsideReplacementStressTest {
  static final int CAPACITY = 2;
  static final int SIZE = 4096;
  static final int PATHS = 3;
  static final int READERS = 4;
  static final long RUN_NANOS = 2_000_000_000L;
  static final CachedFile.PathOpener<FileChannel> OPENER = FileChannel::open;

  /** Written versions of one path: by whom, and the file key the path named after the write. */
  record Write(boolean outside, Object key) {}

  @TempDir Path dir;

  static byte[] content(long version) {
    ByteBuffer b = ByteBuffer.allocate(SIZE);
    while (b.hasRemaining()) {
      b.putLong(version);
    }
    return b.array();
  }

  /** The version read, or throws if the file is torn or short. */
  static long read(CachedFile<FileChannel> f) throws IOException {
    Slot<FileChannel> s = f.pin();
    ByteBuffer b = ByteBuffer.allocate(SIZE);
    try {
      while (b.hasRemaining()) {
        int n = s.channel().read(b, b.position());
        if (n < 0) {
          throw new AssertionError("short file: " + b.position());
        }
      }
    } finally {
      s.unpin();
    }
    long v = b.getLong(0);
    for (int i = 0; i < SIZE; i += 8) {
      if (b.getLong(i) != v) {
        throw new AssertionError("torn content: " + v + " vs " + b.getLong(i));
      }
    }
    return v;
  }

  static long fdsUnder(Path d) throws IOException {
    String prefix = d.toRealPath().toString();
    long n = 0;
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      for (Path fd : (Iterable<Path>) fds::iterator) {
        try {
          if (Files.readSymbolicLink(fd).toString().startsWith(prefix)) {
            n++;
          }
        } catch (IOException e) {
          // closed meanwhile
        }
      }
    }
    return n;
  }

  /**
   * Whether reading {@code v} from a handle of a path whose floor was higher is the ambiguity of the
   * class comment: the write after v came from outside and its file took the number of the file before
   * v.
   */
  static boolean keyReuseAmbiguity(Map<Long, Write> writes, long v) {
    Long before = null;
    Long after = null;
    for (long w : writes.keySet()) {
      if (w < v && (before == null || w > before)) {
        before = w;
      } else if (w > v && (after == null || w < after)) {
        after = w;
      }
    }
    return before != null && after != null && writes.get(after).outside()
        && writes.get(after).key().equals(writes.get(before).key());
  }

  @RepeatedTest(3)
  void sharedBindingsRaceWithOutsideReplacements() throws Exception {
    ClockCache<FileChannel> cache = new ClockCache<>(CAPACITY, Duration.ofSeconds(10));
    Path[] paths = new Path[PATHS];
    AtomicLong[] floor = new AtomicLong[PATHS]; // the last version whose write completed
    AtomicLong[] libFloor = new AtomicLong[PATHS]; // the last version a library overwrite returned
    AtomicLong[] outsideOps = new AtomicLong[PATHS]; // odd while an outside replacement runs
    List<Map<Long, Write>> history = new ArrayList<>();
    AtomicLong version = new AtomicLong();
    for (int i = 0; i < PATHS; i++) {
      long v = version.incrementAndGet();
      paths[i] = Files.write(dir.resolve("p" + i), content(v));
      floor[i] = new AtomicLong(v);
      libFloor[i] = new AtomicLong(v);
      outsideOps[i] = new AtomicLong();
      history.add(new ConcurrentHashMap<>(Map.of(v, new Write(false, JdkFileOps.INSTANCE.fileKey(paths[i])))));
    }
    Path other = Files.createDirectories(dir.resolve("other"));
    AtomicBoolean stop = new AtomicBoolean();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    AtomicInteger openHandles = new AtomicInteger();
    AtomicLong reads = new AtomicLong();
    AtomicLong refused = new AtomicLong();
    AtomicLong ambiguous = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < PATHS; i++) {
      int k = i;
      threads.add(new Thread(() -> {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        try {
          while (!stop.get()) {
            long v = version.incrementAndGet();
            int what = r.nextInt(4);
            if (what == 0) {
              VirtualFile.crashSafeOverwrite(paths[k], ByteBuffer.wrap(content(v)));
              libFloor[k].set(v);
            } else if (what == 3) {
              // A library rename whose system call is slow, and whose thread is descheduled after it:
              // opens and reopens of the path meet each step of it.
              Path tmp = Files.write(dir.resolve("p" + k + ".new"), content(v));
              OpenFileRegistry.rename(paths[k], JdkFileOps.INSTANCE.fileKey(tmp), () -> {
                LockSupport.parkNanos(r.nextInt(200_000));
                Files.move(tmp, paths[k], StandardCopyOption.ATOMIC_MOVE);
                LockSupport.parkNanos(r.nextInt(200_000));
              });
              libFloor[k].set(v);
            } else {
              outsideOps[k].incrementAndGet();
              Path tmp = Files.write(other.resolve("t" + k), content(v));
              if (what == 1) {
                Files.move(tmp, paths[k], StandardCopyOption.ATOMIC_MOVE);
              } else {
                Files.delete(paths[k]);
                Files.createLink(paths[k], tmp);
                Files.delete(tmp);
              }
              outsideOps[k].incrementAndGet();
            }
            history.get(k).put(v, new Write(what == 1 || what == 2, JdkFileOps.INSTANCE.fileKey(paths[k])));
            floor[k].set(v);
            Thread.sleep(0, r.nextInt(200_000));
          }
        } catch (Throwable e) {
          failure.compareAndSet(null, e);
        }
      }, "writer" + k));
    }
    ConcurrentLinkedQueue<Object[]> held = new ConcurrentLinkedQueue<>();
    for (int t = 0; t < READERS; t++) {
      threads.add(new Thread(() -> {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        try {
          while (!stop.get()) {
            int k = r.nextInt(PATHS);
            long ops = outsideOps[k].get();
            long before = floor[k].get();
            CachedFile<FileChannel> f;
            openHandles.incrementAndGet();
            try {
              f = CachedFile.open(cache, paths[k], OpenOptions.of(READ), OPENER);
            } catch (NoSuchFileException | FileReplacedException e) {
              openHandles.decrementAndGet();
              if (outsideOps[k].get() == ops && ops % 2 == 0) {
                throw new AssertionError("open failed with no outside replacement under way", e);
              }
              refused.incrementAndGet();
              continue;
            }
            try {
              long v = read(f);
              reads.incrementAndGet();
              if (v < before) {
                if (!keyReuseAmbiguity(history.get(k), v)) {
                  throw new AssertionError("stale read of " + paths[k] + ": " + v + " < " + before);
                }
                ambiguous.incrementAndGet();
              }
              if (r.nextInt(4) == 0) {
                held.add(new Object[] {f, k});
                f = null;
              }
            } catch (FileReplacedException e) {
              if (outsideOps[k].get() == ops && ops % 2 == 0) {
                throw new AssertionError("read failed with no outside replacement under way", e);
              }
              refused.incrementAndGet();
            } finally {
              if (f != null) {
                f.close();
                openHandles.decrementAndGet();
              }
            }
            Object[] h = held.poll();
            if (h != null) {
              @SuppressWarnings("unchecked")
              CachedFile<FileChannel> hf = (CachedFile<FileChannel>) h[0];
              int hk = (int) h[1];
              long lf = libFloor[hk].get();
              try {
                long v = read(hf);
                if (v < lf) {
                  throw new AssertionError("held handle read " + v + " < library floor " + lf);
                }
              } catch (FileReplacedException e) {
                refused.incrementAndGet(); // replaced from outside while it was held
              } finally {
                hf.close();
                openHandles.decrementAndGet();
              }
            }
            int listed = 0; // counted by iteration: size() may overcount while entries come and go
            for (FileBinding<FileChannel> b : cache.shared.values()) {
              listed++;
            }
            int bound = openHandles.get() + CAPACITY + READERS; // openHandles lags by one per reader
            if (listed > bound) {
              throw new AssertionError("listed bindings " + listed + " > handles + capacity " + bound);
            }
          }
        } catch (Throwable e) {
          failure.compareAndSet(null, e);
        }
      }, "reader" + t));
    }
    // Evicts: files of its own, through the same cache.
    threads.add(new Thread(() -> {
      try {
        List<Path> ev = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
          ev.add(Files.write(other.resolve("e" + i), content(0)));
        }
        for (int i = 0; !stop.get(); i++) {
          CachedFile<FileChannel> f =
              CachedFile.open(cache, ev.get(i % ev.size()), OpenOptions.of(READ, WRITE), OPENER);
          try {
            read(f);
          } finally {
            f.close();
          }
        }
      } catch (Throwable e) {
        failure.compareAndSet(null, e);
      }
    }, "evictor"));
    threads.add(new Thread(() -> {
      try {
        // capacity + a miss in progress per reader and the evictor + each writer's temp file and the
        // overwrite's directory descriptor
        long bound = CAPACITY + READERS + 1 + 2L * PATHS;
        while (!stop.get()) {
          long n = fdsUnder(dir);
          if (n > bound) {
            throw new AssertionError("descriptors under the directory " + n + " > " + bound);
          }
        }
      } catch (Throwable e) {
        failure.compareAndSet(null, e);
      }
    }, "monitor"));
    threads.forEach(Thread::start);
    long end = System.nanoTime() + RUN_NANOS;
    while (System.nanoTime() - end < 0 && failure.get() == null) {
      Thread.sleep(20);
    }
    stop.set(true);
    for (Thread t : threads) {
      t.join(10_000);
      assertThat(t.isAlive()).as(t.getName() + " stuck").isFalse();
    }
    for (Object[] h : held) {
      ((CachedFile<?>) h[0]).close();
    }
    if (failure.get() != null) {
      throw new AssertionError(failure.get());
    }
    assertThat(reads.get()).as("reads").isPositive();
    System.out.println("reads=" + reads + " refused=" + refused + " ambiguous=" + ambiguous
        + " hits=" + cache.hits() + " misses=" + cache.misses());
    for (Path p : paths) {
      assertThat(OpenFileRegistry.registered(p)).as("registered " + p).isZero();
    }
    assertThat(cache.shared.size()).isLessThanOrEqualTo(CAPACITY);
    cache.close();
    assertThat(cache.shared).as("listed after close").isEmpty();
    assertThat(fdsUnder(dir)).as("descriptors after cache close").isZero();
  }
}
