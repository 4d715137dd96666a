package io.virtualfile.benchmarks;

import io.virtualfile.OpenFileCache;
import io.virtualfile.VirtualFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The descriptor cache. Hit: 4 KiB random reads of a 64 MiB page-cached file through a cached {@link
 * VirtualFile} vs a raw {@link FileChannel}. Miss: random 4 KiB reads over 10,000 files through 64 slots
 * vs opening, reading and closing the file for each read.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CacheBenchmark {
  static final int BLOCK = 4096;

  @State(Scope.Thread)
  public static class Hit {
    ScratchDirectory scratch;
    FileChannel raw;
    OpenFileCache cache;
    VirtualFile file;
    final ByteBuffer buf = ByteBuffer.allocateDirect(BLOCK);
    final SplittableRandom random = new SplittableRandom(1);
    long blocks;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
      scratch = new ScratchDirectory("hit");
      Path p = scratch.file("data", 64 << 20);
      blocks = (64 << 20) / BLOCK;
      raw = FileChannel.open(p, StandardOpenOption.READ);
      cache = OpenFileCache.create(16);
      file = VirtualFile.open(p, cache, StandardOpenOption.READ);
    }

    long nextPosition() {
      return random.nextLong(blocks) * BLOCK;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
      file.close();
      cache.close();
      raw.close();
      scratch.close();
    }
  }

  @Benchmark
  public int hitRawFileChannel(Hit s) throws IOException {
    s.buf.clear();
    return s.raw.read(s.buf, s.nextPosition());
  }

  @Benchmark
  public int hitVirtualFile(Hit s) throws IOException {
    s.buf.clear();
    return s.file.readAt(s.buf, s.nextPosition());
  }

  @State(Scope.Thread)
  public static class Miss {
    static final int FILES = 10_000;
    ScratchDirectory scratch;
    Path[] paths;
    OpenFileCache cache;
    VirtualFile[] files;
    final ByteBuffer buf = ByteBuffer.allocateDirect(BLOCK);
    final SplittableRandom random = new SplittableRandom(2);

    @Setup(Level.Trial)
    public void setUp() throws IOException {
      scratch = new ScratchDirectory("miss");
      paths = new Path[FILES];
      cache = OpenFileCache.create(64);
      files = new VirtualFile[FILES];
      for (int i = 0; i < FILES; i++) {
        paths[i] = scratch.file("f" + i, BLOCK);
        files[i] = VirtualFile.open(paths[i], cache, StandardOpenOption.READ);
      }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
      for (VirtualFile f : files) {
        f.close();
      }
      cache.close();
      scratch.close();
    }
  }

  @Benchmark
  public int missOpenReadClose(Miss s) throws IOException {
    s.buf.clear();
    try (FileChannel ch = FileChannel.open(s.paths[s.random.nextInt(Miss.FILES)], StandardOpenOption.READ)) {
      return ch.read(s.buf, 0);
    }
  }

  @Benchmark
  public int missVirtualFile(Miss s) throws IOException {
    s.buf.clear();
    return s.files[s.random.nextInt(Miss.FILES)].readAt(s.buf, 0);
  }
}
