package io.virtualfile.internal;

import io.virtualfile.FileClosedException;
import io.virtualfile.FileIoListener;
import io.virtualfile.FileReplacedException;
import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.SyncFailedException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.file.NoSuchFileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;

/**
 * One file's binding to a {@link ClockCache}, shared by the handles ({@link CachedFile}) of that file
 * that may share a descriptor: the part of a virtual file that is neither the blocking {@code
 * VirtualFile}'s nor the reactive {@code AsyncVirtualFile}'s own.
 *
 * <p>The binding is the pair {@code (slot, tag)}. A hit pins the slot and finds the tag unchanged; a
 * miss reopens the file with the reopen options and installs the new descriptor in a slot of the
 * cache's choosing. Misses are serialized by {@link #rebindLock} so that one file never occupies two
 * slots; hits take no lock. Dropping the binding (replacement, a broken descriptor, death) never waits:
 * see {@link ClockCache#retire}.
 *
 * <h2>Sharing and life</h2>
 * A binding with a {@link #shareKey} (the path and the reopen options) is listed in its cache's {@link
 * ClockCache#shared} map, and a new handle of the same key whose path still names the binding's file
 * joins it instead of opening the file again. {@link #handles} counts the handles: a binding whose
 * last handle closed stays listed, with its descriptor cached, until it loses its slot (eviction,
 * replacement), and then dies; one that is not listed dies with its last handle. Dead ({@link #DEAD})
 * is final: it is unlisted, unregistered, its descriptor retired, and no handle may join it. So the
 * listed bindings are at most the open handles plus the cache's capacity.
 *
 * <h2>Identity</h2>
 * The binding accepts, at its path, the file it first opened ({@code BasicFileAttributes.fileKey()},
 * read by path right after the open) and the files that overwrites through this library installed
 * since. A reopen that finds another identity at the path, or no file, fails with {@link
 * FileReplacedException} rather than use another file. {@link OpenFileRegistry} announces each library
 * overwrite, one at a time per path, in rename order: before the rename ({@link #expectReplacement}),
 * after it ({@link #replaced}) or on failure ({@link #replacementFailed}). A binding registers (before
 * its first open) only while no rename of its path is under way, so it hears all of a rename's
 * notifications or none of them; see {@link OpenFileRegistry}. The first open's adoption of its
 * identity and the notifications change the identity by compare-and-set, so none undoes another. Where
 * the file system gives no file key, identity is not checked and bindings are not shared.
 *
 * <h2>Races with replacement and death</h2>
 * A reopen (or the first open) may open the old file just before a replacement's rename and bind it
 * just after the replacement dropped the binding. Each side writes before it reads: {@link #replaced}
 * bumps {@link #replacements}, then adopts the new identity and drops the current binding; a reopen
 * binds and then reads {@link #replacements}, and drops and redoes its own binding if it moved. So
 * either the replacement sees the reopen's binding, or the reopen sees the replacement. Between the
 * reopen's binding and its own check, another thread may hit that binding: so a binding records the
 * count it was opened under ({@link #boundAt}), and a hit that finds the count moved since is a miss.
 * An operation that starts after the overwrite returned therefore never uses the old file. Likewise a
 * reopen whose identity check fails opens again if {@link #replacements} moved since it started: it may
 * have checked a file that was current against an identity that is newer still. Death pairs with a
 * reopen the same way: {@link #die} marks the binding dead and then drops the slot; a reopen binds and
 * then checks for death.
 *
 * <p>Thread-safe.
 *
 * @param <C> the descriptor type
 */
final class FileBinding<C extends Closeable> implements ClockCache.Owner {
  /** {@link #handles} of a dead binding. */
  private static final int DEAD = -1;

  /** What a binding accepts at its path. Immutable. */
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
      IDENTITY = l.findVarHandle(FileBinding.class, "identity", Identity.class);
      REPLACEMENTS = l.findVarHandle(FileBinding.class, "replacements", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  final ClockCache<C> cache;
  final Path path;

  /** {@link #path} as {@link OpenFileRegistry} keys it (absolute, normalized), computed once. */
  final Path registryKey;
  private final CachedFile.Opener<C> reopener;

  /** The key of {@link ClockCache#shared} this binding may be listed under, or null: never shared. */
  final Object shareKey;

  /**
   * Open handles on this binding, or {@link #DEAD}. Invariant: it leaves 0 only by a handle joining
   * (0 to 1 is allowed: a listed binding outlives its handles) or by death (0 to {@link #DEAD}, once);
   * a handle joins only by a CAS from a value of at least 0, so no handle ever holds a dead binding.
   */
  private final AtomicInteger handles = new AtomicInteger(1);

  /**
   * Serializes the misses of this binding. Invariant: only its holder installs a descriptor for this
   * binding, so the file occupies at most one slot (a retired one aside). Taken interruptibly.
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

  /**
   * Changed only by {@link #updateIdentity}: the first open's adoption runs concurrently with the
   * notifications of a rename that started after the registration, and neither may undo the other (a
   * lost adoption would leave no current identity, which accepts any file).
   */
  private volatile Identity identity = Identity.UNKNOWN;

  /** Library replacements of the path seen by this binding; see the class comment. */
  private volatile long replacements;

  /**
   * A new binding with one handle, registered, not yet opened or listed.
   *
   * @throws InterruptedIOException if interrupted while a rename of the path runs (see {@link
   *     OpenFileRegistry}); nothing is registered
   */
  FileBinding(ClockCache<C> cache, Path path, CachedFile.Opener<C> reopener, Object shareKey)
      throws InterruptedIOException {
    this.cache = cache;
    this.path = path;
    this.reopener = reopener;
    this.shareKey = shareKey;
    this.registryKey = OpenFileRegistry.key(path);
    // Registered before the open, so that a library overwrite whose rename races with it is told; and
    // not during a rename, so that it is told all of that rename or none (see OpenFileRegistry).
    OpenFileRegistry.register(this);
  }

  /**
   * The first open: opens with {@code firstOpen}, records the file's identity, binds, and lists the
   * binding if it has a share key and the open is known to have opened the file whose identity it
   * records. On failure the binding is dead.
   *
   * <p>The identity is read by path just after the open, since a {@code FileChannel} cannot be asked
   * for its file's; a rename by another process between the two would make the binding name a file
   * its descriptor does not read. For the binding's own handle that is harmless (it reads the file it
   * opened), but other handles must not join it: so it is listed only if the path named the same file
   * just before the open ({@code keyBefore}) and just after. What this cannot tell apart: the
   * descriptor holds the number of the file it opened, but not that of the file {@code keyBefore}
   * named; if that file was replaced and freed before the open, and the file opened was then replaced
   * from outside this library by one that took the freed number (ext4 reuses numbers at once), both
   * stats agree and the binding is listed under a number its descriptor does not read, so handles that
   * join it read the file it opened until its descriptor is dropped. (A library overwrite during the
   * open is announced, and the open redone.) So it takes an outside replacement during an open, and a
   * reused number; a file renamed away and back during the open passes as well.
   *
   * @param keyBefore the identity the path named just before the open, or null if unknown
   * @return the attributes of the file opened, read by path just after the open
   */
  BasicFileAttributes openFirst(CachedFile.Opener<C> firstOpen, Object keyBefore) throws IOException {
    BasicFileAttributes[] opened = new BasicFileAttributes[1];
    try {
      rebindLock.lock(); // not yet shared: never contended
      try {
        bindFresh(() -> {
          C channel = firstOpen.open();
          try {
            opened[0] = Files.readAttributes(path, BasicFileAttributes.class);
            adoptFirstIdentity(opened[0].fileKey());
          } catch (IOException | RuntimeException e) {
            closeSuppressing(channel, e);
            throw e;
          }
          return channel;
        }).unpin();
      } finally {
        rebindLock.unlock();
      }
    } catch (IOException | RuntimeException | Error e) {
      release();
      throw e;
    }
    if (shareKey != null && keyBefore != null && keyBefore.equals(opened[0].fileKey())) {
      FileBinding<C> displaced = cache.shared.put(shareKey, this);
      if (displaced != null && displaced != this) {
        displaced.unlisted();
      }
    }
    return opened[0];
  }

  /**
   * Records the first open's identity unless a replacement completed since the registration (it knows
   * better than our stat). A rename announced and not yet completed, or one that failed, left no
   * current identity: ours fills it, and the announcement's pending one stays.
   */
  private void adoptFirstIdentity(Object key) {
    updateIdentity(id -> id.current != null ? id : new Identity(key, id.pending));
  }

  /** Replaces the identity by {@code change} of it, atomically: see {@link #identity}. */
  private void updateIdentity(UnaryOperator<Identity> change) {
    for (;;) {
      Identity id = identity;
      if (IDENTITY.compareAndSet(this, id, change.apply(id))) {
        return;
      }
    }
  }

  /**
   * Joins the listed binding of {@code shareKey} if the path names its file ({@code fileKey}, read by
   * the caller just now), as one more handle. Returns null if there is none to join.
   */
  static <C extends Closeable> FileBinding<C> join(ClockCache<C> cache, Object shareKey, Object fileKey) {
    FileBinding<C> b = cache.shared.get(shareKey);
    if (b == null || fileKey == null) {
      return null;
    }
    Identity id = b.identity;
    if (!fileKey.equals(id.current) || id.pending != null) {
      return null; // replaced by another file meanwhile, or a library rename is under way
    }
    for (;;) {
      int n = b.handles.get();
      if (n == DEAD) {
        return null;
      }
      if (b.handles.compareAndSet(n, n + 1)) {
        return b;
      }
    }
  }

  /**
   * A handle closed. The last one kills the binding unless it stays listed with a cached descriptor.
   */
  void release() {
    if (handles.decrementAndGet() != 0) {
      return;
    }
    if (shareKey == null || cache.shared.get(shareKey) != this || !holdsSlot()) {
      die();
    }
  }

  /** Whether the binding's descriptor is in the cache (racy: {@link #lost} settles the race). */
  private boolean holdsSlot() {
    Slot<C> s = slot;
    long t = tag;
    if (s == null || !s.tryPin()) {
      return false;
    }
    boolean ours = s.tag == t;
    s.unpin();
    return ours;
  }

  /**
   * Another binding of the same key was listed in this one's place (two first opens raced, or the path
   * names another file now). Without handles it dies now: unlisted, nothing could join it, and its
   * descriptor would otherwise stay until evicted. Pairs with {@link #release()}, which decrements and
   * then reads the list, as this is called after the list was written: one of them sees the other.
   */
  private void unlisted() {
    if (handles.get() == 0) {
      die();
    }
  }

  /**
   * The binding {@code lostTag} lost its slot. If that was the current binding and no handle holds it,
   * it dies: a listed binding lives only while it has handles or a descriptor. Pairs with {@link
   * #release()}: it decrements and then checks the slot; the cache changes the slot and then calls
   * this, which reads the count. So one of them sees the other.
   */
  @Override
  public void lost(long lostTag) {
    if (lostTag == tag && handles.get() == 0) {
      die();
    }
  }

  private void die() {
    if (!handles.compareAndSet(0, DEAD)) {
      return; // joined meanwhile, or already dead
    }
    if (shareKey != null) {
      cache.shared.remove(shareKey, this);
    }
    OpenFileRegistry.unregister(this);
    dropBinding(); // after DEAD was written: a reopen that binds later sees it (see the class comment)
  }

  boolean isDead() {
    return handles.get() == DEAD;
  }

  /** Handles holding this binding now (0 if it is dead), for the registry's leak checks. */
  int handles() {
    return Math.max(0, handles.get());
  }

  /**
   * Operations in flight on this binding's current descriptor, for monitoring and tests; a racy
   * snapshot (0 when the descriptor is not cached).
   */
  int operationsInFlight() {
    Slot<C> s = slot;
    if (s == null) {
      return 0;
    }
    return s.tag == tag ? s.pins() : 0;
  }

  /**
   * Pins the cached descriptor without blocking, or returns {@code null} when the file must be
   * reopened first.
   *
   * @throws FileClosedException if the cache is closed
   */
  Slot<C> tryPinCached() throws FileClosedException {
    Slot<C> s = slot;
    long t = tag;
    long at = boundAt;
    if (s != null && cache.tryPin(s, t)) {
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
   * Pins the descriptor, reopening the file if it was evicted. May block: see {@link CachedFile#pin()}.
   */
  Slot<C> pin() throws IOException {
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
      FileIoListener l = cache.events().listener();
      long t0 = Events.start(l);
      try {
        s = bindFresh(this::reopenSameFile);
      } catch (IOException | RuntimeException | Error e) {
        Events.operation(l, FileIoListener.Operation.REOPEN, t0, 0, e);
        throw e;
      }
      Events.operation(l, FileIoListener.Operation.REOPEN, t0, 0, null);
      return s;
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
  private Slot<C> bindFresh(CachedFile.Opener<C> first) throws IOException {
    CachedFile.Opener<C> opener = first;
    for (;;) {
      long seen = replacements;
      Slot<C> reserved = cache.reserve(); // before the open: see ClockCache#reserve
      C channel;
      try {
        channel = opener.open();
      } catch (FileReplacedException e) {
        cache.unreserve(reserved);
        if (replacements != seen) {
          continue; // checked against an identity newer than what we opened: open again
        }
        throw e;
      } catch (IOException | RuntimeException | Error e) {
        cache.unreserve(reserved);
        throw e;
      }
      Slot<C> s = cache.bind(reserved, channel, this);
      long t = s.tag;
      boundAt = seen;
      tag = t;
      slot = s;
      if (isDead()) { // every handle closed meanwhile, and the binding died: see the class comment
        s.unpin();
        cache.retire(s, t);
        throw new FileClosedException("file is closed: " + path);
      }
      if (replacements == seen) {
        return s;
      }
      s.unpin();
      cache.retire(s, t);
      opener = this::reopenSameFile;
    }
  }

  /** Reopens by path and checks that it is still this binding's file. */
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

  static void closeSuppressing(Closeable c, Throwable failure) {
    try {
      c.close();
    } catch (IOException e) {
      failure.addSuppressed(e);
    }
  }

  /**
   * What failed in an earlier fsync of this binding's file, where the file system gives no file key
   * (else {@link OpenFileRegistry} remembers it by path and identity, for every binding of the file);
   * null if none did.
   */
  private volatile String syncFailure;

  /**
   * Runs {@code fsync} on this binding's file, unless an earlier fsync of the file failed in this
   * process: then it fails at once, since no fsync can make durable what the failed one may have lost.
   * A failure of {@code fsync} is remembered the same way. See {@link CachedFile#fsync}.
   */
  void fsync(CachedFile.IoAction fsync) throws IOException {
    Object key = identity.current;
    String earlier = key != null ? OpenFileRegistry.earlierSyncFailure(path, key) : syncFailure;
    if (earlier != null) {
      throw new SyncFailedException("an earlier fsync of " + path + " failed in this process ("
          + earlier + "): the kernel may have dropped what was written before it, and reports that"
          + " once, so no later fsync of this file can be taken as durable. Write the content to a new"
          + " file, for example with a crash-safe overwrite");
    }
    try {
      fsync.run();
    } catch (IOException | RuntimeException e) {
      if (key != null) {
        OpenFileRegistry.syncFailed(path, key, e);
      } else {
        syncFailure = String.valueOf(e);
      }
      throw e;
    }
  }

  /** By {@link OpenFileRegistry#rename}, under the path's lock: a rename to {@code newKey} is starting. */
  void expectReplacement(Object newKey) {
    updateIdentity(id -> new Identity(id.current, newKey));
  }

  /** By {@link OpenFileRegistry#rename}, under the path's lock: the announced rename failed. */
  void replacementFailed() {
    updateIdentity(id -> new Identity(id.current, null));
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
    updateIdentity(id -> new Identity(newKey != null ? newKey : id.current, null));
    dropBinding();
  }

  /** Drops the cached descriptor: the next pin reopens. Operations in flight finish on the old one. */
  void dropBinding() {
    Slot<C> s = slot; // slot before tag: see the field comment
    long t = tag;
    if (s != null) {
      cache.retire(s, t);
    }
  }
}
