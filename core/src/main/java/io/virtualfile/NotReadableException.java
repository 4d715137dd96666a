package io.virtualfile;

import java.nio.channels.NonReadableChannelException;

/** A {@link NonReadableChannelException} that names the file, thrown before anything is read. */
public final class NotReadableException extends NonReadableChannelException {
  private static final long serialVersionUID = 1L;

  private final String message;

  /** @param file the file, named in the message */
  public NotReadableException(Object file) {
    this.message = "not opened for reading (open it with StandardOpenOption.READ): " + file;
  }

  @Override
  public String getMessage() {
    return message;
  }
}
