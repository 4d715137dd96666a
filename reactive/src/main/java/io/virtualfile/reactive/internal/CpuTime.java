package io.virtualfile.reactive.internal;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * The calling thread's CPU time, exact to the moment of the call (unlike the kernel's per-thread
 * statistics in /proc, which lag by up to a scheduler tick for a thread that runs). Thread-safe.
 */
final class CpuTime {
  /** The platform's bean, or null where the JVM cannot measure a thread's CPU time. */
  private static final ThreadMXBean THREADS = threads();

  private CpuTime() {}

  private static ThreadMXBean threads() {
    try {
      ThreadMXBean t = ManagementFactory.getThreadMXBean();
      return t.isCurrentThreadCpuTimeSupported() && t.isThreadCpuTimeEnabled() ? t : null;
    } catch (RuntimeException | LinkageError e) { // no management in this runtime
      return null;
    }
  }

  /** The calling thread's CPU time in nanoseconds; -1 where it cannot be measured. */
  static long ofCurrentThread() {
    return THREADS == null ? -1 : THREADS.getCurrentThreadCpuTime();
  }
}
