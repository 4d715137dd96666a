package io.virtualfile.reactive;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.Disposable;
import reactor.core.publisher.FluxSink;

/**
 * The demand-driven loop behind {@link AsyncVirtualFile#read(long, int)}: while there is unmet demand
 * and no read in flight, start the next read; emit its chunk; complete at end of file.
 *
 * <p>Concurrency: {@link #drain()} is called from request signals (any thread) and from read completions
 * (IO threads). The {@link #wip} counter makes it a serialized drain loop: only the thread that moved
 * {@code wip} from 0 runs the loop, the others just record that it must run once more. Invariant: a read
 * is started only inside the loop, and only when {@link #inFlight} is false, so at most one read is in
 * flight. {@link #inFlight} is cleared only after the read's chunk has been emitted, so chunks are
 * emitted one at a time, in file order, whichever thread the demand comes from. {@link #position} is
 * touched only by the read in flight and the loop that starts the next one, which the volatile {@link
 * #inFlight} orders.
 */
final class ChunkedReader {
  private final AsyncVirtualFile file;
  private final FluxSink<ByteBuffer> sink;
  private final int chunkSize;
  private final AtomicInteger wip = new AtomicInteger();

  private long position;
  private volatile boolean inFlight;
  private volatile boolean done;
  private volatile Disposable current;

  ChunkedReader(AsyncVirtualFile file, FluxSink<ByteBuffer> sink, long position, int chunkSize) {
    this.file = file;
    this.sink = sink;
    this.position = position;
    this.chunkSize = chunkSize;
  }

  void start() {
    sink.onCancel(() -> {
      Disposable d = current;
      if (d != null) {
        d.dispose(); // the read completes in the background; its pin is released then
      }
    });
    sink.onRequest(n -> drain());
  }

  private void drain() {
    if (wip.getAndIncrement() != 0) {
      return;
    }
    int missed = 1;
    do {
      if (!inFlight && !done && !sink.isCancelled() && sink.requestedFromDownstream() > 0) {
        inFlight = true;
        readNext();
      }
      missed = wip.addAndGet(-missed);
    } while (missed != 0);
  }

  private void readNext() {
    ByteBuffer buf = ByteBuffer.allocate(chunkSize);
    current = file.readAt(buf, position).subscribe(
        n -> {
          if (n < 0) {
            done = true;
            sink.complete();
            return;
          }
          position += n;
          buf.flip();
          if (n > 0) {
            sink.next(buf);
          }
          // Only now: while inFlight is set no other thread starts a read, so the next chunk cannot be
          // emitted before this one.
          inFlight = false;
          drain();
        },
        e -> {
          done = true;
          sink.error(e);
        });
  }
}
