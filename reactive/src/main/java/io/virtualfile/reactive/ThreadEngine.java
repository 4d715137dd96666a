package io.virtualfile.reactive;

import io.virtualfile.reactive.internal.IoThreadPool;
import io.virtualfile.reactive.spi.CachedIo;
import io.virtualfile.reactive.spi.EngineChannel;
import io.virtualfile.reactive.spi.IoCompletion;
import io.virtualfile.reactive.spi.IoEngine;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.util.Set;
import java.util.concurrent.ExecutorService;

/**
 * The engine that runs on every JDK: each read or write is a task on the IO threads (an {@link
 * io.virtualfile.reactive.internal.IoThreadPool}, which adds threads while tasks block in the kernel)
 * that makes the positional {@link FileChannel} call and then calls the completion, on that thread.
 * A read or write of a cached file ({@link #start}) takes its pin in that same task, just before.
 *
 * <p>Interrupts: the IO threads belong to the engine, and a {@link FileChannel} closes itself when a
 * thread blocked in it is interrupted. One channel serves many handles, so an interrupt (from user code
 * running in a signal on an IO thread, say) must not close it: each call clears the thread's interrupt
 * status first. The engine's own shutdown never interrupts.
 */
final class ThreadEngine implements IoEngine {
  private final ExecutorService ioThreads;
  private final IoThreadPool pool;

  /**
   * @param pool the IO threads
   * @param ioThreads {@code pool}, or a wrapper of it (tests observe what runs on it)
   */
  ThreadEngine(IoThreadPool pool, ExecutorService ioThreads) {
    this.pool = pool;
    this.ioThreads = ioThreads;
  }

  @Override
  public ExecutorService ioThreads() {
    return ioThreads;
  }

  @Override
  public EngineChannel open(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
      throws IOException {
    return new Channel(FileChannel.open(path, options, attrs), ioThreads);
  }

  /**
   * One task on an IO thread pins the channel (reopening the file if it was evicted) and then makes
   * every transfer right there, one after another: a pin is never held by a task that waits in the
   * queue, where it could wait behind misses that occupy every IO thread and wait for that very pin
   * (see {@link CachedIo}). A hit costs what a read task cost before (one task, run next on the
   * submitting thread if it is an IO thread), and a miss one task instead of two.
   */
  @Override
  public void start(CachedIo io) {
    try {
      ioThreads.execute(() -> pinAndTransfer(io));
    } catch (Throwable rejected) { // the engine is shut down
      io.failed(rejected);
    }
  }

  private static void pinAndTransfer(CachedIo io) {
    EngineChannel channel = CachedIo.pinOnIoThread(io);
    if (channel == null) {
      return;
    }
    int n;
    do {
      try {
        n = ((Channel) channel).transferNow(io);
      } catch (Throwable t) {
        io.failed(t);
        return;
      }
    } while (io.transferred(n));
  }

  @Override
  public int queuedTasks() {
    return pool.queuedTasks();
  }

  @Override
  public int extraIoThreads() {
    return pool.extraThreads();
  }

  @Override
  public void shutdown() {
    ioThreads.shutdown();
  }

  /** Clears the interrupt status of the calling IO thread: see the class comment. */
  static void ignoreInterrupt() {
    Thread.interrupted();
  }

  private static final class Channel implements EngineChannel {
    private final FileChannel channel;
    private final ExecutorService ioThreads;

    Channel(FileChannel channel, ExecutorService ioThreads) {
      this.channel = channel;
      this.ioThreads = ioThreads;
    }

    @Override
    public void read(ByteBuffer dst, long position, IoCompletion completion) {
      submit(() -> readNow(dst, position), completion);
    }

    @Override
    public void write(ByteBuffer src, long position, IoCompletion completion) {
      submit(() -> writeNow(src, position), completion);
    }

    // readNow, writeNow, size, truncate, force and close block in the kernel and run no subscriber's
    // code: the BlockHound integration (module blockhound) allows blocking inside them, by name.

    /** The next transfer of {@code io}, on this thread. */
    int transferNow(CachedIo io) throws IOException {
      return io.isWrite() ? writeNow(io.buffer(), io.position()) : readNow(io.buffer(), io.position());
    }

    private int readNow(ByteBuffer dst, long position) throws IOException {
      ignoreInterrupt();
      return channel.read(dst, position);
    }

    private int writeNow(ByteBuffer src, long position) throws IOException {
      ignoreInterrupt();
      return channel.write(src, position);
    }

    private interface Transfer {
      int run() throws IOException;
    }

    private void submit(Transfer transfer, IoCompletion completion) {
      try {
        ioThreads.execute(() -> {
          int n;
          try {
            n = transfer.run();
          } catch (Throwable t) {
            completion.failed(t);
            return;
          }
          completion.completed(n);
        });
      } catch (Throwable rejected) { // the engine is shut down
        completion.failed(rejected);
      }
    }

    @Override
    public long size() throws IOException {
      ignoreInterrupt();
      return channel.size();
    }

    @Override
    public void truncate(long size) throws IOException {
      ignoreInterrupt();
      channel.truncate(size);
    }

    @Override
    public void force(boolean metaData) throws IOException {
      ignoreInterrupt();
      channel.force(metaData);
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }
}
