package io.virtualfile.reactive.spi;

import java.nio.ByteBuffer;

/**
 * Reads or writes on a channel of the descriptor cache, started by {@link IoEngine#start}: the caller
 * supplies what to transfer and how to take the channel (a <em>pin</em>, which keeps it open until the
 * last transfer's outcome is delivered); the engine decides where the pin is taken.
 *
 * <h2>The liveness rule</h2>
 * A miss waits for a free slot on an IO thread, and a slot frees only when its pins are released. So
 * a pin may be held only by work that finishes without an IO thread becoming free: a transfer that
 * runs now on the thread that pinned, or one that an engine's own thread (a ring's) completes. A pin
 * taken and then left waiting in the IO threads' queue can wait behind misses that occupy every IO
 * thread and wait for it: nobody would release it. Hence {@link #pin} is called where the transfer
 * then starts at once.
 *
 * <p>The transfers are made one after another on the one pinned channel, each on the bytes between
 * {@link #buffer()}'s position and limit at {@link #position()}; after each, {@link #transferred}
 * says whether to make another. Exactly one of {@link #transferred} returning {@code false} and
 * {@link #failed} ends the work, once; neither is called if {@link #pin} returned {@code null} with
 * {@code reopen}. They are called where the transfer's outcome is known (an IO thread, the thread of
 * the engine that completed it, or the thread that started a transfer that the engine completed at once
 * inside {@link EngineChannel#read}), and {@link #failed} also on the thread that called {@link
 * IoEngine#start} if the work failed there (its pin, or the hand-off to an IO thread).
 */
public interface CachedIo {
  /**
   * Pins the channel for this work and marks it started.
   *
   * @param reopen whether to reopen the file if its channel is not cached; that blocks, so only an IO
   *     thread may pass {@code true}
   * @return the pinned channel, on which the engine must start the first transfer now, on this thread
   *     or by its own; or {@code null}: without {@code reopen}, the channel is not cached (call again
   *     with {@code reopen} on an IO thread); with it, the work is over (cancelled first, or done with
   *     nothing to transfer) and nothing more may be called
   * @throws Exception the work cannot start (a closed file, a failed reopen): the engine passes it to
   *     {@link #failed}; no pin is held
   */
  EngineChannel pin(boolean reopen) throws Exception;

  /**
   * On an IO thread: {@link #pin} with {@code reopen}, a failure passed to {@link #failed}.
   *
   * @return the pinned channel, or {@code null} when the work is over (then nothing more may be called)
   */
  static EngineChannel pinOnIoThread(CachedIo io) {
    try {
      return io.pin(true);
    } catch (Throwable t) {
      io.failed(t);
      return null;
    }
  }

  /** The buffer of the next transfer: its bytes between position and limit. */
  ByteBuffer buffer();

  /** The file position of the next transfer. */
  long position();

  /** Whether the transfers write (else they read). */
  boolean isWrite();

  /**
   * A transfer moved {@code bytes} bytes ({@code -1}: a read at or past the end of file).
   *
   * @return {@code true} to make the next transfer now, on the same pinned channel; {@code false} when
   *     the work is over (the pin was released and the outcome delivered)
   */
  boolean transferred(int bytes);

  /**
   * The work failed: a transfer, its start, {@link #pin} or the hand-off to an IO thread. Releases the
   * pin if one is held, and delivers the failure.
   */
  void failed(Throwable error);
}
