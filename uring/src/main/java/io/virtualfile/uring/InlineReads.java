package io.virtualfile.uring;

import io.virtualfile.reactive.spi.IoCompletion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * Reads tried on the calling thread before they go to a ring: {@code preadv2(fd, iov, 1, position,
 * RWF_NOWAIT)} returns the bytes that the page cache holds at once, and fails with {@code EAGAIN} rather
 * than wait for the device. A read that the page cache answers whole completes on the thread that asked
 * for it, inside {@link io.virtualfile.reactive.spi.EngineChannel#read} (or, if asked for from inside such
 * a completion, just after it: below), with no ring, no wake-up and no hand-off. Anything else goes to
 * the ring as before, from the start: {@code EAGAIN}, an error, and a short read that stops before the
 * end of the file (the rest is not cached); nothing of the attempt is reported.
 *
 * <p><b>What is never tried.</b> Writes. Files opened with {@code O_DIRECT} ({@code RWF_NOWAIT} there
 * only avoids waiting to <em>submit</em>: a synchronous direct read still waits for the device). A heap
 * buffer larger than {@value #MAX_BOUNCE} bytes, or any heap buffer on a virtual thread: the kernel never
 * sees a heap array (the GC moves it), so heap reads go through memory of the calling thread's own
 * ({@link Caller#bounce}), which a platform thread keeps for its life and a virtual thread (of which
 * there may be very many) does not get. A direct buffer of an arena that can be closed counts as a heap
 * buffer here ({@link Transfer#kernelMayUse}).
 *
 * <p><b>The trampoline.</b> A completion that starts the next read (a read loop driven from its
 * signals) would nest one completion inside the other on the caller's stack. Instead, a read asked for
 * while one of this thread's inline completions runs ({@link Caller#running}) is queued on the thread
 * ({@link Caller#pending}) and made by the outermost {@link #read} of the thread once that completion
 * has returned, in a loop: no recursion, so no loop of any length deepens the stack, and no ring. Rules:
 * <ul>
 *   <li>Order: the reads queued on a thread are made, and complete, in the order they were asked for,
 *       each after the completion that asked for it has returned.</li>
 *   <li>Every queued read is made or handed to a ring, once: a completion that throws is reported to
 *       the thread's uncaught-exception handler (never to the caller of {@code read}, as on a ring's
 *       thread) and the loop goes on with the next read.</li>
 *   <li>Fairness: one outermost call makes at most {@value #MAX_RUN} reads; the rest go to a ring, in
 *       order, as reads to try inline again ({@link Transfer#completedInline}) on the ring's thread, so
 *       that a loop that never ends does not keep the calling thread (or a ring's thread, whose other
 *       requests would starve) to itself.</li>
 *   <li>A completion must not block: a read it asked for waits until it returns (with its pin, see
 *       {@link io.virtualfile.reactive.spi.CachedIo}), as it would behind a ring's completion.</li>
 * </ul>
 * The queue is the thread's own (a virtual thread's too), so reads of different channels queued on one
 * thread share it; a thread never makes or completes another's queued read.
 *
 * <p>Thread-safe: all the memory and state of a call is the calling thread's own.
 */
final class InlineReads {
  /** {@code RWF_NOWAIT} of {@code <linux/fs.h>}. */
  static final int RWF_NOWAIT = 0x8;

  /** The reads that one outermost {@link #read} makes on its thread before the rest go to a ring. */
  static final int MAX_RUN = 64;

  /** The largest heap read tried on the calling thread (the size of its bounce memory at most). */
  static final int MAX_BOUNCE = BouncePool.MAX_POOLED;

  /** A read queued on its thread while a completion of that thread ran. */
  private record Pending(UringChannel channel, ByteBuffer dst, long position, IoCompletion completion) {}

  /** A thread's memory and queue for its reads: owned by it alone, kept until it ends. */
  private static final class Caller {
    private final Arena arena = Arena.ofAuto();
    private final MemorySegment callState = Native.callState(arena);
    /** One {@code struct iovec}: base, length. */
    private final MemorySegment iov = arena.allocate(16, 8);
    /** Heap reads land here first; null until the first one, replaced by a larger one as needed. */
    private MemorySegment bounce;
    /**
     * Whether an outermost {@link #read} runs on this thread (its completions, and the queued reads):
     * while it does, every read this thread asks for inline is queued in {@link #pending}, and only
     * that outermost call makes them. Invariant: {@link #pending} is empty whenever this is false.
     */
    private boolean running;
    /** Reads asked for while {@link #running}, in order. */
    private final ArrayDeque<Pending> pending = new ArrayDeque<>();

    MemorySegment bounce(int length) {
      if (bounce == null || bounce.byteSize() < length) {
        bounce = arena.allocate(Math.max(BouncePool.MIN, Integer.highestOneBit(length - 1) << 1),
            BouncePool.MIN);
      }
      return bounce;
    }
  }

  private static final ThreadLocal<Caller> CALLER = ThreadLocal.withInitial(Caller::new);

  private InlineReads() {}

  /**
   * Whether this kernel takes {@code preadv2} with {@code RWF_NOWAIT}: asked of an empty eventfd, which
   * answers {@code EAGAIN} where it does. Any other answer ({@code EOPNOTSUPP} or {@code EINVAL} from a
   * kernel that does not know the flag, {@code ENOSYS} or {@code EPERM} from a seccomp filter, no
   * {@code preadv2} in libc) means no read is tried inline; it never fails the engine.
   */
  static boolean probe() {
    if (!Native.hasPreadv2()) {
      return false;
    }
    int efd = Native.eventfd();
    if (efd < 0) {
      return false;
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buffer = arena.allocate(8, 8);
      MemorySegment iov = arena.allocate(16, 8);
      iov.set(ValueLayout.JAVA_LONG, 0, buffer.address());
      iov.set(ValueLayout.JAVA_LONG, 8, 8);
      // offset -1: the file's own position (an eventfd has no other)
      return accepted(Native.preadv2(Native.callState(arena), efd, iov, 1, -1, RWF_NOWAIT));
    } finally {
      Native.close(efd);
    }
  }

  /** Whether the probe's result says the flag works: {@code EAGAIN} from an empty eventfd. */
  static boolean accepted(long probeResult) {
    return probeResult == -Native.EAGAIN;
  }

  /**
   * Makes the read on this thread if the page cache holds its bytes (up to the end of the file), or
   * queues it to be made so (see the class comment), and then completes as {@link Transfer} does: the
   * buffer's position moved by the bytes read, and {@code completion} told them ({@code -1} at the end
   * of file). The checks of the read (mode, buffer, position, closed) were made before.
   *
   * @return false if the read was neither made nor queued: the caller makes it on a ring (nothing was
   *     completed)
   */
  static boolean read(UringChannel channel, ByteBuffer dst, long position, IoCompletion completion) {
    if (!triable(dst)) {
      return false;
    }
    Caller caller = CALLER.get();
    if (caller.running) {
      caller.pending.add(new Pending(channel, dst, position, completion));
      return true;
    }
    return attempt(caller, channel, dst, position, completion);
  }

  /** Whether a read into {@code dst} may be tried on this thread (see the class comment). */
  private static boolean triable(ByteBuffer dst) {
    int length = Math.min(dst.remaining(), Transfer.MAX_RW);
    return length > 0
        && (Transfer.kernelMayUse(dst) || length <= MAX_BOUNCE && !Thread.currentThread().isVirtual());
  }

  /**
   * The outermost read of this thread ({@code !caller.running}): tries it, and if it completed, makes
   * the reads its completion (and theirs) asked for, up to {@value #MAX_RUN} in all. Returns whether it
   * completed (if not, no completion ran, so nothing was queued).
   */
  private static boolean attempt(
      Caller caller, UringChannel channel, ByteBuffer dst, long position, IoCompletion completion) {
    caller.running = true;
    try {
      boolean completed = once(caller, channel, dst, position, completion);
      if (completed) {
        drain(caller);
      }
      return completed;
    } finally {
      caller.running = false;
    }
  }

  /**
   * Makes the queued reads in order: each tried once, or given to a ring if the page cache does not
   * answer it, or (past the run's {@value #MAX_RUN} reads) given to a ring to try again there. Nothing
   * thrown escapes, so nothing queued is left behind.
   */
  private static void drain(Caller caller) {
    int made = 1;
    for (Pending p; (p = caller.pending.poll()) != null; ) {
      try {
        if (made >= MAX_RUN) {
          p.channel.submitRead(p.dst, p.position, p.completion, true);
        } else if (!p.channel.triesInline()
            || !once(caller, p.channel, p.dst, p.position, p.completion)) {
          p.channel.submitRead(p.dst, p.position, p.completion, false);
        } else {
          made++;
        }
      } catch (Throwable t) { // a rejection's completion that threw
        report(t);
      }
    }
  }

  /**
   * One try of one read on this thread: returns whether it was answered whole, and then its completion
   * ran here. A file that refuses {@code RWF_NOWAIT} ({@code EOPNOTSUPP}) is told so ({@link
   * UringChannel#refuseInline}); any other failure (EAGAIN: not all cached) is left to the ring's read,
   * which reports it or succeeds.
   */
  private static boolean once(
      Caller caller, UringChannel channel, ByteBuffer dst, long position, IoCompletion completion) {
    int length = Math.min(dst.remaining(), Transfer.MAX_RW);
    boolean direct = Transfer.kernelMayUse(dst);
    MemorySegment into = direct ? MemorySegment.ofBuffer(dst) : caller.bounce(length);
    int fd = channel.fd();
    int read = 0;
    while (read < length) {
      caller.iov.set(ValueLayout.JAVA_LONG, 0, into.address() + read);
      caller.iov.set(ValueLayout.JAVA_LONG, 8, length - read);
      long r = Native.preadv2(caller.callState, fd, caller.iov, 1, position + read, RWF_NOWAIT);
      if (r == 0) {
        break; // the end of the file
      }
      if (r < 0) {
        Reference.reachabilityFence(dst);
        if (r == -Native.EOPNOTSUPP) {
          channel.refuseInline();
        }
        return false;
      }
      read += (int) r; // a short read: the next call says whether that was the end of the file
    }
    Reference.reachabilityFence(dst);
    if (!direct && read > 0) {
      try {
        MemorySegment.copy(into, 0, MemorySegment.ofBuffer(dst), 0, read);
      } catch (RuntimeException e) { // a closed or another thread's arena (see Transfer.kernelMayUse)
        try {
          completion.failed(e);
        } catch (Throwable t) {
          report(t);
        }
        return true;
      }
    }
    try {
      Transfer.succeeded(false, dst, length, read, completion);
    } catch (Throwable t) { // as on a ring's thread: never thrown into the caller of read
      report(t);
    }
    return true;
  }

  /**
   * Gives {@code t} to this thread's uncaught-exception handler; what the handler itself throws is
   * ignored, as the JVM ignores it for an exception that ends a thread.
   */
  private static void report(Throwable t) {
    Thread self = Thread.currentThread();
    try {
      self.getUncaughtExceptionHandler().uncaughtException(self, t);
    } catch (Throwable ignored) { // NOPMD: see the method comment
    }
  }
}
