package io.virtualfile.uring;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.Charset;

/**
 * The file-system requests of the ring, each made on a ring and waited for ({@link SyncCall}): the
 * caller's thread parks while the ring's thread submits the request and completes it. (The engine makes
 * its own blocking calls as plain system calls: see {@link DirectCalls}.) Paths are passed as the JDK
 * passes them to the kernel ({@code sun.jnu.encoding}, NUL-terminated), in memory the caller frees after
 * the completion.
 */
final class RingCalls {
  static final int AT_FDCWD = -100;
  static final int AT_EMPTY_PATH = 0x1000;
  static final int STATX_SIZE = 0x200;
  static final int STATX_BUFFER = 256;
  /** Offset of stx_size in struct statx. */
  static final long STX_SIZE = 40;

  private static final Charset PATHS = Charset.forName(
      System.getProperty("sun.jnu.encoding", "UTF-8"), Charset.defaultCharset());

  private RingCalls() {}

  /** {@code openat(AT_FDCWD, path, flags, mode)}: the new descriptor. */
  static int openat(RingLoop loop, String path, int flags, int mode) throws IOException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment name = cString(arena, path);
      int fd = new SyncCall(Op.OPENAT, AT_FDCWD, name.address(), mode, 0, flags).run(loop);
      if (fd < 0) {
        throw Errors.path(path, null, -fd);
      }
      return fd;
    }
  }

  /** {@code close(fd)}. */
  static void close(RingLoop loop, int fd) throws IOException {
    check("close", new SyncCall(Op.CLOSE, fd, 0, 0, 0, 0).run(loop));
  }

  /** The size of the open file {@code fd} ({@code statx(fd, "", AT_EMPTY_PATH, STATX_SIZE)}). */
  static long size(RingLoop loop, int fd) throws IOException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment empty = arena.allocate(1);
      MemorySegment statx = arena.allocate(STATX_BUFFER, 8);
      check("statx", new SyncCall(Op.STATX, fd, empty.address(), STATX_SIZE, statx.address(),
          AT_EMPTY_PATH).run(loop));
      return statx.get(ValueLayout.JAVA_LONG, STX_SIZE);
    }
  }

  /** {@code fsync(fd)}, or {@code fdatasync(fd)} if {@code dataOnly}. */
  static void fsync(RingLoop loop, int fd, boolean dataOnly) throws IOException {
    check(dataOnly ? "fdatasync" : "fsync", new SyncCall(Op.FSYNC, fd, 0, 0, 0,
        dataOnly ? Op.FSYNC_DATASYNC : 0).run(loop));
  }

  /** {@code ftruncate(fd, length)} as a request (kernel 6.9 and later). */
  static void ftruncate(RingLoop loop, int fd, long length) throws IOException {
    check("ftruncate", new SyncCall(Op.FTRUNCATE, fd, 0, 0, length, 0).run(loop));
  }

  /** {@code renameat(AT_FDCWD, from, AT_FDCWD, to)}. */
  static void rename(RingLoop loop, String from, String to) throws IOException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment source = cString(arena, from);
      MemorySegment target = cString(arena, to);
      // renameat: fd = olddirfd, addr = oldpath, len = newdirfd, off (addr2) = newpath
      int r = new SyncCall(Op.RENAMEAT, AT_FDCWD, source.address(), AT_FDCWD, target.address(), 0)
          .run(loop);
      if (r < 0) {
        throw Errors.path(from, to, -r);
      }
    }
  }

  static void check(String call, int res) throws IOException {
    if (res < 0) {
      throw Errors.io(call, -res);
    }
  }

  /** {@code s} NUL-terminated in the JDK's encoding of file names. */
  static MemorySegment cString(Arena arena, String s) {
    byte[] bytes = s.getBytes(PATHS);
    MemorySegment m = arena.allocate(bytes.length + 1L);
    MemorySegment.copy(bytes, 0, m, ValueLayout.JAVA_BYTE, 0, bytes.length);
    return m;
  }
}
