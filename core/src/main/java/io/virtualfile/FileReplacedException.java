package io.virtualfile;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A virtual file's path no longer names the file it opened: it was replaced or deleted by something
 * other than this library's overwrite. Thrown by the first reopen after that (an outside replacement is
 * noticed only when the file's descriptor has to be reopened), instead of silently reading another file.
 * The handle stays unusable for IO until closed.
 */
public class FileReplacedException extends IOException {
  private static final long serialVersionUID = 1L;

  private final Path path;

  /**
   * @param path the file's path
   * @param what what happened to it, for the message
   */
  public FileReplacedException(Path path, String what, Throwable cause) {
    super(path + " " + what + " since this handle opened it; not reading another file in its place",
        cause);
    this.path = path;
  }

  /** The file's path. */
  public Path path() {
    return path;
  }
}
