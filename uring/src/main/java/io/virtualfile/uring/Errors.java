package io.virtualfile.uring;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.Map;

/**
 * Turns a failed request's {@code -errno} into the exception the JDK's file channels throw for the same
 * error, with the errno's name and number in the message (the JDK's strerror text is not reachable
 * without libc's non-thread-safe {@code strerror}).
 */
final class Errors {
  private static final Map<Integer, String> NAMES = Map.ofEntries(
      Map.entry(1, "EPERM (Operation not permitted)"),
      Map.entry(2, "ENOENT (No such file or directory)"),
      Map.entry(4, "EINTR (Interrupted system call)"),
      Map.entry(5, "EIO (Input/output error)"),
      Map.entry(9, "EBADF (Bad file descriptor)"),
      Map.entry(11, "EAGAIN (Resource temporarily unavailable)"),
      Map.entry(12, "ENOMEM (Cannot allocate memory)"),
      Map.entry(13, "EACCES (Permission denied)"),
      Map.entry(14, "EFAULT (Bad address)"),
      Map.entry(16, "EBUSY (Device or resource busy)"),
      Map.entry(17, "EEXIST (File exists)"),
      Map.entry(18, "EXDEV (Invalid cross-device link)"),
      Map.entry(20, "ENOTDIR (Not a directory)"),
      Map.entry(21, "EISDIR (Is a directory)"),
      Map.entry(22, "EINVAL (Invalid argument)"),
      Map.entry(23, "ENFILE (Too many open files in system)"),
      Map.entry(24, "EMFILE (Too many open files)"),
      Map.entry(27, "EFBIG (File too large)"),
      Map.entry(28, "ENOSPC (No space left on device)"),
      Map.entry(30, "EROFS (Read-only file system)"),
      Map.entry(36, "ENAMETOOLONG (File name too long)"),
      Map.entry(38, "ENOSYS (Function not implemented)"),
      Map.entry(39, "ENOTEMPTY (Directory not empty)"),
      Map.entry(40, "ELOOP (Too many levels of symbolic links)"),
      Map.entry(95, "EOPNOTSUPP (Operation not supported)"),
      Map.entry(122, "EDQUOT (Disk quota exceeded)"),
      Map.entry(125, "ECANCELED (Operation canceled)"));

  private Errors() {}

  /** {@code "ENOENT (No such file or directory), errno 2"}. */
  static String describe(int errno) {
    return NAMES.getOrDefault(errno, "error") + ", errno " + errno;
  }

  /** The exception for a failed call on an open file ({@code what}: the call, say "read"). */
  static IOException io(String what, int errno) {
    return new UringException(what + " failed: " + describe(errno), errno);
  }

  /** The exception for a failed call naming {@code path} (and {@code other}, for a rename). */
  static IOException path(String path, String other, int errno) {
    String reason = describe(errno);
    IOException e = switch (errno) {
      case 2 -> new NoSuchFileException(path, other, reason);
      case 13 -> new AccessDeniedException(path, other, reason);
      case 17 -> new FileAlreadyExistsException(path, other, reason);
      case 40 -> new FileSystemException(path, other,
          reason + " or unable to access attributes of symbolic link");
      default -> new FileSystemException(path, other, reason);
    };
    return e;
  }
}
