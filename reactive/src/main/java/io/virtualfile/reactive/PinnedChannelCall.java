package io.virtualfile.reactive;

import io.virtualfile.internal.CachedFile;
import io.virtualfile.internal.Slot;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.CompletionHandler;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.core.scheduler.Scheduler;

/**
 * One asynchronous channel call ({@code read} or {@code write} with a {@link CompletionHandler}) on a
 * pinned channel of a virtual file, as a {@code Mono}. A hand-written operator rather than {@code
 * Mono.create}, because it sits on the hot path of every positional read and write: one object is the
 * subscription, the completion handler and the holder of the pin.
 *
 * <p>On subscription the arguments are checked (a failure is signalled, never thrown), then the channel
 * is pinned and the call started. A cache hit does that on the subscribing thread with one CAS and a task
 * submission; a miss reopens the file on the blocking scheduler and starts the call from there.
 *
 * <p>The pin is released exactly once, by whichever of these runs (only one can): the call's {@code
 * completed}, its {@code failed}, or the synchronous throw of starting it. Cancellation does
 * <em>not</em> release it: the channel may not be closed while the JDK still works on it, and the JDK
 * always calls the handler, so the pin is never leaked. A result that arrives after cancellation goes to
 * Reactor's discard hook, an error after
 * cancellation to {@code onErrorDropped}; see {@link Run} for the exactly-once rules.
 */
final class PinnedChannelCall extends Mono<Integer> {
  /** Starts the channel call with {@code handler}. */
  @FunctionalInterface
  interface Call {
    void start(AsynchronousFileChannel channel, CompletionHandler<Integer, Void> handler);
  }

  private final CachedFile<AsynchronousFileChannel> file;
  private final Scheduler blocking;
  private final Runnable check;
  private final Call call;

  /**
   * @param check validates the arguments; what it throws is signalled as the error
   */
  PinnedChannelCall(
      CachedFile<AsynchronousFileChannel> file, Scheduler blocking, Runnable check, Call call) {
    this.file = file;
    this.blocking = blocking;
    this.check = check;
    this.call = call;
  }

  @Override
  public void subscribe(CoreSubscriber<? super Integer> actual) {
    try {
      check.run();
    } catch (RuntimeException e) {
      Operators.error(actual, e);
      return;
    }
    Run run = new Run(actual, call);
    actual.onSubscribe(run);
    run.start(file, blocking);
  }

  /**
   * The subscription, completion handler and pin holder of one call.
   *
   * <p>{@link #state} makes delivery exactly-once: bits {@link #REQUESTED}, {@link #HAS_VALUE} and the
   * terminal {@link #CANCELLED} or {@link #DONE}, changed only by CAS. A result is emitted by whichever of
   * {@code request} and {@code completed} comes second, and discarded exactly once: by {@code cancel} if
   * the result was already there, by {@code completed} if the cancel came first. (Reactor's {@code
   * MonoSubscriber} may discard twice when a cancel races a result that arrived before any request.)
   */
  private static final class Run implements Subscription, CompletionHandler<Integer, Void> {
    private static final int REQUESTED = 1;
    private static final int HAS_VALUE = 2;
    private static final int CANCELLED = 4;
    private static final int DONE = 8;

    private static final AtomicIntegerFieldUpdater<Run> STATE =
        AtomicIntegerFieldUpdater.newUpdater(Run.class, "state");

    private final CoreSubscriber<? super Integer> actual;
    private final Call call;
    private volatile int state;

    /** The result, written before {@link #HAS_VALUE} is set. */
    private Integer value;

    /** The pin to release; written before the call starts, read by the handler. */
    private Slot<AsynchronousFileChannel> slot;

    /** A reopen scheduled on the blocking scheduler, cancelled with the subscription. */
    private volatile Disposable reopen;

    Run(CoreSubscriber<? super Integer> actual, Call call) {
      this.actual = actual;
      this.call = call;
    }

    private boolean isCancelled() {
      return (state & CANCELLED) != 0;
    }

    void start(CachedFile<AsynchronousFileChannel> file, Scheduler blocking) {
      Slot<AsynchronousFileChannel> hit;
      try {
        hit = file.tryPinCached();
      } catch (Throwable t) {
        fail(t);
        return;
      }
      if (hit != null) {
        begin(hit);
        return;
      }
      reopen = blocking.schedule(() -> {
        if (isCancelled()) {
          return;
        }
        Slot<AsynchronousFileChannel> pinned;
        try {
          pinned = file.pin();
        } catch (Throwable t) {
          fail(t);
          return;
        }
        if (isCancelled()) {
          pinned.unpin();
          return;
        }
        begin(pinned);
      });
      if (isCancelled()) { // cancelled before `reopen` was set: cancel() could not dispose it
        reopen.dispose();
      }
    }

    private void begin(Slot<AsynchronousFileChannel> pinned) {
      slot = pinned;
      try {
        call.start(pinned.channel(), this);
      } catch (Throwable t) { // read-only buffer, non-writable channel, rejected task, ...
        pinned.unpin();
        fail(t);
      }
    }

    @Override
    public void completed(Integer result, Void attachment) {
      slot.unpin();
      value = result;
      for (;;) {
        int s = state;
        if ((s & CANCELLED) != 0) {
          value = null;
          Operators.onDiscard(result, actual.currentContext());
          return;
        }
        if ((s & REQUESTED) != 0) {
          if (STATE.compareAndSet(this, s, DONE)) {
            value = null;
            actual.onNext(result);
            actual.onComplete();
            return;
          }
        } else if (STATE.compareAndSet(this, s, s | HAS_VALUE)) {
          return; // request() will emit it
        }
      }
    }

    @Override
    public void failed(Throwable error, Void attachment) {
      slot.unpin();
      fail(error);
    }

    private void fail(Throwable error) {
      for (;;) {
        int s = state;
        if ((s & (CANCELLED | DONE)) != 0) {
          Operators.onErrorDropped(error, actual.currentContext());
          return;
        }
        if (STATE.compareAndSet(this, s, DONE)) {
          actual.onError(error);
          return;
        }
      }
    }

    @Override
    public void request(long n) {
      if (!Operators.validate(n)) {
        return;
      }
      for (;;) {
        int s = state;
        if ((s & (REQUESTED | CANCELLED | DONE)) != 0) {
          return;
        }
        if ((s & HAS_VALUE) != 0) {
          if (STATE.compareAndSet(this, s, DONE)) {
            Integer v = value;
            value = null;
            actual.onNext(v);
            actual.onComplete();
          }
          return;
        }
        if (STATE.compareAndSet(this, s, s | REQUESTED)) {
          return;
        }
      }
    }

    @Override
    public void cancel() {
      for (;;) {
        int s = state;
        if ((s & (CANCELLED | DONE)) != 0) {
          return;
        }
        if (STATE.compareAndSet(this, s, CANCELLED)) {
          if ((s & HAS_VALUE) != 0) {
            Integer v = value;
            value = null;
            Operators.onDiscard(v, actual.currentContext());
          }
          Disposable r = reopen;
          if (r != null) {
            r.dispose();
          }
          return;
        }
      }
    }
  }
}
