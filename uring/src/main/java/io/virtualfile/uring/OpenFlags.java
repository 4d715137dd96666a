package io.virtualfile.uring;

import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/**
 * {@code open(2)} flags and mode for a set of {@link OpenOption}s, with the rules of {@link
 * java.nio.channels.FileChannel#open}: read-only unless WRITE; CREATE, CREATE_NEW and TRUNCATE_EXISTING
 * only with WRITE; CREATE_NEW wins over CREATE; new files get mode 0666 (less the umask) unless a
 * {@code posix:permissions} attribute says otherwise.
 *
 * @param flags the open flags (always with O_CLOEXEC)
 * @param mode the mode of a created file
 */
record OpenFlags(int flags, int mode, boolean readable, boolean writable, boolean deleteOnClose) {
  static final int O_RDONLY = 0;
  static final int O_WRONLY = 1;
  static final int O_RDWR = 2;
  static final int O_CREAT = 0x40;
  static final int O_EXCL = 0x80;
  static final int O_TRUNC = 0x200;
  static final int O_DSYNC = 0x1000;
  // These two differ between architectures (asm-generic/fcntl.h against arm64's own).
  private static final boolean AARCH64 = System.getProperty("os.arch", "").equals("aarch64");
  static final boolean ARCH_KNOWN =
      AARCH64 || System.getProperty("os.arch", "").matches("amd64|x86_64");
  static final int O_DIRECT = AARCH64 ? 0x10000 : 0x4000;
  static final int O_NOFOLLOW = AARCH64 ? 0x8000 : 0x20000;
  static final int O_CLOEXEC = 0x80000;
  static final int O_SYNC = 0x101000;

  /**
   * @throws IllegalArgumentException for APPEND with READ or TRUNCATE_EXISTING, as FileChannel
   * @throws UnsupportedOperationException for an option or attribute FileChannel does not know
   */
  static OpenFlags of(Set<? extends OpenOption> options, FileAttribute<?>... attrs) {
    boolean read = options.contains(StandardOpenOption.READ);
    boolean write = options.contains(StandardOpenOption.WRITE)
        || options.contains(StandardOpenOption.APPEND);
    if (!write) {
      read = true;
    }
    if (options.contains(StandardOpenOption.APPEND)
        && (options.contains(StandardOpenOption.READ)
            || options.contains(StandardOpenOption.TRUNCATE_EXISTING))) {
      throw new IllegalArgumentException("APPEND not allowed with READ or TRUNCATE_EXISTING");
    }
    int flags = (read && write ? O_RDWR : write ? O_WRONLY : O_RDONLY) | O_CLOEXEC;
    for (OpenOption o : options) {
      if (o instanceof StandardOpenOption s) {
        flags |= switch (s) {
          case CREATE -> write && !options.contains(StandardOpenOption.CREATE_NEW) ? O_CREAT : 0;
          case CREATE_NEW -> write ? O_CREAT | O_EXCL : 0;
          case TRUNCATE_EXISTING -> write ? O_TRUNC : 0;
          case DSYNC -> O_DSYNC;
          case SYNC -> O_SYNC;
          case APPEND -> throw new UnsupportedOperationException(
              "APPEND is not supported by the io_uring engine (positional IO only)");
          case READ, WRITE, DELETE_ON_CLOSE, SPARSE -> 0;
        };
      } else if (o == LinkOption.NOFOLLOW_LINKS) {
        flags |= O_NOFOLLOW;
      } else if (isDirect(o)) {
        flags |= O_DIRECT;
      } else {
        throw new UnsupportedOperationException(o + " not supported");
      }
    }
    return new OpenFlags(flags, mode(attrs), read, write,
        options.contains(StandardOpenOption.DELETE_ON_CLOSE));
  }

  /** {@code com.sun.nio.file.ExtendedOpenOption.DIRECT}, named so as not to need jdk.unsupported. */
  private static boolean isDirect(OpenOption o) {
    return o.toString().equals("DIRECT")
        && o.getClass().getName().equals("com.sun.nio.file.ExtendedOpenOption");
  }

  private static int mode(FileAttribute<?>... attrs) {
    int mode = 0666;
    for (FileAttribute<?> a : attrs) {
      if (!a.name().equals("posix:permissions") && !a.name().equals("unix:permissions")) {
        throw new UnsupportedOperationException("'" + a.name() + "' not supported as initial attribute");
      }
      mode = 0;
      for (Object p : (Set<?>) a.value()) {
        mode |= 0400 >> ((PosixFilePermission) p).ordinal();
      }
    }
    return mode;
  }
}
