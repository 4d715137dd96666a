package io.virtualfile.uring;

import io.virtualfile.reactive.spi.IoCompletion;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * One positional read or write of an {@link io.virtualfile.reactive.spi.EngineChannel}. A direct buffer
 * is passed to the kernel by address (this request holds it, so it stays reachable until the CQE); a
 * heap buffer goes through one of the ring's bounce buffers, copied in before a write and out after a
 * read. The buffer's position moves by the bytes transferred just before the completion is called.
 *
 * <p>A read that {@link InlineReads} put off (past the reads one call may make on its thread) is tried
 * inline again by the ring's thread before it becomes an SQE ({@link #completedInline}).
 */
final class Transfer extends Op {
  /** The kernel's cap on one read or write (MAX_RW_COUNT). */
  static final int MAX_RW = 0x7ffff000;

  private final boolean write;
  private final int fd;
  private final ByteBuffer buffer;
  private final long position;
  private final IoCompletion completion;
  /** The channel of a read to try inline again on the ring's thread; else null. */
  private final UringChannel retryInline;
  private int length;
  private MemorySegment bounce;

  /** @param retryInline the channel of a read to try inline again on the ring's thread, or null */
  Transfer(boolean write, int fd, ByteBuffer buffer, long position, IoCompletion completion,
      UringChannel retryInline) {
    this.write = write;
    this.fd = fd;
    this.buffer = buffer;
    this.position = position;
    this.completion = completion;
    this.retryInline = retryInline;
  }

  @Override
  boolean completedInline() {
    return retryInline != null && InlineReads.read(retryInline, buffer, position, completion);
  }

  @Override
  void prepare(MemorySegment sqe, RingLoop loop) {
    length = Math.min(buffer.remaining(), MAX_RW);
    long address;
    if (buffer.isDirect()) {
      address = MemorySegment.ofBuffer(buffer).address();
    } else {
      bounce = loop.bounce().take(length);
      if (write) {
        MemorySegment.copy(MemorySegment.ofBuffer(buffer), 0, bounce, 0, length);
      }
      address = bounce.address();
    }
    Ring.prep(sqe, write ? WRITE : READ, fd, address, length, position);
  }

  @Override
  void complete(int res, RingLoop loop) {
    if (bounce != null) {
      if (!write && res > 0) {
        MemorySegment.copy(bounce, 0, MemorySegment.ofBuffer(buffer), 0, res);
      }
      loop.bounce().give(bounce);
      bounce = null;
    }
    if (res < 0) {
      completion.failed(Errors.io(write ? "write" : "read", -res));
      return;
    }
    succeeded(write, buffer, length, res, completion);
  }

  /**
   * The end of a transfer of {@code length} bytes that moved {@code res}: the buffer's position moves by
   * them, and the completion is told them ({@code -1} for a read at or past the end of the file).
   */
  static void succeeded(boolean write, ByteBuffer buffer, int length, int res, IoCompletion completion) {
    buffer.position(buffer.position() + res);
    completion.completed(!write && res == 0 && length > 0 ? -1 : res);
  }

  @Override
  void reject(Throwable why) {
    completion.failed(why);
  }
}
