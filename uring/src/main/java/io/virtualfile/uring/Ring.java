package io.virtualfile.uring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * One io_uring instance: its descriptor, the mapped submission and completion rings and the SQE array,
 * with the struct layouts of {@code <linux/io_uring.h>}. <b>Not thread-safe:</b> one thread, the owner,
 * makes every call (and, with {@code IORING_SETUP_SINGLE_ISSUER}, the kernel holds it to that: the
 * owner must be the thread that created the ring).
 *
 * <p>Memory orderings are liburing's: the application publishes the SQ tail and the CQ head with a
 * store-release (the kernel must see the SQEs written before the tail, and must not reuse CQEs before
 * they were read), and reads the CQ tail and the SQ head, which the kernel writes, with a load-acquire
 * (CQE contents written before the tail are then visible).
 */
final class Ring implements AutoCloseable {
  // io_uring_params (120 bytes) and its io_sqring_offsets / io_cqring_offsets
  static final int PARAMS_SIZE = 120;
  private static final long P_SQ_ENTRIES = 0;
  private static final long P_CQ_ENTRIES = 4;
  private static final long P_FLAGS = 8;
  private static final long P_FEATURES = 20;
  private static final long P_SQ_OFF = 40;
  private static final long P_CQ_OFF = 80;
  private static final long SQ_OFF_HEAD = 0;
  private static final long SQ_OFF_TAIL = 4;
  private static final long SQ_OFF_MASK = 8;
  private static final long SQ_OFF_ARRAY = 24;
  private static final long CQ_OFF_HEAD = 0;
  private static final long CQ_OFF_TAIL = 4;
  private static final long CQ_OFF_MASK = 8;
  private static final long CQ_OFF_CQES = 20;

  static final long OFF_SQ_RING = 0L;
  static final long OFF_CQ_RING = 0x8000000L;
  static final long OFF_SQES = 0x10000000L;

  static final int SETUP_COOP_TASKRUN = 1 << 8;
  static final int SETUP_SINGLE_ISSUER = 1 << 12;
  static final int SETUP_DEFER_TASKRUN = 1 << 13;

  static final int FEAT_SINGLE_MMAP = 1;
  static final int FEAT_NODROP = 1 << 1;
  static final int FEAT_RW_CUR_POS = 1 << 3;

  static final int ENTER_GETEVENTS = 1;

  static final int REGISTER_PROBE = 8;
  private static final int PROBE_OPS = 256;
  private static final int OP_SUPPORTED = 1;

  // io_uring_sqe: 64 bytes
  static final int SQE_SIZE = 64;
  static final long SQE_OPCODE = 0;
  static final long SQE_FLAGS = 1;
  static final long SQE_FD = 4;
  static final long SQE_OFF = 8;
  static final long SQE_ADDR = 16;
  static final long SQE_LEN = 24;
  static final long SQE_OP_FLAGS = 28;
  static final long SQE_USER_DATA = 32;

  // io_uring_cqe: 16 bytes
  static final int CQE_SIZE = 16;

  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

  /** The setup system call, replaceable so tests can make the kernel refuse it. */
  @FunctionalInterface
  interface Setup {
    Setup KERNEL = Native::ioUringSetup;

    /** {@code io_uring_setup(entries, params)}: a descriptor, or {@code -errno}. */
    int setup(int entries, MemorySegment params);
  }

  /** io_uring_setup or mmap refused; {@link #errno} says why. */
  static final class SetupException extends Exception {
    final int errno;

    SetupException(String what, int errno) {
      super(what + " failed: " + Errors.describe(errno));
      this.errno = errno;
    }
  }

  final int fd;
  final int flags;
  final int features;
  final int sqEntries;
  final int cqEntries;

  private final MemorySegment sqRing;
  private final MemorySegment cqRing; // the same mapping as sqRing with IORING_FEAT_SINGLE_MMAP
  private final MemorySegment sqes;
  private final long sqHeadOff;
  private final long sqTailOff;
  private final int sqMask;
  private final long cqHeadOff;
  private final long cqTailOff;
  private final int cqMask;
  private final long cqesOff;

  /** SQEs handed out: published to the kernel by {@link #flush()}. */
  private int sqTail;
  /** SQ tail as last published. */
  private int sqPublished;
  /** CQEs consumed; published by {@link #advanceCq}. */
  private int cqHead;
  private boolean closed;

  private Ring(int fd, MemorySegment params, MemorySegment sqRing, MemorySegment cqRing,
      MemorySegment sqes) {
    this.fd = fd;
    this.flags = params.get(ValueLayout.JAVA_INT, P_FLAGS);
    this.features = params.get(ValueLayout.JAVA_INT, P_FEATURES);
    this.sqEntries = params.get(ValueLayout.JAVA_INT, P_SQ_ENTRIES);
    this.cqEntries = params.get(ValueLayout.JAVA_INT, P_CQ_ENTRIES);
    this.sqRing = sqRing;
    this.cqRing = cqRing;
    this.sqes = sqes;
    sqHeadOff = Integer.toUnsignedLong(params.get(ValueLayout.JAVA_INT, P_SQ_OFF + SQ_OFF_HEAD));
    sqTailOff = Integer.toUnsignedLong(params.get(ValueLayout.JAVA_INT, P_SQ_OFF + SQ_OFF_TAIL));
    sqMask = sqRing.get(ValueLayout.JAVA_INT,
        Integer.toUnsignedLong(params.get(ValueLayout.JAVA_INT, P_SQ_OFF + SQ_OFF_MASK)));
    cqHeadOff = Integer.toUnsignedLong(params.get(ValueLayout.JAVA_INT, P_CQ_OFF + CQ_OFF_HEAD));
    cqTailOff = Integer.toUnsignedLong(params.get(ValueLayout.JAVA_INT, P_CQ_OFF + CQ_OFF_TAIL));
    cqMask = cqRing.get(ValueLayout.JAVA_INT,
        Integer.toUnsignedLong(params.get(ValueLayout.JAVA_INT, P_CQ_OFF + CQ_OFF_MASK)));
    cqesOff = Integer.toUnsignedLong(params.get(ValueLayout.JAVA_INT, P_CQ_OFF + CQ_OFF_CQES));
    long array = Integer.toUnsignedLong(params.get(ValueLayout.JAVA_INT, P_SQ_OFF + SQ_OFF_ARRAY));
    // SQEs are used in ring order, so the indirection array is the identity, written once.
    for (int i = 0; i < sqEntries; i++) {
      sqRing.set(ValueLayout.JAVA_INT, array + 4L * i, i);
    }
    sqTail = (int) INT.getAcquire(sqRing, sqTailOff);
    sqPublished = sqTail;
    cqHead = (int) INT.getAcquire(cqRing, cqHeadOff);
  }

  /**
   * Sets up a ring of {@code entries} SQEs (the kernel doubles them for the CQ) with as many of {@code
   * wantedFlags} as the kernel accepts: a flag it refuses with EINVAL is dropped and setup retried (the
   * flags are tried in the order DEFER_TASKRUN, SINGLE_ISSUER, COOP_TASKRUN, since DEFER_TASKRUN needs
   * SINGLE_ISSUER). The calling thread becomes the owner.
   *
   * @throws SetupException if the kernel refuses io_uring itself (EPERM, ENOSYS, ENOMEM, EINVAL...) or
   *     the rings cannot be mapped
   */
  static Ring open(int entries, int wantedFlags, Setup setup) throws SetupException {
    int[] dropOrder = {SETUP_DEFER_TASKRUN, SETUP_SINGLE_ISSUER, SETUP_COOP_TASKRUN};
    int flags = wantedFlags;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment params = arena.allocate(PARAMS_SIZE, 8);
      int next = 0;
      while (true) {
        params.fill((byte) 0);
        params.set(ValueLayout.JAVA_INT, P_FLAGS, flags);
        int fd = setup.setup(entries, params);
        if (fd >= 0) {
          return map(fd, params);
        }
        if (-fd != Native.EINVAL || flags == 0) {
          throw new SetupException("io_uring_setup", -fd);
        }
        while (next < dropOrder.length && (flags & dropOrder[next]) == 0) {
          next++;
        }
        flags = next < dropOrder.length ? flags & ~dropOrder[next] : 0;
      }
    }
  }

  private static Ring map(int fd, MemorySegment params) throws SetupException {
    int sqEntries = params.get(ValueLayout.JAVA_INT, P_SQ_ENTRIES);
    int cqEntries = params.get(ValueLayout.JAVA_INT, P_CQ_ENTRIES);
    int features = params.get(ValueLayout.JAVA_INT, P_FEATURES);
    long sqSize = Integer.toUnsignedLong(params.get(ValueLayout.JAVA_INT, P_SQ_OFF + SQ_OFF_ARRAY))
        + 4L * sqEntries;
    long cqSize = Integer.toUnsignedLong(params.get(ValueLayout.JAVA_INT, P_CQ_OFF + CQ_OFF_CQES))
        + (long) CQE_SIZE * cqEntries;
    boolean single = (features & FEAT_SINGLE_MMAP) != 0;
    if (single) {
      sqSize = cqSize = Math.max(sqSize, cqSize);
    }
    int[] errno = new int[1];
    MemorySegment sq = Native.mmap(sqSize, fd, OFF_SQ_RING, errno);
    if (sq.equals(MemorySegment.NULL)) {
      Native.close(fd);
      throw new SetupException("mmap of the SQ ring", errno[0]);
    }
    MemorySegment cq = sq;
    if (!single) {
      cq = Native.mmap(cqSize, fd, OFF_CQ_RING, errno);
      if (cq.equals(MemorySegment.NULL)) {
        Native.munmap(sq);
        Native.close(fd);
        throw new SetupException("mmap of the CQ ring", errno[0]);
      }
    }
    MemorySegment sqes = Native.mmap((long) SQE_SIZE * sqEntries, fd, OFF_SQES, errno);
    if (sqes.equals(MemorySegment.NULL)) {
      if (!single) {
        Native.munmap(cq);
      }
      Native.munmap(sq);
      Native.close(fd);
      throw new SetupException("mmap of the SQE array", errno[0]);
    }
    return new Ring(fd, params, sq, cq, sqes);
  }

  /** Whether every SQE is handed out and not yet taken by the kernel. */
  boolean sqFull() {
    return sqFree() == 0;
  }

  /** SQEs that {@link #nextSqe} can still hand out before a submit. */
  int sqFree() {
    return sqEntries - (sqTail - (int) INT.getAcquire(sqRing, sqHeadOff));
  }

  /**
   * The next free SQE, zeroed, with {@code user_data} set; or null if the SQ is full (submit first).
   * It is published by the next {@link #flush()}.
   */
  MemorySegment nextSqe(long userData) {
    int head = (int) INT.getAcquire(sqRing, sqHeadOff);
    if (sqTail - head >= sqEntries) {
      return null;
    }
    MemorySegment sqe = sqes.asSlice((long) (sqTail & sqMask) * SQE_SIZE, SQE_SIZE);
    sqTail++;
    sqe.fill((byte) 0);
    sqe.set(ValueLayout.JAVA_LONG, SQE_USER_DATA, userData);
    return sqe;
  }

  /** Fills an SQE's common fields. */
  static void prep(MemorySegment sqe, int opcode, int fd, long addr, int len, long off) {
    sqe.set(ValueLayout.JAVA_BYTE, SQE_OPCODE, (byte) opcode);
    sqe.set(ValueLayout.JAVA_INT, SQE_FD, fd);
    sqe.set(ValueLayout.JAVA_LONG, SQE_ADDR, addr);
    sqe.set(ValueLayout.JAVA_INT, SQE_LEN, len);
    sqe.set(ValueLayout.JAVA_LONG, SQE_OFF, off);
  }

  /** Publishes the SQEs handed out since the last flush; returns how many the kernel has yet to take. */
  int flush() {
    if (sqTail != sqPublished) {
      INT.setRelease(sqRing, sqTailOff, sqTail);
      sqPublished = sqTail;
    }
    return sqTail - (int) INT.getAcquire(sqRing, sqHeadOff);
  }

  /**
   * Publishes the SQEs handed out and enters the kernel: submits them, and if {@code wait} waits for at
   * least one completion. Interrupted waits (EINTR) return 0.
   *
   * @return SQEs consumed, or {@code -errno}
   */
  int submit(boolean wait) {
    int toSubmit = flush();
    int r = Native.ioUringEnter(fd, toSubmit, wait ? 1 : 0, ENTER_GETEVENTS);
    return r == -Native.EINTR ? 0 : r;
  }

  /** Publishes the SQEs handed out and enters the kernel to submit them only. */
  int submitOnly() {
    int toSubmit = flush();
    return toSubmit == 0 ? 0 : Native.ioUringEnter(fd, toSubmit, 0, 0);
  }

  /** Completions ready to read: {@code [cqHead, tail)}; read them with {@link #cqeUserData}/{@link #cqeRes}. */
  int cqReady() {
    return (int) INT.getAcquire(cqRing, cqTailOff) - cqHead;
  }

  long cqeUserData(int i) {
    return cqRing.get(ValueLayout.JAVA_LONG, cqeOffset(i));
  }

  int cqeRes(int i) {
    return cqRing.get(ValueLayout.JAVA_INT, cqeOffset(i) + 8);
  }

  private long cqeOffset(int i) {
    return cqesOff + (long) ((cqHead + i) & cqMask) * CQE_SIZE;
  }

  /** Gives {@code n} CQEs back to the kernel. */
  void advanceCq(int n) {
    cqHead += n;
    INT.setRelease(cqRing, cqHeadOff, cqHead);
  }

  /**
   * Which opcodes the kernel supports ({@code IORING_REGISTER_PROBE}); index = opcode.
   *
   * @return the flags, or null if the kernel has no probe (before 5.6)
   */
  boolean[] probe() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment probe = arena.allocate(16 + 8L * PROBE_OPS, 8);
      if (Native.ioUringRegister(fd, REGISTER_PROBE, probe, PROBE_OPS) < 0) {
        return null;
      }
      int opsLen = Byte.toUnsignedInt(probe.get(ValueLayout.JAVA_BYTE, 1));
      boolean[] supported = new boolean[PROBE_OPS];
      for (int i = 0; i < Math.min(opsLen, PROBE_OPS); i++) {
        long op = 16 + 8L * i;
        int code = Byte.toUnsignedInt(probe.get(ValueLayout.JAVA_BYTE, op));
        short opFlags = probe.get(ValueLayout.JAVA_SHORT, op + 2);
        supported[code] = (opFlags & OP_SUPPORTED) != 0;
      }
      return supported;
    }
  }

  /**
   * Unmaps the rings and closes the descriptor. Only once no request can still touch application memory
   * (every CQE of a request that has one was reaped): the kernel tears a ring down asynchronously.
   * Idempotent.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    Native.munmap(sqes);
    if (!cqRing.equals(sqRing)) {
      Native.munmap(cqRing);
    }
    Native.munmap(sqRing);
    Native.close(fd);
  }
}
