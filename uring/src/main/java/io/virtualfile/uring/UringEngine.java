package io.virtualfile.uring;

import io.virtualfile.reactive.internal.IoThreadPool;
import io.virtualfile.reactive.spi.EngineChannel;
import io.virtualfile.reactive.spi.EngineSettings;
import io.virtualfile.reactive.spi.IoEngine;
import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The io_uring engine: rings, each owned by a thread of its own ({@link RingLoop}), and an {@link
 * IoThreadPool} of {@code ioThreads} threads for the steps that block (opens, the blocking channel
 * calls, the overwrite's steps), which make plain system calls ({@link DirectCalls}). The overwrite's
 * last write to its temp file and the temp file's fsync go to a ring instead, as two linked requests
 * ({@link WriteThenFsync}).
 *
 * <p><b>Which ring.</b> A request made on a ring's thread (the next read of a chain, issued from a
 * completion) goes to that ring, with no hand-off. Any other thread's requests go to the rings in
 * turn, so that the work of a thread that starts many requests at once is spread over every ring's
 * thread (and core). Requests in flight together have no order among them (as on the thread engine).
 *
 * <p><b>Reads the page cache answers.</b> A read is first tried on the thread that calls {@link
 * io.virtualfile.reactive.spi.EngineChannel#read} ({@link InlineReads}), whatever thread that is (a
 * ring's, an IO pool thread, a subscriber's): if the page cache holds every byte it asks for (up to the
 * end of the file), it is made there without waiting for the device, and completes there, before {@code
 * read} returns. Only a read that would wait (or that cannot be tried: see {@link InlineReads}) goes to a
 * ring. Not where the kernel refuses {@code preadv2}'s {@code RWF_NOWAIT} (probed at start).
 *
 * <p><b>Where completions run.</b> A read answered at once: on the thread that started it, inside the
 * call, or, if started from inside such a completion, on the same thread just after that completion
 * returns (queued there: {@link InlineReads}, so a read loop driven from its completions never deepens
 * the stack); past {@link InlineReads#MAX_RUN} reads in one call, the rest go to a ring. Every other
 * read and write: on the ring's thread. Signals, and whatever user code runs in them, therefore run on
 * either; a ring's thread, like any event loop, must not block (a blocking call on it fails with {@link
 * IllegalStateException} rather than wait for itself), and neither may an inline completion (the reads
 * queued behind it wait for it).
 *
 * <p><b>Shutdown.</b> The IO pool stops first; once its queued work is done, each ring stops taking
 * requests, waits for those in flight, and frees its memory.
 */
final class UringEngine implements IoEngine {
  private final IoThreadPool pool;
  private final RingLoop[] rings;
  /** Whether reads are tried on the calling thread first ({@link InlineReads}). */
  private final boolean inlineReads;
  /** The ring that the next request from a thread that owns no ring goes to (modulo their number). */
  private int nextRing;

  private UringEngine(IoThreadPool pool, RingLoop[] rings, boolean inlineReads) {
    this.pool = pool;
    this.rings = rings;
    this.inlineReads = inlineReads;
  }

  /**
   * Starts {@code settings.ioThreads()} rings and the IO pool.
   *
   * @param inlineReads whether to try reads on the calling thread first, if the kernel takes {@code
   *     RWF_NOWAIT} (tests turn it off to test the rings)
   */
  static UringEngine start(EngineSettings settings, int setupFlags, Ring.Setup setup,
      boolean inlineReads) throws Ring.SetupException {
    RingLoop[] rings = new RingLoop[settings.ioThreads()];
    try {
      for (int i = 0; i < rings.length; i++) {
        rings[i] = RingLoop.start(settings.threadNamePrefix() + "uring-" + i, setupFlags, setup);
      }
    } catch (Ring.SetupException | RuntimeException e) {
      for (RingLoop r : rings) {
        if (r != null) {
          r.shutdown();
        }
      }
      throw e;
    }
    // The pool grows as the thread engine's does: the overwrite's fsyncs run on it, and a device (or a
    // journal that commits concurrent fsyncs together) goes faster with more of them at once.
    IoThreadPool pool = new IoThreadPool(settings.ioThreads(), settings.maxIoThreads(),
        settings.ioThreadKeepAlive().toNanos(), settings.threadNamePrefix());
    return new UringEngine(pool, rings, inlineReads && InlineReads.probe());
  }

  /**
   * The ring for a request made on {@code t}: its own if it is a ring's thread (no hand-off), else the
   * rings in turn, so that the requests one thread starts at once (the first reads of many chains) are
   * spread over every ring and its thread, and the chains that go on from their completions too.
   */
  RingLoop ringFor(Thread t) {
    for (RingLoop r : rings) {
      if (r.isOwner(t)) {
        return r;
      }
    }
    // A plain field, racy on purpose: any ring is a correct choice, so a lost or repeated increment
    // only skews the spread a little, and no request pays for an atomic on a shared cache line.
    int turn = nextRing;
    nextRing = turn + 1;
    return rings[Math.floorMod(turn, rings.length)];
  }

  /** Whether reads are tried on the calling thread first. */
  boolean inlineReads() {
    return inlineReads;
  }

  /** The setup flags the kernel accepted for the rings. */
  int ringFlags() {
    return rings[0].ringFlags();
  }

  @Override
  public ExecutorService ioThreads() {
    return pool;
  }

  @Override
  public EngineChannel open(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
      throws IOException {
    if (path.getFileSystem() != FileSystems.getDefault()) {
      throw new UnsupportedOperationException("the io_uring engine opens files of the default file"
          + " system only: " + path.getFileSystem());
    }
    OpenFlags flags = OpenFlags.of(options, attrs);
    // Absolute first: Java resolves a relative path against user.dir, the kernel against the working
    // directory of the process, and the two may differ.
    int fd = DirectCalls.openat(path.toAbsolutePath().toString(), flags.flags(), flags.mode());
    return new UringChannel(this, fd, path, flags);
  }

  /** The blocking steps waiting for a pool thread; reads and writes wait in the rings, uncounted. */
  @Override
  public int queuedTasks() {
    return pool.queuedTasks();
  }

  @Override
  public void shutdown() {
    if (pool.isShutdown()) {
      return;
    }
    pool.shutdown();
    Thread.ofVirtual().name("virtualfile-uring-shutdown").start(() -> {
      try {
        pool.awaitTermination(Long.MAX_VALUE, TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      for (RingLoop r : rings) {
        r.shutdown();
      }
    });
  }
}
