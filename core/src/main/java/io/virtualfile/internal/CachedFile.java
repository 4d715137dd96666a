package io.virtualfile.internal;

import java.io.Closeable;
import java.io.IOException;
import io.virtualfile.FileReplacedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * One file's binding to a {@link ClockCache}: the part of a virtual file handle that is shared by the
 * blocking {@code VirtualFile} and the reactive {@code AsyncVirtualFile}.
 *
 * <p>The binding is the pair {@code (slot, tag)}. A hit pins the slot and finds the tag unchanged; a
 * miss reopens the file with the reopen options and installs the new descriptor in a slot of the
 * cache's choosing. Misses of one file are serialized by {@link #rebindLock} so that one file never
 * occupies two slots; hits take no lock.
 *
 * <h2>Identity</h2>
 * The binding records the identity ({@code BasicFileAttributes.fileKey()}) of the file it opened, read by
 * path right after the open. A reopen that finds another identity at the path, or no file, fails with
 * {@link FileReplacedException} rather than use another file; the only accepted change is an overwrite
 * through this library, announced through {@link OpenFileRegistry}. Where the file system gives no file
 * key, identity is not checked.
 *
 * <p>Thread-safe.
 *
 * @param <C> the descriptor type
 */
public final class CachedFile<C extends Closeable> {
  /** Opens a descriptor for this file. */
  @FunctionalInterface
  public interface Opener<C> {
    C open() throws IOException;
  }

  private final ClockCache<C> cache;
  private final Path path;
  private final Opener<C> reopener;

  /**
   * Guards rebinding and closing. Invariant: while it is held, no other thread changes
   * {@link #slot}/{@link #tag} or {@link #closed}. It is never held while waiting on a pin of this
   * file (the holder's own pins are released before it takes the lock), so it cannot deadlock with
   * the cache's waits.
   */
  private final Object rebindLock = new Object();

  /**
   * The current binding. Written under {@link #rebindLock}, tag first, so a reader that sees the new
   * slot sees the new tag; any other mix fails the tag check because tags are unique.
   */
  private volatile Slot<C> slot;

  private volatile long tag;

  private volatile boolean closed;

  /** The identity of the file this handle reads; changed only by a library overwrite. */
  private volatile Object fileKey;

  /** The identity of a library overwrite's new file while its rename is under way, else null. */
  private volatile Object pendingKey;

  private CachedFile(ClockCache<C> cache, Path path, Opener<C> reopener) {
    this.cache = cache;
    this.path = path;
    this.reopener = reopener;
  }

  /**
   * Opens the file with {@code firstOpen} and binds it to a slot.
   *
   * @param firstOpen opens with the caller's full options (create, truncate, ...)
   * @param reopener opens the same file again after eviction, with only the options that may repeat
   */
  public static <C extends Closeable> CachedFile<C> open(
      ClockCache<C> cache, Path path, Opener<C> firstOpen, Opener<C> reopener) throws IOException {
    if (cache.isClosed()) {
      throw new ClosedException("the open-file cache is closed; cannot open " + path);
    }
    CachedFile<C> file = new CachedFile<>(cache, path, reopener);
    synchronized (file.rebindLock) {
      C channel = firstOpen.open();
      try {
        file.fileKey = JdkFileOps.INSTANCE.fileKey(path);
      } catch (IOException | RuntimeException e) {
        closeSuppressing(channel, e);
        throw e;
      }
      file.bind(channel).unpin();
    }
    OpenFileRegistry.register(file);
    return file;
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
    int pins = s.pins();
    return s.tag == tag && pins > 0 ? pins : 0;
  }

  /**
   * Pins the cached descriptor without blocking, or returns {@code null} when the file must be
   * reopened first ({@link #pin()} does that).
   *
   * @throws ClosedException if this file or its cache is closed
   */
  public Slot<C> tryPinCached() throws ClosedException {
    ensureOpen();
    Slot<C> s = slot;
    if (s != null && cache.tryPin(s, tag)) {
      if (closed) { // close() raced with the pin: it is waiting for us; back out
        s.unpin();
        throw closedException();
      }
      return s;
    }
    if (cache.isClosed()) {
      throw new ClosedException("the open-file cache is closed; cannot reopen " + path);
    }
    return null;
  }

  /**
   * Pins this file's descriptor, reopening the file if it was evicted. May block: it opens a file and
   * may wait for a free slot (see {@link ClockCache}).
   */
  public Slot<C> pin() throws IOException {
    Slot<C> s = tryPinCached();
    if (s != null) {
      return s;
    }
    synchronized (rebindLock) {
      s = tryPinCached(); // another thread may have rebound while we waited for the lock
      if (s != null) {
        return s;
      }
      return bind(reopenSameFile());
    }
  }

  /** Held under {@link #rebindLock}: reopens by path and checks that it is still this handle's file. */
  private C reopenSameFile() throws IOException {
    C channel;
    try {
      channel = reopener.open();
    } catch (NoSuchFileException e) {
      throw new FileReplacedException(path, "was deleted", e);
    }
    try {
      Object key = JdkFileOps.INSTANCE.fileKey(path);
      if (key != null && fileKey != null && !key.equals(fileKey)) {
        if (!key.equals(pendingKey)) {
          throw new FileReplacedException(path, "was replaced by another file (not by this library)", null);
        }
        fileKey = key; // a library overwrite's rename happened; its announcement is on its way
        pendingKey = null;
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

  /** See {@link OpenFileRegistry#replacing}. */
  void expectReplacement(Object newKey) {
    pendingKey = newKey;
  }

  /** See {@link OpenFileRegistry#replaceFailed}. */
  void replacementFailed(Object newKey) {
    synchronized (rebindLock) {
      if (newKey != null && newKey.equals(pendingKey)) {
        pendingKey = null;
      }
    }
  }

  /**
   * See {@link OpenFileRegistry#replaced}: adopt the new identity and drop the cached descriptor, after
   * the operations in flight on it. A close error of the old descriptor has no caller to go to; it is
   * logged, as for an eviction.
   */
  void replaced(Object newKey) {
    synchronized (rebindLock) {
      if (closed) {
        return;
      }
      if (newKey != null) {
        fileKey = newKey;
      }
      pendingKey = null;
      Slot<C> s = slot;
      if (s != null) {
        try {
          cache.unbind(s, tag);
        } catch (IOException e) {
          System.getLogger(CachedFile.class.getName())
              .log(System.Logger.Level.WARNING, "closing a replaced file's descriptor failed", e);
        }
      }
    }
  }

  /** Held under {@link #rebindLock}; returns the new slot pinned once. */
  private Slot<C> bind(C channel) throws IOException {
    Slot<C> s = cache.install(channel);
    tag = s.tag;
    slot = s;
    return s;
  }

  /**
   * Drops the binding {@code (s, boundTag)} because its descriptor broke (for example a
   * {@code FileChannel} closed by another thread's interrupt); the next {@link #pin()} reopens. The
   * caller must have released its pin.
   */
  public void discard(Slot<C> s, long boundTag) throws IOException {
    cache.unbind(s, boundTag);
  }

  /**
   * Unbinds the current descriptor so the next operation reopens the file by path. Operations in
   * flight finish first, on the old descriptor.
   */
  public void invalidate() throws IOException {
    synchronized (rebindLock) {
      Slot<C> s = slot;
      if (s != null) {
        cache.unbind(s, tag);
      }
    }
  }

  /**
   * Closes the file: later operations fail with {@link ClosedException}; operations in flight finish
   * first and its descriptor is then closed. Idempotent.
   */
  public void close() throws IOException {
    synchronized (rebindLock) {
      if (closed) {
        return;
      }
      closed = true;
      OpenFileRegistry.unregister(this);
      Slot<C> s = slot;
      if (s != null) {
        cache.unbind(s, tag);
      }
    }
  }

  private void ensureOpen() throws ClosedException {
    if (closed) {
      throw closedException();
    }
  }

  private ClosedException closedException() {
    return new ClosedException("file is closed: " + path);
  }
}
