package io.virtualfile.benchmarks;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.virtualfile.reactive.AsyncFileIo;
import io.virtualfile.reactive.AsyncVirtualFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.CompletionHandler;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
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
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * 4 KiB random reads of a page-cached 64 MiB file, {@code inFlight} at a time: one invocation issues
 * {@code inFlight} reads and waits for all (the score is per batch; the report divides by the batch).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
public class RandomReadBenchmark {
  static final int BLOCK = 4096;
  static final long SIZE = 64 << 20;

  @Param({"1", "32"})
  public int inFlight;

  ScratchDirectory scratch;
  Path path;
  ByteBuffer[] bufs;
  final SplittableRandom random = new SplittableRandom(3);

  AsyncFileIo engine;
  AsyncVirtualFile virtualFile;
  ExecutorService sameExecutor;
  AsynchronousFileChannel rawSameExecutor;
  AsynchronousFileChannel rawDefaultPool;
  FileChannel blocking;
  Vertx vertx;
  AsyncFile vertxFile;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    scratch = new ScratchDirectory("random");
    path = scratch.file("data", SIZE);
    bufs = new ByteBuffer[inFlight];
    for (int i = 0; i < inFlight; i++) {
      bufs[i] = ByteBuffer.allocateDirect(BLOCK);
    }
    int threads = Runtime.getRuntime().availableProcessors();
    engine = AsyncFileIo.builder().ioThreads(threads).build();
    virtualFile = AsyncVirtualFile.open(path, engine, StandardOpenOption.READ).block();
    // The same kind and size of pool as the engine's.
    ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
        new LinkedTransferQueue<>());
    pool.prestartAllCoreThreads();
    sameExecutor = pool;
    rawSameExecutor = AsynchronousFileChannel.open(path, Set.of(StandardOpenOption.READ), sameExecutor);
    rawDefaultPool = AsynchronousFileChannel.open(path, StandardOpenOption.READ);
    blocking = FileChannel.open(path, StandardOpenOption.READ);
    vertx = Vertx.vertx();
    vertxFile = vertx.fileSystem().openBlocking(path.toString(), new OpenOptions().setRead(true));
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    virtualFile.close().block();
    engine.close();
    rawSameExecutor.close();
    sameExecutor.shutdown();
    rawDefaultPool.close();
    blocking.close();
    vertxFile.close().toCompletionStage().toCompletableFuture().join();
    vertx.close().toCompletionStage().toCompletableFuture().join();
    scratch.close();
  }

  long nextPosition() {
    return random.nextLong(SIZE / BLOCK) * BLOCK;
  }

  /** Counts completions of one batch; remembers the first failure. */
  static final class Batch implements CompletionHandler<Integer, Void> {
    final CountDownLatch done;
    final AtomicReference<Throwable> failure = new AtomicReference<>();

    Batch(int n) {
      done = new CountDownLatch(n);
    }

    @Override
    public void completed(Integer n, Void a) {
      done.countDown();
    }

    @Override
    public void failed(Throwable e, Void a) {
      failure.compareAndSet(null, e);
      done.countDown();
    }

    void await() throws Exception {
      done.await();
      if (failure.get() != null) {
        throw new IllegalStateException(failure.get());
      }
    }
  }

  @Benchmark
  public void asyncVirtualFile() throws Exception {
    Batch b = new Batch(inFlight);
    for (int i = 0; i < inFlight; i++) {
      bufs[i].clear();
      virtualFile.readAt(bufs[i], nextPosition()).subscribe(n -> b.completed(n, null), e -> b.failed(e, null));
    }
    b.await();
  }

  @Benchmark
  public void rawAsyncChannelSameExecutor() throws Exception {
    readRaw(rawSameExecutor);
  }

  @Benchmark
  public void rawAsyncChannelJdkDefaultPool() throws Exception {
    readRaw(rawDefaultPool);
  }

  private void readRaw(AsynchronousFileChannel ch) throws Exception {
    Batch b = new Batch(inFlight);
    for (int i = 0; i < inFlight; i++) {
      bufs[i].clear();
      ch.read(bufs[i], nextPosition(), null, b);
    }
    b.await();
  }

  @Benchmark
  public void fileChannelOnBoundedElastic() throws Exception {
    Batch b = new Batch(inFlight);
    for (int i = 0; i < inFlight; i++) {
      ByteBuffer buf = bufs[i];
      buf.clear();
      long pos = nextPosition();
      Mono.fromCallable(() -> blocking.read(buf, pos))
          .subscribeOn(Schedulers.boundedElastic())
          .subscribe(n -> b.completed(n, null), e -> b.failed(e, null));
    }
    b.await();
  }

  @Benchmark
  public int blockingFileChannel() throws IOException {
    int total = 0;
    for (int i = 0; i < inFlight; i++) {
      bufs[i].clear();
      total += blocking.read(bufs[i], nextPosition());
    }
    return total;
  }

  @Benchmark
  public void vertxAsyncFile() throws Exception {
    Batch b = new Batch(inFlight);
    for (int i = 0; i < inFlight; i++) {
      vertxFile.read(Buffer.buffer(BLOCK), 0, nextPosition(), BLOCK)
          .onComplete(ar -> {
            if (ar.succeeded()) {
              b.completed(BLOCK, null);
            } else {
              b.failed(ar.cause(), null);
            }
          });
    }
    b.await();
  }
}
