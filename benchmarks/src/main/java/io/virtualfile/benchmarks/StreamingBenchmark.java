package io.virtualfile.benchmarks;

import io.virtualfile.reactive.AsyncFileIo;
import io.virtualfile.reactive.AsyncVirtualFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import reactor.core.publisher.Flux;

/**
 * Streaming a 256 MiB file in 64 KiB chunks: read (page cached) and write (no fsync), through
 * virtualfile, Spring's {@link DataBufferUtils} over {@link AsynchronousFileChannel}, and a plain blocking
 * {@link FileChannel} loop. The score is milliseconds per 256 MiB; the report turns it into MiB/s.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Thread)
public class StreamingBenchmark {
  static final long SIZE = 256L << 20;
  static final int CHUNK = 64 * 1024;

  ScratchDirectory scratch;
  Path source;
  Path target;
  AsyncFileIo engine;
  AsyncVirtualFile sourceFile;
  ByteBuffer chunk;
  final DefaultDataBufferFactory factory = DefaultDataBufferFactory.sharedInstance;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    scratch = new ScratchDirectory("stream");
    source = scratch.file("source", SIZE);
    target = scratch.dir.resolve("target");
    engine = AsyncFileIo.builder().build();
    sourceFile = AsyncVirtualFile.open(source, engine, StandardOpenOption.READ).block();
    chunk = ByteBuffer.allocate(CHUNK);
    for (int i = 0; i < CHUNK; i++) {
      chunk.put((byte) i);
    }
    chunk.flip();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    sourceFile.close().block();
    engine.close();
    scratch.close();
  }

  @Benchmark
  public long readAsyncVirtualFile() {
    return sourceFile.read(0, CHUNK).map(ByteBuffer::remaining).reduce(0L, (a, b) -> a + b).block();
  }

  @Benchmark
  public long readSpringDataBufferUtils() {
    return DataBufferUtils.readAsynchronousFileChannel(
            () -> AsynchronousFileChannel.open(source, StandardOpenOption.READ), factory, CHUNK)
        .map(b -> {
          int n = b.readableByteCount();
          DataBufferUtils.release(b);
          return n;
        })
        .reduce(0L, (a, b) -> a + b)
        .block();
  }

  @Benchmark
  public long readBlockingFileChannel() throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(CHUNK);
    long total = 0;
    try (FileChannel ch = FileChannel.open(source, StandardOpenOption.READ)) {
      int n;
      while ((n = ch.read(buf.clear(), total)) > 0) {
        total += n;
      }
    }
    return total;
  }

  Flux<ByteBuffer> chunks() {
    return Flux.range(0, (int) (SIZE / CHUNK)).map(i -> chunk.duplicate());
  }

  @Benchmark
  public long writeAsyncVirtualFile() {
    return AsyncVirtualFile.open(target, engine, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)
        .flatMap(f -> f.write(chunks(), 0).flatMap(n -> f.close().thenReturn(n)))
        .block();
  }

  @Benchmark
  public void writeSpringDataBufferUtils() throws IOException {
    Flux<DataBuffer> buffers = chunks().map(factory::wrap);
    try (AsynchronousFileChannel ch = AsynchronousFileChannel.open(target, StandardOpenOption.CREATE,
        StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      DataBufferUtils.write(buffers, ch, 0).blockLast();
    }
  }

  @Benchmark
  public long writeBlockingFileChannel() throws IOException {
    long total = 0;
    try (FileChannel ch = FileChannel.open(target, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      for (long i = 0; i < SIZE / CHUNK; i++) {
        ByteBuffer b = chunk.duplicate();
        while (b.hasRemaining()) {
          total += ch.write(b);
        }
      }
    }
    return total;
  }
}
