package io.virtualfile.uring;

import io.virtualfile.reactive.spi.IoCompletion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * One positional read or write of an {@link io.virtualfile.reactive.spi.EngineChannel}. A direct buffer
 * whose memory lives as long as the buffer ({@link #kernelMayUse}) is passed to the kernel by address
 * (this request holds it, so it stays reachable until the CQE); any other buffer goes through one of the
 * ring's bounce buffers, copied in before a write and out after a read, so that the kernel never holds
 * memory that someone may free meanwhile. The buffer's position moves by the bytes transferred just
 * before the completion is called.
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

  /**
   * Whether the kernel may be given {@code buffer}'s memory by address for as long as a request holds
   * the buffer: a direct buffer whose memory is freed only once the buffer is unreachable ({@code
   * ByteBuffer.allocateDirect}, a mapping, an automatic or the global arena). Not one from an arena that
   * can be closed (shared or confined): a close while the kernel reads into it would let the kernel write
   * freed memory. Such buffers go through bounce memory instead, and the copy to or from them fails with
   * the arena's own exception ({@link IllegalStateException} once closed, {@link WrongThreadException}
   * for another thread's confined arena), never a crash. A kind of memory this method does not know
   * counts as closeable. On the inline read's hot path: a class comparison, no string.
   */
  static boolean kernelMayUse(ByteBuffer buffer) {
    if (!buffer.isDirect()) {
      return false;
    }
    Class<?> scope = MemorySegment.ofBuffer(buffer).scope().getClass();
    return scope == BUFFER_SCOPE || scope == GLOBAL_SCOPE || scope == AUTOMATIC_SCOPE;
  }

  /*
   * The kinds of memory that live as long as their buffer, told apart by the class of their scope, as
   * this JDK makes them (there is no public way to ask whether a scope can be closed): learnt from a
   * sample of each, so that no internal class name is written here.
   */
  private static final Class<?> BUFFER_SCOPE = scopeClass(ByteBuffer.allocateDirect(1));
  private static final Class<?> GLOBAL_SCOPE = scopeClass(Arena.global().allocate(1).asByteBuffer());
  private static final Class<?> AUTOMATIC_SCOPE = scopeClass(Arena.ofAuto().allocate(1).asByteBuffer());

  private static Class<?> scopeClass(ByteBuffer sample) {
    return MemorySegment.ofBuffer(sample).scope().getClass();
  }

  @Override
  void prepare(MemorySegment sqe, RingLoop loop) {
    length = Math.min(buffer.remaining(), MAX_RW);
    long address;
    if (kernelMayUse(buffer)) {
      address = MemorySegment.ofBuffer(buffer).address();
    } else {
      MemorySegment b = loop.bounce().take(length);
      if (write) {
        try {
          MemorySegment.copy(MemorySegment.ofBuffer(buffer), 0, b, 0, length);
        } catch (RuntimeException | Error e) { // a closed or another thread's arena: rejected
          loop.bounce().give(b);
          throw e;
        }
      }
      bounce = b;
      address = b.address();
    }
    Ring.prep(sqe, write ? WRITE : READ, fd, address, length, position);
  }

  @Override
  void complete(int res, RingLoop loop) {
    if (bounce != null) {
      try {
        if (!write && res > 0) {
          MemorySegment.copy(bounce, 0, MemorySegment.ofBuffer(buffer), 0, res);
        }
      } catch (RuntimeException e) { // a closed or another thread's arena: the read fails
        completion.failed(e);
        return;
      } finally {
        loop.bounce().give(bounce);
        bounce = null;
      }
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
