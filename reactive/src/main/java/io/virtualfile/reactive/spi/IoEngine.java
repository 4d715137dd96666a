package io.virtualfile.reactive.spi;

import java.io.IOException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.util.Set;
import java.util.concurrent.ExecutorService;

/**
 * An IO engine: IO threads, and files opened for asynchronous reads and writes on them. Thread-safe.
 *
 * <p>{@link io.virtualfile.reactive.AsyncFileIo} runs every step that may block on {@link
 * #ioThreads()}: opening and reopening files, the blocking calls of {@link EngineChannel}, and the
 * overwrite's steps. Work submitted from an IO thread should run next on that same thread where the
 * engine can, so that an operation started from inside a signal costs no hand-off.
 */
public interface IoEngine {
  /** The engine's IO threads. Shut down by {@link #shutdown()}, never by the caller. */
  ExecutorService ioThreads();

  /**
   * Opens {@code path}, with the rules of {@link java.nio.channels.FileChannel#open(Path, Set,
   * FileAttribute[])} (the options were checked before: no {@code APPEND}). Blocking; called on an IO
   * thread.
   */
  EngineChannel open(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
      throws IOException;

  /**
   * Starts {@code io}: takes its pin where its first transfer then starts at once, and makes its
   * transfers (see {@link CachedIo} for why). This default suits an engine whose reads and writes,
   * once started by {@link EngineChannel#read}/{@link EngineChannel#write}, never wait for a thread of
   * {@link #ioThreads()} (a ring's own thread completes them): it pins on the calling thread if the
   * channel is cached, and otherwise hands the work to an IO thread, which pins there, reopening the
   * file; each transfer is then started with {@link EngineChannel#read}/{@link EngineChannel#write}
   * and the next one from its completion. An engine whose reads and writes are tasks on {@link
   * #ioThreads()} must override it, to pin in the task that makes the transfers.
   */
  default void start(CachedIo io) {
    EngineChannel channel;
    try {
      channel = io.pin(false);
    } catch (Throwable t) {
      io.failed(t);
      return;
    }
    if (channel != null) {
      ChainedTransfers.start(channel, io);
      return;
    }
    try {
      ioThreads().execute(() -> {
        EngineChannel reopened = CachedIo.pinOnIoThread(io);
        if (reopened != null) {
          ChainedTransfers.start(reopened, io);
        }
      });
    } catch (Throwable rejected) { // the engine is shut down
      io.failed(rejected);
    }
  }

  /**
   * Tasks waiting for an IO thread now: a racy snapshot, read when metrics are scraped (it may walk a
   * queue). 0 by default, for an engine that cannot tell.
   */
  default int queuedTasks() {
    return 0;
  }

  /**
   * IO threads running now beyond the engine's core threads (see {@link EngineSettings#maxIoThreads()}):
   * a racy snapshot. 0 by default, for an engine that never adds threads.
   */
  default int extraIoThreads() {
    return 0;
  }

  /**
   * Stops the IO threads once their queued work is done (channels are closed before). Idempotent.
   */
  void shutdown();
}
