package io.virtualfile.reactive;

import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Wraps the engine's IO executor to count the tasks (one per channel read or write) it was given. */
class CountingExecutor extends AbstractExecutorService {
  final ExecutorService delegate;
  final AtomicInteger submitted = new AtomicInteger();
  final AtomicInteger finished = new AtomicInteger();

  CountingExecutor(ExecutorService delegate) {
    this.delegate = delegate;
  }

  @Override
  public void execute(Runnable command) {
    submitted.incrementAndGet();
    delegate.execute(() -> {
      try {
        command.run();
      } finally {
        finished.incrementAndGet();
      }
    });
  }

  /**
   * Waits until every task given so far has returned: then every completion handler of the channel
   * calls made so far has run, and no signal of theirs can still come.
   */
  void awaitIdle() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (finished.get() != submitted.get()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "IO tasks still running after 20 s: " + finished.get() + " of " + submitted.get());
      }
      Thread.sleep(1);
    }
  }

  @Override
  public void shutdown() {
    delegate.shutdown();
  }

  @Override
  public List<Runnable> shutdownNow() {
    return delegate.shutdownNow();
  }

  @Override
  public boolean isShutdown() {
    return delegate.isShutdown();
  }

  @Override
  public boolean isTerminated() {
    return delegate.isTerminated();
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    return delegate.awaitTermination(timeout, unit);
  }
}
