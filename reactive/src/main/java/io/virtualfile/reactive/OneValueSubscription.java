package io.virtualfile.reactive;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.Scannable;
import reactor.core.publisher.Operators;

/**
 * The subscription of a Mono that produces one value on some other thread, delivering it exactly once.
 *
 * <p>{@link #state} makes delivery exactly-once: bits {@link #REQUESTED}, {@link #HAS_VALUE} and the
 * terminal {@link #CANCELLED} or {@link #DONE}, changed only by CAS. A value is emitted by whichever of
 * {@code request} and {@link #complete} comes second; one the subscriber will never see (the cancel came
 * first, or came while it waited for a request) goes to {@link #released} exactly once, so that a
 * resource (an open handle) is never dropped. Reactor's own {@code MonoSink} drops such a value to
 * {@code onNextDropped} in a narrow race; this class has no such window. An error after a cancel goes to
 * {@code onErrorDropped}.
 *
 * <p>It is {@link Scannable} like Reactor's own subscriptions: {@link Attr#ACTUAL} (the subscriber),
 * {@link Attr#CANCELLED}, {@link Attr#TERMINATED} (the value or the error was delivered), {@link
 * Attr#PREFETCH} (unbounded, as for any Mono) and {@link Attr#RUN_STYLE} (asynchronous: the value comes
 * from another thread).
 *
 * @param <T> the value
 */
abstract class OneValueSubscription<T> implements Subscription, Scannable {
  private static final int REQUESTED = 1;
  private static final int HAS_VALUE = 2;
  private static final int CANCELLED = 4;
  private static final int DONE = 8;

  private static final VarHandle STATE;

  static {
    try {
      STATE = MethodHandles.lookup().findVarHandle(OneValueSubscription.class, "state", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  final CoreSubscriber<? super T> actual;
  private volatile int state;

  /** The value, written before {@link #HAS_VALUE} is set and read after it is seen. */
  private T value;

  OneValueSubscription(CoreSubscriber<? super T> actual) {
    this.actual = actual;
  }

  final boolean isCancelled() {
    return (state & CANCELLED) != 0;
  }

  @Override
  public Object scanUnsafe(Attr key) {
    if (key == Attr.ACTUAL) {
      return actual;
    }
    if (key == Attr.CANCELLED) {
      return isCancelled();
    }
    if (key == Attr.TERMINATED) {
      return (state & DONE) != 0;
    }
    if (key == Attr.PREFETCH) {
      return Integer.MAX_VALUE;
    }
    if (key == Attr.RUN_STYLE) {
      return Attr.RunStyle.ASYNC;
    }
    return null;
  }

  /** A value the subscriber will never see: release what it holds. */
  abstract void released(T value);

  /** After a cancel took effect (once); the default does nothing. */
  void cancelled() {}

  /** Delivers {@code v} and completes; a subclass may act just before. */
  void emit(T v) {
    actual.onNext(v);
    actual.onComplete();
  }

  /** The value is ready: emit it, hold it for a request, or release it if cancelled. */
  final void complete(T v) {
    for (;;) {
      int s = state;
      if ((s & (CANCELLED | DONE)) != 0) {
        released(v);
        return;
      }
      if ((s & REQUESTED) != 0) {
        if (STATE.compareAndSet(this, s, DONE)) {
          emit(v);
          return;
        }
      } else {
        value = v;
        if (STATE.compareAndSet(this, s, s | HAS_VALUE)) {
          return; // request() will emit it, or cancel() release it
        }
      }
    }
  }

  final void fail(Throwable error) {
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
  public final void request(long n) {
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
          T v = value;
          value = null;
          emit(v);
        }
        return;
      }
      if (STATE.compareAndSet(this, s, s | REQUESTED)) {
        return;
      }
    }
  }

  @Override
  public final void cancel() {
    for (;;) {
      int s = state;
      if ((s & (CANCELLED | DONE)) != 0) {
        return;
      }
      if (STATE.compareAndSet(this, s, CANCELLED)) {
        if ((s & HAS_VALUE) != 0) {
          T v = value;
          value = null;
          released(v);
        }
        cancelled();
        return;
      }
    }
  }
}
