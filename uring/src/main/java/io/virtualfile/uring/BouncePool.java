package io.virtualfile.uring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Native buffers through which a ring's heap-buffer reads and writes pass (the kernel must never see a
 * heap array: the GC moves it). Sizes up to {@value #MAX_POOLED} bytes come in powers of two from a
 * free list per size, carved from the ring's arena and kept until the ring closes; larger ones get an
 * arena of their own, closed when given back. Every buffer is page-aligned, so O_DIRECT accepts it.
 *
 * <p>Not thread-safe: the ring's loop thread takes a buffer when it prepares a request and gives it back
 * when the request's CQE arrived, never before, so the kernel never writes a buffer in another
 * request's hands.
 */
final class BouncePool {
  static final int MIN = 4096;
  static final int MAX_POOLED = 1 << 20;
  private static final int MIN_SHIFT = 12;

  private final Arena arena;
  @SuppressWarnings("unchecked")
  private final ArrayDeque<MemorySegment>[] free =
      new ArrayDeque[Integer.numberOfTrailingZeros(MAX_POOLED) - MIN_SHIFT + 1];
  private final Map<MemorySegment, Arena> large = new IdentityHashMap<>();

  BouncePool(Arena arena) {
    this.arena = arena;
  }

  /** A buffer of at least {@code size} bytes (its byte size may be larger). */
  MemorySegment take(int size) {
    if (size > MAX_POOLED) {
      Arena own = Arena.ofConfined();
      MemorySegment s = own.allocate(size, MIN);
      large.put(s, own);
      return s;
    }
    int c = sizeClass(size);
    ArrayDeque<MemorySegment> list = free[c];
    MemorySegment s = list == null ? null : list.poll();
    return s != null ? s : arena.allocate(1L << (c + MIN_SHIFT), MIN);
  }

  /** Gives back a buffer from {@link #take}, once the kernel is done with it. */
  void give(MemorySegment s) {
    Arena own = large.remove(s);
    if (own != null) {
      own.close();
      return;
    }
    int c = sizeClass((int) s.byteSize());
    if (free[c] == null) {
      free[c] = new ArrayDeque<>();
    }
    free[c].push(s);
  }

  private static int sizeClass(int size) {
    int bits = 32 - Integer.numberOfLeadingZeros(Math.max(size, MIN) - 1);
    return bits - MIN_SHIFT;
  }
}
