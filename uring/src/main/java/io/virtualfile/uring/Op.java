package io.virtualfile.uring;

import java.lang.foreign.MemorySegment;

/**
 * One request for a {@link RingLoop}: written into an SQE, and completed with its CQE's result, both on
 * the loop's thread. Exactly one of {@link #complete} and {@link #reject} is called, exactly once.
 */
abstract class Op {
  // Opcodes of <linux/io_uring.h> (enum io_uring_op).
  static final int NOP = 0;
  static final int FSYNC = 3;
  static final int OPENAT = 18;
  static final int CLOSE = 19;
  static final int STATX = 21;
  static final int READ = 22;
  static final int WRITE = 23;
  static final int RENAMEAT = 35;
  static final int FTRUNCATE = 55;

  /** sqe->fsync_flags: fdatasync rather than fsync. */
  static final int FSYNC_DATASYNC = 1;

  /**
   * sqe->flags: the next SQE of the submission starts only once this one has completed in full; if this
   * one fails (for a read or write: transfers fewer bytes than asked), the next completes with {@code
   * -ECANCELED} without running.
   */
  static final byte IOSQE_IO_LINK = 1 << 2;

  /**
   * Fills {@code sqe} (zeroed, its user_data set). On the loop's thread; must not throw. What the SQE
   * points at must stay valid until {@link #complete}.
   */
  abstract void prepare(MemorySegment sqe, RingLoop loop);

  /** The CQE arrived: {@code res} is the result or {@code -errno}. On the loop's thread. */
  abstract void complete(int res, RingLoop loop);

  /**
   * The request linked after this one ({@link #IOSQE_IO_LINK}, which {@link #prepare} sets), or null.
   * The loop prepares it into the next SQE of the same submission, with a completion slot of its own, so
   * nothing can come between them; it is never queued or rejected on its own: if the loop cannot submit
   * the chain, it rejects the first request only.
   */
  Op linked() {
    return null;
  }

  /**
   * Completes this request without the ring if it can, and says whether it did: called on the loop's
   * thread with none of its completions on the stack, before the request is prepared. By default it
   * cannot.
   */
  boolean completedInline() {
    return false;
  }

  /** The request never reached the kernel and never will ({@code why}: the loop is shut down). */
  abstract void reject(Throwable why);
}
