package io.virtualfile.reactive;

import io.virtualfile.internal.CachedFile;
import io.virtualfile.internal.OpenOptions;
import io.virtualfile.internal.Slot;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A virtual file with non-blocking, positional IO as {@link Mono} and {@link Flux}.
 *
 * <p>Like core's {@link io.virtualfile.VirtualFile} it is not bound to a descriptor: its {@link
 * AsynchronousFileChannel} lives in its {@link AsyncFileIo}'s bounded cache and is reopened by path
 * after eviction. Options follow {@link io.virtualfile.VirtualFile}'s rules (no {@code APPEND}; {@code
 * CREATE}, {@code CREATE_NEW}, {@code TRUNCATE_EXISTING} apply only on the first open; {@code
 * DELETE_ON_CLOSE} acts at {@link #close()}).
 *
 * <h2>Reactive contract</h2>
 * <ul>
 *   <li>Every method is cold and lazy: nothing happens before subscription, and each subscription
 *       performs the operation once. Bad arguments are signalled as {@code onError}, never thrown by the
 *       method itself.</li>
 *   <li>Nothing blocks the subscribing thread. Reads and writes on a cached channel are submitted to
 *       the engine's IO threads; opening, reopening after eviction, {@code force}, {@code size} and
 *       {@code truncate} run on the engine's blocking scheduler.</li>
 *   <li>Signals of {@link #readAt}, {@link #writeAt} and what is built on them arrive on the engine's
 *       IO threads ({@code virtualfile-io-N}) (an error of a failed reopen, on the blocking scheduler;
 *       an error of bad arguments, on the subscribing thread); those of {@link #size}, {@link #truncate}, {@link
 *       #sync}, {@link #syncData}, {@link #open} and {@link #close} on the blocking scheduler. Use
 *       {@code publishOn} before heavy work, so that IO threads stay free for IO.</li>
 *   <li>A read or write subscribed to from inside such a signal (the next read of a loop, say) runs on
 *       the same IO thread as soon as the signal returns, with no thread hand-off. Never block inside a
 *       signal: the IO it waits for may be queued behind it. (With two or more IO threads, an idle one
 *       takes such IO over within about 20 ms; with one, it waits for the signal to return.)</li>
 *   <li>An operation in flight pins its channel: it is never closed under it. Cancelling {@link
 *       #readAt}/{@link #writeAt} does not close the shared channel and does not leak the pin: the IO
 *       completes in the background, the pin is released, and the late result goes to Reactor's discard
 *       hook. A cancelled write may or may not have reached the file.</li>
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
  private final CachedFile<AsynchronousFileChannel> file;
  private final OpenOptions options;

  private AsyncVirtualFile(AsyncFileIo io, CachedFile<AsynchronousFileChannel> file, OpenOptions options) {
    this.io = io;
    this.file = file;
    this.options = options;
  }

  /** Opens {@code path} on {@link AsyncFileIo#shared()}. */
  public static Mono<AsyncVirtualFile> open(Path path, OpenOption... options) {
    return Mono.defer(() -> open(path, AsyncFileIo.shared(), options));
  }

  /**
   * Opens {@code path} with {@code options} on {@code io}, on its blocking scheduler. Fails like {@link
   * java.nio.channels.FileChannel#open(Path, OpenOption...)}, and with {@link IllegalArgumentException}
   * for {@code APPEND}.
   */
  public static Mono<AsyncVirtualFile> open(Path path, AsyncFileIo io, OpenOption... options) {
    return Mono.defer(() -> {
      Objects.requireNonNull(path, "path");
      Objects.requireNonNull(io, "io");
      OpenOptions opts = OpenOptions.of(options);
      return Mono.fromCallable(() -> new AsyncVirtualFile(io,
              CachedFile.open(io.cache(), path,
                  () -> io.openChannel(path, opts.firstOpen()),
                  () -> io.openChannel(path, opts.reopen())),
              opts))
          .subscribeOn(io.blocking());
    });
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
   * @return the number of bytes read, possibly 0, or -1 if {@code position} is at or past the end of file
   */
  public Mono<Integer> readAt(ByteBuffer dst, long position) {
    return new PinnedChannelCall(file, io.blocking(), () -> checkRead(dst, position),
        (ch, h) -> ch.read(dst, position, null, h));
  }

  /** Writes up to {@code src.remaining()} bytes at {@code position}; emits how many were written. */
  public Mono<Integer> writeAt(ByteBuffer src, long position) {
    return new PinnedChannelCall(file, io.blocking(), () -> checkWrite(src, position),
        (ch, h) -> ch.write(src, position, null, h));
  }

  /**
   * Fills {@code dst} from {@code position}, reading again after short reads.
   *
   * @return empty on success; {@link java.io.EOFException} if the file ends first
   */
  public Mono<Void> readExactAt(ByteBuffer dst, long position) {
    return Mono.defer(() -> {
      checkRead(dst, position);
      return readExactFrom(dst, position, position);
    });
  }

  private Mono<Void> readExactFrom(ByteBuffer dst, long start, long position) {
    if (!dst.hasRemaining()) {
      return Mono.empty();
    }
    return readAt(dst, position).flatMap(n -> n < 0
        ? Mono.error(OpenOptions.endOfFile(path(), start, position, dst.remaining()))
        : readExactFrom(dst, start, position + n));
  }

  /** Writes all of {@code src} at {@code position}, writing again after short writes. */
  public Mono<Void> writeAllAt(ByteBuffer src, long position) {
    return Mono.defer(() -> {
      checkWrite(src, position);
      return writeAllFrom(src, position);
    });
  }

  private Mono<Void> writeAllFrom(ByteBuffer src, long position) {
    if (!src.hasRemaining()) {
      return Mono.empty();
    }
    return writeAt(src, position).flatMap(n -> writeAllFrom(src, position + n));
  }

  /** The file's size. Runs on the blocking scheduler. */
  public Mono<Long> size() {
    return blockingCall(AsynchronousFileChannel::size);
  }

  /** Truncates the file to {@code size} bytes (a larger size changes nothing). Blocking scheduler. */
  public Mono<Void> truncate(long size) {
    return Mono.defer(() -> {
      if (size < 0) {
        throw new IllegalArgumentException("size < 0: " + size);
      }
      options.requireWritable(path());
      return blockingCall(ch -> {
        ch.truncate(size);
        return 0L;
      }).then();
    });
  }

  /**
   * {@code force(true)}: the content and metadata are durable when this completes. An error is final:
   * it is not retried, and data written since the last successful sync may be lost.
   */
  public Mono<Void> sync() {
    return blockingCall(ch -> {
      ch.force(true);
      return 0L;
    }).then();
  }

  /** {@code force(false)}: as {@link #sync()} for the content and the metadata needed to read it. */
  public Mono<Void> syncData() {
    return blockingCall(ch -> {
      ch.force(false);
      return 0L;
    }).then();
  }

  /**
   * Reads from {@code position} to the end of file in chunks of at most {@code chunkSize} bytes, each
   * in a new buffer ready to read. Demand-driven: a read starts only while there is unmet demand, at
   * most one read is in flight, and it completes at end of file. Cancelling stops further reads.
   */
  public Flux<ByteBuffer> read(long position, int chunkSize) {
    return Flux.defer(() -> {
      OpenOptions.checkPosition(position);
      if (chunkSize < 1) {
        throw new IllegalArgumentException("chunkSize < 1: " + chunkSize);
      }
      options.requireReadable(path());
      return Flux.create(sink -> new ChunkedReader(this, sink, position, chunkSize).start());
    });
  }

  /**
   * Writes every buffer of {@code data}, in order, from {@code position} on, each completely before the
   * next is requested. Emits the number of bytes written.
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
            return writeAllAt(buf, next.getAndAdd(n)).thenReturn((long) n);
          }, 0)
          .reduce(0L, Long::sum);
    });
  }

  /**
   * Closes this file: operations in flight finish, then its cached channel (if any) is closed, and with
   * {@code DELETE_ON_CLOSE} the file is deleted. Runs on the blocking scheduler. Later operations fail
   * with {@link java.nio.channels.ClosedChannelException}. Idempotent.
   */
  public Mono<Void> close() {
    return Mono.<Void>fromCallable(() -> {
      boolean wasOpen = !file.isClosed();
      file.close();
      if (wasOpen && options.deleteOnClose()) {
        Files.deleteIfExists(path());
      }
      return null;
    }).subscribeOn(io.blocking());
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
    long apply(AsynchronousFileChannel channel) throws IOException;
  }

  /** Pins (reopening if needed), runs {@code op} and unpins, on the blocking scheduler. */
  private Mono<Long> blockingCall(BlockingChannelOp op) {
    return Mono.fromCallable(() -> {
      Slot<AsynchronousFileChannel> s = file.pin();
      try {
        return op.apply(s.channel());
      } finally {
        s.unpin();
      }
    }).subscribeOn(io.blocking());
  }

  private void checkRead(ByteBuffer dst, long position) {
    options.checkRead(path(), dst, position);
  }

  private void checkWrite(ByteBuffer src, long position) {
    options.checkWrite(path(), src, position);
  }
}
