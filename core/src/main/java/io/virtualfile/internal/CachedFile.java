package io.virtualfile.internal;

import io.virtualfile.FileClosedException;
import io.virtualfile.FileIoListener;
import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.ref.Cleaner;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A handle's view of its file in a {@link ClockCache}: the part of a virtual file handle that is shared
 * by the blocking {@code VirtualFile} and the reactive {@code AsyncVirtualFile}. The descriptor, its
 * reopening and its identity checks belong to a {@link FileBinding}, which handles of one file may
 * share; this class adds what is the handle's own: being closed, {@code DELETE_ON_CLOSE}, and the
 * cleaner of a handle that was never closed.
 *
 * <h2>Sharing</h2>
 * Handles of one path, cache, opener and reopen options share one binding, so one descriptor, if their
 * options are {@link OpenOptions#shareable()}: an open whose path still names
 * the file of a listed binding joins it without opening the file, after one {@code stat}. The
 * descriptor stays cached after the last such handle closes, until it is evicted or its file replaced,
 * so that the next open of the file needs no system call beyond the {@code stat}. See {@link
 * FileBinding} for the life of a binding.
 *
 * <h2>Close</h2>
 * {@link #close()} marks the handle closed first and then releases the binding; a pin checks the mark
 * after it pinned, and backs out if it is set. So no operation that starts after {@code close()}
 * returned uses the descriptor. Operations in flight finish.
 *
 * <p>Thread-safe.
 *
 * @param <C> the descriptor type
 */
public final class CachedFile<C extends Closeable> {
  private static final System.Logger LOG = System.getLogger(CachedFile.class.getName());

  /** Opens a descriptor for this file. */
  @FunctionalInterface
  public interface Opener<C> {
    C open() throws IOException;
  }

  private final FileBinding<C> binding;
  private final boolean deleteOnClose;

  /**
   * The attributes of the file this handle opened or joined, read by path at the open: its identity
   * (for {@code DELETE_ON_CLOSE}) and its size then.
   */
  private final BasicFileAttributes opened;

  private volatile boolean closed;

  /** Makes {@link #close()} act once. */
  private final AtomicBoolean closeOnce = new AtomicBoolean();

  /** Closes this file if its owner becomes unreachable unclosed; null until {@link #attach}. */
  private volatile Cleaner.Cleanable cleanable;

  private CachedFile(FileBinding<C> binding, boolean deleteOnClose, BasicFileAttributes opened) {
    this.binding = binding;
    this.deleteOnClose = deleteOnClose;
    this.opened = opened;
  }

  /**
   * Opens the file with {@code firstOpen} and binds it to a slot of its own.
   *
   * @param firstOpen opens with the caller's full options (create, truncate, ...)
   * @param reopener opens the same file again after eviction, with only the options that may repeat
   * @param deleteOnClose whether {@link #close()} deletes the file (if the path still names it)
   */
  public static <C extends Closeable> CachedFile<C> open(
      ClockCache<C> cache, Path path, Opener<C> firstOpen, Opener<C> reopener, boolean deleteOnClose)
      throws IOException {
    if (cache.isClosed()) {
      throw new FileClosedException("the open-file cache is closed; cannot open " + path);
    }
    FileBinding<C> binding = new FileBinding<>(cache, path, reopener, null);
    return new CachedFile<>(binding, deleteOnClose, binding.openFirst(firstOpen, null));
  }

  /** Opens a descriptor of a path with options. */
  @FunctionalInterface
  public interface PathOpener<C> {
    C open(Path path, Set<? extends OpenOption> options) throws IOException;
  }

  /**
   * Opens a handle of {@code path} with {@code options}, by {@code opener}. If the options are {@link
   * OpenOptions#shareable()} the handle shares its descriptor with the other handles of the same path,
   * reopen options and opener in {@code cache} (see the class comment): it joins their binding if the
   * path still names its file, else it opens the file and lists a new binding. Otherwise the handle
   * has a binding of its own.
   *
   * @param opener the same object for every handle that may share (it is part of the share key)
   */
  public static <C extends Closeable> CachedFile<C> open(
      ClockCache<C> cache, Path path, OpenOptions options, PathOpener<C> opener) throws IOException {
    FileIoListener l = cache.events().listener();
    long t0 = Events.start(l);
    CachedFile<C> file;
    try {
      file = openUntimed(cache, path, options, opener);
    } catch (IOException | RuntimeException | Error e) {
      Events.operation(l, FileIoListener.Operation.OPEN, t0, 0, e);
      throw e;
    }
    Events.operation(l, FileIoListener.Operation.OPEN, t0, 0, null);
    return file;
  }

  private static <C extends Closeable> CachedFile<C> openUntimed(
      ClockCache<C> cache, Path path, OpenOptions options, PathOpener<C> opener) throws IOException {
    if (!options.shareable()) {
      return open(cache, path, () -> opener.open(path, options.firstOpen()),
          () -> opener.open(path, options.reopen()), options.deleteOnClose());
    }
    if (cache.isClosed()) {
      throw new FileClosedException("the open-file cache is closed; cannot open " + path);
    }
    Object shareKey = shareKey(path, options, opener);
    BasicFileAttributes now = null;
    try {
      now = Files.readAttributes(path, BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      // no file to join: the first open below creates it (CREATE) or fails as it should
    }
    FileBinding<C> joined = now == null ? null : FileBinding.join(cache, shareKey, now.fileKey());
    if (joined != null) {
      return new CachedFile<>(joined, false, now);
    }
    FileBinding<C> binding =
        new FileBinding<>(cache, path, () -> opener.open(path, options.reopen()), shareKey);
    return new CachedFile<>(binding, false, binding.openFirst(
        () -> opener.open(path, options.firstOpen()), now == null ? null : now.fileKey()));
  }

  /** The key under which handles of {@code path} opened so by {@code opener} share a binding. */
  static Object shareKey(Path path, OpenOptions options, PathOpener<?> opener) {
    return List.of(path, options.reopen(), opener);
  }

  /**
   * Closes this file when {@code owner} (the public handle, which this object must not reference)
   * becomes unreachable without having been closed, and logs that once per process.
   */
  public void attach(Object owner) {
    cleanable = Leaks.CLEANER.register(owner, new Leaks.CloseLeaked(this));
  }

  public Path path() {
    return binding.path;
  }

  public boolean isClosed() {
    return closed;
  }

  /**
   * Operations in flight on this file's current descriptor (by any handle that shares it), for
   * monitoring and tests; a racy snapshot (0 when the descriptor is not cached).
   */
  public int operationsInFlight() {
    return binding.operationsInFlight();
  }

  /**
   * Pins the cached descriptor without blocking, or returns {@code null} when the file must be
   * reopened first ({@link #pin()} does that).
   *
   * @throws FileClosedException if this file or its cache is closed
   */
  public Slot<C> tryPinCached() throws FileClosedException {
    ensureOpen();
    return checkedPin(binding.tryPinCached());
  }

  /**
   * Pins this file's descriptor, reopening the file if it was evicted. May block: it opens a file and
   * may wait for a free slot (see {@link ClockCache}), or for another thread's reopen of this file.
   *
   * @throws InterruptedIOException if the calling thread is interrupted while it waits (its interrupt
   *     status stays set)
   */
  public Slot<C> pin() throws IOException {
    ensureOpen();
    return checkedPin(binding.pin());
  }

  /** Backs out of a pin that raced with {@link #close()}: see the class comment. */
  private Slot<C> checkedPin(Slot<C> s) throws FileClosedException {
    if (s != null && closed) {
      s.unpin();
      throw closedException();
    }
    return s;
  }

  /** A step that may fail with an {@link IOException}. */
  @FunctionalInterface
  public interface IoAction {
    void run() throws IOException;
  }

  /**
   * Runs {@code fsync} (a {@code force} of this file's pinned descriptor), never after an fsync of the
   * same file failed in this process: such a sync fails at once with a {@link
   * java.io.SyncFailedException} that says so, whichever handle, descriptor or cache it comes through.
   * After a failed fsync the kernel may have dropped the dirty pages and reports the error only once,
   * so a later fsync could succeed with the data gone. A failure of {@code fsync} itself (an unknown
   * outcome included) is remembered so, and rethrown. A file that a library overwrite installed since is
   * a new file, with no such history.
   */
  public void fsync(IoAction fsync) throws IOException {
    binding.fsync(fsync);
  }

  /**
   * Drops the binding {@code (s, boundTag)} because its descriptor broke (for example a {@code
   * FileChannel} closed by another thread's interrupt); the next {@link #pin()} reopens. The caller
   * must have released its pin.
   */
  public void discard(Slot<C> s, long boundTag) {
    binding.cache.retire(s, boundTag);
  }

  /**
   * Drops the cached descriptor so the next operation reopens the file by path. Operations in flight
   * finish first, on the old descriptor, which is closed after the last of them.
   */
  public void invalidate() {
    binding.dropBinding();
  }

  /**
   * Closes the handle: later operations fail with {@link FileClosedException}. The descriptor is
   * closed when the operations in flight on it have finished (now, if there are none), unless it is
   * shared (see the class comment). With {@code DELETE_ON_CLOSE} the path is deleted if it still names
   * the file the first open opened (a file that replaced it, by a library overwrite or otherwise, is
   * not deleted: the opened file is already unlinked, and an overwrite's acknowledged content must
   * stay). Does not wait for operations in flight. Idempotent.
   *
   * @return whether this call closed the file (false if it was already closed)
   */
  public boolean close() throws IOException {
    if (!closeOnce.compareAndSet(false, true)) {
      return false;
    }
    FileIoListener l = binding.cache.events().listener();
    long t0 = Events.start(l);
    try {
      closed = true; // before releasing the binding: see the class comment
      binding.release();
      Cleaner.Cleanable c = cleanable;
      if (c != null) {
        c.clean(); // deregisters; the action sees the file closed and does nothing
      }
      if (deleteOnClose) {
        OpenFileRegistry.deleteIfSame(binding.path, opened.fileKey());
      }
    } catch (IOException | RuntimeException | Error e) {
      Events.operation(l, FileIoListener.Operation.CLOSE, t0, 0, e);
      throw e;
    }
    Events.operation(l, FileIoListener.Operation.CLOSE, t0, 0, null);
    return true;
  }

  /** The listeners of this file's cache. */
  public Events events() {
    return binding.cache.events();
  }

  /** @throws FileClosedException if this file is closed */
  public void ensureOpen() throws FileClosedException {
    if (closed) {
      throw closedException();
    }
  }

  private FileClosedException closedException() {
    return new FileClosedException("file is closed: " + binding.path);
  }

  /** The cleaner of unreachable, unclosed handles. */
  static final class Leaks {
    static final Cleaner CLEANER =
        Cleaner.create(r -> {
          Thread t = new Thread(r, "virtualfile-cleaner");
          t.setDaemon(true);
          return t;
        });

    private static final AtomicBoolean LOGGED = new AtomicBoolean();

    /** Must not reference the owner, or it would never become unreachable. */
    static final class CloseLeaked implements Runnable {
      private final CachedFile<?> file;

      CloseLeaked(CachedFile<?> file) {
        this.file = file;
      }

      @Override
      public void run() {
        if (file.isClosed()) {
          return;
        }
        if (LOGGED.compareAndSet(false, true)) {
          LOG.log(System.Logger.Level.WARNING,
              "a virtual file of " + file.path() + " became unreachable without being closed; it was"
                  + " closed now. Close every handle you open (try-with-resources, or"
                  + " AsyncVirtualFile.using). Logged once per process.");
        }
        try {
          file.close();
        } catch (IOException | RuntimeException e) {
          LOG.log(System.Logger.Level.WARNING, "closing the leaked virtual file of " + file.path()
              + " failed", e);
        }
      }
    }
  }
}
