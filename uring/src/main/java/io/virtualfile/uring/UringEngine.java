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
 * IoThreadPool} for the steps that block (opens, the blocking channel calls, the overwrite's steps).
 *
 * <p><b>Which ring.</b> A request made on a ring's thread (the next read of a chain, issued from a
 * completion) goes to that ring, with no hand-off. Any other thread's requests go to one ring chosen by
 * its thread id, so one thread's requests keep their order of submission into the kernel.
 *
 * <p><b>Where completions run.</b> On the ring's thread. Signals, and whatever user code runs in them,
 * therefore run there: like any event loop, it must not block (a blocking call on it fails with {@link
 * IllegalStateException} rather than wait for itself).
 *
 * <p><b>Shutdown.</b> The IO pool stops first; once its queued work is done, each ring stops taking
 * requests, waits for those in flight, and frees its memory.
 */
final class UringEngine implements IoEngine {
  private final IoThreadPool pool;
  private final RingLoop[] rings;
  private final boolean ftruncateOp;

  private UringEngine(IoThreadPool pool, RingLoop[] rings, boolean ftruncateOp) {
    this.pool = pool;
    this.rings = rings;
    this.ftruncateOp = ftruncateOp;
  }

  /**
   * Starts {@code settings.ioThreads()} rings and the IO pool.
   *
   * @param ftruncateOp whether the kernel has {@code IORING_OP_FTRUNCATE} (else a plain ftruncate)
   */
  static UringEngine start(EngineSettings settings, int setupFlags, Ring.Setup setup,
      boolean ftruncateOp) throws Ring.SetupException {
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
    IoThreadPool pool = new IoThreadPool(settings.ioThreads(), settings.maxIoThreads(),
        settings.ioThreadKeepAlive().toNanos(), settings.threadNamePrefix());
    return new UringEngine(pool, rings, ftruncateOp);
  }

  /** The ring for requests made on {@code t}: its own if it is a ring's thread. */
  RingLoop ringFor(Thread t) {
    for (RingLoop r : rings) {
      if (r.isOwner(t)) {
        return r;
      }
    }
    return rings[(int) Math.floorMod(t.threadId(), (long) rings.length)];
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
    int fd = RingCalls.openat(ringFor(Thread.currentThread()), path.toString(), flags.flags(),
        flags.mode());
    return new UringChannel(this, fd, path, flags);
  }

  /** ftruncate, as a request where the kernel has it, else as a plain system call. */
  void truncate(int fd, long size) throws IOException {
    if (ftruncateOp) {
      RingCalls.ftruncate(ringFor(Thread.currentThread()), fd, size);
      return;
    }
    int r = Native.ftruncate(fd, size);
    if (r < 0) {
      throw Errors.io("ftruncate", -r);
    }
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
