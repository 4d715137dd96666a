package io.virtualfile.reactive.spi;

/**
 * The completion of one asynchronous read or write. Exactly one of its methods is called, exactly once,
 * on one of the engine's IO threads (or, where the engine says so, on the thread that started the call,
 * after the starting method returned or inside it).
 */
public interface IoCompletion {
  /** The call transferred {@code bytes} bytes ({@code -1}: a read at or past the end of the file). */
  void completed(int bytes);

  /** The call failed; the buffer was not necessarily left untouched. */
  void failed(Throwable error);
}
