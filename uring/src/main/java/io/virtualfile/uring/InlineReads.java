package io.virtualfile.uring;

import io.virtualfile.reactive.spi.IoCompletion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;

/**
 * Reads tried on the calling thread before they go to a ring: {@code preadv2(fd, iov, 1, position,
 * RWF_NOWAIT)} returns the bytes that the page cache holds at once, and fails with {@code EAGAIN} rather
 * than wait for the device. A read that the page cache answers whole completes right there, inside
 * {@link io.virtualfile.reactive.spi.EngineChannel#read}, so its completion (and the subscriber's signal)
 * runs on the calling thread, with no ring, no wake-up and no hand-off. Anything else goes to the ring as
 * before, from the start: {@code EAGAIN}, an error, and a short read that stops before the end of the
 * file (the rest is not cached); nothing of the attempt is reported.
 *
 * <p><b>What is never tried.</b> Writes. Files opened with {@code O_DIRECT} ({@code RWF_NOWAIT} there
 * only avoids waiting to <em>submit</em>: a synchronous direct read still waits for the device). A heap
 * buffer larger than {@value #MAX_BOUNCE} bytes, or any heap buffer on a virtual thread: the kernel never
 * sees a heap array (the GC moves it), so heap reads go through memory of the calling thread's own
 * ({@link Caller#bounce}), which a platform thread keeps for its life and a virtual thread (of which
 * there may be very many) does not get.
 *
 * <p><b>Recursion.</b> A completion that starts the next read (a read loop driven from its signals)
 * would otherwise nest one completion inside the other on the caller's stack. {@link Caller#depth} counts
 * the completions running inline on a thread; at {@value #MAX_DEPTH} the read goes to a ring instead
 * ({@link Outcome#DEFERRED}), whose thread tries it inline again once its own stack is empty (before it
 * would become an SQE: {@link RingLoop}), and the loop goes on from there, under the same bound. So no
 * loop of any length nests deeper than that, and a loop of cached reads rarely needs the ring itself.
 *
 * <p>Thread-safe: all the memory of a call is the calling thread's own.
 */
final class InlineReads {
  /** {@code RWF_NOWAIT} of {@code <linux/fs.h>}. */
  static final int RWF_NOWAIT = 0x8;

  /** Completions that may run nested on one thread's stack before a read goes to the ring. */
  static final int MAX_DEPTH = 16;

  /** The largest heap read tried on the calling thread (the size of its bounce memory at most). */
  static final int MAX_BOUNCE = BouncePool.MAX_POOLED;

  /** What {@link #tryRead} did. */
  enum Outcome {
    /** The completion was called. */
    COMPLETED,
    /** Not tried or not answered at once: make the read on the ring. */
    RING,
    /**
     * Not tried: {@value #MAX_DEPTH} completions are nested on this thread. Make the read on the ring,
     * whose thread tries it again with an empty stack.
     */
    DEFERRED,
    /** The file refuses {@code RWF_NOWAIT} ({@code EOPNOTSUPP}): make this and later reads on the ring. */
    REFUSED
  }

  /** A thread's memory for its reads: owned by it alone, kept until it ends. */
  private static final class Caller {
    private final Arena arena = Arena.ofAuto();
    private final MemorySegment callState = Native.callState(arena);
    /** One {@code struct iovec}: base, length. */
    private final MemorySegment iov = arena.allocate(16, 8);
    /** Heap reads land here first; null until the first one, replaced by a larger one as needed. */
    private MemorySegment bounce;
    /** Completions of this thread's inline reads that are running now, nested. */
    private int depth;

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
   * Reads into {@code dst} from {@code fd} at {@code position} on this thread if the page cache holds
   * the bytes (up to the end of the file), and then completes as {@link Transfer} does: the buffer's
   * position moved by the bytes read, and {@code completion} told them ({@code -1} at the end of file).
   * The checks of the read (mode, buffer, position, closed) were made before.
   */
  static Outcome tryRead(int fd, ByteBuffer dst, long position, IoCompletion completion) {
    int length = Math.min(dst.remaining(), Transfer.MAX_RW);
    boolean direct = dst.isDirect();
    if (length == 0 || !direct && (length > MAX_BOUNCE || Thread.currentThread().isVirtual())) {
      return Outcome.RING;
    }
    Caller caller = CALLER.get();
    if (caller.depth >= MAX_DEPTH) {
      return Outcome.DEFERRED;
    }
    MemorySegment into = direct ? MemorySegment.ofBuffer(dst) : caller.bounce(length);
    int read = 0;
    while (read < length) {
      caller.iov.set(ValueLayout.JAVA_LONG, 0, into.address() + read);
      caller.iov.set(ValueLayout.JAVA_LONG, 8, length - read);
      long r = Native.preadv2(caller.callState, fd, caller.iov, 1, position + read, RWF_NOWAIT);
      if (r == 0) {
        break; // the end of the file
      }
      if (r < 0) { // EAGAIN: not all cached; anything else: the ring's read reports it, or succeeds
        Reference.reachabilityFence(dst);
        return r == -Native.EOPNOTSUPP ? Outcome.REFUSED : Outcome.RING;
      }
      read += (int) r; // a short read: the next call says whether that was the end of the file
    }
    Reference.reachabilityFence(dst);
    if (!direct && read > 0) {
      MemorySegment.copy(into, 0, MemorySegment.ofBuffer(dst), 0, read);
    }
    caller.depth++;
    try {
      Transfer.succeeded(false, dst, length, read, completion);
    } catch (Throwable t) { // as on a ring's thread: never thrown into the caller of read
      Thread self = Thread.currentThread();
      self.getUncaughtExceptionHandler().uncaughtException(self, t);
    } finally {
      caller.depth--;
    }
    return Outcome.COMPLETED;
  }
}
