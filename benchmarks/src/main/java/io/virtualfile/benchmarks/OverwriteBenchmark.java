package io.virtualfile.benchmarks;

import io.virtualfile.VirtualFile;
import io.virtualfile.reactive.AsyncFileIo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
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

/** One overwrite of a {@code size}-byte file, by each method, one at a time. */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
public class OverwriteBenchmark {
  @Param({"4096", "1048576"})
  public int size;

  ScratchDirectory scratch;
  Path target;
  Path tmp;
  ByteBuffer content;
  AsyncFileIo engine;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    scratch = new ScratchDirectory("overwrite");
    target = scratch.file("target", size);
    tmp = scratch.dir.resolve("target.tmp");
    content = ByteBuffer.wrap(Files.readAllBytes(target));
    engine = AsyncFileIo.builder()
        .engine(AsyncFileIo.Engine.valueOf(System.getProperty("engine", "AUTO"))).build();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    engine.close();
    scratch.close();
  }

  @Benchmark
  public void handWrittenCrashSafe() throws IOException {
    HandWrittenOverwrite.crashSafe(target, tmp, content.duplicate());
  }

  @Benchmark
  public void virtualFileCrashSafeOverwrite() throws IOException {
    VirtualFile.crashSafeOverwrite(target, tmp, content.duplicate());
  }

  @Benchmark
  public void asyncVirtualFileOverwrite() {
    engine.overwrite(target, tmp, content).block();
  }

  @Benchmark
  public void kafkaStyleNoDirectoryFsync() throws IOException {
    HandWrittenOverwrite.withoutDirectoryFsync(target, tmp, content.duplicate());
  }

  @Benchmark
  public void truncateThenWriteNotCrashSafe() throws IOException {
    HandWrittenOverwrite.truncateThenWrite(target, content.duplicate());
  }
}
