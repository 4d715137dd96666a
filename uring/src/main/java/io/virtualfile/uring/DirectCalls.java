package io.virtualfile.uring;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The engine's blocking calls, made as plain system calls on the calling thread (an IO thread of the
 * engine's pool). They are not ring requests on purpose: a request would be handed to a ring's thread
 * and its completion handed back, two thread switches around a call of a few microseconds (an open, a
 * close, a statx), long enough for the IO pool to take its thread for blocked and start more threads,
 * each holding a descriptor being opened. The call itself blocks its thread no longer than the ring's
 * worker would be blocked by it (an fsync waits for the device either way).
 */
final class DirectCalls {
  private DirectCalls() {}

  /** {@code openat(AT_FDCWD, path, flags, mode)}: the new descriptor. */
  static int openat(String path, int flags, int mode) throws IOException {
    try (Arena arena = Arena.ofConfined()) {
      int fd = Native.openat(RingCalls.AT_FDCWD, RingCalls.cString(arena, path), flags, mode);
      if (fd < 0) {
        throw Errors.path(path, null, -fd);
      }
      return fd;
    }
  }

  static void close(int fd) throws IOException {
    RingCalls.check("close", Native.close(fd));
  }

  /** The size of the open file {@code fd}. */
  static long size(int fd) throws IOException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment statx = arena.allocate(RingCalls.STATX_BUFFER, 8);
      RingCalls.check("statx", Native.statx(fd, arena.allocate(1), RingCalls.AT_EMPTY_PATH,
          RingCalls.STATX_SIZE, statx));
      return statx.get(ValueLayout.JAVA_LONG, RingCalls.STX_SIZE);
    }
  }

  /** {@code fsync(fd)}, or {@code fdatasync(fd)} if {@code dataOnly}. */
  static void fsync(int fd, boolean dataOnly) throws IOException {
    RingCalls.check(dataOnly ? "fdatasync" : "fsync",
        dataOnly ? Native.fdatasync(fd) : Native.fsync(fd));
  }

  static void ftruncate(int fd, long length) throws IOException {
    RingCalls.check("ftruncate", Native.ftruncate(fd, length));
  }
}
