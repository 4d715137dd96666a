package io.virtualfile.internal;

import io.virtualfile.FileClosedException;

import io.virtualfile.FileReplacedException;
import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Cleaner;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One file's binding to a {@link ClockCache}: the part of a virtual file handle that is shared by the
 * blocking {@code VirtualFile} and the reactive {@code AsyncVirtualFile}.
 *
 * <p>The binding is the pair {@code (slot, tag)}. A hit pins the slot and finds the tag unchanged; a
 * miss reopens the file with the reopen options and installs the new descriptor in a slot of the
 * cache's choosing. Misses of one file are serialized by {@link #rebindLock} so that one file never
 * occupies two slots; hits take no lock. Dropping the binding (close, replacement, a broken descriptor)
 * never waits: see {@link ClockCache#retire}.
 *
 * <h2>Identity</h2>
 * The handle accepts, at its path, the file it opened ({@code BasicFileAttributes.fileKey()}, read by
 * path right after the open) and the files that overwrites through this library installed since. A
 * reopen that finds another identity at the path, or no file, fails with {@link FileReplacedException}
 * rather than use another file. {@link OpenFileRegistry} announces each library overwrite, one at a time
 * per path, in rename order: before the rename ({@link #expectReplacement}), after it ({@link
 * #replaced}) or on failure ({@link #replacementFailed}). Where the file system gives no file key,
 * identity is not checked.
 *
 * <h2>Races with replacement and close</h2>
 * A reopen (or the first open) may open the old file just before a replacement's rename and bind it
 * just after the replacement dropped the binding. Each side writes before it reads: {@link #replaced}
 * bumps {@link #replacements}, then adopts the new identity and drops the current binding; a reopen
 * binds and then reads {@link #replacements}, and drops and redoes its own binding if it moved. So
 * either the replacement sees the reopen's binding, or the reopen sees the replacement. Between the
 * reopen's binding and its own check, another thread may hit that binding: so a binding records the
 * count it was opened under ({@link #boundAt}), and a hit that finds the count moved since is a miss.
 * An operation that starts after the overwrite returned therefore never uses the old file. Likewise a reopen whose identity
 * check fails opens again if {@link #replacements} moved since it started: it may have checked a file
 * that was current against an identity that is newer still. {@link #close()} and {@link #closed} pair
 * with a reopen the same way.
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

  /** What a handle accepts at its path. Immutable. */
  private static final class Identity {
    static final Identity UNKNOWN = new Identity(null, null);

    /** The file the path holds (as far as this library knows), or null before the first open's stat. */
    final Object current;

    /** A library overwrite's new file while its rename is under way, else null. */
    final Object pending;

    Identity(Object current, Object pending) {
      this.current = current;
      this.pending = pending;
    }

    boolean accepts(Object key) {
      return key == null || current == null || key.equals(current) || key.equals(pending);
    }
  }

  private static final VarHandle IDENTITY;
  private static final VarHandle REPLACEMENTS;

  static {
    try {
      MethodHandles.Lookup l = MethodHandles.lookup();
      IDENTITY = l.findVarHandle(CachedFile.class, "identity", Identity.class);
      REPLACEMENTS = l.findVarHandle(CachedFile.class, "replacements", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final ClockCache<C> cache;
  private final Path path;
  private final Opener<C> reopener;
  private final boolean deleteOnClose;

  /**
   * Serializes the misses of this file. Invariant: only its holder installs a descriptor for this file,
   * so the file occupies at most one slot (a retired one aside). Taken interruptibly.
   */
  private final ReentrantLock rebindLock = new ReentrantLock();

  /**
   * The current binding. Written under {@link #rebindLock}, tag first, and read slot first, so a reader
   * that sees the new slot sees the new tag; any other mix fails the tag check because tags are unique.
   */
  private volatile Slot<C> slot;

  private volatile long tag;

  /**
   * The value of {@link #replacements} when the current binding's file was opened; written before
   * {@link #tag}. A hit on a binding older than the last replacement is a miss: see the class comment.
   */
  private volatile long boundAt;

  private volatile boolean closed;

  /** Makes {@link #close()} act once. */
  private final AtomicBoolean closeOnce = new AtomicBoolean();

  /** Written by the first open (once) and by {@link OpenFileRegistry} under the path's lock. */
  private volatile Identity identity = Identity.UNKNOWN;

  /** The identity of the file the first open opened, for {@code DELETE_ON_CLOSE}; null if none. */
  private volatile Object openedKey;

  /** Library replacements of the path seen by this handle; see the class comment. */
  private volatile long replacements;

  /** Closes this file if its owner becomes unreachable unclosed; null until {@link #attach}. */
  private volatile Cleaner.Cleanable cleanable;

  private CachedFile(ClockCache<C> cache, Path path, Opener<C> reopener, boolean deleteOnClose) {
    this.cache = cache;
    this.path = path;
    this.reopener = reopener;
    this.deleteOnClose = deleteOnClose;
  }

  /**
   * Opens the file with {@code firstOpen} and binds it to a slot.
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
    CachedFile<C> file = new CachedFile<>(cache, path, reopener, deleteOnClose);
    // Registered before the open, so that a library overwrite whose rename races with it is told.
    OpenFileRegistry.register(file);
    try {
      file.rebindLock.lock(); // not yet shared: never contended
      try {
        file.bindFresh(() -> {
          C channel = firstOpen.open();
          try {
            Object key = JdkFileOps.INSTANCE.fileKey(path);
            file.openedKey = key;
            // A replacement announced since our registration knows better than our stat.
            IDENTITY.compareAndSet(file, Identity.UNKNOWN, new Identity(key, null));
          } catch (IOException | RuntimeException e) {
            closeSuppressing(channel, e);
            throw e;
          }
          return channel;
        }).unpin();
      } finally {
        file.rebindLock.unlock();
      }
    } catch (IOException | RuntimeException | Error e) {
      file.closed = true;
      OpenFileRegistry.unregister(file);
      throw e;
    }
    return file;
  }

  /**
   * Closes this file when {@code owner} (the public handle, which this object must not reference)
   * becomes unreachable without having been closed, and logs that once per process.
   */
  public void attach(Object owner) {
    cleanable = Leaks.CLEANER.register(owner, new Leaks.CloseLeaked(this));
  }

  public Path path() {
    return path;
  }

  public boolean isClosed() {
    return closed;
  }

  /**
   * Operations in flight on this file's current descriptor, for monitoring and tests; a racy snapshot
   * (0 when the descriptor is not cached).
   */
  public int operationsInFlight() {
    Slot<C> s = slot;
    if (s == null) {
      return 0;
    }
    return s.tag == tag ? s.pins() : 0;
  }

  /**
   * Pins the cached descriptor without blocking, or returns {@code null} when the file must be
   * reopened first ({@link #pin()} does that).
   *
   * @throws FileClosedException if this file or its cache is closed
   */
  public Slot<C> tryPinCached() throws FileClosedException {
    ensureOpen();
    Slot<C> s = slot;
    long t = tag;
    long at = boundAt;
    if (s != null && cache.tryPin(s, t)) {
      if (closed) { // close() raced with the pin: it dropped or is dropping the binding; back out
        s.unpin();
        throw closedException();
      }
      if (replacements != at) { // opened before a replacement that has completed: not ours to use
        s.unpin();
        cache.retire(s, t);
        return null;
      }
      return s;
    }
    if (cache.isClosed()) {
      throw new FileClosedException("the open-file cache is closed; cannot reopen " + path);
    }
    return null;
  }

  /**
   * Pins this file's descriptor, reopening the file if it was evicted. May block: it opens a file and
   * may wait for a free slot (see {@link ClockCache}), or for another thread's reopen of this file.
   *
   * @throws InterruptedIOException if the calling thread is interrupted while it waits (its interrupt
   *     status stays set)
   */
  public Slot<C> pin() throws IOException {
    Slot<C> s = tryPinCached();
    if (s != null) {
      return s;
    }
    try {
      rebindLock.lockInterruptibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for another thread's reopen of " + path);
    }
    try {
      s = tryPinCached(); // another thread may have rebound while we waited for the lock
      if (s != null) {
        return s;
      }
      return bindFresh(this::reopenSameFile);
    } finally {
      rebindLock.unlock();
    }
  }

  /**
   * Held under {@link #rebindLock}: opens with {@code opener}, binds, and redoes it if a library
   * replacement of the path completed meanwhile (we may have opened the old file); see the class
   * comment. A redo reopens with the reopen options and the identity check, never with {@code opener}
   * again (a first open's {@code CREATE_NEW} or {@code TRUNCATE_EXISTING} must not repeat). Each round
   * needs another replacement to complete during its open, so this ends unless replacements never
   * stop. Returns the new slot pinned once.
   */
  private Slot<C> bindFresh(Opener<C> first) throws IOException {
    Opener<C> opener = first;
    for (;;) {
      long seen = replacements;
      C channel;
      try {
        channel = opener.open();
      } catch (FileReplacedException e) {
        if (replacements != seen) {
          continue; // checked against an identity newer than what we opened: open again
        }
        throw e;
      }
      Slot<C> s = cache.install(channel);
      long t = s.tag;
      boundAt = seen;
      tag = t;
      slot = s;
      if (closed) {
        s.unpin();
        cache.retire(s, t);
        throw closedException();
      }
      if (replacements == seen) {
        return s;
      }
      s.unpin();
      cache.retire(s, t);
      opener = this::reopenSameFile;
    }
  }

  /** Reopens by path and checks that it is still this handle's file. */
  private C reopenSameFile() throws IOException {
    C channel;
    try {
      channel = reopener.open();
    } catch (NoSuchFileException e) {
      throw new FileReplacedException(path, "was deleted", e);
    }
    try {
      Object key = JdkFileOps.INSTANCE.fileKey(path);
      if (!identity.accepts(key)) {
        throw new FileReplacedException(path, "was replaced by another file (not by this library)", null);
      }
    } catch (NoSuchFileException e) { // deleted between our open and our stat
      closeSuppressing(channel, e);
      throw new FileReplacedException(path, "was deleted", e);
    } catch (IOException | RuntimeException e) {
      closeSuppressing(channel, e);
      throw e;
    }
    return channel;
  }

  private static void closeSuppressing(Closeable c, Throwable failure) {
    try {
      c.close();
    } catch (IOException e) {
      failure.addSuppressed(e);
    }
  }

  /** By {@link OpenFileRegistry#rename}, under the path's lock: a rename to {@code newKey} is starting. */
  void expectReplacement(Object newKey) {
    Identity id = identity;
    identity = new Identity(id.current, newKey);
  }

  /** By {@link OpenFileRegistry#rename}, under the path's lock: the announced rename failed. */
  void replacementFailed() {
    identity = new Identity(identity.current, null);
  }

  /**
   * By {@link OpenFileRegistry#rename}, under the path's lock: the path now holds {@code newKey}. Adopts
   * it and drops the cached descriptor; operations in flight on it finish on the old file, and the
   * descriptor is closed after the last. Never waits.
   */
  void replaced(Object newKey) {
    // First: a reopen that finds its stat rejected by the new identity, or that bound before we read
    // the binding, then sees the count moved and opens again. See the class comment.
    REPLACEMENTS.getAndAdd(this, 1L);
    Identity id = identity;
    identity = new Identity(newKey != null ? newKey : id.current, null);
    dropBinding();
  }

  private void dropBinding() {
    Slot<C> s = slot; // slot before tag: see the field comment
    long t = tag;
    if (s != null) {
      cache.retire(s, t);
    }
  }

  /**
   * Drops the binding {@code (s, boundTag)} because its descriptor broke (for example a {@code
   * FileChannel} closed by another thread's interrupt); the next {@link #pin()} reopens. The caller
   * must have released its pin.
   */
  public void discard(Slot<C> s, long boundTag) {
    cache.retire(s, boundTag);
  }

  /**
   * Drops the cached descriptor so the next operation reopens the file by path. Operations in flight
   * finish first, on the old descriptor, which is closed after the last of them.
   */
  public void invalidate() {
    dropBinding();
  }

  /**
   * Closes the file: later operations fail with {@link FileClosedException}; the cached descriptor is closed
   * when the operations in flight on it have finished (now, if there are none); with {@code
   * DELETE_ON_CLOSE} the path is deleted if it still names the file the first open opened (a file that
   * replaced it, by a library overwrite or otherwise, is not deleted: the opened file is already
   * unlinked, and an overwrite's acknowledged content must stay). Does not wait for operations in
   * flight. Idempotent.
   *
   * @return whether this call closed the file (false if it was already closed)
   */
  public boolean close() throws IOException {
    if (!closeOnce.compareAndSet(false, true)) {
      return false;
    }
    closed = true; // before reading the binding: see the class comment
    OpenFileRegistry.unregister(this);
    dropBinding();
    Cleaner.Cleanable c = cleanable;
    if (c != null) {
      c.clean(); // deregisters; the action sees the file closed and does nothing
    }
    if (deleteOnClose) {
      OpenFileRegistry.deleteIfSame(path, openedKey);
    }
    return true;
  }

  /** @throws FileClosedException if this file is closed */
  public void ensureOpen() throws FileClosedException {
    if (closed) {
      throw closedException();
    }
  }

  private FileClosedException closedException() {
    return new FileClosedException("file is closed: " + path);
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
