package io.virtualfile.internal;

import java.nio.channels.ClosedChannelException;

/**
 * A {@link ClosedChannelException} that says what was closed. Callers catch it as the JDK type;
 * the message is what {@code ClosedChannelException} lacks.
 */
public final class ClosedException extends ClosedChannelException {
  private static final long serialVersionUID = 1L;

  private final String message;

  public ClosedException(String message) {
    this.message = message;
  }

  @Override
  public String getMessage() {
    return message;
  }
}
