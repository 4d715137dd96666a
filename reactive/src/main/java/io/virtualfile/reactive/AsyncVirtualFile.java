package io.virtualfile.reactive;

import io.virtualfile.FileIoListener;
import io.virtualfile.FileIoListener.Operation;
import io.virtualfile.internal.CachedFile;
import io.virtualfile.internal.Events;
import io.virtualfile.internal.OpenOptions;
import io.virtualfile.internal.Slot;
import io.virtualfile.reactive.spi.EngineChannel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.concurrent.atomic.AtomicLong;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/**
 * A virtual file with non-blocking, positional IO as {@link Mono} and {@link Flux}.
 *
 * <p>Like core's {@link io.virtualfile.VirtualFile} it is not bound to a descriptor: its open file
 * (a channel of the {@link AsyncFileIo}'s engine) lives in that engine's bounded cache and is reopened by path
 * after eviction. Options follow {@link io.virtualfile.VirtualFile}'s rules (no {@code APPEND}; {@code
 * CREATE}, {@code CREATE_NEW}, {@code TRUNCATE_EXISTING} apply only on the first open; {@code
 * DELETE_ON_CLOSE} acts at {@link #close()}).
 *
 * <h2>Reactive contract</h2>
 * <ul>
 *   <li>Every method is cold and lazy: nothing happens before subscription, and each subscription
 *       performs the operation once. Bad arguments are signalled as {@code onError}, never thrown by the
 *       method itself. Errors have public types: JDK types, or those of {@code io.virtualfile}.</li>
 *   <li>Nothing blocks the subscribing thread. Every operation is handed to the engine's IO threads
 *       once, and runs there to its end: a read or write on a cached channel; a reopen after eviction
 *       followed by the read or write; opening; {@code size}, {@code truncate}, {@code force} and
 *       {@code close}. (An IO thread that blocks in the kernel is made up for by extra IO threads: see
 *       {@link AsyncFileIo.Builder#maxIoThreads(int)}.) The one exception, on the io_uring engine: a
 *       read whose bytes the page cache holds is made on the thread that starts it (below), by a call
 *       that never waits for the device.</li>
 *   <li>Signals arrive on the engine's IO threads ({@code virtualfile-io-N}); an error of bad
 *       arguments, on the subscribing thread. Use {@code publishOn} before heavy work, so that IO
 *       threads stay free for IO. On the io_uring engine ({@link AsyncFileIo.Engine#IO_URING}), a read
 *       whose bytes, up to the end of the file, are all in the page cache when it starts is made and
 *       signalled on the thread that starts it: for {@link #readAt} on a cached channel, the
 *       subscribing thread, before {@code subscribe} returns (or the requesting thread, if the value
 *       was not requested yet); for {@link #readAll(Path, AsyncFileIo)}, the IO thread that opened
 *       the file. Such a read subscribed from inside the signal of another is made and signalled on
 *       the same thread just after that signal returns, in the order subscribed, so a read loop driven
 *       from signals never deepens the stack; past a fixed number of reads in one go, the loop goes
 *       on on an IO thread, so it does not keep the subscribing thread to itself. Never block inside
 *       such a signal either: a read subscribed from it waits until it returns.</li>
 *   <li>A read or write subscribed to from inside such a signal (the next read of a loop, say) runs on
 *       the same IO thread as soon as the signal returns, with no thread hand-off. Never block inside a
 *       signal: the IO it waits for may be queued behind it. (With two or more IO threads, an idle one
 *       takes such IO over within about 20 ms; with one, it waits for the signal to return.)</li>
 *   <li>An operation in flight pins its channel: it is never closed under it. Cancelling {@link
 *       #readAt}/{@link #writeAt} does not close the shared channel and does not leak the pin: the IO
 *       completes in the background, the pin is released, and the caller's buffer goes to Reactor's
 *       discard hook once the IO on it has completed. A cancelled write may or may not have reached the
 *       file.</li>
 *   <li>Re-subscribing performs the operation again from the start: the buffer region and the file
 *       position are those given when the method was called (see {@link #readExactAt}).</li>
 *   <li>A handle opened for a subscriber that cancelled before receiving it is closed by the library.
 *       Once delivered, a handle is the subscriber's to close, even if an operator downstream drops it
 *       (a {@code zip} whose other source failed, say): use {@link #using}, which closes it in every
 *       case. An unreachable unclosed handle is closed by a cleaner, late.</li>
 * </ul>
 *
 * <p>When the file is replaced, the rules of {@link io.virtualfile.VirtualFile} apply: after an overwrite
 * through this library ({@link #overwrite(Path, ByteBuffer)} or core's {@code crashSafeOverwrite}) has
 * completed, reads and writes go to the new file; a replacement or deletion by anything else fails the
 * next reopen with {@link io.virtualfile.FileReplacedException}.
 *
 * <p>Durability: nothing written is durable until {@link #sync()} or {@link #syncData()} completes.
 *
 * <p>Thread-safe.
 */
public final class AsyncVirtualFile {
  private final AsyncFileIo io;
  private final CachedFile<EngineChannel> file;
  private final OpenOptions options;

  private AsyncVirtualFile(AsyncFileIo io, CachedFile<EngineChannel> file, OpenOptions options) {
    this.io = io;
    this.file = file;
    this.options = options;
  }

  /** Opens {@code path} on {@link AsyncFileIo#shared()}. */
  public static Mono<AsyncVirtualFile> open(Path path, OpenOption... options) {
    return OpenCall.of(path, AsyncFileIo::shared, options);
  }

  /**
   * Opens {@code path} with {@code options} on {@code io}, on an IO thread. Fails like {@link
   * java.nio.channels.FileChannel#open(Path, OpenOption...)}, and with {@link IllegalArgumentException}
   * for {@code APPEND}.
   */
  public static Mono<AsyncVirtualFile> open(Path path, AsyncFileIo io, OpenOption... options) {
    return OpenCall.of(path, () -> io, options);
  }

  static AsyncVirtualFile openNow(Path path, AsyncFileIo io, OpenOptions opts)
      throws IOException {
    CachedFile<EngineChannel> cached = CachedFile.open(io.cache(), path, opts, io.opener());
    OpenOptions checked;
    try {
      checked = opts.aligned(path);
    } catch (IOException | RuntimeException e) {
      cached.close();
      throw e;
    }
    AsyncVirtualFile file = new AsyncVirtualFile(io, cached, checked);
    cached.attach(file);
    return file;
  }

  /** As {@link io.virtualfile.VirtualFile#alignment()}. */
  public int alignment() {
    return options.alignment();
  }

  /**
   * Opens {@code path} on {@code io}, runs {@code body} with the handle, and closes the handle when the
   * Mono {@code body} returned completes, fails or is cancelled (Reactor's {@link Mono#usingWhen}); a
   * handle cannot leak this way. A failure to close is signalled after the body's own outcome.
   *
   * <pre>{@code
   * Mono<ByteBuffer> header = AsyncVirtualFile.using(path, io, Set.of(READ), file -> {
   *   ByteBuffer b = ByteBuffer.allocate(16);
   *   return file.readExactAt(b, 0).then(Mono.fromSupplier(b::flip));
   * });
   * }</pre>
   */
  public static <T> Mono<T> using(
      Path path, AsyncFileIo io, Set<? extends OpenOption> options,
      Function<? super AsyncVirtualFile, ? extends Mono<T>> body) {
    Objects.requireNonNull(body, "body");
    return Mono.usingWhen(
        Mono.defer(() -> open(path, io, optionArray(options))),
        body,
        AsyncVirtualFile::close);
  }

  /** As {@link #using}, for a body that emits many values (a streamed read, say). */
  public static <T> Flux<T> usingMany(
      Path path, AsyncFileIo io, Set<? extends OpenOption> options,
      Function<? super AsyncVirtualFile, ? extends Publisher<T>> body) {
    Objects.requireNonNull(body, "body");
    return Flux.usingWhen(
        Mono.defer(() -> open(path, io, optionArray(options))),
        body,
        AsyncVirtualFile::close);
  }

  private static OpenOption[] optionArray(Set<? extends OpenOption> options) {
    Objects.requireNonNull(options, "options");
    return options.toArray(new OpenOption[0]);
  }

  /**
   * The crash-safe overwrite on {@link AsyncFileIo#shared()}; see {@link AsyncFileIo#overwrite(Path,
   * ByteBuffer)}.
   */
  public static Mono<Void> overwrite(Path finalPath, ByteBuffer content) {
    return Mono.defer(() -> AsyncFileIo.shared().overwrite(finalPath, content));
  }

  /**
   * The crash-safe overwrite with the caller's temp path, on {@link AsyncFileIo#shared()}; see {@link
   * AsyncFileIo#overwrite(Path, Path, ByteBuffer)}.
   */
  public static Mono<Void> overwrite(Path finalPath, Path tmpPath, ByteBuffer content) {
    return Mono.defer(() -> AsyncFileIo.shared().overwrite(finalPath, tmpPath, content));
  }

  /**
   * The crash-safe overwrite of streamed content, on {@link AsyncFileIo#shared()}; see {@link
   * AsyncFileIo#overwrite(Path, Publisher)}.
   */
  public static Mono<Void> overwrite(Path finalPath, Publisher<ByteBuffer> content) {
    return Mono.defer(() -> AsyncFileIo.shared().overwrite(finalPath, content));
  }

  /** The path this file was opened with, and is reopened by. */
  public Path path() {
    return file.path();
  }

  /**
   * Reads up to {@code dst.remaining()} bytes at {@code position}.
   *
   * <p>The region read into is the one {@code dst} has when this method is called, {@code
   * [position(), limit())}; each subscription reads into it from its start (a re-subscription performs
   * the read again), and {@code dst}'s position is advanced by the count just before the count is
   * emitted, on the IO thread. After a cancel, the read may still be filling {@code dst}: it goes to
   * Reactor's discard hook ({@code doOnDiscard(ByteBuffer.class, ...)}) once no read into it can happen
   * any more. Do not reuse the buffer of a cancelled call before then.
   *
   * @return the number of bytes read: 0 if {@code dst} has no room, else -1 if {@code position} is at or
   *     past the end of file
   */
  public Mono<Integer> readAt(ByteBuffer dst, long position) {
    return positional(dst, position, false);
  }

  /**
   * Writes up to {@code src.remaining()} bytes at {@code position}; emits how many were written. The
   * buffer rules are those of {@link #readAt}.
   */
  public Mono<Integer> writeAt(ByteBuffer src, long position) {
    return positional(src, position, true);
  }

  /** One call on the region the buffer has now; see {@link PinnedChannelCall} for the buffer rules. */
  private Mono<Integer> positional(ByteBuffer buf, long position, boolean write) {
    int start = buf == null ? 0 : buf.position();
    int limit = buf == null ? 0 : buf.limit();
    return PinnedChannelCall.of(
        file, io, options, buf, start, limit, position, write, buf);
  }

  /**
   * Fills {@code dst} from {@code position}, reading again after short reads.
   *
   * <p>The region filled is the one {@code dst} has when this method is called, {@code [position(),
   * limit())}; each subscription fills it from its start and from {@code position} again, so a retry
   * after partial progress (after an {@link java.io.EOFException}, once the file has grown) is safe. On
   * success {@code dst}'s position is at that limit; on {@code EOFException} it is just past the bytes
   * that were read; after a cancel it is unchanged (and {@code dst} goes to the discard hook once no
   * read into it can happen any more: do not reuse it before).
   *
   * @return empty on success; {@link java.io.EOFException} if the file ends first
   */
  public Mono<Void> readExactAt(ByteBuffer dst, long position) {
    return exactly(dst, position, false);
  }

  /**
   * Writes all of {@code src} at {@code position}, writing again after short writes. The region written
   * is the one {@code src} has when this method is called; each subscription writes it whole from its
   * start (a retry is safe); on success {@code src}'s position is at its limit. Cancellation as for
   * {@link #readExactAt}.
   */
  public Mono<Void> writeAllAt(ByteBuffer src, long position) {
    return exactly(src, position, true);
  }

  private Mono<Void> exactly(ByteBuffer buf, long position, boolean write) {
    int start = buf == null ? 0 : buf.position();
    int limit = buf == null ? 0 : buf.limit();
    return Mono.defer(() -> {
      if (write) {
        checkWrite(buf, position);
      } else {
        checkRead(buf, position);
      }
      try {
        file.ensureOpen(); // even with nothing to do: a closed handle refuses every operation
      } catch (io.virtualfile.FileClosedException e) {
        return Mono.error(e);
      }
      ByteBuffer view = buf.duplicate();
      view.limit(limit).position(start);
      return loop(view, position, position, write, buf)
          .doOnSuccess(v -> buf.position(limit))
          .doOnError(java.io.EOFException.class, e -> buf.position(view.position()));
    });
  }

  /** One call after another on {@code view} (advanced by each) until it is full or empty. */
  private Mono<Void> loop(ByteBuffer view, long start, long position, boolean write, ByteBuffer owner) {
    if (!view.hasRemaining()) {
      return Mono.empty();
    }
    Mono<Integer> call = PinnedChannelCall.of(file, io, null, view,
        view.position(), view.limit(), position, write, owner);
    return call.flatMap(n -> n < 0
        ? Mono.error(OpenOptions.endOfFile(path(), start, position, view.remaining()))
        : loop(view, start, position + n, write, owner));
  }

  /** The file's size. Runs on an IO thread. */
  public Mono<Long> size() {
    return blockingCall(Operation.SIZE, EngineChannel::size);
  }

  /** Truncates the file to {@code size} bytes (a larger size changes nothing). Blocking scheduler. */
  public Mono<Void> truncate(long size) {
    return Mono.defer(() -> {
      if (size < 0) {
        throw new IllegalArgumentException("size < 0: " + size);
      }
      options.requireWritable(path());
      return blockingCall(Operation.TRUNCATE, ch -> {
        ch.truncate(size);
        return 0L;
      }).then();
    });
  }

  /**
   * {@code force(true)}: the content and metadata are durable when this completes. An error is final:
   * it is not retried, and data written since the last successful sync may be lost. Once an fsync of a
   * file has failed in this process, every later sync of that file, through any handle, fails at once
   * with a {@link java.io.SyncFailedException}, as {@link io.virtualfile.VirtualFile#sync()} explains.
   */
  public Mono<Void> sync() {
    return force(true);
  }

  /** {@code force(false)}: as {@link #sync()} for the content and the metadata needed to read it. */
  public Mono<Void> syncData() {
    return force(false);
  }

  private Mono<Void> force(boolean metaData) {
    return blockingCall(metaData ? Operation.FSYNC : Operation.FDATASYNC, ch -> {
      file.fsync(() -> ch.force(metaData));
      return 0L;
    }).then();
  }

  /**
   * Reads from {@code position} to the end of the file in chunks of at most {@code chunkSize} bytes,
   * each in a new heap buffer ready to read; see {@link #read(long, int, IntFunction)}.
   */
  public Flux<ByteBuffer> read(long position, int chunkSize) {
    return read(position, chunkSize, ByteBuffer::allocate);
  }

  /**
   * Reads from {@code position} to the end of the file in chunks of at most {@code chunkSize} bytes.
   *
   * <ul>
   *   <li>The end is the file's size when the first chunk is requested (read then, on the IO thread):
   *       bytes appended later are not read; if the file shrinks, the stream ends where it ends.</li>
   *   <li>Each chunk is a buffer from {@code allocator}, asked for the bytes still to read up to {@code
   *       chunkSize} (never more than the file has left). The read fills it from its position, and it is
   *       emitted with that position and its limit just past the bytes read. Use a direct or pooled
   *       buffer to spare the JDK a copy.</li>
   *   <li>Demand-driven: a read starts only while there is unmet demand, at most one read is in flight,
   *       and chunks are emitted once each, in file order, whatever thread the demand comes from.</li>
   *   <li>Cancelling stops further reads. Chunks not yet delivered, and the buffer of a read in flight
   *       (once its read has completed), go to Reactor's discard hook: a pool can take them back
   *       there.</li>
   * </ul>
   *
   * @throws IllegalArgumentException (signalled) for a negative position or a chunk size below 1
   */
  public Flux<ByteBuffer> read(long position, int chunkSize, IntFunction<ByteBuffer> allocator) {
    return Flux.defer(() -> {
      OpenOptions.checkPosition(position);
      if (chunkSize < 1) {
        throw new IllegalArgumentException("chunkSize < 1: " + chunkSize);
      }
      Objects.requireNonNull(allocator, "allocator");
      options.requireReadable(path());
      return Flux.create(sink -> new ChunkedReader(this, sink, position, chunkSize, allocator).start());
    });
  }

  /**
   * The whole file in one heap buffer, ready to read, sized by the file's size (read first, on the IO
   * thread). Fails with {@link java.io.EOFException} if the file shrank meanwhile, and with {@link
   * java.io.IOException} if it is too large for one buffer.
   */
  public Mono<ByteBuffer> readAll() {
    return size().flatMap(size -> {
      if (size > Integer.MAX_VALUE - 8) {
        return Mono.error(new java.io.IOException(
            "too large to read into one buffer (" + size + " bytes): " + path()));
      }
      ByteBuffer all = ByteBuffer.allocate((int) (long) size);
      return readExactAt(all, 0).then(Mono.fromSupplier(all::flip));
    });
  }

  /**
   * Opens {@code path} for reading, reads it whole ({@link #readAll()}) and closes it: one operation,
   * handed to an IO thread once, for a service that serves a file per request. The buffer holds one
   * version of the file, whole, even while overwrites replace it: all of it is read from one
   * descriptor, and its size is read from that descriptor. A file replaced by other means (another
   * process's rename) is read as the path names it when the read opens it: this read never fails with
   * {@link io.virtualfile.FileReplacedException}.
   *
   * <p><b>The cache.</b> The open joins the file's cached descriptor when there is one (see {@link
   * AsyncFileIo}): a {@code stat} and the reads. A file that is not cached and was not read shortly
   * before is read on a descriptor of its own, opened and closed around the read like {@code
   * Files.readAllBytes} does, in a slot the cache lends for that time: it evicts no cached descriptor
   * (unless every slot holds one), and the cache's bound on open descriptors still holds. A file read
   * again while a small filter of recent reads remembers it (a few times the cache's capacity of other
   * such reads) is opened through the cache and stays there. So a service whose requests spread over
   * many more files than the cache holds pays no eviction per request, and its frequently read files
   * are cached from their second read on. Both kinds count as misses in {@link AsyncFileIo#stats()}.
   *
   * <p>Signals arrive on an IO thread (the one that opened the file, if the page cache holds the whole
   * file on the io_uring engine). Fails as {@link #open} and {@link #readAll()} do; a cancel stops the
   * work at its next step.
   */
  public static Mono<ByteBuffer> readAll(Path path, AsyncFileIo io) {
    return ReadWholeFileCall.of(path, io);
  }

  /**
   * Writes every buffer of {@code data}, in order, from {@code position} on, each completely before the
   * next is requested. Emits the number of bytes written. Each buffer is written from its position to
   * its limit; its position is not changed, so a re-subscription writes the same bytes again.
   */
  public Mono<Long> write(Publisher<ByteBuffer> data, long position) {
    return Mono.defer(() -> {
      Objects.requireNonNull(data, "data");
      OpenOptions.checkPosition(position);
      options.requireWritable(path());
      AtomicLong next = new AtomicLong(position);
      return Flux.from(data)
          .concatMap(buf -> {
            int n = buf.remaining();
            // A duplicate: the publisher's buffers are not consumed, so a re-subscription writes them
            // again (a publisher such as Flux.just emits the same buffers each time).
            return writeAllAt(buf.duplicate(), next.getAndAdd(n)).thenReturn((long) n);
          }, 0)
          .reduce(0L, Long::sum);
    });
  }

  /**
   * Closes this file without waiting for its operations in flight: later operations fail with {@link
   * io.virtualfile.FileClosedException}; a channel of its own is closed when the last operation in
   * flight on it finishes (at once if none is), and a shared one stays cached (see {@link
   * AsyncFileIo}); with {@code DELETE_ON_CLOSE} the file is deleted if its path
   * still names the file this handle opened (see {@link io.virtualfile.VirtualFile#close()}). Runs on
   * an IO thread. Idempotent.
   *
   * <p>A handle that becomes unreachable without being closed is closed by a cleaner thread, and a
   * warning is logged once per process; prefer {@link #using} to opening and closing by hand.
   */
  public Mono<Void> close() {
    return Mono.<Void>fromCallable(() -> {
      file.close();
      return null;
    }).subscribeOn(io.ioScheduler()).onErrorMap(io::refusal);
  }

  @Override
  public String toString() {
    return "AsyncVirtualFile{" + path() + "}";
  }

  /** Operations holding this file's channel now (a racy snapshot, for tests). */
  int operationsInFlight() {
    return file.operationsInFlight();
  }

  @FunctionalInterface
  private interface BlockingChannelOp {
    long apply(EngineChannel channel) throws IOException;
  }

  /**
   * Pins (reopening if needed), runs {@code op} and unpins, on an IO thread; told to the listener as
   * {@code kind}, timed from the pin.
   */
  private Mono<Long> blockingCall(Operation kind, BlockingChannelOp op) {
    return Mono.fromCallable(() -> {
      FileIoListener l = io.events().listener();
      long t0 = Events.start(l);
      long result;
      try {
        Slot<EngineChannel> s = file.pin();
        try {
          result = op.apply(s.channel());
        } finally {
          s.unpin();
        }
      } catch (IOException | RuntimeException | Error e) {
        Events.operation(l, kind, t0, 0, e);
        throw e;
      }
      Events.operation(l, kind, t0, 0, null);
      return result;
    }).subscribeOn(io.ioScheduler()).onErrorMap(io::refusal);
  }

  private void checkRead(ByteBuffer dst, long position) {
    options.checkRead(path(), dst, position);
  }

  private void checkWrite(ByteBuffer src, long position) {
    options.checkWrite(path(), src, position);
  }
}
