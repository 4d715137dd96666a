package io.virtualfile.reactive;

import io.virtualfile.FileIoListener;
import io.virtualfile.internal.CachedFile;
import io.virtualfile.internal.Events;
import io.virtualfile.internal.OpenOptions;
import io.virtualfile.internal.Slot;
import io.virtualfile.reactive.spi.EngineChannel;
import io.virtualfile.reactive.spi.IoCompletion;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import reactor.core.CoreSubscriber;
import reactor.core.Scannable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;

/**
 * {@link AsyncVirtualFile#readAll(Path, AsyncFileIo)}: opens, reads whole and closes a file as one
 * operation, handed to an IO thread once. The hot path of a service that serves files per request, so
 * it is one object rather than a chain of operators: the subscription, the completion of each read,
 * and the owner of the handle and its pin.
 *
 * <p>On the IO thread: the handle is opened ({@link CachedFile#open}: it joins the file's cached
 * descriptor when there is one, and reads the file's size with its identity), pinned, and the reads
 * started; each read completes on
 * an IO thread (the thread engine runs it next on the same thread) and starts the next until the buffer
 * is full. Then the pin is released, the handle closed and the buffer emitted, on that thread.
 *
 * <p>A cancel stops the work at the next step; a read in flight completes first, and the buffer read
 * so far then goes to the discard hook. The handle is closed on every path, exactly once, by the step that ends the
 * work (the handle is this call's alone, never seen by a user, so no cleaner is needed).
 *
 * <p>Made by {@link #of}, through Reactor's assembly hooks; {@link Scannable} as an asynchronous source.
 */
final class ReadWholeFileCall extends Mono<ByteBuffer> implements Scannable {
  private static final OpenOptions READ = OpenOptions.of(StandardOpenOption.READ);

  private final Path path;
  private final AsyncFileIo io;

  /** The read as a Mono, passed through {@link Mono#onAssembly} like Reactor's own operators. */
  static Mono<ByteBuffer> of(Path path, AsyncFileIo io) {
    return onAssembly(new ReadWholeFileCall(path, io));
  }

  private ReadWholeFileCall(Path path, AsyncFileIo io) {
    this.path = path;
    this.io = io;
  }

  @Override
  public Object scanUnsafe(Attr key) {
    return key == Attr.RUN_STYLE ? Attr.RunStyle.ASYNC : null;
  }

  @Override
  public void subscribe(CoreSubscriber<? super ByteBuffer> actual) {
    Run run = new Run(actual, this);
    actual.onSubscribe(run);
    try {
      io.ioThreads().execute(run::start);
    } catch (RuntimeException rejected) { // the engine was closed meanwhile
      run.fail(rejected);
    }
  }

  /**
   * One read of one file. Its fields are written and read only by the steps of the work, which run one
   * after another (each read's completion starts the next step), so they need no synchronization of
   * their own beyond the hand-over the engine makes between a read's start and its completion.
   */
  private static final class Run extends OneValueSubscription<ByteBuffer> implements IoCompletion {
    private final ReadWholeFileCall call;
    private CachedFile<EngineChannel> file;
    private Slot<EngineChannel> slot;
    private ByteBuffer buffer;

    /** Told each read; read once, at the start. When the read in flight started (0 if nobody listens). */
    private FileIoListener listener = Events.NONE;

    private long readStart;

    Run(CoreSubscriber<? super ByteBuffer> actual, ReadWholeFileCall call) {
      super(actual);
      this.call = call;
    }

    void start() {
      if (isCancelled()) {
        return;
      }
      listener = call.io.events().listener();
      try {
        file = CachedFile.open(call.io.cache(), call.path, READ, call.io.opener());
        slot = file.pin();
        long size = file.sizeAtOpen(); // read with the identity check: no fstat of its own
        if (size > Integer.MAX_VALUE - 8) {
          throw new IOException("too large to read into one buffer (" + size + " bytes): " + call.path);
        }
        buffer = ByteBuffer.allocate((int) size);
      } catch (Throwable t) {
        end(t);
        return;
      }
      next();
    }

    /** Starts the next read, or ends: the buffer is full, or the subscriber is gone. */
    private void next() {
      if (isCancelled()) {
        end(null);
      } else if (!buffer.hasRemaining()) {
        end(null);
      } else {
        readStart = Events.start(listener);
        slot.channel().read(buffer, buffer.position(), this);
      }
    }

    @Override
    public void completed(int n) {
      Events.operation(listener, FileIoListener.Operation.READ, readStart, n, null);
      if (n < 0) { // the file shrank since its size was read
        end(OpenOptions.endOfFile(call.path, 0, buffer.position(), buffer.remaining()));
      } else {
        next();
      }
    }

    @Override
    public void failed(Throwable error) {
      Events.operation(listener, FileIoListener.Operation.READ, readStart, 0, error);
      end(error);
    }

    /** Releases the pin, closes the handle, then delivers the buffer or {@code error}. */
    private void end(Throwable error) {
      Throwable failure = error;
      if (slot != null) {
        slot.unpin();
      }
      if (file != null) {
        try {
          file.close();
        } catch (IOException | RuntimeException e) {
          if (failure == null) {
            failure = e;
          } else {
            failure.addSuppressed(e);
          }
        }
      }
      if (failure != null) {
        fail(failure); // dropped to onErrorDropped if the subscriber cancelled
      } else if (buffer != null) {
        complete(buffer.flip());
      } // else: cancelled before anything was read; nothing to deliver
    }

    @Override
    void released(ByteBuffer value) {
      Operators.onDiscard(value, actual.currentContext());
    }
  }
}
