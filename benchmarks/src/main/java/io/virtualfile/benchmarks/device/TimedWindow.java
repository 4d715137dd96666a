package io.virtualfile.benchmarks.device;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Reads per second of a {@link Load}: completed reads over a fixed window after a warm-up, with the
 * process's CPU time and context switches (all its threads) over the same window, per read.
 */
final class TimedWindow {
  /** What one window measured. */
  record Figures(double readsPerSecond, double cpuMicrosPerRead, double switchesPerRead) {
    /** Not measured. */
    static final Figures NONE = new Figures(Double.NaN, Double.NaN, Double.NaN);
  }

  private static final com.sun.management.OperatingSystemMXBean OS =
      ManagementFactory.getPlatformMXBean(com.sun.management.OperatingSystemMXBean.class);

  private final Duration warmup;
  private final Duration window;

  TimedWindow(Duration warmup, Duration window) {
    this.warmup = warmup;
    this.window = window;
  }

  Figures measure(Load load, int inFlight) throws Exception {
    try (load) {
      Lanes lanes = new Lanes(inFlight);
      load.start(lanes);
      Figures result;
      try {
        Thread.sleep(warmup.toMillis());
        long count0 = lanes.completed();
        long cpu0 = OS.getProcessCpuTime();
        Map<String, Long> switches0 = contextSwitches();
        long t0 = System.nanoTime();
        Thread.sleep(window.toMillis());
        long count1 = lanes.completed();
        long cpu1 = OS.getProcessCpuTime();
        Map<String, Long> switches1 = contextSwitches();
        long t1 = System.nanoTime();
        long reads = count1 - count0;
        result = new Figures(reads * 1e9 / (t1 - t0), (cpu1 - cpu0) / 1e3 / reads,
            (double) switchesBetween(switches0, switches1) / reads);
      } finally {
        lanes.stopAndAwait(); // throws if any read failed, so a failure never passes as a figure
      }
      return result;
    }
  }

  /**
   * Voluntary and involuntary context switches of each thread of this process, by thread id, from
   * {@code /proc/self/task/}.
   */
  static Map<String, Long> contextSwitches() throws IOException {
    Map<String, Long> byThread = new HashMap<>();
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        try {
          long n = 0;
          for (String line : Files.readAllLines(task.resolve("status"))) {
            if (line.startsWith("voluntary_ctxt_switches:")
                || line.startsWith("nonvoluntary_ctxt_switches:")) {
              n += Long.parseLong(line.substring(line.indexOf(':') + 1).strip());
            }
          }
          byThread.put(task.getFileName().toString(), n);
        } catch (IOException gone) {
          // the thread ended while we listed
        }
      }
    }
    return byThread;
  }

  /**
   * The switches made between two samples by the threads alive at the second: a thread that started
   * in between counts from zero; one that ended in between is left out (its last switches are lost,
   * an undercount, where subtracting totals would count its earlier ones negatively).
   */
  static long switchesBetween(Map<String, Long> before, Map<String, Long> after) {
    long n = 0;
    for (Map.Entry<String, Long> e : after.entrySet()) {
      n += e.getValue() - before.getOrDefault(e.getKey(), 0L);
    }
    return n;
  }
}
