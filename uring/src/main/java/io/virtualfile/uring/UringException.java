package io.virtualfile.uring;

import java.io.IOException;

/** A request the kernel failed: the message names the call and the errno. */
final class UringException extends IOException {
  private final int errno;

  UringException(String message, int errno) {
    super(message);
    this.errno = errno;
  }

  /** The kernel's error number (positive). */
  int errno() {
    return errno;
  }
}
