package io.virtualfile;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.testing.ProcessDescriptors;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Many files on few descriptors: every byte right, and the descriptor count bounded. */
class VirtualFileLoadTest {
  static final int FILES = 2_000;
  static final int CAPACITY = 8;
  static final int THREADS = 4;
  static final int OPS_PER_THREAD = 6_000;
  static final int FILE_SIZE = 4096;

  @TempDir Path dir;

  @Test
  void twoThousandFilesOnEightSlots_everyByteVerified_descriptorsBounded() throws Exception {
    boolean canCount = ProcessDescriptors.countable();
    Path[] paths = new Path[FILES];
    byte[][] model = new byte[FILES][];
    Random seed = new Random(2024);
    for (int i = 0; i < FILES; i++) {
      paths[i] = dir.resolve("f" + i);
      model[i] = new byte[FILE_SIZE];
      seed.nextBytes(model[i]);
      Files.write(paths[i], model[i]);
    }
    try (OpenFileCache cache = OpenFileCache.create(CAPACITY)) {
      VirtualFile[] files = new VirtualFile[FILES];
      for (int i = 0; i < FILES; i++) {
        files[i] = VirtualFile.open(paths[i], cache, READ, WRITE);
      }
      AtomicBoolean done = new AtomicBoolean();
      AtomicInteger maxOpen = new AtomicInteger();
      Thread sampler = new Thread(() -> {
        while (!done.get()) {
          maxOpen.accumulateAndGet((int) ProcessDescriptors.countUnder(dir), Math::max);
          Thread.onSpinWait();
        }
      });
      sampler.start();
      ExecutorService pool = Executors.newFixedThreadPool(THREADS);
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < THREADS; t++) {
        long threadSeed = t;
        results.add(pool.submit(() -> run(files, model, new Random(threadSeed))));
      }
      int verified = 0;
      for (Future<Integer> r : results) {
        verified += r.get();
      }
      done.set(true);
      sampler.join();
      pool.shutdown();
      for (VirtualFile f : files) {
        f.close();
      }
      for (int i = 0; i < FILES; i++) {
        assertThat(Files.readAllBytes(paths[i])).as("file %d on disk", i).isEqualTo(model[i]);
      }
      assertThat(verified).isEqualTo(THREADS * OPS_PER_THREAD);
      CacheStats stats = cache.stats();
      assertThat(stats.evictions()).as("the load really evicted").isGreaterThan(1_000);
      assertThat(stats.openHandles()).as("descriptors kept for later opens").isLessThanOrEqualTo(CAPACITY);
      if (canCount) {
        // A miss claims its slot before it opens its file, so misses in progress add none.
        assertThat(maxOpen.get())
            .as("descriptors of the test's files open at once (cache capacity %d)", CAPACITY)
            .isLessThanOrEqualTo(CAPACITY);
      }
    }
  }

  /** Random verified reads and writes; each file's model is guarded by locking that model array. */
  static int run(VirtualFile[] files, byte[][] model, Random r) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(FILE_SIZE);
    int verified = 0;
    for (int op = 0; op < OPS_PER_THREAD; op++) {
      int i = r.nextInt(files.length);
      int off = r.nextInt(FILE_SIZE - 64);
      int len = 1 + r.nextInt(64);
      synchronized (model[i]) {
        if (r.nextBoolean()) {
          buf.clear().limit(FILE_SIZE);
          files[i].readExactAt(buf, 0);
          if (!java.util.Arrays.equals(buf.array(), model[i])) {
            throw new AssertionError("file " + i + " read back wrong bytes");
          }
        } else {
          byte[] bytes = new byte[len];
          r.nextBytes(bytes);
          files[i].writeAllAt(ByteBuffer.wrap(bytes), off);
          System.arraycopy(bytes, 0, model[i], off, len);
        }
        verified++;
      }
    }
    return verified;
  }
}
