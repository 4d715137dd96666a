package io.virtualfile.benchmarks.device;

import java.time.Duration;

/** Reads per second of a {@link Load}: completed reads over a fixed window after a warm-up. */
final class TimedWindow {
  private final Duration warmup;
  private final Duration window;

  TimedWindow(Duration warmup, Duration window) {
    this.warmup = warmup;
    this.window = window;
  }

  double readsPerSecond(Load load, int inFlight) throws Exception {
    try (load) {
      Lanes lanes = new Lanes(inFlight);
      load.start(lanes);
      double result;
      try {
        Thread.sleep(warmup.toMillis());
        long count0 = lanes.completed();
        long t0 = System.nanoTime();
        Thread.sleep(window.toMillis());
        long count1 = lanes.completed();
        long t1 = System.nanoTime();
        result = (count1 - count0) * 1e9 / (t1 - t0);
      } finally {
        lanes.stopAndAwait(); // throws if any read failed, so a failure never passes as a figure
      }
      return result;
    }
  }
}
