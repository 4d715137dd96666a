package io.virtualfile.benchmarks;

import io.virtualfile.VirtualFile;
import io.virtualfile.reactive.AsyncFileIo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import reactor.core.publisher.Flux;

/**
 * 16 overwrites of 16 different files in one directory, all at once; one invocation waits for all 16.
 * The reactive overwrite shares directory fsyncs (group commit); the baselines run 16 threads.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
public class ConcurrentOverwriteBenchmark {
  static final int WRITERS = 16;

  @Param({"4096", "1048576"})
  public int size;

  ScratchDirectory scratch;
  Path[] targets;
  Path[] temps;
  ByteBuffer content;
  AsyncFileIo engine;
  ExecutorService threads;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    scratch = new ScratchDirectory("concurrent");
    targets = new Path[WRITERS];
    temps = new Path[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
      targets[i] = scratch.file("f" + i, size);
      temps[i] = scratch.dir.resolve("f" + i + ".tmp");
    }
    content = ByteBuffer.allocate(size);
    engine = AsyncFileIo.builder()
        .engine(AsyncFileIo.Engine.valueOf(System.getProperty("engine", "AUTO"))).build();
    threads = Executors.newFixedThreadPool(WRITERS);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    threads.shutdown();
    engine.close();
    scratch.close();
  }

  interface Writer {
    void write(int i) throws IOException;
  }

  private void onSixteenThreads(Writer w) throws Exception {
    List<Future<?>> all = new ArrayList<>(WRITERS);
    for (int i = 0; i < WRITERS; i++) {
      int id = i;
      all.add(threads.submit(() -> {
        w.write(id);
        return null;
      }));
    }
    for (Future<?> f : all) {
      f.get();
    }
  }

  @Benchmark
  public void handWrittenOnSixteenThreads() throws Exception {
    onSixteenThreads(i -> HandWrittenOverwrite.crashSafe(targets[i], temps[i], content.duplicate()));
  }

  @Benchmark
  public void virtualFileOnSixteenThreads() throws Exception {
    onSixteenThreads(i -> VirtualFile.crashSafeOverwrite(targets[i], temps[i], content.duplicate()));
  }

  @Benchmark
  public void asyncVirtualFileGroupCommit() {
    Flux.range(0, WRITERS)
        .flatMap(i -> engine.overwrite(targets[i], temps[i], content), WRITERS)
        .blockLast();
  }
}
