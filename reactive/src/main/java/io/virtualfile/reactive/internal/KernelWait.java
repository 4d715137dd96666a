package io.virtualfile.reactive.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Whether a thread waits in the kernel (Linux: state {@code D}, uninterruptible, as in a read from the
 * device or an fsync, or {@code S}, sleeping) rather than runs or waits for a core ({@code R}). The
 * difference matters to {@link IoThreadPool}: a thread that waits for the device is worth compensating
 * with another thread, one that waits for a core is not, since another thread would only take turns on
 * the same cores. Only the kernel can tell them apart; both look the same from Java (a task that has
 * run for a while, a thread that is {@code RUNNABLE}).
 *
 * <p>A thread can tell the same difference about itself after the fact: of the time that has passed, what
 * it spent neither on a core (its CPU time) nor waiting for one ({@link #runQueueNanos}) it spent
 * waiting in the kernel.
 *
 * <p>It reads {@code /proc/<pid>/task/<tid>/stat} (and {@code schedstat}), opened for each look so that no IO thread holds a
 * descriptor of its own (a user counting the process's descriptors sees the cache's, and at most a
 * look's). It reads through NIO, which BlockHound's default list does not count as blocking: any thread
 * that submits work may look. Where there is no such file (not Linux), {@link #ofCurrentThread()}
 * returns null, and the pool keeps its time rule alone. Thread-safe.
 */
final class KernelWait {
  /**
   * Bytes read per look: the state follows the thread id (at most 7 digits) and the name (at most 15
   * bytes, in parentheses), so it is always within them.
   */
  private static final int HEAD = 64;

  private final Path stat;
  private final Path schedstat;

  private KernelWait(Path task) {
    this.stat = task.resolve("stat");
    this.schedstat = task.resolve("schedstat");
  }

  /** The calling thread's state file, or null where the kernel does not give one. */
  static KernelWait ofCurrentThread() {
    try {
      // "/proc/thread-self" links to "<pid>/task/<tid>" (Linux 3.17+).
      Path self = Files.readSymbolicLink(Path.of("/proc/thread-self"));
      KernelWait k = new KernelWait(Path.of("/proc").resolve(self));
      return k.read() != 0 ? k : null;
    } catch (IOException | RuntimeException e) { // no /proc, another layout, a security manager
      return null;
    }
  }

  /**
   * Whether the thread waits in the kernel now. False if that cannot be read (the thread has ended, or
   * the looking thread was interrupted): the pool then starts no thread on this thread's account.
   */
  boolean waiting() {
    try {
      char s = read();
      return s == 'D' || s == 'S';
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /**
   * The nanoseconds the thread has spent runnable but waiting for a core, since it started; -1 if that
   * cannot be read (the thread has ended, or the kernel keeps no scheduler statistics). Up to date for
   * the thread that asks: the kernel adds a wait when the thread gets its core back.
   */
  long runQueueNanos() {
    try {
      return runQueue(new String(Files.readAllBytes(schedstat), StandardCharsets.US_ASCII));
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  private char read() throws IOException {
    ByteBuffer head = ByteBuffer.allocate(HEAD);
    try (FileChannel c = FileChannel.open(stat, StandardOpenOption.READ)) {
      c.read(head);
    }
    return state(new String(head.array(), 0, head.position(), StandardCharsets.US_ASCII));
  }

  /**
   * The state letter of a stat line, "tid (name) S ...": after the <em>last</em> parenthesis, since the
   * thread's name may hold parentheses and spaces. 0 if the line has no such field.
   */
  static char state(String line) {
    int close = line.lastIndexOf(')');
    return close >= 0 && close + 2 < line.length() ? line.charAt(close + 2) : 0;
  }

  /**
   * The second field of a schedstat line, "on-cpu-ns runqueue-wait-ns timeslices"; -1 if the line has
   * no such field.
   */
  static long runQueue(String line) {
    String[] f = line.trim().split(" ");
    try {
      return f.length >= 2 ? Long.parseLong(f[1]) : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
