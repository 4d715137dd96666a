package io.virtualfile.reactive.spi;

import java.nio.ByteBuffer;

/**
 * An optional capability of an {@link EngineChannel}: a write and then an fsync of the file, started as
 * one request, so that the engine runs the fsync as soon as the write has ended, without a thread of
 * its own waking up between them (io_uring: two linked requests). The crash-safe overwrite uses it, when
 * its temp file's channel has it, for the temp file's last write and its fsync.
 */
public interface WriteThenForce {
  /**
   * Writes from {@code src} to the file at {@code position} (at most one system call's worth, as {@link
   * EngineChannel#write}), then, only if every byte between {@code src}'s position and limit was written,
   * fsyncs the file ({@code metaData}) or fdatasyncs it. Never blocks the caller; a failure to start is
   * reported to {@code completion}, never thrown. Exactly one method of {@code completion} is called,
   * exactly once, on one of the engine's threads, and only once the engine is done with both {@code src}
   * and the descriptor: the channel may be closed from then on, not before. The fsync is never retried.
   */
  void writeThenForce(ByteBuffer src, long position, boolean metaData, Completion completion);

  /** How {@link #writeThenForce} ended. {@code src}'s position has moved by the bytes written. */
  interface Completion {
    /** Every byte was written ({@code bytes} of them), and the fsync succeeded. */
    void forced(int bytes);

    /** Only {@code bytes} bytes (fewer than asked for, maybe none) were written; no fsync ran. */
    void partlyWritten(int bytes);

    /** The write failed (or never started); no fsync ran. */
    void writeFailed(Throwable error);

    /**
     * The fsync ran and failed (after every byte was written, or after a write that the kernel capped at
     * its maximum for one call): the durability of the file's writes is unknown.
     */
    void forceFailed(Throwable error);
  }
}
