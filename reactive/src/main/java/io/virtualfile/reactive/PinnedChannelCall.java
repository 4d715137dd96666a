package io.virtualfile.reactive;

import io.virtualfile.internal.CachedFile;
import io.virtualfile.internal.Slot;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.CompletionHandler;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.scheduler.Scheduler;

/**
 * One asynchronous channel call ({@code read} or {@code write} with a {@link CompletionHandler}) on a
 * pinned channel, as a {@code Mono}.
 *
 * <p>The pin is taken before the call starts and released exactly once, when the call's handler runs
 * (or when starting the call threw). Cancellation does <em>not</em> release it: the channel may not be
 * closed while the JDK still works on it, and the JDK always calls the handler, so the pin is never
 * leaked. A result that arrives after cancellation goes to Reactor's discard hook ({@code
 * MonoSink.success} after cancel does that); an error after cancellation to {@code onErrorDropped}.
 *
 * <p>A cache hit pins and starts the call on the subscribing thread with one CAS and a task submission;
 * a miss reopens the file on the blocking scheduler and starts the call from there.
 */
final class PinnedChannelCall implements CompletionHandler<Integer, Void> {
  /** Starts the channel call with {@code handler}. */
  @FunctionalInterface
  interface Call {
    void start(AsynchronousFileChannel channel, CompletionHandler<Integer, Void> handler);
  }

  private final MonoSink<Integer> sink;
  private final Call call;

  /** The pin to release; written before the call starts, read by the handler. */
  private Slot<AsynchronousFileChannel> slot;

  /** Guards the single release of {@link #slot}. */
  private final AtomicBoolean released = new AtomicBoolean();

  /** Set on cancel: a reopen that has not started the call yet must not start it. */
  private volatile boolean cancelled;

  private PinnedChannelCall(MonoSink<Integer> sink, Call call) {
    this.sink = sink;
    this.call = call;
  }

  static Mono<Integer> mono(CachedFile<AsynchronousFileChannel> file, Scheduler blocking, Call call) {
    return Mono.create(sink -> new PinnedChannelCall(sink, call).subscribe(file, blocking));
  }

  private void subscribe(CachedFile<AsynchronousFileChannel> file, Scheduler blocking) {
    Slot<AsynchronousFileChannel> hit;
    try {
      hit = file.tryPinCached();
    } catch (Throwable t) {
      sink.error(t);
      return;
    }
    if (hit != null) {
      sink.onCancel(() -> cancelled = true);
      start(hit);
      return;
    }
    Disposable reopen =
        blocking.schedule(() -> {
          if (cancelled) {
            return;
          }
          Slot<AsynchronousFileChannel> pinned;
          try {
            pinned = file.pin();
          } catch (Throwable t) {
            sink.error(t);
            return;
          }
          if (cancelled) {
            pinned.unpin();
            return;
          }
          start(pinned);
        });
    sink.onCancel(() -> {
      cancelled = true;
      reopen.dispose();
    });
  }

  private void start(Slot<AsynchronousFileChannel> pinned) {
    slot = pinned;
    try {
      call.start(pinned.channel(), this);
    } catch (Throwable t) { // read-only buffer, non-writable channel, rejected task, ...
      release();
      sink.error(t);
    }
  }

  private void release() {
    if (released.compareAndSet(false, true)) {
      slot.unpin();
    }
  }

  @Override
  public void completed(Integer result, Void attachment) {
    release();
    sink.success(result);
  }

  @Override
  public void failed(Throwable error, Void attachment) {
    release();
    sink.error(error);
  }
}
