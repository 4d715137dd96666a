package io.virtualfile;

import io.virtualfile.FileIoListener.Operation;
import io.virtualfile.internal.CachedFile;
import io.virtualfile.internal.Events;
import io.virtualfile.internal.JdkFileOps;
import io.virtualfile.internal.OverwriteProtocol;
import io.virtualfile.internal.StepFailure;
import io.virtualfile.internal.TempNames;
import io.virtualfile.internal.OpenOptions;
import io.virtualfile.internal.Slot;
import java.io.IOException;
import java.io.SyncFailedException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Set;

/**
 * A file handle that is not bound to a file descriptor.
 *
 * <p>Its descriptor lives in an {@link OpenFileCache}. Each operation pins the descriptor for its own
 * length; between operations the cache may close it to make room for other files, and the next
 * operation reopens the file by path, transparently. A process can therefore hold many more virtual
 * files than it may hold descriptors.
 *
 * <h2>Options</h2>
 * The first open applies the options exactly as {@link FileChannel#open(Path, OpenOption...)} does
 * (without {@code READ} or {@code WRITE}, the file is opened for reading), with two exceptions:
 * <ul>
 *   <li>{@code APPEND} is refused with {@link IllegalArgumentException}: IO here is positional;</li>
 *   <li>{@code DELETE_ON_CLOSE} deletes the file when this handle is {@linkplain #close() closed}, not
 *       when the descriptor is evicted.</li>
 * </ul>
 * A reopen after eviction drops the options that must apply once: {@code CREATE} (a file deleted
 * behind our back is not silently recreated empty: the reopen fails with {@link
 * java.nio.file.NoSuchFileException}), {@code CREATE_NEW} (the file exists: we created it),
 * {@code TRUNCATE_EXISTING} (data written since the first open is kept) and {@code SPARSE}. All other
 * options ({@code READ}, {@code WRITE}, {@code SYNC}, {@code DSYNC}, {@code NOFOLLOW_LINKS}) apply on
 * every reopen.
 *
 * <h2>Interrupts</h2>
 * A {@link FileChannel} closes itself for every user when a thread is interrupted during IO. Here, the
 * interrupted caller gets {@link ClosedByInterruptException} (its interrupt status stays set) and the
 * broken descriptor is dropped from the cache; other callers whose operation failed because of that close
 * reopen and retry their operation, which is positional and therefore safe to repeat. (This library
 * never closes a descriptor that an operation holds, so a descriptor closed under an operation was
 * closed by an interrupt; each retry needs another interrupt to land during it.) An fsync is the
 * exception: {@link #sync()} and {@link #syncData()} are never retried (see there). A caller whose
 * interrupt status is already set when it calls gets {@link ClosedByInterruptException} without the
 * shared descriptor being touched; one interrupted while it waits for a descriptor slot or for another
 * thread's reopen of this file gets an {@link java.io.InterruptedIOException} that says so.
 *
 * <h2>When the file is replaced</h2>
 * A handle reads and writes the file it opened. It records that file's identity ({@code
 * BasicFileAttributes.fileKey()}) and checks it on every reopen:
 * <ul>
 *   <li>after a {@linkplain #crashSafeOverwrite(Path, ByteBuffer) crash-safe overwrite} of its path
 *       through this library (core or reactive), every operation that starts after the overwrite
 *       returned reads and writes the new file, whether or not the descriptor had been evicted;
 *       operations already in flight finish on the old file, and the overwrite waits for them;</li>
 *   <li>if the path was replaced or deleted by anything else, the next reopen fails with {@link
 *       FileReplacedException} instead of using another file. While the descriptor stays cached, the
 *       handle keeps reading the file it opened: an outside replacement is noticed only at a reopen.
 *       A handle opened after the outside replacement finished opens (or shares the descriptor of) the
 *       new file and is not refused; one open while it ran may be.</li>
 * </ul>
 * A file key is an inode number, which file systems reuse once its file is gone (ext4 at once), so
 * the check is not exact against outside replacements: a file that replaced the handle's file from
 * outside after that file was gone (deleted, and its descriptor evicted) and took its number passes for
 * it; and, where handles share a descriptor (see {@link OpenFileCache}), an open that overlapped two
 * outside replacements of its path may be joined later by handles that then read the file it opened,
 * until its descriptor is dropped. Replace files through this library to be exact. An open that starts
 * while this library renames over its path waits for that rename (a system call) to finish.
 *
 * <p>Paths are compared absolute and normalized; an overwrite through a symbolic link or another hard link
 * does not reach handles opened under another name. Where the file system has no file keys, identity
 * is not checked.
 *
 * <h2>Durability</h2>
 * Nothing written is durable until {@link #sync()} or {@link #syncData()} returns. Closing a handle or
 * evicting its descriptor does not sync.
 *
 * <p>Thread-safe: any number of threads may use one virtual file at once; positional operations do not
 * affect each other.
 */
public final class VirtualFile implements AutoCloseable {
  private final CachedFile<FileChannel> file;
  private final OpenOptions options;

  /** The cache's listeners; see {@link #io(Operation, ChannelOp, boolean)}. */
  private final Events events;

  private VirtualFile(CachedFile<FileChannel> file, OpenOptions options) {
    this.file = file;
    this.options = options;
    this.events = file.events();
  }

  /**
   * Opens {@code path} in the {@linkplain OpenFileCache#shared() shared cache}.
   *
   * @see #open(Path, OpenFileCache, OpenOption...)
   */
  public static VirtualFile open(Path path, OpenOption... options) throws IOException {
    return open(path, OpenFileCache.shared(), options);
  }

  /**
   * Opens {@code path} with {@code options} (see the class comment) and caches its descriptor in {@code
   * cache}.
   *
   * @throws IllegalArgumentException for {@code APPEND} or an invalid combination of options
   * @throws java.nio.channels.ClosedChannelException if the cache is closed
   * @throws IOException as {@link FileChannel#open(Path, OpenOption...)} does
   */
  public static VirtualFile open(Path path, OpenFileCache cache, OpenOption... options)
      throws IOException {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(cache, "cache");
    return open(path, cache, OpenOptions.of(options), JDK);
  }

  /** Opens a channel; a seam for tests that need a misbehaving channel. */
  @FunctionalInterface
  interface ChannelOpener extends CachedFile.PathOpener<FileChannel> {}

  /** One object: it is part of the key under which handles share a descriptor. */
  private static final ChannelOpener JDK = FileChannel::open;

  static VirtualFile open(Path path, OpenFileCache cache, OpenOptions opts, ChannelOpener opener)
      throws IOException {
    CachedFile<FileChannel> file = CachedFile.open(cache.slots(), path, opts, opener);
    OpenOptions checked;
    try {
      checked = opts.aligned(path);
    } catch (IOException | RuntimeException e) {
      file.close();
      throw e;
    }
    VirtualFile handle = new VirtualFile(file, checked);
    file.attach(handle);
    return handle;
  }

  /**
   * A direct buffer of {@code capacity} bytes whose address is a multiple of {@code alignment} (a power
   * of two), as {@code ExtendedOpenOption.DIRECT} needs; see {@link #alignment()}.
   *
   * @throws IllegalArgumentException if {@code capacity < 0} or {@code alignment} is not a power of two
   */
  public static ByteBuffer allocateAligned(int capacity, int alignment) {
    if (capacity < 0) {
      throw new IllegalArgumentException("capacity < 0: " + capacity);
    }
    if (alignment < 1 || Integer.bitCount(alignment) != 1) {
      throw new IllegalArgumentException("alignment is not a power of two: " + alignment);
    }
    // alignedSlice trims both ends to the alignment: room for a whole number of units, plus one.
    long units = ((long) capacity + alignment - 1) / alignment;
    long size = (units + 1) * alignment;
    if (size > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "capacity " + capacity + " aligned to " + alignment + " exceeds a buffer's limit");
    }
    return ByteBuffer.allocateDirect((int) size).alignedSlice(alignment).limit(capacity).slice();
  }

  /**
   * The alignment this handle's IO needs: 1, or with {@code ExtendedOpenOption.DIRECT} the file store's
   * block size. Then buffers must be direct, with their address at their position, their remaining
   * length and the file position all multiples of it; anything else is refused with an {@link
   * IllegalArgumentException} that names it, before any IO.
   */
  public int alignment() {
    return options.alignment();
  }

  /**
   * Replaces the content of {@code finalPath} with {@code content} so that, after a crash at any
   * instant, the file holds its old content or the new one, never a mix, an empty or a zero-filled file;
   * and once this method returns, the new content survives a power cut.
   *
   * <p>Steps, in order: remove a stale {@code tmpPath} (left by an earlier, interrupted call); create
   * {@code tmpPath} with {@code CREATE_NEW} and owner-only permissions, then give it the permissions of
   * the existing final file (a new final file is owner read/write); write all bytes; {@code
   * force(true)}; close, checking the error; {@code Files.move(tmpPath, finalPath, ATOMIC_MOVE)} (never a
   * non-atomic fallback; on Linux the file it replaces is held open for reading across the move and
   * closed after it, so that the move, which holds the directory's lock, does not also free that file:
   * see {@code virtualfile.holdReplacedFiles} in the README); open the parent
   * directory; {@code force(true)} on it. The call holds at most
   * one descriptor at a time and takes no slot of any {@link OpenFileCache}, so it cannot deadlock with
   * virtual files the caller holds.
   *
   * <p>Open virtual files of {@code finalPath} (in any cache, core or reactive) see the new content in
   * every operation that starts after this returns: their cached descriptors are dropped after the rename,
   * once the operations in flight on them have finished.
   *
   * <p>{@code finalPath} must be absent or a regular file. A symbolic link is refused, untouched: to
   * overwrite the link's target pass {@code finalPath.toRealPath()}; to replace the link, delete it
   * first. {@code content} is read from its position to its limit; its position is not changed.
   *
   * <p>Concurrent calls for the same {@code tmpPath} in this process are refused (the second fails at
   * {@link CrashSafeOverwriteException.Step#REMOVE_STALE_TEMP} without touching anything); across
   * processes, give each writer its own temp path or use {@link #crashSafeOverwrite(Path, ByteBuffer)}.
   *
   * @param tmpPath the temp file, in {@code finalPath}'s directory
   * @throws IllegalArgumentException if {@code finalPath} has no parent, is a directory, a symbolic link
   *     or a special file, or {@code tmpPath} is in another directory, is {@code finalPath} or is a
   *     directory; nothing is touched
   * @throws CrashSafeOverwriteException if a step failed; it says which, and whether the new content is
   *     already visible. A failure before the rename leaves the final file untouched and removes the temp
   *     file. No fsync is ever retried: call again to write a fresh temp file.
   */
  public static void crashSafeOverwrite(Path finalPath, Path tmpPath, ByteBuffer content)
      throws IOException {
    Objects.requireNonNull(tmpPath, "tmpPath");
    overwrite(finalPath, tmpPath, content);
  }

  /**
   * As {@link #crashSafeOverwrite(Path, Path, ByteBuffer)}, with an unpredictable temp name in {@code
   * finalPath}'s directory of the form {@code .<name>.<16 hex digits>.vftmp}. Concurrent calls for the
   * same final path are safe: each writes its own temp file, and the final file always holds one
   * caller's complete content. A call interrupted by a crash leaves at most one such temp file; remove
   * those at start-up with {@link #removeStaleTempFiles(Path)}.
   */
  public static void crashSafeOverwrite(Path finalPath, ByteBuffer content) throws IOException {
    overwrite(finalPath, null, content);
  }

  private static void overwrite(Path finalPath, Path tmpPath, ByteBuffer content)
      throws IOException {
    Objects.requireNonNull(content, "content");
    OverwriteProtocol.prepare(JdkFileOps.INSTANCE, JdkFileOps.CHANNEL_TEMP_FILES, finalPath, tmpPath,
            OpenFileCache.sharedEvents())
        .run(content.duplicate());
  }

  /**
   * Makes the entries of {@code dir} (files created, renamed or removed in it) durable: opens the
   * directory and calls {@code force(true)} on it. On Windows, where a directory cannot be opened,
   * it does nothing.
   *
   * @throws IllegalArgumentException if {@code dir} is not a directory
   * @throws IOException if the open or the fsync failed; do not retry an fsync failure
   */
  public static void fsyncDirectory(Path dir) throws IOException {
    Objects.requireNonNull(dir, "dir");
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("not a directory: " + dir);
    }
    try {
      OverwriteProtocol.syncDirectory(JdkFileOps.INSTANCE, dir, OpenFileCache.sharedEvents());
    } catch (StepFailure e) { // an internal type: rethrow what the step threw
      Throwable cause = e.getCause();
      if (cause instanceof IOException io) {
        throw io;
      }
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      throw new IOException(e.getMessage(), cause);
    }
  }

  /**
   * Removes the temp files that derived-name overwrites left in {@code dir} when they were interrupted
   * (by a crash or a kill). Only regular files named like this library's temp files are removed. Meant
   * for start-up: an overwrite in flight in {@code dir} whose temp file this removes fails at its rename
   * and leaves the final file as it was.
   *
   * @return how many files were removed
   * @throws IllegalArgumentException if {@code dir} is not a directory
   */
  public static int removeStaleTempFiles(Path dir) throws IOException {
    Objects.requireNonNull(dir, "dir");
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("not a directory: " + dir);
    }
    int removed = 0;
    try (DirectoryStream<Path> entries =
        Files.newDirectoryStream(dir, p -> TempNames.isTemp(p.getFileName().toString()))) {
      for (Path p : entries) {
        if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && Files.deleteIfExists(p)) {
          removed++;
        }
      }
    }
    return removed;
  }

  /** The path this file was opened with, and is reopened by. */
  public Path path() {
    return file.path();
  }

  /**
   * Reads up to {@code dst.remaining()} bytes at {@code position}, as {@link FileChannel#read(ByteBuffer,
   * long)}.
   *
   * @return the number of bytes read: 0 if {@code dst} has no room, else -1 if {@code position} is at or
   *     past the end of file (a position beyond what the file system allows fails with the JDK's
   *     {@link IOException})
   */
  public int readAt(ByteBuffer dst, long position) throws IOException {
    checkRead(dst, position);
    return (int) io(Operation.READ, ch -> ch.read(dst, position), true);
  }

  /**
   * Writes up to {@code src.remaining()} bytes at {@code position}, as {@link
   * FileChannel#write(ByteBuffer, long)}; a position past the end of file leaves a hole.
   *
   * @return the number of bytes written
   */
  public int writeAt(ByteBuffer src, long position) throws IOException {
    checkWrite(src, position);
    return (int) io(Operation.WRITE, ch -> ch.write(src, position), true);
  }

  /**
   * Fills {@code dst} from {@code position}, looping over short reads.
   *
   * @throws java.io.EOFException if the file ends first; {@code dst} then holds the bytes that were there
   */
  public void readExactAt(ByteBuffer dst, long position) throws IOException {
    checkRead(dst, position);
    file.ensureOpen(); // even with nothing to read: a closed handle refuses every operation
    long p = position;
    while (dst.hasRemaining()) {
      int n = readAt(dst, p);
      if (n < 0) {
        throw OpenOptions.endOfFile(path(), position, p, dst.remaining());
      }
      p += n;
    }
  }

  /** Writes all of {@code src} at {@code position}, looping over short writes. */
  public void writeAllAt(ByteBuffer src, long position) throws IOException {
    checkWrite(src, position);
    file.ensureOpen(); // even with nothing to write: a closed handle refuses every operation
    long p = position;
    while (src.hasRemaining()) {
      p += writeAt(src, p);
    }
  }

  /** The file's current size. */
  public long size() throws IOException {
    return io(Operation.SIZE, FileChannel::size, true);
  }

  /**
   * Truncates the file to {@code size} bytes; a larger {@code size} changes nothing (as {@link
   * FileChannel#truncate(long)}).
   *
   * @throws IllegalArgumentException if {@code size < 0}
   */
  public void truncate(long size) throws IOException {
    if (size < 0) {
      throw new IllegalArgumentException("size < 0: " + size);
    }
    options.requireWritable(path());
    io(Operation.TRUNCATE, ch -> {
      ch.truncate(size);
      return 0;
    }, true);
  }

  /**
   * Makes the file's content and metadata durable ({@code force(true)}). A failure is reported and never
   * retried: after a failed fsync the kernel may have dropped the dirty pages, so a second fsync could
   * succeed with the data gone. Treat it as fatal for the data written since the last successful sync.
   *
   * <p>So once an fsync of a file has failed in this process, every later {@code sync()} or {@code
   * syncData()} of that file at that path, through any handle or cache, fails at once with a {@link
   * SyncFailedException} that says so: the kernel reports a writeback error once, so a later fsync
   * could succeed although the data were lost. Write the content to a new file (a crash-safe overwrite
   * does) to make it durable again. The file is known by its path and identity: the same file reached
   * under another name (renamed, linked) by other means is not recognized.
   *
   * <p>That includes an fsync whose outcome is unknown: if another thread's interrupt closed the shared
   * descriptor while the fsync ran, the JDK reports the close, not the fsync's own result (which may
   * have been an error). This fails with a {@link SyncFailedException} that says so, whose cause is the
   * close; the file's cached descriptor is dropped, and nothing is reported durable. Handles of one
   * file may share a descriptor (see {@link OpenFileCache}), so an interrupt of a thread using another
   * handle of the file can cause this too; as any failed fsync, it makes later syncs of the file fail.
   *
   * @throws SyncFailedException if the fsync's outcome is unknown, or an earlier fsync of the file failed
   *     (see above)
   * @throws ClosedByInterruptException if the calling thread was interrupted
   * @throws IOException if the fsync failed
   */
  public void sync() throws IOException {
    force(true);
  }

  /** As {@link #sync()}, but metadata not needed to read the data back may stay unsynced ({@code force(false)}). */
  public void syncData() throws IOException {
    force(false);
  }

  private void force(boolean metaData) throws IOException {
    io(metaData ? Operation.FSYNC : Operation.FDATASYNC, ch -> {
      file.fsync(() -> ch.force(metaData));
      return 0;
    }, false);
  }

  /**
   * Closes this handle without waiting for its operations in flight: later operations fail with {@link
   * FileClosedException} (a {@link ClosedChannelException}); operations in flight finish. A descriptor
   * of its own is closed by whichever finishes last (now, if none is in flight); a shared one stays in
   * the cache for the other virtual files and later opens of its file (see {@link OpenFileCache}). With {@code
   * DELETE_ON_CLOSE} the file is deleted, if its path still names the file this handle opened: a file
   * that replaced it since (by a library overwrite or otherwise) is not deleted, since the opened file is
   * already unlinked and an overwrite's acknowledged content must stay. Idempotent.
   *
   * <p>A handle that becomes unreachable without being closed is closed by a cleaner thread, as if this
   * were called, and a warning is logged once per process: close what you open.
   */
  @Override
  public void close() throws IOException {
    file.close();
  }

  @Override
  public String toString() {
    return "VirtualFile{" + path() + "}";
  }

  @FunctionalInterface
  private interface ChannelOp {
    long apply(FileChannel channel) throws IOException;
  }

  /**
   * {@link #pinned} told to the cache's listener as {@code kind}. Without a listener it reads no clock:
   * one field read and a comparison.
   */
  private long io(Operation kind, ChannelOp op, boolean repeatable) throws IOException {
    FileIoListener l = events.listener();
    if (l == Events.NONE) {
      return pinned(op, repeatable);
    }
    long t0 = System.nanoTime();
    long result;
    try {
      result = pinned(op, repeatable);
    } catch (IOException | RuntimeException | Error e) {
      Events.operation(l, kind, t0, 0, e);
      throw e;
    }
    Events.operation(l, kind, t0, kind == Operation.READ || kind == Operation.WRITE ? result : 0, null);
    return result;
  }

  /**
   * Runs {@code op} on this file's descriptor, pinned for the call. The descriptor-broken cases are the
   * interrupt rules of the class comment.
   *
   * @param repeatable whether {@code op} may be issued again after the descriptor was closed under it
   *     (positional IO, size, truncate); an fsync may not
   */
  private long pinned(ChannelOp op, boolean repeatable) throws IOException {
    for (;;) {
      if (Thread.currentThread().isInterrupted()) {
        throw new ClosedByInterruptException(); // before touching the shared descriptor
      }
      Slot<FileChannel> slot = file.pin();
      long tag = slot.tag();
      boolean broken = false;
      try {
        return op.apply(slot.channel());
      } catch (ClosedByInterruptException e) {
        broken = true;
        throw e;
      } catch (ClosedChannelException e) {
        // The descriptor was closed under us. This library closes a descriptor only once no operation
        // pins it (ClockCache#retire), so another thread's interrupt did it.
        broken = true;
        if (!repeatable) {
          SyncFailedException unknown = new SyncFailedException(
              "fsync of " + path() + " has an unknown outcome: another thread's interrupt closed the"
                  + " shared descriptor while it ran. It is not retried, and nothing written since the"
                  + " last successful sync can be taken as durable");
          unknown.initCause(e);
          throw unknown;
        }
        // Reopen and repeat: the op is positional.
      } finally {
        slot.unpin();
        if (broken) {
          file.discard(slot, tag);
        }
      }
    }
  }

  private void checkRead(ByteBuffer dst, long position) {
    options.checkRead(path(), dst, position);
  }

  private void checkWrite(ByteBuffer src, long position) {
    options.checkWrite(path(), src, position);
  }
}
