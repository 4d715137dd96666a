package io.virtualfile.benchmarks.device;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * The bookkeeping shared by a reader's lanes. A lane is one read in flight: when its read completes,
 * it counts it and starts the next one, until {@link #stopAndAwait()}. A failed read stops its lane
 * and fails the measurement.
 */
final class Lanes {
  private final int count;
  private final LongAdder completed = new LongAdder();
  private final CountDownLatch stopped;
  private final AtomicReference<Throwable> firstError = new AtomicReference<>();
  private volatile boolean running = true;

  Lanes(int count) {
    this.count = count;
    this.stopped = new CountDownLatch(count);
  }

  /** How many reads to keep in flight. */
  int count() {
    return count;
  }

  /** Whether a lane whose read just completed should start another. */
  boolean running() {
    return running && firstError.get() == null;
  }

  void readCompleted() {
    completed.increment();
  }

  long completed() {
    return completed.sum();
  }

  /** A lane that saw {@link #running()} false and started no further read. */
  void laneStopped() {
    stopped.countDown();
  }

  /** A lane whose read failed: it stops, and the measurement fails. */
  void laneFailed(Throwable error) {
    firstError.compareAndSet(null, error);
    stopped.countDown();
  }

  /** Stops every lane, waits until no read is in flight, and throws the first read error, if any. */
  void stopAndAwait() throws Exception {
    running = false;
    if (!stopped.await(60, TimeUnit.SECONDS)) {
      throw new IllegalStateException("reads still in flight 60 s after the stop");
    }
    Throwable error = firstError.get();
    if (error != null) {
      throw new IllegalStateException("a read failed", error);
    }
  }
}
