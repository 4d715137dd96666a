package io.virtualfile.reactive;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import java.util.function.IntFunction;
import reactor.core.Disposable;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/**
 * The demand-driven loop behind {@link AsyncVirtualFile#read(long, int)}: while there is unmet demand
 * and no read in flight, start the next read; emit its chunk; complete at end of file.
 *
 * <p>Concurrency: {@link #drain()} is called from request signals (any thread) and from read completions
 * (IO threads). The {@link #wip} counter makes it a serialized drain loop: only the thread that moved
 * {@code wip} from 0 runs the loop, the others just record that it must run once more. Invariants:
 * <ul>
 *   <li>A read is started only inside the loop, and only when {@link #inFlight} is false, so at most one
 *       read is in flight. {@link #inFlight} is cleared only after the read's chunk has been emitted, so
 *       chunks are emitted one at a time, in file order, whichever thread the demand comes from.</li>
 *   <li>Each read takes one unit of {@link #demand} when it starts. The reader keeps this count itself
 *       rather than asking the sink: the sink counts a chunk against demand only once it has delivered
 *       it, which may be later, on another thread.</li>
 *   <li>{@link #position} is touched only by the read in flight and the loop that starts the next one,
 *       which the volatile {@link #inFlight} orders.</li>
 * </ul>
 *
 * <p>Each read is subscribed with the stream subscriber's {@link Context}, so a chunk whose read
 * completes after a cancel goes to that subscriber's discard hook.
 */
final class ChunkedReader {
  private final AsyncVirtualFile file;
  private final FluxSink<ByteBuffer> sink;
  private final int chunkSize;
  private final IntFunction<ByteBuffer> allocator;
  private final AtomicInteger wip = new AtomicInteger();

  /** Where the stream ends: the file's size, read before the first read; -1 until then. */
  private long end = -1;

  /** Requested and not yet taken by a read; {@code Long.MAX_VALUE} means unbounded. */
  private volatile long demand;

  private static final AtomicLongFieldUpdater<ChunkedReader> DEMAND =
      AtomicLongFieldUpdater.newUpdater(ChunkedReader.class, "demand");

  private long position;
  private volatile boolean inFlight;
  private volatile boolean done;
  private volatile Disposable current;

  ChunkedReader(
      AsyncVirtualFile file, FluxSink<ByteBuffer> sink, long position, int chunkSize,
      IntFunction<ByteBuffer> allocator) {
    this.file = file;
    this.sink = sink;
    this.position = position;
    this.chunkSize = chunkSize;
    this.allocator = allocator;
  }

  void start() {
    sink.onCancel(() -> {
      Disposable d = current;
      if (d != null) {
        d.dispose(); // the read completes in the background; its buffer then goes to the discard hook
      }
    });
    sink.onRequest(n -> {
      Operators.addCap(DEMAND, this, n);
      drain();
    });
  }

  private void drain() {
    if (wip.getAndIncrement() != 0) {
      return;
    }
    int missed = 1;
    do {
      if (!inFlight && !done && !sink.isCancelled() && takeDemand()) {
        inFlight = true;
        readNext();
      }
      missed = wip.addAndGet(-missed);
    } while (missed != 0);
  }

  private boolean takeDemand() {
    for (;;) {
      long d = demand;
      if (d == 0) {
        return false;
      }
      if (d == Long.MAX_VALUE || DEMAND.compareAndSet(this, d, d - 1)) {
        return true;
      }
    }
  }

  private void readNext() {
    if (end < 0) { // first: the size, so that no buffer is larger than what the file has left
      current = file.size().subscribe(
          size -> {
            end = size;
            readNext();
          },
          this::fail,
          null,
          callers());
      return;
    }
    long left = end - position;
    if (left <= 0) {
      done = true;
      sink.complete();
      return;
    }
    ByteBuffer buf;
    try {
      buf = allocator.apply((int) Math.min(chunkSize, left));
      if (buf == null || !buf.hasRemaining()) {
        throw new IllegalStateException("the allocator returned " + buf + " for "
            + Math.min(chunkSize, left) + " bytes; it must return a buffer with room");
      }
    } catch (Throwable t) {
      fail(t);
      return;
    }
    int start = buf.position();
    buf.limit(start + (int) Math.min(Math.min(buf.remaining(), chunkSize), left));
    current = file.readAt(buf, position).subscribe(
        n -> {
          if (n < 0) { // the file shrank: it ends here
            Operators.onDiscard(buf, sink.currentContext());
            done = true;
            sink.complete();
            return;
          }
          position += n;
          buf.limit(start + n).position(start);
          if (n > 0) {
            sink.next(buf);
          } else {
            Operators.addCap(DEMAND, this, 1); // nothing emitted: give it back
          }
          // Only now: while inFlight is set no other thread starts a read, so the next chunk cannot be
          // emitted before this one.
          inFlight = false;
          drain();
        },
        this::fail,
        null,
        callers());
  }

  private Context callers() {
    return Context.of(sink.contextView());
  }

  private void fail(Throwable e) {
    done = true;
    sink.error(e);
  }
}
