package io.virtualfile.reactive;

import io.virtualfile.FileIoListener;
import io.virtualfile.internal.CachedFile;
import io.virtualfile.internal.Events;
import io.virtualfile.internal.ClockCache;
import io.virtualfile.internal.FileOps;
import io.virtualfile.internal.JdkFileOps;
import io.virtualfile.reactive.spi.EngineChannel;
import io.virtualfile.reactive.spi.EngineSettings;
import io.virtualfile.reactive.spi.IoEngine;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.function.UnaryOperator;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The IO engine behind {@link AsyncVirtualFile}: IO threads, a bounded cache of open files, and the
 * crash-safe overwrite.
 *
 * <ul>
 *   <li><b>Engine.</b> Chosen when it is built ({@link Builder#engine(Engine)}); {@link #engine()} says
 *       which one runs. {@link Engine#THREADS} runs on every JDK and system: each read or write is a
 *       positional {@link java.nio.channels.FileChannel} call on an IO thread. Other engines come from
 *       their own artifacts (see {@link Engine}).</li>
 *   <li><b>IO threads.</b> A pool of {@link Builder#ioThreads(int)} core daemon threads named {@code
 *       virtualfile-io-N}, which grows to at most {@link Builder#maxIoThreads(int)} while IO waits for
 *       busy threads (device-bound reads block their thread in the kernel) and shrinks back after
 *       {@link Builder#ioThreadKeepAlive(Duration)}. Reads and writes run there and their results are
 *       signalled from there (on the io_uring engine, a read that the page cache answers at once runs
 *       and is signalled on the thread that starts it: see {@link AsyncVirtualFile}). An operation started from an IO thread (from inside a signal) runs next
 *       on that same thread, without waking another one: a read loop costs no thread hand-off per
 *       read.</li>
 *   <li><b>Open-file cache.</b> At most {@link Builder#cacheCapacity(int)} files are open, on the same
 *       clock cache as core's {@link io.virtualfile.OpenFileCache} (see its Javadoc for what the bound
 *       means, for the wait when every entry is pinned by an operation in flight, and for which handles
 *       share one open file: handles of one path with the same options do, and their file stays open in
 *       the cache after the last closes, so that the next open of the path costs a {@code stat}).
 *       <b>Liveness:</b> a read or write pins its file's entry only where its transfer then runs at
 *       once (the thread engine in the IO task that makes it; io_uring on its ring, whose thread never
 *       waits for an entry), never while it waits for an IO thread. So any number of operations may be
 *       in flight on a cache of any size: misses that wait for an entry on every IO thread wait only
 *       for transfers that are running, and each gets an entry as they finish.</li>
 *   <li><b>Where the steps that block run.</b> Opening and reopening files, {@code force}, {@code
 *       size}, {@code truncate} and {@code close} run on the IO threads, as part of the operation they
 *       belong to. The overwrite's steps (create, fsync, rename, directory fsync) run on {@link
 *       Builder#blockingScheduler(Scheduler)}, by default the IO threads too, one stage after another on
 *       one thread. Never on a subscriber's thread.</li>
 * </ul>
 *
 * <h2>Listening</h2>
 * A {@link FileIoListener}, given to {@link Builder#listener(FileIoListener)} or added later with {@link
 * #addListener(FileIoListener)}, is told the duration and outcome of every operation of the files on
 * this engine (reads and writes with their byte counts), of its overwrites and their steps, its
 * evictions, waits for a slot and shared directory fsyncs. It is called on the IO threads (a failure
 * signalled before an operation reached them, on the subscribing thread), so it must be cheap and never
 * block. Without a listener nothing is measured. The IO threads' load is read on demand: {@link
 * #queuedTasks()} and {@link #extraIoThreads()}.
 *
 * <p>Thread-safe. {@link #close()} closes the cached files (after operations in flight on them) and
 * stops the IO threads; it does not dispose a scheduler it was given. Close it only once its overwrites
 * have completed: an overwrite still writing its temp file when the IO threads stop fails at {@code
 * WRITE} and leaves the final file untouched.
 */
public final class AsyncFileIo implements AutoCloseable {
  /** The IO engines. */
  public enum Engine {
    /** io_uring where it works (Linux, JDK 22+, {@code virtualfile-uring} present), else {@link #THREADS}. */
    AUTO,
    /**
     * Linux io_uring through the FFM API: needs JDK 22 or later, the {@code
     * io.virtualfile:virtualfile-uring} artifact, and a kernel and sandbox that allow io_uring.
     */
    IO_URING,
    /** Positional {@link java.nio.channels.FileChannel} calls on IO threads. Runs everywhere. */
    THREADS
  }

  /** System property that sets the channel cache capacity of {@link #shared()}. */
  public static final String MAX_OPEN_FILES_PROPERTY = "virtualfile.async.maxOpenFiles";

  private static AsyncFileIo shared; // guarded by AsyncFileIo.class

  private final IoEngine engine;
  private final Engine engineKind;
  private final ExecutorService ioExecutor;
  private final Scheduler ioScheduler;
  private final ClockCache<EngineChannel> cache;
  private final CachedFile.PathOpener<EngineChannel> opener;
  private final Scheduler blocking;
  private final boolean isShared;
  private final OverwritePipeline overwrites;

  private AsyncFileIo(Builder b, boolean isShared) {
    this.cache = new ClockCache<>(b.cacheCapacity, b.pinWait);
    for (FileIoListener l : b.listeners) {
      cache.events().add(l);
    }
    EngineSettings settings = new EngineSettings(b.ioThreads, Math.max(b.ioThreads, b.maxIoThreads),
        b.ioThreadKeepAlive, "virtualfile-io-", b.nonBlockingIoThreads);
    EngineSelection.Started started = EngineSelection.start(b.engine, settings, b.executorDecorator);
    this.engine = started.engine();
    this.opener = (path, options) -> engine.open(path, options);
    this.engineKind = started.kind();
    this.ioExecutor = engine.ioThreads();
    this.ioScheduler = Schedulers.fromExecutor(ioExecutor);
    this.blocking = b.blockingScheduler != null ? b.blockingScheduler : ioScheduler;
    this.isShared = isShared;
    Scheduler steps = StepScheduler.of(blocking, this::isClosed);
    this.overwrites =
        new OverwritePipeline(
            b.fileOps,
            EngineTempFile.factory(engine, this::refusal),
            steps,
            new GroupCommitDirectorySyncer(b.fileOps, steps, b.syncGate, cache.events()),
            b.stepGate,
            cache.events());
  }

  /**
   * The process-wide engine: IO threads as many as available processors, a channel cache of {@value
   * #MAX_OPEN_FILES_PROPERTY} (default 128), up to 64 IO threads while threads block in the kernel.
   * It cannot be closed; its threads are daemons.
   */
  public static synchronized AsyncFileIo shared() {
    if (shared == null) {
      Builder b = builder();
      String value = System.getProperty(MAX_OPEN_FILES_PROPERTY);
      if (value != null) {
        try {
          b.cacheCapacity(Integer.parseInt(value.trim()));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(
              MAX_OPEN_FILES_PROPERTY + " is not a whole number: \"" + value + "\"", e);
        }
      }
      shared = new AsyncFileIo(b, true);
    }
    return shared;
  }

  /** A builder with the defaults of {@link #shared()}. */
  public static Builder builder() {
    return new Builder();
  }

  /** Configures an {@link AsyncFileIo}. Not thread-safe. */
  public static final class Builder {
    private int ioThreads = Runtime.getRuntime().availableProcessors();
    private int maxIoThreads = 64;
    private Duration ioThreadKeepAlive = Duration.ofSeconds(1);
    private int cacheCapacity = 128;
    private Duration pinWait = Duration.ofSeconds(10);
    private Scheduler blockingScheduler; // null: the IO threads
    private UnaryOperator<ExecutorService> executorDecorator = UnaryOperator.identity();
    private OverwritePipeline.StepGate stepGate = OverwritePipeline.StepGate.OPEN;
    private DirectorySyncer.SyncGate syncGate = dir -> Mono.empty();
    private FileOps fileOps = JdkFileOps.INSTANCE;
    private Engine engine = Engine.AUTO;
    private boolean nonBlockingIoThreads;
    private final List<FileIoListener> listeners = new ArrayList<>();

    private Builder() {}

    /**
     * Adds a listener the engine tells from the start (see {@link AsyncFileIo#addListener}); each call
     * adds one more.
     */
    public Builder listener(FileIoListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /**
     * The engine to run (default {@link Engine#AUTO}). {@link #build()} fails with {@link
     * UnsupportedOperationException}, giving the reason, if an engine asked for by name cannot run
     * here.
     */
    public Builder engine(Engine engine) {
      this.engine = Objects.requireNonNull(engine, "engine");
      return this;
    }

    /**
     * IO threads that run positional reads and writes (default: available processors).
     *
     * @throws IllegalArgumentException if {@code n < 1}
     */
    public Builder ioThreads(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("ioThreads < 1: " + n);
      }
      this.ioThreads = n;
      return this;
    }

    /**
     * IO threads at most, core and extra (default 64, or {@link #ioThreads(int)} if that is more).
     * When an IO thread's operation has run longer than a page-cached one would (50 µs: it is blocked
     * in the kernel on a device-bound read or an fsync, say), no IO thread is idle and more IO waits,
     * an extra IO thread starts, so that the device sees more operations at once. An extra thread
     * retires after {@link #ioThreadKeepAlive(Duration)} without work, or once it runs only short
     * operations while another IO thread is idle, so page-cached work stays on the {@link
     * #ioThreads(int)} core threads. Extra threads are started by a thread of the pool's own (its name is
     * the IO threads' prefix followed by {@code starter}), so that no caller (an event loop that subscribes, an IO thread)
     * waits for a thread to start; like the core threads, they inherit inheritable thread locals and
     * the context class loader from the thread that built this {@code AsyncFileIo}. Set this to {@link
     * #ioThreads(int)}'s value for a fixed pool (it then has no starter).
     *
     * @throws IllegalArgumentException if {@code n < 1}
     */
    public Builder maxIoThreads(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("maxIoThreads < 1: " + n);
      }
      this.maxIoThreads = n;
      return this;
    }

    /**
     * How long an extra IO thread (see {@link #maxIoThreads(int)}) waits for work before it retires
     * (default 1 second).
     *
     * @throws IllegalArgumentException if {@code keepAlive} is negative
     */
    public Builder ioThreadKeepAlive(Duration keepAlive) {
      Objects.requireNonNull(keepAlive, "keepAlive");
      if (keepAlive.isNegative()) {
        throw new IllegalArgumentException("ioThreadKeepAlive < 0: " + keepAlive);
      }
      this.ioThreadKeepAlive = keepAlive;
      return this;
    }

    /**
     * Channels kept open at most (default 128).
     *
     * @throws IllegalArgumentException if {@code capacity < 1}
     */
    public Builder cacheCapacity(int capacity) {
      if (capacity < 1) {
        throw new IllegalArgumentException("capacity < 1: " + capacity);
      }
      this.cacheCapacity = capacity;
      return this;
    }

    /**
     * How long a reopen waits for a channel slot when every slot is pinned by operations in flight,
     * before it fails (default 10 seconds). However many operations are in flight, the pins are all on
     * reads and writes that are running (see the class comment), so a wait ends as they finish; it
     * runs out only if the operations in flight themselves hold every slot this long.
     */
    public Builder pinWait(Duration wait) {
      Objects.requireNonNull(wait, "wait");
      if (wait.isNegative()) {
        throw new IllegalArgumentException("pinWait < 0: " + wait);
      }
      this.pinWait = wait;
      return this;
    }

    /**
     * Where the overwrite's blocking steps and directory fsyncs run (default: the engine's IO threads,
     * which grow while threads block; see {@link #maxIoThreads(int)}). Not disposed by close.
     */
    public Builder blockingScheduler(Scheduler scheduler) {
      this.blockingScheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * Whether the thread engine's IO threads count as non-blocking threads (default {@code false}):
     * with {@code true} they implement Reactor's {@link reactor.core.scheduler.NonBlocking} marker, so
     * that <a href="https://github.com/reactor/BlockHound">BlockHound</a>, when it is installed,
     * reports a blocking call made on them by code that runs in a signal (a {@code map}, a {@code
     * flatMap}, a subscriber), as it does on {@code Schedulers.parallel()}, while the engine's own
     * blocking calls there (the reads and writes, opens and reopens after eviction, {@code force},
     * {@code size}, {@code truncate}, {@code close}, the overwrite's steps and directory fsyncs, the
     * idle threads' parking) stay allowed: {@code
     * io.virtualfile.blockhound.IoThreadsBlockHoundIntegration}, in the artifact {@code
     * io.virtualfile:virtualfile-blockhound}, lists them (add it next to BlockHound, which finds it by
     * itself). Meant for tests and staging runs that want BlockHound to watch the code that runs on
     * the IO threads.
     *
     * <p>Like any {@code NonBlocking} thread, such an IO thread also refuses Reactor's {@code
     * block()}, {@code blockFirst()} and {@code blockLast()} with an {@link IllegalStateException}.
     * Without BlockHound it changes nothing else. It applies to the thread engine ({@link
     * Engine#THREADS}, or {@link Engine#AUTO} when it falls back to it); other engines ignore it.
     */
    public Builder nonBlockingIoThreads(boolean nonBlocking) {
      this.nonBlockingIoThreads = nonBlocking;
      return this;
    }

    /** For tests: wraps the IO executor (to observe what runs on it). */
    Builder executorDecorator(UnaryOperator<ExecutorService> decorator) {
      this.executorDecorator = Objects.requireNonNull(decorator, "decorator");
      return this;
    }

    /** For tests: pauses each overwrite before each step until the gate's Mono completes. */
    Builder stepGate(OverwritePipeline.StepGate gate) {
      this.stepGate = Objects.requireNonNull(gate, "gate");
      return this;
    }

    /** For tests: pauses each directory fsync of the overwrite until the gate's Mono completes. */
    Builder syncGate(DirectorySyncer.SyncGate gate) {
      this.syncGate = Objects.requireNonNull(gate, "gate");
      return this;
    }

    /** For tests: the file-system operations of the overwrite (to observe them or inject faults). */
    Builder fileOps(FileOps ops) {
      this.fileOps = Objects.requireNonNull(ops, "ops");
      return this;
    }

    /**
     * Starts the engine and its IO threads.
     *
     * @throws UnsupportedOperationException if the {@link #engine(Engine)} asked for cannot run here
     */
    public AsyncFileIo build() {
      return new AsyncFileIo(this, false);
    }
  }

  /**
   * The crash-safe overwrite of {@code finalPath} with {@code content}, as one cold, non-blocking
   * pipeline: the same steps, validation, guarantees and {@link
   * io.virtualfile.CrashSafeOverwriteException} as {@link io.virtualfile.VirtualFile#crashSafeOverwrite(
   * Path, ByteBuffer)}, with a derived temp name.
   *
   * <ul>
   *   <li>Blocking steps (validation, temp creation, fsync, close) run one after another on one worker
   *       of {@link Builder#blockingScheduler(Scheduler)} (the IO threads by default); the write runs on
   *       the IO threads. The renames of one directory run one at a time, in the order they were asked
   *       for, on a thread of that scheduler that is renaming for the directory (an overwrite waits for
   *       its rename without holding a thread). Completion is signalled on the thread that finished the
   *       directory fsync.</li>
   *   <li>Each overwrite holds one descriptor of its own at a time, outside the open-file cache: its temp
   *       file until the rename; then, on Linux and in a directory only the process's user may change,
   *       the file the rename replaces, opened for reading only, until it completes (so that the rename,
   *       which holds the directory's lock, does not also free that file). At most 64 replaced files are
   *       held at once in a process (fewer under a low descriptor limit); the system property {@code virtualfile.holdReplacedFiles=false}
   *       turns this off (see the README).</li>
   *   <li>Directory fsyncs are shared: overwrites in one directory that finish their renames while a
   *       directory fsync runs join the next one (group commit), which starts after their renames, so
   *       each overwrite's rename is covered by an fsync that started after it.</li>
   *   <li>Cancelled (or timed out) before the {@code RENAME} step starts: the pipeline stops at the next
   *       step, closes and removes the temp file; the final file is untouched. Cancelled once that step
   *       has started (its rename may still be queued behind others of the directory): the rename and
   *       the directory fsync still complete in the background (an error goes to {@code
   *       Hooks.onErrorDropped}).</li>
   *   <li>Concurrent overwrites of one path never interfere: the file always holds one complete
   *       content. Their renames take effect one at a time, and, within the overwrites of one directory
   *       on this engine, completions are signalled in the order the renames took effect, so the last
   *       to complete is what the file holds. (Between engines, or with core's blocking call, the file
   *       still holds the content of the last rename, but completions are not ordered.)</li>
   * </ul>
   *
   * <p>{@code content} is read from its position to its limit at each subscription; its position is not
   * changed.
   */
  public Mono<Void> overwrite(Path finalPath, ByteBuffer content) {
    return overwrite(finalPath, null, content, "content");
  }

  /**
   * As {@link #overwrite(Path, ByteBuffer)} with the caller's temp path, in {@code finalPath}'s
   * directory; a stale file there is removed first, as in {@link
   * io.virtualfile.VirtualFile#crashSafeOverwrite(Path, Path, ByteBuffer)}. A cancelled overwrite keeps
   * its temp path claimed until its cleanup, which runs in the background, has removed the temp file:
   * an overwrite with the same temp path started before then (an immediate retry after a timeout, say)
   * fails at {@code REMOVE_STALE_TEMP} saying the path is in use. Retry with a back-off, or prefer
   * {@link #overwrite(Path, ByteBuffer)}, whose temp names never collide.
   */
  public Mono<Void> overwrite(Path finalPath, Path tmpPath, ByteBuffer content) {
    return Mono.defer(() -> {
      Objects.requireNonNull(tmpPath, "tmpPath");
      return overwrite(finalPath, tmpPath, content, "content");
    });
  }

  /**
   * As {@link #overwrite(Path, ByteBuffer)}, with content streamed in chunks: each buffer is written
   * completely, in order, before the next is requested. An error of {@code content} fails the overwrite
   * at {@link io.virtualfile.CrashSafeOverwriteException.Step#WRITE}, leaving the final file untouched.
   * {@code content} is subscribed once per subscription of the returned Mono; each buffer is written
   * from its position to its limit, and its position is not changed (a re-subscription that is given
   * the same buffers writes them whole again).
   */
  public Mono<Void> overwrite(Path finalPath, Publisher<ByteBuffer> content) {
    return Mono.defer(() -> {
      Objects.requireNonNull(finalPath, "finalPath");
      Objects.requireNonNull(content, "content");
      if (isClosed()) {
        return Mono.error(closedError());
      }
      return overwrites.overwrite(finalPath, null, content);
    }).onErrorMap(this::refusal);
  }

  private Mono<Void> overwrite(Path finalPath, Path tmpPath, ByteBuffer content, String name) {
    return Mono.defer(() -> {
      Objects.requireNonNull(finalPath, "finalPath");
      Objects.requireNonNull(content, name);
      if (isClosed()) {
        return Mono.error(closedError());
      }
      return overwrites.overwrite(finalPath, tmpPath, Mono.fromSupplier(content::duplicate));
    }).onErrorMap(this::refusal);
  }

  /**
   * {@link io.virtualfile.VirtualFile#removeStaleTempFiles(Path)} on an IO thread, for start-up in a
   * reactive service: removes the temp files that interrupted overwrites left in {@code dir}, and emits
   * how many. Fails with {@link IllegalArgumentException} if {@code dir} is not a directory.
   */
  public Mono<Integer> removeStaleTempFiles(Path dir) {
    return Mono.defer(() -> {
      Objects.requireNonNull(dir, "dir");
      if (isClosed()) {
        return Mono.error(closedError());
      }
      return Mono.fromCallable(() -> io.virtualfile.VirtualFile.removeStaleTempFiles(dir))
          .subscribeOn(ioScheduler)
          .onErrorMap(this::refusal);
    });
  }

  /** The channel cache's counters, as core's {@link io.virtualfile.CacheStats}. */
  public io.virtualfile.CacheStats stats() {
    return new io.virtualfile.CacheStats(
        cache.hits(), cache.misses(), cache.evictions(), cache.openDescriptors());
  }

  /** The channel cache capacity. */
  public int cacheCapacity() {
    return cache.capacity();
  }

  /**
   * Tells {@code listener} the events of this engine and of the files on it from now on (an operation
   * already under way may go unreported). May be called at any time, from any thread; a listener added
   * twice is told twice. See the class comment and {@link FileIoListener} for the threads it runs on.
   */
  public void addListener(FileIoListener listener) {
    cache.events().add(listener);
  }

  /**
   * Stops telling {@code listener} (one registration of it); an event under way may still reach it.
   *
   * @return whether it was registered
   */
  public boolean removeListener(FileIoListener listener) {
    return cache.events().remove(listener);
  }

  /**
   * IO tasks submitted and not yet started: a racy snapshot, for monitoring (it may walk the queue:
   * read it at a scrape's pace, not per operation). 0 for an engine that cannot tell.
   */
  public int queuedTasks() {
    return engine.queuedTasks();
  }

  /**
   * IO threads running beyond {@link Builder#ioThreads(int)} now, started because IO waited while
   * threads were blocked in the kernel (see {@link Builder#maxIoThreads(int)}): a racy snapshot.
   */
  public int extraIoThreads() {
    return engine.extraIoThreads();
  }

  /** The listeners of this engine's cache, overwrites and directory fsyncs. */
  Events events() {
    return cache.events();
  }

  /**
   * Closes the cached channels (one with an operation in flight when that operation finishes) and stops
   * the IO threads once their queued work is done. From then on every operation, open and overwrite is
   * refused before it touches the disk, with an {@link io.virtualfile.FileClosedException} saying the
   * engine is closed. An overwrite already under way goes on to its end: its remaining blocking steps
   * (and its directory fsync) run on Reactor's {@code boundedElastic}; a write of its content that the
   * closed engine refuses fails with that exception ({@link io.virtualfile.CrashSafeOverwriteException}
   * at {@code WRITE}), and its temp file is removed (the io_uring engine's rings may still take writes
   * for a moment, as they stop after the IO threads' queued work). An overwrite whose content publisher has not
   * delivered its next buffer keeps waiting for it, with its temp file open, until it does, completes,
   * or the overwrite is cancelled (which removes the temp file). Closes descriptors; call it from a
   * thread that may block. Idempotent.
   *
   * @throws IllegalStateException on the {@link #shared()} engine
   */
  @Override
  public void close() {
    if (isShared) {
      throw new IllegalStateException("the shared AsyncFileIo cannot be closed");
    }
    try {
      cache.close();
    } finally {
      engine.shutdown();
    }
  }

  /** Whether {@link #close()} was called: new work is then refused before it touches the disk. */
  boolean isClosed() {
    return cache.isClosed();
  }

  /** The error that refuses new work on a closed engine. */
  io.virtualfile.FileClosedException closedError() {
    return new io.virtualfile.FileClosedException("the AsyncFileIo is closed: " + this);
  }

  /**
   * {@code error} as the caller sees it: work that passed the closed check just before a {@link
   * #close()} and reached the engine just after is refused as work after the close is ({@link
   * #closedError()}), not with the engine's or Reactor's {@link
   * java.util.concurrent.RejectedExecutionException}. Any other error is returned unchanged.
   */
  Throwable refusal(Throwable error) {
    return error instanceof java.util.concurrent.RejectedExecutionException && isClosed()
        ? closedError() : error;
  }

  /** The engine that runs: {@link Engine#IO_URING} or {@link Engine#THREADS}, never {@link Engine#AUTO}. */
  public Engine engine() {
    return engineKind;
  }

  ClockCache<EngineChannel> cache() {
    return cache;
  }

  /** The engine, which starts reads and writes of cached files ({@link IoEngine#start}). */
  IoEngine ioEngine() {
    return engine;
  }

  /** The IO threads, for operations that start there (opens and the blocking calls). */
  Executor ioThreads() {
    return ioExecutor;
  }

  /** The IO threads as a scheduler. */
  Scheduler ioScheduler() {
    return ioScheduler;
  }

  Scheduler blocking() {
    return blocking;
  }

  /** Opens {@code path} on the IO threads. Blocking. */
  /** Opens files on the engine; one object, part of the key under which handles share a channel. */
  CachedFile.PathOpener<EngineChannel> opener() {
    return opener;
  }

  @Override
  public String toString() {
    return "AsyncFileIo{" + stats() + "}";
  }
}
