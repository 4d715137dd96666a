package io.virtualfile.reactive;

import io.virtualfile.FileIoListener;
import io.virtualfile.FileReplacedException;
import io.virtualfile.internal.CachedFile;
import io.virtualfile.internal.Events;
import io.virtualfile.internal.OneTimeOpen;
import io.virtualfile.internal.OpenOptions;
import io.virtualfile.internal.Slot;
import io.virtualfile.reactive.spi.EngineChannel;
import io.virtualfile.reactive.spi.CachedIo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
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
 * <p>The work goes to the engine ({@link io.virtualfile.reactive.spi.IoEngine#start}), which calls
 * {@code pin} on an IO thread. There the file is opened one of two ways ({@link
 * OneTimeOpen#throughCache} decides):
 * <ul>
 *   <li>through the cache, if its descriptor is cached or the file was read shortly before: a handle is
 *       opened ({@link CachedFile#open}: it joins the file's cached descriptor when there is one) and
 *       pinned;</li>
 *   <li>otherwise on a descriptor of its own, in a slot the cache lends for the read ({@link
 *       OneTimeOpen}).</li>
 * </ul>
 * The size is read from that descriptor. The reads then follow one another on that one descriptor until the buffer is full (the thread engine
 * makes them all in that same task; the io_uring engine starts each from the completion of the one
 * before: on the same thread when the page cache answers it at once, else on its ring's thread). Then the pin is released and the handle closed (or the own descriptor
 * closed), and the buffer emitted, on that thread. Reading on one descriptor throughout, pinned, is what
 * makes the result one file's bytes, even if a library overwrite replaces the file meanwhile.
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
    try { // checked on subscription, as open does: a bad argument is signalled
      Objects.requireNonNull(path, "path");
      Objects.requireNonNull(io, "io");
    } catch (RuntimeException e) {
      Operators.error(actual, e);
      return;
    }
    if (io.isClosed()) {
      Operators.error(actual, io.closedError());
      return;
    }
    Run run = new Run(actual, this);
    actual.onSubscribe(run);
    io.ioEngine().start(run); // a rejection (the engine was closed meanwhile) comes to run.failed
  }

  /**
   * One read of one file: the subscription and the work given to the engine. Its fields are written and
   * read only by the steps of the work, which run one after another (the engine orders each transfer
   * after the step that asked for it), so they need no synchronization of their own.
   */
  private static final class Run extends OneValueSubscription<ByteBuffer> implements CachedIo {
    private final ReadWholeFileCall call;
    /** Through the cache: the handle and its pin. */
    private CachedFile<EngineChannel> file;
    private Slot<EngineChannel> slot;

    /** Else the descriptor of its own. */
    private OneTimeOpen<EngineChannel> own;

    /** The descriptor read, once opened. */
    private EngineChannel channel;
    private ByteBuffer buffer;

    /** Told each read; read once, at the start. When the read in flight started (0 if nobody listens). */
    private FileIoListener listener = Events.NONE;

    private long readStart;

    Run(CoreSubscriber<? super ByteBuffer> actual, ReadWholeFileCall call) {
      super(actual);
      this.call = call;
    }

    /**
     * Opens the file and pins its channel, on an IO thread (it blocks). A failure ends the work here, as
     * does a file with nothing to read.
     */
    @Override
    public EngineChannel pin(boolean reopen) {
      if (!reopen || isCancelled()) {
        return null; // the open blocks: only on an IO thread
      }
      listener = call.io.events().listener();
      try {
        if (OneTimeOpen.throughCache(call.io.cache(), call.path, READ, call.io.opener())) {
          file = CachedFile.open(call.io.cache(), call.path, READ, call.io.opener());
          try {
            slot = file.pin();
            channel = slot.channel();
          } catch (FileReplacedException replacedMeanwhile) {
            // Evicted between its open and its pin, and the path replaced by other means meanwhile:
            // this read has no file of its own to stay with, so it reads what the path names now.
            CachedFile<EngineChannel> dropped = file;
            file = null;
            dropped.close();
          }
        }
        if (channel == null) {
          own = OneTimeOpen.open(call.io.cache(), call.path, READ, call.io.opener());
          channel = own.channel();
        }
        // From the descriptor read, not from the stat of the open: while library overwrites replace
        // the path, the pinned descriptor may read a newer file than the one the open's stat saw.
        long size = channel.size();
        if (size > Integer.MAX_VALUE - 8) {
          throw new IOException("too large to read into one buffer (" + size + " bytes): " + call.path);
        }
        buffer = ByteBuffer.allocate((int) size);
      } catch (Throwable t) {
        end(t);
        return null;
      }
      if (!buffer.hasRemaining()) {
        end(null);
        return null;
      }
      readStart = Events.start(listener);
      return channel;
    }

    @Override
    public ByteBuffer buffer() {
      return buffer;
    }

    @Override
    public long position() {
      return buffer.position();
    }

    @Override
    public boolean isWrite() {
      return false;
    }

    /** Asks for the next read, or ends: the buffer is full, the file shrank, or the subscriber is gone. */
    @Override
    public boolean transferred(int n) {
      Events.operation(listener, FileIoListener.Operation.READ, readStart, n, null);
      if (n < 0) { // the file shrank since its size was read
        end(OpenOptions.endOfFile(call.path, 0, buffer.position(), buffer.remaining()));
        return false;
      }
      if (isCancelled() || !buffer.hasRemaining()) {
        end(null);
        return false;
      }
      readStart = Events.start(listener);
      return true;
    }

    /** A read failed, or the work never reached an IO thread (then nothing was opened). */
    @Override
    public void failed(Throwable cause) {
      Throwable error = call.io.refusal(cause);
      if (channel != null) {
        Events.operation(listener, FileIoListener.Operation.READ, readStart, 0, error);
      }
      end(error);
    }

    /**
     * Releases the pin and closes the handle, or closes the own descriptor; then delivers the buffer or
     * {@code error}.
     */
    private void end(Throwable error) {
      Throwable failure = error;
      if (slot != null) {
        slot.unpin();
      }
      if (file != null || own != null) {
        try {
          if (file != null) {
            file.close();
          } else {
            own.close();
          }
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
