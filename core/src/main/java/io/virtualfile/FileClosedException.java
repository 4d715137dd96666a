package io.virtualfile;

import java.nio.channels.ClosedChannelException;

/**
 * The virtual file, or the cache or engine it lives in, is closed: the operation was refused before it
 * touched the file. A {@link ClosedChannelException}, so callers may catch it as the JDK type; the
 * message, which {@code ClosedChannelException} lacks, says what was closed.
 */
public final class FileClosedException extends ClosedChannelException {
  private static final long serialVersionUID = 1L;

  private final String message;

  /** @param message what was closed, and what could not be done */
  public FileClosedException(String message) {
    this.message = message;
  }

  @Override
  public String getMessage() {
    return message;
  }
}
