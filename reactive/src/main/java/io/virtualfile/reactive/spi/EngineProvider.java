package io.virtualfile.reactive.spi;

import io.virtualfile.reactive.AsyncFileIo;

/**
 * Makes engines of one kind; found with {@link java.util.ServiceLoader} when an {@link AsyncFileIo} is
 * built with {@link AsyncFileIo.Engine#AUTO} or a kind that is not built in.
 */
public interface EngineProvider {
  /** The kind of engine this provider makes (never {@link AsyncFileIo.Engine#AUTO}). */
  AsyncFileIo.Engine kind();

  /**
   * Starts an engine, or says why it cannot run here.
   *
   * @throws UnsupportedOperationException if the engine cannot run on this machine, JDK or kernel; the
   *     message gives the reason (logged once under {@code AUTO}, or thrown to the builder's caller)
   */
  IoEngine start(EngineSettings settings);
}
