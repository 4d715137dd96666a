package io.virtualfile.reactive.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether a thread waits in the kernel (Linux: state {@code D}, uninterruptible, as in a read from the
 * device or an fsync, or {@code S}, sleeping) rather than runs or waits for a core ({@code R}). The
 * difference matters to {@link IoThreadPool}: a thread that waits for the device is worth compensating
 * with another thread, one that waits for a core is not, since another thread would only take turns on
 * the same cores. Only the kernel can tell them apart; both look the same from Java (a task that has
 * run for a while, a thread that is {@code RUNNABLE}).
 *
 * <p>It reads {@code /proc/<pid>/task/<tid>/stat}. Where there is no such file (not Linux), {@link
 * #ofCurrentThread()} returns null, and the pool keeps its time rule alone.
 */
final class KernelWait {
  private final Path stat;

  private KernelWait(Path stat) {
    this.stat = stat;
  }

  /** The calling thread's state file, or null where the kernel does not give one. */
  static KernelWait ofCurrentThread() {
    try {
      // "/proc/thread-self" links to "<pid>/task/<tid>" (Linux 3.17+).
      Path self = Files.readSymbolicLink(Path.of("/proc/thread-self"));
      Path stat = Path.of("/proc").resolve(self).resolve("stat");
      return state(Files.readAllBytes(stat)) != 0 ? new KernelWait(stat) : null;
    } catch (IOException | RuntimeException e) { // no /proc, another layout, a security manager
      return null;
    }
  }

  /**
   * Whether the thread waits in the kernel now. False if that cannot be read (the thread has ended, or
   * the reading thread was interrupted): the pool then starts no thread on this thread's account.
   */
  boolean waiting() {
    try {
      char s = state(Files.readAllBytes(stat));
      return s == 'D' || s == 'S';
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /**
   * The state letter of a stat line, "tid (comm) S ...": after the <em>last</em> parenthesis, since the
   * thread's name may hold parentheses and spaces. 0 if the line has no such field.
   */
  static char state(byte[] line) {
    String s = new String(line, StandardCharsets.US_ASCII);
    int close = s.lastIndexOf(')');
    return close >= 0 && close + 2 < s.length() ? s.charAt(close + 2) : 0;
  }
}
