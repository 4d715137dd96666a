package io.virtualfile.uring;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.LockSupport;

/**
 * A request whose caller waits for its result: the blocking calls of the engine (open, close, statx,
 * fsync, ftruncate) and a rename. The calling thread parks until the loop's thread completes it; the
 * memory the SQE points at belongs to the caller, who frees it only after {@link #await} returned, so
 * after the CQE.
 *
 * <p>The wait ignores interrupts (the request is in the kernel and cannot be abandoned: its result may
 * be a descriptor that must not leak); the interrupt status is restored on return.
 */
final class SyncCall extends Op {
  private final int opcode;
  private final int fd;
  private final long addr;
  private final int len;
  private final long off;
  private final int opFlags;
  private final Thread waiter = Thread.currentThread();

  /** Written before {@link #done}, read after it. */
  private int result;
  private RejectedExecutionException rejected;
  private volatile boolean done;

  SyncCall(int opcode, int fd, long addr, int len, long off, int opFlags) {
    this.opcode = opcode;
    this.fd = fd;
    this.addr = addr;
    this.len = len;
    this.off = off;
    this.opFlags = opFlags;
  }

  @Override
  void prepare(MemorySegment sqe, RingLoop loop) {
    Ring.prep(sqe, opcode, fd, addr, len, off);
    sqe.set(ValueLayout.JAVA_INT, Ring.SQE_OP_FLAGS, opFlags);
  }

  @Override
  void complete(int res, RingLoop loop) {
    result = res;
    done = true;
    LockSupport.unpark(waiter);
  }

  @Override
  void reject(Throwable why) {
    rejected = why instanceof RejectedExecutionException r ? r : new RejectedExecutionException(why);
    done = true;
    LockSupport.unpark(waiter);
  }

  /**
   * Submits this call to {@code loop} and waits for its result.
   *
   * @return the CQE's result: non-negative, or {@code -errno}
   * @throws RejectedExecutionException if the loop is shut down
   * @throws IllegalStateException if called on the loop's own thread, which would wait for itself
   */
  int run(RingLoop loop) {
    if (loop.isOwner(Thread.currentThread())) {
      throw new IllegalStateException("a blocking call on an io_uring thread (it would wait for"
          + " itself): make it on the engine's IO threads");
    }
    loop.submit(this);
    boolean interrupted = false;
    while (!done) {
      LockSupport.park(this);
      interrupted |= Thread.interrupted();
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    if (rejected != null) {
      throw rejected;
    }
    return result;
  }
}
