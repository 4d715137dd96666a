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
