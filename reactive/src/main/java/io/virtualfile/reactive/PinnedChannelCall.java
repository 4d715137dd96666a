package io.virtualfile.reactive;

import io.virtualfile.FileIoListener;
import io.virtualfile.internal.CachedFile;
import io.virtualfile.internal.Events;
import io.virtualfile.internal.Slot;
import io.virtualfile.reactive.spi.EngineChannel;
import io.virtualfile.reactive.spi.IoCompletion;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import reactor.core.CoreSubscriber;
import reactor.core.Scannable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;

/**
 * One positional read or write on a pinned channel of a virtual file, as a {@code Mono}. A hand-written
 * operator rather than {@code Mono.create}, because it sits on the hot path of every positional read and
 * write: one object is the subscription, the completion handler and the holder of the pin.
 *
 * <p>On subscription the arguments are checked (a failure is signalled, never thrown), then the channel
 * is pinned and the call started. A cache hit does that on the subscribing thread with one CAS and a task
 * submission; a miss hands the whole operation to an IO thread, which reopens the file, starts the call
 * and, since the call's own task is then submitted from that IO thread, runs it next: one hand-off.
 *
 * <h2>The buffer</h2>
 * Each subscription works on the region {@code [start, limit)} of the buffer that was fixed when the
 * operator was made, through a view of its own; the caller's buffer position is set to {@code start +
 * n} just before {@code n} is emitted, and left alone otherwise. So a re-subscription (a retry) performs
 * the call again from the start. After a cancel, the kernel may still be reading into or writing from
 * the buffer: it goes to Reactor's discard hook exactly once, when no IO on it can happen any more (at
 * once if the call never started, else when the call completes).
 *
 * <h2>Pins</h2>
 * The pin is released exactly once, by whichever of these runs (only one can): the call's {@code
 * completed}, its {@code failed}, or the synchronous throw of starting it. Cancellation does
 * <em>not</em> release it: the channel may not be closed while the engine still works on it, and the
 * engine always calls the completion, so the pin is never leaked. See {@link Run} for the exactly-once rules.
 *
 * <p>Made by {@link #of}, through Reactor's assembly hooks; {@link Scannable} as an asynchronous source.
 */
final class PinnedChannelCall extends Mono<Integer> implements Scannable {
  private final CachedFile<EngineChannel> file;
  private final Events events;
  private final Executor ioThreads;
  private final Runnable check;
  private final ByteBuffer buffer;
  private final int start;
  private final int limit;
  private final long position;
  private final boolean write;
  private final ByteBuffer discardAs;

  /**
   * The call as a Mono, passed through {@link Mono#onAssembly} like Reactor's own operators.
   *
   * @param check validates the arguments; what it throws is signalled as the error
   * @param buffer the buffer whose region {@code [start, limit)} is read into or written from
   * @param discardAs what goes to the discard hook after a cancel (the caller's own buffer)
   */
  static Mono<Integer> of(
      CachedFile<EngineChannel> file, Events events, Executor ioThreads, Runnable check,
      ByteBuffer buffer, int start, int limit, long position, boolean write, ByteBuffer discardAs) {
    return onAssembly(new PinnedChannelCall(
        file, events, ioThreads, check, buffer, start, limit, position, write, discardAs));
  }

  private PinnedChannelCall(
      CachedFile<EngineChannel> file, Events events, Executor ioThreads, Runnable check,
      ByteBuffer buffer, int start, int limit, long position, boolean write, ByteBuffer discardAs) {
    this.file = file;
    this.events = events;
    this.ioThreads = ioThreads;
    this.check = check;
    this.buffer = buffer;
    this.start = start;
    this.limit = limit;
    this.position = position;
    this.write = write;
    this.discardAs = discardAs;
  }

  @Override
  public Object scanUnsafe(Attr key) {
    return key == Attr.RUN_STYLE ? Attr.RunStyle.ASYNC : null;
  }

  @Override
  public void subscribe(CoreSubscriber<? super Integer> actual) {
    try {
      check.run();
    } catch (RuntimeException e) {
      Operators.error(actual, e);
      return;
    }
    Run run = new Run(actual, this);
    actual.onSubscribe(run);
    run.start();
  }

  /**
   * The subscription, completion handler and pin holder of one call. Delivery is exactly-once by
   * {@link OneValueSubscription}. {@link #io} makes the buffer's release exactly-once: {@link
   * #NOT_STARTED} moves to {@link #STARTED} (by the call's start) or {@link #ABANDONED} (by a cancel
   * first), and {@link #STARTED} to {@link #FINISHED}; the buffer is discarded by whoever sees both the
   * cancel and an IO state in which the kernel is done with it ({@link #released} guards the rare case
   * of both sides seeing it).
   */
  private static final class Run extends OneValueSubscription<Integer>
      implements IoCompletion {
    private static final int NOT_STARTED = 0;
    private static final int STARTED = 1;
    private static final int FINISHED = 2;
    private static final int ABANDONED = 3;

    private static final AtomicIntegerFieldUpdater<Run> IO =
        AtomicIntegerFieldUpdater.newUpdater(Run.class, "io");
    private static final AtomicIntegerFieldUpdater<Run> RELEASED =
        AtomicIntegerFieldUpdater.newUpdater(Run.class, "released");

    private final PinnedChannelCall call;
    private volatile int io;
    private volatile int released;

    /** The pin to release; written before the call starts, read by the handler. */
    private Slot<EngineChannel> slot;

    /**
     * Told the outcome, and when the call started; read once by {@link #start()}, before any path that
     * reports, so that every report has its start. No clock is read when it is {@link Events#NONE}.
     */
    private FileIoListener listener = Events.NONE;

    private long startNanos;

    Run(CoreSubscriber<? super Integer> actual, PinnedChannelCall call) {
      super(actual);
      this.call = call;
    }

    void start() {
      FileIoListener l = call.events.listener();
      if (l != Events.NONE) {
        listener = l;
        startNanos = System.nanoTime();
      }
      Slot<EngineChannel> hit;
      try {
        hit = call.file.tryPinCached();
      } catch (Throwable t) {
        failBeforeIo(t);
        return;
      }
      if (hit != null) {
        begin(hit);
        return;
      }
      try {
        call.ioThreads.execute(this::reopenThenBegin);
      } catch (Throwable t) { // rejected: the engine is closed
        failBeforeIo(t);
      }
    }

    /** Reports and signals a failure before the call got its pin. */
    private void failBeforeIo(Throwable t) {
      Events.operation(listener, operation(), startNanos, 0, t);
      fail(t);
    }

    private FileIoListener.Operation operation() {
      return call.write ? FileIoListener.Operation.WRITE : FileIoListener.Operation.READ;
    }

    /** On an IO thread: reopens the file (a miss), then starts the call, unless cancelled first. */
    private void reopenThenBegin() {
      if (isCancelled()) {
        return; // the buffer was released by cancel(): IO never started
      }
      Slot<EngineChannel> pinned;
      try {
        pinned = call.file.pin();
      } catch (Throwable t) {
        failBeforeIo(t);
        return;
      }
      begin(pinned);
    }

    private void begin(Slot<EngineChannel> pinned) {
      if (!IO.compareAndSet(this, NOT_STARTED, STARTED)) { // cancelled first: the buffer is released
        pinned.unpin();
        return;
      }
      slot = pinned;
      ByteBuffer view = call.buffer.duplicate();
      view.limit(call.limit).position(call.start);
      try {
        if (call.write) {
          pinned.channel().write(view, call.position, this);
        } else {
          pinned.channel().read(view, call.position, this);
        }
      } catch (Throwable t) { // read-only buffer, non-writable channel, rejected task, ...
        pinned.unpin();
        ioFinished();
        Events.operation(listener, operation(), startNanos, 0, t);
        fail(t);
      }
    }

    /** The kernel is done with the buffer; release it if the subscriber is gone. */
    private void ioFinished() {
      io = FINISHED;
      if (isCancelled()) {
        releaseBuffer();
      }
    }

    private void releaseBuffer() {
      if (RELEASED.compareAndSet(this, 0, 1)) {
        Operators.onDiscard(call.discardAs, actual.currentContext());
      }
    }

    @Override
    public void completed(int result) {
      slot.unpin();
      ioFinished();
      Events.operation(listener, operation(), startNanos, result, null);
      complete(result);
    }

    @Override
    public void failed(Throwable error) {
      slot.unpin();
      ioFinished();
      Events.operation(listener, operation(), startNanos, 0, error);
      fail(error);
    }

    @Override
    void emit(Integer n) {
      if (n > 0) {
        call.buffer.position(call.start + n);
      }
      super.emit(n);
    }

    @Override
    void released(Integer count) {
      // A count is no resource; the buffer is released by the IO state (see the class comment).
    }

    @Override
    void cancelled() {
      // Either the call never starts now, or it has finished, or its completion releases the buffer.
      if (IO.compareAndSet(this, NOT_STARTED, ABANDONED) || io == FINISHED) {
        releaseBuffer();
      }
    }
  }
}
