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
   * Fills {@code sqe} (zeroed, its user_data set). On the loop's thread; must not throw. What the SQE
   * points at must stay valid until {@link #complete}.
   */
  abstract void prepare(MemorySegment sqe, RingLoop loop);

  /** The CQE arrived: {@code res} is the result or {@code -errno}. On the loop's thread. */
  abstract void complete(int res, RingLoop loop);

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
