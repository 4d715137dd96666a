package io.virtualfile.uring;

import io.virtualfile.reactive.spi.EngineChannel;
import io.virtualfile.reactive.spi.IoCompletion;
import io.virtualfile.reactive.spi.WriteThenForce;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An open file of the io_uring engine: a descriptor, and what it was opened for. Thread-safe.
 *
 * <p>A read is first tried on the calling thread ({@link InlineReads}): if the page cache holds its
 * bytes, it completes there, inside {@link #read} (or, asked for from inside such a completion, just
 * after that completion returns). Other reads, and writes, go to the ring of the calling thread's
 * choice ({@link UringEngine#ringFor}) and complete on that ring's thread. The blocking calls are plain
 * system calls on the calling thread (see {@link DirectCalls}).
 *
 * <p>Errors are reported as the JDK's channels report them: {@link NonReadableChannelException} and
 * {@link NonWritableChannelException} for the wrong mode, {@link IllegalArgumentException} for a
 * read-only buffer or negative position, {@link ClosedChannelException} after close, and an {@link
 * IOException} naming the errno for what the kernel refused.
 */
final class UringChannel implements EngineChannel, WriteThenForce {
  private final UringEngine engine;
  private final int fd;
  private final Path path;
  private final OpenFlags flags;
  /** Set once by close; a descriptor number may be reused by the next open, so nothing uses it after. */
  private volatile boolean closed;
  /**
   * Whether reads are tried on the calling thread first: the engine's probe passed, the file is
   * readable and not {@code O_DIRECT}. Only ever cleared (when the file refuses {@code RWF_NOWAIT}), so
   * a plain field: a thread that still sees {@code true} makes one more refused try, then the ring read.
   */
  private boolean inlineReads;

  UringChannel(UringEngine engine, int fd, Path path, OpenFlags flags) {
    this.engine = engine;
    this.fd = fd;
    this.path = path;
    this.flags = flags;
    this.inlineReads = engine.inlineReads() && flags.readable()
        && (flags.flags() & OpenFlags.O_DIRECT) == 0;
  }

  @Override
  public void read(ByteBuffer dst, long position, IoCompletion completion) {
    RuntimeException refused = !flags.readable() ? new NonReadableChannelException()
        : dst.isReadOnly() ? new IllegalArgumentException("Read-only buffer")
        : null;
    if (refused(refused, position, completion)) {
      return;
    }
    if (!inlineReads || !InlineReads.read(this, dst, position, completion)) {
      submitRead(dst, position, completion, false);
    }
  }

  /**
   * Makes a read on a ring; {@code retryInline}: one that {@link InlineReads} put off, which the ring's
   * thread tries inline again before it becomes an SQE ({@link Transfer#completedInline}).
   */
  void submitRead(ByteBuffer dst, long position, IoCompletion completion, boolean retryInline) {
    submit(new Transfer(false, fd, dst, position, completion, retryInline ? this : null));
  }

  @Override
  public void write(ByteBuffer src, long position, IoCompletion completion) {
    if (!refused(flags.writable() ? null : new NonWritableChannelException(), position, completion)) {
      submit(new Transfer(true, fd, src, position, completion, null));
    }
  }

  /**
   * The write and the fsync as two linked requests on the calling thread's ring ({@link
   * WriteThenFsync}): the fsync runs on a kernel worker as soon as the write has ended, with no thread of
   * the engine in between.
   */
  @Override
  public void writeThenForce(ByteBuffer src, long position, boolean metaData, Completion completion) {
    Throwable error = refusal(flags.writable() ? null : new NonWritableChannelException(), position);
    if (error != null) {
      completion.writeFailed(error);
    } else {
      submit(new WriteThenFsync(fd, src, position, !metaData, completion));
    }
  }

  /** Fails {@code completion} and returns true if the call may not start. */
  private boolean refused(RuntimeException refused, long position, IoCompletion completion) {
    Throwable error = refusal(refused, position);
    if (error != null) {
      completion.failed(error);
      return true;
    }
    return false;
  }

  /** Why a read or write may not start ({@code refused}: the mode's reason), or null. */
  private Throwable refusal(RuntimeException refused, long position) {
    return refused != null ? refused
        : position < 0 ? new IllegalArgumentException("Negative position")
        : closed ? new ClosedChannelException()
        : null;
  }

  private void submit(Op op) {
    engine.ringFor(Thread.currentThread()).submit(op);
  }

  /** Whether reads are still tried on the calling thread first. */
  boolean triesInline() {
    return inlineReads;
  }

  /** The file refused {@code RWF_NOWAIT}: reads go to the rings from now on. */
  void refuseInline() {
    inlineReads = false;
  }

  /** The descriptor, for {@link InlineReads}' calls. */
  int fd() {
    return fd;
  }

  @Override
  public long size() throws IOException {
    ensureOpen();
    return DirectCalls.size(fd);
  }

  @Override
  public void truncate(long size) throws IOException {
    if (size < 0) {
      throw new IllegalArgumentException("Negative size");
    }
    if (!flags.writable()) {
      throw new NonWritableChannelException();
    }
    if (size < size()) {
      DirectCalls.ftruncate(fd, size);
    }
  }

  @Override
  public void force(boolean metaData) throws IOException {
    ensureOpen();
    DirectCalls.fsync(fd, !metaData);
  }

  /** Closes the descriptor (called once no request is in flight on it); DELETE_ON_CLOSE unlinks. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      DirectCalls.close(fd);
    } finally {
      if (flags.deleteOnClose()) {
        Files.deleteIfExists(path);
      }
    }
  }

  private void ensureOpen() throws ClosedChannelException {
    if (closed) {
      throw new ClosedChannelException();
    }
  }

  @Override
  public String toString() {
    return "UringChannel[fd=" + fd + ", " + path + "]";
  }
}
