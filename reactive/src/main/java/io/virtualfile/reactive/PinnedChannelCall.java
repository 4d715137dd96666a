package io.virtualfile.reactive;

import io.virtualfile.FileClosedException;
import io.virtualfile.FileIoListener;
import io.virtualfile.internal.CachedFile;
import io.virtualfile.internal.Events;
import io.virtualfile.internal.OpenOptions;
import io.virtualfile.internal.Slot;
import io.virtualfile.reactive.spi.EngineChannel;
import io.virtualfile.reactive.spi.CachedIo;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import reactor.core.CoreSubscriber;
import reactor.core.Scannable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;

/**
 * One positional read or write on a pinned channel of a virtual file, as a {@code Mono}. A hand-written
 * operator rather than {@code Mono.create}, because it sits on the hot path of every positional read and
 * write: one object is the subscription, the work given to the engine ({@link CachedIo}) and the holder
 * of the pin.
 *
 * <p>On subscription the arguments are checked, and a closed handle or engine refused (a failure is
 * signalled, never thrown); then the call is handed to the engine ({@link
 * io.virtualfile.reactive.spi.IoEngine#start}), which pins the channel where the transfer then starts
 * at once: the thread engine in the IO task that makes it (a hit submitted from an IO thread runs next
 * on that thread, no hand-off; a miss reopens in that same task), the io_uring engine on the subscribing
 * thread for a hit and on an IO thread for a miss (and a hit whose bytes the page cache holds is read
 * and signalled right there, during the subscription). A pin is never held by a task waiting in the IO
 * threads' queue (see {@link CachedIo} for why that could stall).
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
 * The pin is released exactly once, by the call's outcome ({@code transferred} or {@code failed}; the
 * engine calls exactly one). Cancellation does <em>not</em> release it: the channel may not be closed
 * while the engine still works on it, and the engine always delivers the outcome, so the pin is never
 * leaked. See {@link Run} for the exactly-once rules.
 *
 * <p>Made by {@link #of}, through Reactor's assembly hooks; {@link Scannable} as an asynchronous source.
 */
final class PinnedChannelCall extends Mono<Integer> implements Scannable {
  private final CachedFile<EngineChannel> file;
  private final AsyncFileIo io;
  private final OpenOptions check;
  private final ByteBuffer buffer;
  private final int start;
  private final int limit;
  private final long position;
  private final boolean write;
  private final ByteBuffer discardAs;

  /**
   * The call as a Mono, passed through {@link Mono#onAssembly} like Reactor's own operators.
   *
   * @param check the handle's options, which validate the arguments on subscription (what they throw
   *     is signalled as the error); null if the caller validated them already
   * @param buffer the buffer whose region {@code [start, limit)} is read into or written from
   * @param discardAs what goes to the discard hook after a cancel (the caller's own buffer)
   */
  static Mono<Integer> of(
      CachedFile<EngineChannel> file, AsyncFileIo io, OpenOptions check,
      ByteBuffer buffer, int start, int limit, long position, boolean write, ByteBuffer discardAs) {
    return onAssembly(new PinnedChannelCall(
        file, io, check, buffer, start, limit, position, write, discardAs));
  }

  private PinnedChannelCall(
      CachedFile<EngineChannel> file, AsyncFileIo io, OpenOptions check,
      ByteBuffer buffer, int start, int limit, long position, boolean write, ByteBuffer discardAs) {
    this.file = file;
    this.io = io;
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
    if (check != null) {
      try {
        if (write) {
          check.checkWrite(file.path(), buffer, position);
        } else {
          check.checkRead(file.path(), buffer, position);
        }
      } catch (RuntimeException e) {
        Operators.error(actual, e);
        return;
      }
    }
    Run run = new Run(actual, this);
    actual.onSubscribe(run);
    run.start();
  }

  /**
   * The subscription, the work given to the engine and the pin holder of one call. Delivery is
   * exactly-once by {@link OneValueSubscription}. {@link #io} makes the buffer's release exactly-once:
   * {@link #NOT_STARTED} moves to {@link #STARTED} (by the pin) or {@link #ABANDONED} (by a cancel
   * first), and to {@link #FINISHED} when the call ends; the buffer is discarded by whoever sees both
   * the cancel and an IO state in which the kernel is done with it ({@link #released} guards the rare
   * case of both sides seeing it).
   */
  private static final class Run extends OneValueSubscription<Integer> implements CachedIo {
    private static final int NOT_STARTED = 0;
    private static final int STARTED = 1;
    private static final int FINISHED = 2;
    private static final int ABANDONED = 3;

    private static final VarHandle IO;
    private static final VarHandle RELEASED;

    static {
      try {
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        IO = lookup.findVarHandle(Run.class, "io", int.class);
        RELEASED = lookup.findVarHandle(Run.class, "released", int.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    private final PinnedChannelCall call;
    private volatile int io;
    private volatile int released;

    /**
     * The pin to release, and this subscription's view of the buffer; written by {@link #pin} before
     * the engine starts the transfer, read by the transfer and its outcome (the engine orders them).
     */
    private Slot<EngineChannel> slot;

    private ByteBuffer view;

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
      FileIoListener l = call.io.events().listener();
      if (l != Events.NONE) {
        listener = l;
        startNanos = System.nanoTime();
      }
      try { // refused before the hand-off, like every operation of a closed handle or engine
        call.file.ensureOpen();
        if (call.io.isClosed()) {
          throw call.io.closedError();
        }
      } catch (FileClosedException e) {
        failed(e);
        return;
      }
      call.io.ioEngine().start(this);
    }

    @Override
    public EngineChannel pin(boolean reopen) throws IOException {
      if (isCancelled()) {
        return null; // the buffer was released by cancel(): IO never starts
      }
      Slot<EngineChannel> pinned = call.file.tryPinCached();
      if (pinned == null) {
        if (!reopen) {
          return null;
        }
        pinned = call.file.pin();
      }
      if (!IO.compareAndSet(this, NOT_STARTED, STARTED)) { // cancelled first: the buffer is released
        pinned.unpin();
        return null;
      }
      slot = pinned;
      ByteBuffer v = call.buffer.duplicate();
      v.limit(call.limit).position(call.start);
      view = v;
      return pinned.channel();
    }

    @Override
    public ByteBuffer buffer() {
      return view;
    }

    @Override
    public long position() {
      return call.position;
    }

    @Override
    public boolean isWrite() {
      return call.write;
    }

    private FileIoListener.Operation operation() {
      return call.write ? FileIoListener.Operation.WRITE : FileIoListener.Operation.READ;
    }

    /** The kernel is done with the buffer (or never got it); release it if the subscriber is gone. */
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

    /** One transfer is the whole call. */
    @Override
    public boolean transferred(int result) {
      slot.unpin();
      ioFinished();
      Events.operation(listener, operation(), startNanos, result, null);
      complete(result);
      return false;
    }

    /** The transfer failed, or the call could not start (then no pin is held). */
    @Override
    public void failed(Throwable cause) {
      Throwable error = call.io.refusal(cause);
      Slot<EngineChannel> s = slot;
      if (s != null) {
        s.unpin();
      }
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
      // Either the call never starts now, or it has finished, or its outcome releases the buffer.
      if (IO.compareAndSet(this, NOT_STARTED, ABANDONED) || io == FINISHED) {
        releaseBuffer();
      }
    }
  }
}
