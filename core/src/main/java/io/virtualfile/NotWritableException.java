package io.virtualfile;

import java.nio.channels.NonWritableChannelException;

/** A {@link NonWritableChannelException} that names the file, thrown before anything is written. */
public final class NotWritableException extends NonWritableChannelException {
  private static final long serialVersionUID = 1L;

  private final String message;

  /** @param file the file, named in the message */
  public NotWritableException(Object file) {
    this.message = "not opened for writing (open it with StandardOpenOption.WRITE): " + file;
  }

  @Override
  public String getMessage() {
    return message;
  }
}
