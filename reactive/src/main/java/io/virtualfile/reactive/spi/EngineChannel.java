package io.virtualfile.reactive.spi;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * An open file of an engine: what the descriptor cache holds. Thread-safe: many operations may run on
 * one channel at once.
 *
 * <p>The asynchronous calls ({@link #read}, {@link #write}) never block the caller. They take the bytes
 * between the buffer's position and limit, and leave the buffer's position where the bytes transferred
 * end. Until the completion is called, the buffer belongs to the engine (the kernel may still read or
 * write it); a failure to start is reported to the completion too, never thrown. The blocking calls
 * ({@link #size}, {@link #truncate}, {@link #force}, {@link #close}) are made on the engine's IO threads.
 *
 * <p>{@link #close()} is called only once no operation is in flight on the channel (the cache's pins
 * guarantee it).
 */
public interface EngineChannel extends Closeable {
  /** Reads into {@code dst} from the file at {@code position}: at most one system call's worth. */
  void read(ByteBuffer dst, long position, IoCompletion completion);

  /** Writes from {@code src} to the file at {@code position}: at most one system call's worth. */
  void write(ByteBuffer src, long position, IoCompletion completion);

  /** The file's size. Blocking. */
  long size() throws IOException;

  /** Truncates the file to {@code size} if it is larger. Blocking. */
  void truncate(long size) throws IOException;

  /**
   * fsync ({@code metaData}) or fdatasync. Blocking. Never retried by the engine: a failure leaves the
   * durability of earlier writes unknown.
   */
  void force(boolean metaData) throws IOException;
}
