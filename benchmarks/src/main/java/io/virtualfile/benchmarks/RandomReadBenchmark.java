package io.virtualfile.benchmarks;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.virtualfile.reactive.AsyncFileIo;
import io.virtualfile.reactive.AsyncVirtualFile;
import io.virtualfile.reactive.internal.IoThreadPool;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.CompletionHandler;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * 4 KiB random reads of a page-cached 64 MiB file with {@code inFlight} reads outstanding at all times:
 * each completion issues the next read (from the completing thread), until {@value #READS} reads are
 * done. The score is per read.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@OperationsPerInvocation(RandomReadBenchmark.READS)
@State(Scope.Thread)
public class RandomReadBenchmark {
  static final int BLOCK = 4096;
  static final long SIZE = 64 << 20;
  static final int READS = 256;

  @Param({"1", "32"})
  public int inFlight;

  ScratchDirectory scratch;
  Path path;
  ByteBuffer[] bufs;

  AsyncFileIo engine;
  AsyncVirtualFile virtualFile;
  ExecutorService sameExecutor;
  AsynchronousFileChannel rawSameExecutor;
  ExecutorService engineLikeExecutor;
  AsynchronousFileChannel rawEngineLikeExecutor;
  ExecutorService threadPoolExecutor;
  AsynchronousFileChannel rawThreadPoolExecutor;
  AsynchronousFileChannel rawDefaultPool;
  FileChannel blocking;
  /** As many threads as the engine has core IO threads, for the blocking limit. */
  ExecutorService blockingThreads;
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
    // -Dengine=THREADS or IO_URING to compare the engines; AUTO (the default) takes io_uring where it runs.
    engine = AsyncFileIo.builder().ioThreads(threads)
        .engine(AsyncFileIo.Engine.valueOf(System.getProperty("engine", "AUTO")))
        .maxIoThreads(Integer.getInteger("maxIoThreads", 64)).build();
    virtualFile = AsyncVirtualFile.open(path, engine, StandardOpenOption.READ).block();
    // The same kind and size of pool as the engine's.
    sameExecutor = new IoThreadPool(threads, "benchmark-io-");
    rawSameExecutor = AsynchronousFileChannel.open(path, Set.of(StandardOpenOption.READ), sameExecutor);
    // The same pool with the engine's settings: it may add extra threads while workers look blocked.
    engineLikeExecutor = new IoThreadPool(threads, Integer.getInteger("maxIoThreads", 64),
        TimeUnit.SECONDS.toNanos(1), "benchmark-engine-like-io-");
    rawEngineLikeExecutor =
        AsynchronousFileChannel.open(path, Set.of(StandardOpenOption.READ), engineLikeExecutor);
    // What the engine used before IoThreadPool: a fixed ThreadPoolExecutor on a lock-free queue.
    ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS,
        new LinkedTransferQueue<>());
    pool.prestartAllCoreThreads();
    threadPoolExecutor = pool;
    rawThreadPoolExecutor =
        AsynchronousFileChannel.open(path, Set.of(StandardOpenOption.READ), threadPoolExecutor);
    rawDefaultPool = AsynchronousFileChannel.open(path, StandardOpenOption.READ);
    blocking = FileChannel.open(path, StandardOpenOption.READ);
    blockingThreads = Executors.newFixedThreadPool(threads);
    vertx = Vertx.vertx();
    vertxFile = vertx.fileSystem().openBlocking(path.toString(), new OpenOptions().setRead(true));
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    virtualFile.close().block();
    engine.close();
    rawSameExecutor.close();
    sameExecutor.shutdown();
    rawEngineLikeExecutor.close();
    engineLikeExecutor.shutdown();
    rawThreadPoolExecutor.close();
    threadPoolExecutor.shutdown();
    rawDefaultPool.close();
    blocking.close();
    blockingThreads.shutdown();
    vertxFile.close().toCompletionStage().toCompletableFuture().join();
    vertx.close().toCompletionStage().toCompletableFuture().join();
    scratch.close();
  }

  static long randomPosition() {
    return ThreadLocalRandom.current().nextLong(SIZE / BLOCK) * BLOCK;
  }

  /** Starts one read into {@code buf}; calls {@code done} when it completed (with its error, or null). */
  @FunctionalInterface
  interface AsyncRead {
    void start(ByteBuffer buf, long position, Consumer<Throwable> done);
  }

  /** Keeps {@code inFlight} reads outstanding until {@value #READS} are done. */
  void window(AsyncRead read) throws Exception {
    AtomicInteger issued = new AtomicInteger();
    AtomicInteger completed = new AtomicInteger();
    CountDownLatch finished = new CountDownLatch(1);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    for (int i = 0; i < inFlight; i++) {
      ByteBuffer buf = bufs[i];
      issued.incrementAndGet();
      new Object() {
        void next() {
          buf.clear();
          read.start(buf, randomPosition(), error -> {
            if (error != null) {
              failure.compareAndSet(null, error);
            }
            if (issued.incrementAndGet() <= READS) {
              next();
            }
            if (completed.incrementAndGet() == READS) {
              finished.countDown();
            }
          });
        }
      }.next();
    }
    finished.await();
    if (failure.get() != null) {
      throw new IllegalStateException(failure.get());
    }
  }

  static CompletionHandler<Integer, Void> handler(Consumer<Throwable> done) {
    return new CompletionHandler<>() {
      @Override
      public void completed(Integer n, Void a) {
        done.accept(null);
      }

      @Override
      public void failed(Throwable e, Void a) {
        done.accept(e);
      }
    };
  }

  @Benchmark
  public void asyncVirtualFile() throws Exception {
    window((buf, pos, done) -> virtualFile.readAt(buf, pos).subscribe(n -> done.accept(null), done));
  }

  @Benchmark
  public void rawAsyncChannelSameExecutor() throws Exception {
    window((buf, pos, done) -> rawSameExecutor.read(buf, pos, null, handler(done)));
  }

  /**
   * As {@link #rawAsyncChannelSameExecutor}, on a pool with the engine's settings (extra threads up to
   * {@code maxIoThreads}, kept for a second): what the engine's pool costs the raw channel.
   */
  @Benchmark
  public void rawAsyncChannelEngineLikeExecutor() throws Exception {
    window((buf, pos, done) -> rawEngineLikeExecutor.read(buf, pos, null, handler(done)));
  }

  @Benchmark
  public void rawAsyncChannelThreadPoolExecutor() throws Exception {
    window((buf, pos, done) -> rawThreadPoolExecutor.read(buf, pos, null, handler(done)));
  }

  @Benchmark
  public void rawAsyncChannelJdkDefaultPool() throws Exception {
    window((buf, pos, done) -> rawDefaultPool.read(buf, pos, null, handler(done)));
  }

  @Benchmark
  public void fileChannelOnBoundedElastic() throws Exception {
    window((buf, pos, done) -> Mono.fromCallable(() -> blocking.read(buf, pos))
        .subscribeOn(Schedulers.boundedElastic())
        .subscribe(n -> done.accept(null), done));
  }

  @Benchmark
  public void vertxAsyncFile() throws Exception {
    window((buf, pos, done) -> vertxFile.read(Buffer.buffer(BLOCK), 0, pos, BLOCK)
        .onComplete(ar -> done.accept(ar.succeeded() ? null : ar.cause())));
  }

  /**
   * The blocking limit with the engine's thread count: as many threads as available processors (the
   * engine's core IO threads), each reading its share of the reads one after another. What the CPUs
   * can do with no hand-off at all; the engine at 32 in flight is compared with it.
   */
  @Benchmark
  public long blockingFileChannelOnAllCores() throws Exception {
    int threads = Runtime.getRuntime().availableProcessors();
    List<Future<Integer>> parts = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int share = READS / threads + (t < READS % threads ? 1 : 0);
      parts.add(blockingThreads.submit(() -> {
        ByteBuffer b = ByteBuffer.allocateDirect(BLOCK);
        int total = 0;
        for (int i = 0; i < share; i++) {
          b.clear();
          total += blocking.read(b, randomPosition());
        }
        return total;
      }));
    }
    long total = 0;
    for (Future<Integer> f : parts) {
      total += f.get();
    }
    return total;
  }

  /** One thread, one read after another: the floor that the asynchronous variants pay a hand-off over. */
  @Benchmark
  public int blockingFileChannel() throws IOException {
    int total = 0;
    for (int i = 0; i < READS; i++) {
      ByteBuffer b = bufs[i % inFlight];
      b.clear();
      total += blocking.read(b, randomPosition());
    }
    return total;
  }
}
