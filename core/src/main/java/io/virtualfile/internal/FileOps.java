package io.virtualfile.internal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/**
 * The file-system operations the overwrite protocol is made of. The seam through which tests inject
 * faults and run the protocol on a simulated, crashable file system; the real implementation is {@link
 * JdkFileOps}. How the temp file is created and written is a separate seam, {@link TempFiles}, because
 * the blocking and the reactive overwrite write it differently.
 */
public interface FileOps {
  /** An open temp file. */
  interface TempFile {
    /** Writes all of {@code src}. */
    void writeAll(ByteBuffer src) throws IOException;

    /** {@code force(true)}. */
    void sync() throws IOException;

    void close() throws IOException;
  }

  /** An open directory. */
  interface Directory {
    /** {@code force(true)} on the directory. */
    void sync() throws IOException;

    void close() throws IOException;
  }

  /** What is at the final path before the overwrite. */
  enum Kind {
    ABSENT,
    REGULAR_FILE,
    DIRECTORY,
    SYMBOLIC_LINK,
    OTHER
  }

  /** The kind of file at {@code path}, not following a symbolic link. */
  Kind kindOf(Path path) throws IOException;

  /** The POSIX permissions of the regular file at {@code path}, or {@code null} where unsupported. */
  Set<PosixFilePermission> permissionsOf(Path path) throws IOException;

  /** The file's identity ({@code BasicFileAttributes.fileKey()}), or {@code null} where there is none. */
  Object fileKey(Path path) throws IOException;

  /** Removes {@code path} if it exists; a missing file is not an error. */
  void deleteIfExists(Path path) throws IOException;

  /** Creates and opens temp files. */
  @FunctionalInterface
  interface TempFiles<T extends TempFile> {
    /**
     * Creates {@code path} as a new file (failing if anything exists there) with {@code permissions}
     * (ignored where the file system has none) and opens it for writing.
     */
    T createNew(Path path, Set<PosixFilePermission> permissions) throws IOException;
  }

  /**
   * Opens the file at {@code target}, which a rename is about to replace, only to hold it: while it is
   * open, the rename does not free it (see {@link OverwriteProtocol#prepareRename}). Returns {@code null}
   * where there is nothing to hold, where it cannot be opened, or where holding a file open would make a
   * rename over it fail; a {@code null} only means the rename frees the file itself. Has no effect that
   * another process could notice but an open and a close of the file for reading.
   */
  default Closeable holdReplaced(Path target) {
    return null;
  }

  /** Renames {@code source} over {@code target} atomically, or fails; never a copy. */
  void atomicMove(Path source, Path target) throws IOException;

  /** Opens a directory so that it can be synced. */
  Directory openDirectory(Path dir) throws IOException;
}
