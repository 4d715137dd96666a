package io.virtualfile.uring;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The system calls the engine makes, as FFM downcalls: {@code syscall(2)} for io_uring's own calls (libc
 * has no wrappers for them), and libc's wrappers for mmap, eventfd and close. Every call returns the
 * kernel's convention: a non-negative result, or {@code -errno}. Thread-safe.
 *
 * <p>Nothing here checks addresses: callers pass segments they own and keep alive for the call.
 */
final class Native {
  static final int SYS_IO_URING_SETUP = 425;
  static final int SYS_IO_URING_ENTER = 426;
  static final int SYS_IO_URING_REGISTER = 427;

  static final int EPERM = 1;
  static final int EINTR = 4;
  static final int EAGAIN = 11;
  static final int ENOMEM = 12;
  static final int EBUSY = 16;
  static final int EINVAL = 22;
  static final int ENOSYS = 38;
  static final int EOPNOTSUPP = 95;
  static final int ECANCELED = 125;

  static final int PROT_READ = 1;
  static final int PROT_WRITE = 2;
  static final int MAP_SHARED = 1;
  static final int MAP_POPULATE = 0x8000;

  static final int EFD_CLOEXEC = 0x80000;

  private static final Linker LINKER = Linker.nativeLinker();
  private static final SymbolLookup LIBC = LINKER.defaultLookup();
  private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
  private static final MemoryLayout CAPTURE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO_HANDLE =
      CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

  private static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG;
  private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;

  /** {@code long syscall(long number, ...)} with two, four and six variadic longs. */
  private static final MethodHandle SYSCALL_2 = syscall(2);
  private static final MethodHandle SYSCALL_4 = syscall(4);
  private static final MethodHandle SYSCALL_6 = syscall(6);

  private static final MethodHandle MMAP = libc("mmap",
      FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, L, I, I, I, L));
  private static final MethodHandle MUNMAP = libc("munmap",
      FunctionDescriptor.of(I, ValueLayout.ADDRESS, L));
  private static final MethodHandle EVENTFD = libc("eventfd", FunctionDescriptor.of(I, I, I));
  private static final MethodHandle EVENTFD_WRITE = libc("eventfd_write", FunctionDescriptor.of(I, I, L));
  private static final MethodHandle CLOSE = libc("close", FunctionDescriptor.of(I, I));
  private static final MethodHandle FTRUNCATE = libc("ftruncate", FunctionDescriptor.of(I, I, L));
  private static final MethodHandle FSYNC = libc("fsync", FunctionDescriptor.of(I, I));
  private static final MethodHandle FDATASYNC = libc("fdatasync", FunctionDescriptor.of(I, I));
  /** {@code int openat(int dirfd, const char *path, int flags, ...)}: the mode is variadic. */
  private static final MethodHandle OPENAT = LINKER.downcallHandle(LIBC.find("openat").orElseThrow(),
      FunctionDescriptor.of(I, I, ValueLayout.ADDRESS, I, I), Linker.Option.firstVariadicArg(3), ERRNO);
  private static final MethodHandle STATX = libc("statx",
      FunctionDescriptor.of(I, I, ValueLayout.ADDRESS, I, I, ValueLayout.ADDRESS));
  /**
   * {@code preadv2}'s number where this architecture's is known (then the read goes through {@code
   * syscall(2)}, not libc's wrapper, which makes it a cancellation point: two atomic updates of the
   * thread's cancellation state around every call, for threads that are never cancelled); else -1.
   */
  static final long SYS_PREADV2 = switch (System.getProperty("os.arch")) {
    case "amd64", "x86_64" -> 327;
    case "aarch64", "riscv64", "loongarch64" -> 286; // the generic table
    default -> -1;
  };

  /**
   * {@code syscall(SYS_preadv2, fd, iov, iovcnt, pos_l, pos_h, flags)}, every argument a long (the
   * kernel reads whole registers), {@code pos_h} 0 on a 64-bit kernel. Where {@link #SYS_PREADV2} is
   * -1, libc's {@code ssize_t preadv2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int
   * flags)}, or null where libc has none (then reads are never tried on the calling thread).
   */
  private static final MethodHandle PREADV2 = preadv2();

  /** Where each thread's downcalls leave errno; one per thread, so calls never share it. */
  private static final ThreadLocal<MemorySegment> CAPTURED =
      ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE));

  private Native() {}

  private static MethodHandle syscall(int variadicArgs) {
    ValueLayout[] args = new ValueLayout[1 + variadicArgs];
    java.util.Arrays.fill(args, L);
    return LINKER.downcallHandle(LIBC.find("syscall").orElseThrow(),
        FunctionDescriptor.of(L, args), Linker.Option.firstVariadicArg(1), ERRNO);
  }

  private static MethodHandle preadv2() {
    if (SYS_PREADV2 >= 0) {
      ValueLayout[] args = new ValueLayout[7];
      java.util.Arrays.fill(args, L);
      return LINKER.downcallHandle(LIBC.find("syscall").orElseThrow(), FunctionDescriptor.of(L, args),
          Linker.Option.firstVariadicArg(1), ERRNO);
    }
    return LIBC.find("preadv2")
        .map(s -> LINKER.downcallHandle(s, FunctionDescriptor.of(L, I, ValueLayout.ADDRESS, I, L, I), ERRNO))
        .orElse(null);
  }

  private static MethodHandle libc(String name, FunctionDescriptor descriptor) {
    return LINKER.downcallHandle(LIBC.find(name).orElseThrow(), descriptor, ERRNO);
  }

  private static int errno(MemorySegment captured) {
    return (int) ERRNO_HANDLE.get(captured, 0L);
  }

  /** {@code io_uring_setup(entries, params)}: a ring's descriptor, or {@code -errno}. */
  static int ioUringSetup(int entries, MemorySegment params) {
    return (int) syscall2(SYS_IO_URING_SETUP, entries, params.address());
  }

  /** {@code io_uring_enter(fd, toSubmit, minComplete, flags, NULL, 0)}: SQEs consumed, or {@code -errno}. */
  static int ioUringEnter(int fd, int toSubmit, int minComplete, int flags) {
    return (int) syscall6(SYS_IO_URING_ENTER, fd, toSubmit, minComplete, flags, 0, 0);
  }

  /** {@code io_uring_register(fd, opcode, arg, nrArgs)}. */
  static int ioUringRegister(int fd, int opcode, MemorySegment arg, int nrArgs) {
    return (int) syscall4(SYS_IO_URING_REGISTER, fd, opcode, arg.address(), nrArgs);
  }

  private static long syscall2(long nr, long a, long b) {
    MemorySegment captured = CAPTURED.get();
    try {
      long r = (long) SYSCALL_2.invokeExact(captured, nr, a, b);
      return r == -1 ? -errno(captured) : r;
    } catch (Throwable t) {
      throw new AssertionError("downcall failed", t);
    }
  }

  private static long syscall4(long nr, long a, long b, long c, long d) {
    MemorySegment captured = CAPTURED.get();
    try {
      long r = (long) SYSCALL_4.invokeExact(captured, nr, a, b, c, d);
      return r == -1 ? -errno(captured) : r;
    } catch (Throwable t) {
      throw new AssertionError("downcall failed", t);
    }
  }

  private static long syscall6(long nr, long a, long b, long c, long d, long e, long f) {
    MemorySegment captured = CAPTURED.get();
    try {
      long r = (long) SYSCALL_6.invokeExact(captured, nr, a, b, c, d, e, f);
      return r == -1 ? -errno(captured) : r;
    } catch (Throwable t) {
      throw new AssertionError("downcall failed", t);
    }
  }

  /**
   * Maps {@code length} bytes of the ring {@code fd} at {@code offset}, shared and populated.
   *
   * @return the mapping (its size is {@code length}), or {@link MemorySegment#NULL} with the errno in
   *     {@code errnoOut[0]}
   */
  static MemorySegment mmap(long length, int fd, long offset, int[] errnoOut) {
    MemorySegment captured = CAPTURED.get();
    try {
      MemorySegment m = (MemorySegment) MMAP.invokeExact(captured, MemorySegment.NULL, length,
          PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, offset);
      if (m.address() == -1L) {
        errnoOut[0] = errno(captured);
        return MemorySegment.NULL;
      }
      return m.reinterpret(length);
    } catch (Throwable t) {
      throw new AssertionError("downcall failed", t);
    }
  }

  static int munmap(MemorySegment mapping) {
    MemorySegment captured = CAPTURED.get();
    try {
      int r = (int) MUNMAP.invokeExact(captured, mapping, mapping.byteSize());
      return r == -1 ? -errno(captured) : r;
    } catch (Throwable t) {
      throw new AssertionError("downcall failed", t);
    }
  }

  /** A new eventfd (counter 0, close-on-exec), or {@code -errno}. */
  static int eventfd() {
    MemorySegment captured = CAPTURED.get();
    try {
      int r = (int) EVENTFD.invokeExact(captured, 0, EFD_CLOEXEC);
      return r == -1 ? -errno(captured) : r;
    } catch (Throwable t) {
      throw new AssertionError("downcall failed", t);
    }
  }

  /** Adds 1 to the eventfd's counter (never blocks: the reader keeps the counter near 0). */
  static int eventfdSignal(int fd) {
    MemorySegment captured = CAPTURED.get();
    try {
      int r = (int) EVENTFD_WRITE.invokeExact(captured, fd, 1L);
      return r == -1 ? -errno(captured) : r;
    } catch (Throwable t) {
      throw new AssertionError("downcall failed", t);
    }
  }

  static int close(int fd) {
    return intCall(CLOSE, fd);
  }

  static int fsync(int fd) {
    return intCall(FSYNC, fd);
  }

  static int fdatasync(int fd) {
    return intCall(FDATASYNC, fd);
  }

  /** {@code openat(dirfd, path, flags, mode)}: a descriptor, or {@code -errno}. */
  static int openat(int dirfd, MemorySegment path, int flags, int mode) {
    MemorySegment captured = CAPTURED.get();
    try {
      int r = (int) OPENAT.invokeExact(captured, dirfd, path, flags, mode);
      return r == -1 ? -errno(captured) : r;
    } catch (Throwable t) {
      throw new AssertionError("downcall failed", t);
    }
  }

  /** {@code statx(dirfd, path, flags, mask, buffer)}: 0, or {@code -errno}. */
  static int statx(int dirfd, MemorySegment path, int flags, int mask, MemorySegment buffer) {
    MemorySegment captured = CAPTURED.get();
    try {
      int r = (int) STATX.invokeExact(captured, dirfd, path, flags, mask, buffer);
      return r == -1 ? -errno(captured) : r;
    } catch (Throwable t) {
      throw new AssertionError("downcall failed", t);
    }
  }

  /** Calls {@code int f(int)}: its result, or {@code -errno}. */
  private static int intCall(MethodHandle f, int arg) {
    MemorySegment captured = CAPTURED.get();
    try {
      int r = (int) f.invokeExact(captured, arg);
      return r == -1 ? -errno(captured) : r;
    } catch (Throwable t) {
      throw new AssertionError("downcall failed", t);
    }
  }

  /** Memory for {@link #preadv2}'s errno, for a caller that keeps its own per thread. */
  static MemorySegment callState(Arena arena) {
    return arena.allocate(CAPTURE);
  }

  /** Whether {@code preadv2} can be called: by its number, or through libc's wrapper. */
  static boolean hasPreadv2() {
    return PREADV2 != null;
  }

  /**
   * {@code preadv2(fd, iov, iovcnt, offset, flags)}: the bytes read, or {@code -errno}; {@code captured}
   * is the caller's own {@link #callState}. Only if {@link #hasPreadv2}.
   */
  static long preadv2(MemorySegment captured, int fd, MemorySegment iov, int iovcnt, long offset,
      int flags) {
    try {
      long r = SYS_PREADV2 >= 0
          ? (long) PREADV2.invokeExact(captured, SYS_PREADV2, (long) fd, iov.address(), (long) iovcnt,
              offset, 0L, (long) flags)
          : (long) PREADV2.invokeExact(captured, fd, iov, iovcnt, offset, flags);
      java.lang.ref.Reference.reachabilityFence(iov); // passed by address: its memory lives until here
      return r == -1 ? -errno(captured) : r;
    } catch (Throwable t) {
      throw new AssertionError("downcall failed", t);
    }
  }

  /** {@code ftruncate(fd, length)}: for kernels without {@code IORING_OP_FTRUNCATE}. */
  static int ftruncate(int fd, long length) {
    MemorySegment captured = CAPTURED.get();
    try {
      int r = (int) FTRUNCATE.invokeExact(captured, fd, length);
      return r == -1 ? -errno(captured) : r;
    } catch (Throwable t) {
      throw new AssertionError("downcall failed", t);
    }
  }
}
