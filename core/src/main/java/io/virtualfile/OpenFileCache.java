package io.virtualfile;

import io.virtualfile.internal.ClockCache;
import io.virtualfile.internal.Events;
import java.nio.channels.FileChannel;
import java.time.Duration;
import java.util.Objects;

/**
 * A bounded set of open file descriptors shared by many {@link VirtualFile}s.
 *
 * <p>The cache has {@link #capacity()} slots. A virtual file whose descriptor is cached pins it for the
 * length of one operation; a file whose descriptor was evicted reopens it by path on its next operation.
 * Victims are chosen by a clock (second chance): a hand sweeps the slots, skips pinned ones, clears the
 * reference bit of recently used ones, and takes the first idle unreferenced slot.
 *
 * <h2>Shared descriptors</h2>
 * Virtual files of one path opened with the same options share one descriptor, unless their options
 * give each its own: {@code CREATE_NEW}, {@code TRUNCATE_EXISTING} or {@code DELETE_ON_CLOSE} ({@code
 * CREATE} of a file that exists shares). An open of a path whose descriptor is cached costs one {@code
 * stat} (to check that the path still names that file) and no open. A shared descriptor stays cached
 * after its last virtual file closes, until it is evicted or its file is replaced by an overwrite
 * through this library: a service that opens a file per request reopens nothing while the file stays
 * in the cache. One consequence: the space of a file deleted by other means is freed only once its
 * descriptor leaves the cache (at most {@code capacity} such files are held).
 *
 * <h2>What "bounded" means</h2>
 * The cache holds at most {@code capacity} descriptors, however many files open or reopen at once: a
 * miss claims its slot before it opens the file. A descriptor with an operation in flight is never
 * closed. When every slot is pinned, a reopen <em>waits</em> for a slot to become idle, up to the cache's pin wait (10 seconds by default), and then
 * fails with an {@link java.io.IOException} saying that every slot stayed pinned. It never deadlocks: a
 * thread never holds a pin while it waits for a slot, not even when it uses two virtual files at once.
 *
 * <h2>Listening</h2>
 * A {@link FileIoListener} added with {@link #addListener(FileIoListener)} is told the duration and
 * outcome of every operation of the virtual files on this cache, its evictions and waits for a slot
 * (see {@link FileIoListener} for which thread tells it). The static calls that use no cache, {@link
 * VirtualFile#crashSafeOverwrite(java.nio.file.Path, java.nio.ByteBuffer)} and {@link
 * VirtualFile#fsyncDirectory(java.nio.file.Path)}, tell the listeners of the {@link #shared()} cache.
 * Without a listener nothing is measured: an operation reads no clock.
 *
 * <p>Thread-safe. The counters in {@link #stats()} are cheap to update and read without locks.
 */
public final class OpenFileCache implements AutoCloseable {
  /** System property that sets the capacity of {@link #shared()}. */
  public static final String MAX_OPEN_FILES_PROPERTY = "virtualfile.maxOpenFiles";

  static final int DEFAULT_SHARED_CAPACITY = 128;
  static final Duration DEFAULT_PIN_WAIT = Duration.ofSeconds(10);

  /** Written under OpenFileCache.class; volatile for {@link #sharedEvents()}, which takes no lock. */
  private static volatile OpenFileCache shared;

  private final ClockCache<FileChannel> slots;
  private final boolean isShared;

  private OpenFileCache(int capacity, Duration pinWait, boolean isShared) {
    this.slots = new ClockCache<>(capacity, pinWait);
    this.isShared = isShared;
  }

  /**
   * A cache of {@code capacity} descriptors whose reopens wait up to 10 seconds for a slot when all are
   * pinned.
   *
   * @throws IllegalArgumentException if {@code capacity < 1}
   */
  public static OpenFileCache create(int capacity) {
    return create(capacity, DEFAULT_PIN_WAIT);
  }

  /**
   * A cache of {@code capacity} descriptors whose reopens wait up to {@code pinWait} for a slot when all
   * are pinned, then fail.
   *
   * @throws IllegalArgumentException if {@code capacity < 1} or {@code pinWait} is negative
   */
  public static OpenFileCache create(int capacity, Duration pinWait) {
    Objects.requireNonNull(pinWait, "pinWait");
    return new OpenFileCache(capacity, pinWait, false);
  }

  /**
   * A cache of {@code capacity} descriptors whose reopens wait up to {@code pinWait} for a slot, with
   * {@code listener} added (see {@link #addListener(FileIoListener)}).
   *
   * @throws IllegalArgumentException if {@code capacity < 1} or {@code pinWait} is negative
   */
  public static OpenFileCache create(int capacity, Duration pinWait, FileIoListener listener) {
    Objects.requireNonNull(listener, "listener");
    OpenFileCache cache = create(capacity, pinWait);
    cache.addListener(listener);
    return cache;
  }

  /**
   * The process-wide cache used by {@link VirtualFile#open(java.nio.file.Path,
   * java.nio.file.OpenOption...)}. Its capacity is read once, on first use, from the system property
   * {@value #MAX_OPEN_FILES_PROPERTY} (default 128). It cannot be closed.
   *
   * @throws IllegalArgumentException if the property is not a whole number of at least 1
   */
  public static synchronized OpenFileCache shared() {
    if (shared == null) {
      String value = System.getProperty(MAX_OPEN_FILES_PROPERTY);
      int capacity = DEFAULT_SHARED_CAPACITY;
      if (value != null) {
        try {
          capacity = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException(
              MAX_OPEN_FILES_PROPERTY + " is not a whole number: \"" + value + "\"", e);
        }
        if (capacity < 1) {
          throw new IllegalArgumentException(MAX_OPEN_FILES_PROPERTY + " < 1: " + capacity);
        }
      }
      shared = new OpenFileCache(capacity, DEFAULT_PIN_WAIT, true);
    }
    return shared;
  }

  /** The listeners of the shared cache, or none if it was never created (so nobody listens to it). */
  static Events sharedEvents() {
    OpenFileCache s = shared;
    return s == null ? Events.UNOBSERVED : s.slots.events();
  }

  /**
   * Tells {@code listener} the events of this cache and of the virtual files on it from now on (an
   * operation already under way may go unreported). May be called at any time, from any thread; a
   * listener added twice is told twice. See {@link FileIoListener} for the threads it is called on.
   */
  public void addListener(FileIoListener listener) {
    slots.events().add(listener);
  }

  /**
   * Stops telling {@code listener} (one registration of it); an event under way may still reach it.
   *
   * @return whether it was registered
   */
  public boolean removeListener(FileIoListener listener) {
    return slots.events().remove(listener);
  }

  /** The number of descriptor slots. */
  public int capacity() {
    return slots.capacity();
  }

  /** The current counters. */
  public CacheStats stats() {
    return new CacheStats(
        slots.hits(), slots.misses(), slots.evictions(), slots.openDescriptors());
  }

  /**
   * Closes every cached descriptor, first letting operations in flight on each finish. Afterwards every
   * operation of a virtual file bound to this cache fails with a {@link
   * java.nio.channels.ClosedChannelException} that says the cache is closed. Idempotent.
   *
   * @throws IllegalStateException on the {@link #shared()} cache, which lives as long as the process
   * @throws java.io.UncheckedIOException if closing a descriptor failed (all are closed regardless)
   */
  @Override
  public void close() {
    if (isShared) {
      throw new IllegalStateException("the shared OpenFileCache cannot be closed");
    }
    slots.close();
  }

  ClockCache<FileChannel> slots() {
    return slots;
  }

  @Override
  public String toString() {
    return "OpenFileCache{capacity=" + capacity() + ", " + stats() + "}";
  }
}
