package io.virtualfile.reactive.spi;

import java.time.Duration;

/**
 * What {@link io.virtualfile.reactive.AsyncFileIo.Builder} settles for the engine's IO threads.
 *
 * @param ioThreads core IO threads, at least 1
 * @param maxIoThreads IO threads at most, at least {@code ioThreads}; an engine that never blocks its
 *     threads in the kernel may use fewer
 * @param ioThreadKeepAlive how long an extra IO thread waits for work before it retires
 * @param threadNamePrefix IO threads are named this prefix and a number
 * @param nonBlockingIoThreads whether IO threads that may run subscribers' code are Reactor {@link
 *     reactor.core.scheduler.NonBlocking} threads (see {@code AsyncFileIo.Builder.nonBlockingIoThreads})
 */
public record EngineSettings(
    int ioThreads, int maxIoThreads, Duration ioThreadKeepAlive, String threadNamePrefix,
    boolean nonBlockingIoThreads) {
  /** Plain IO threads. */
  public EngineSettings(
      int ioThreads, int maxIoThreads, Duration ioThreadKeepAlive, String threadNamePrefix) {
    this(ioThreads, maxIoThreads, ioThreadKeepAlive, threadNamePrefix, false);
  }
}
