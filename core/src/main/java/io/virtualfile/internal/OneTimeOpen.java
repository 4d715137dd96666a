package io.virtualfile.internal;

import io.virtualfile.FileIoListener;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A descriptor opened for one read of a whole file and closed right after, in a slot that the {@link
 * ClockCache} lends for that time: the miss path of a one-time read that the cache does not keep.
 *
 * <h2>Why</h2>
 * A service that reads a file per request over many more files than the cache holds would otherwise
 * make every request a miss that evicts a descriptor, opens the file, checks the file's identity by
 * path before and after the open (so that later handles may share the descriptor), and lists the new
 * binding, only for the descriptor to be evicted unused. A one-time open does what a plain
 * open-read-close does: it opens, reads the size from the descriptor, and closes. The file it read is
 * the file it opened, whatever replaces the path meanwhile, so it needs no identity check.
 *
 * <h2>Admission</h2>
 * {@link #throughCache} decides: a read whose file has a listed binding (a cached descriptor, or other
 * open handles) goes through the cache, as a hit; so does a file missed by another one-time read a
 * short while ago (the {@link Doorkeeper} remembers it), which is then admitted to the cache. So files
 * read often are cached after their second read, and a uniform spread of reads over many files costs
 * no evictions.
 *
 * <h2>Bound</h2>
 * The slot is lent by {@link ClockCache#lend()}, reserved as a miss reserves one (with an eviction if
 * the clock finds no empty slot, and a wait while every slot is pinned), until {@link #close()}. So a
 * one-time descriptor counts against the cache's capacity like a cached one, and the descriptors of the
 * cache never exceed it. Closing it leaves the slot empty, ready for the next miss without an
 * eviction. The cache's {@link ClockCache#close()} does not wait for lent slots: the read goes on to
 * its end, whichever thread completes it, and then closes its descriptor.
 *
 * <p>Not thread-safe: one read owns it, and its steps run one after another.
 *
 * @param <C> the descriptor type
 */
public final class OneTimeOpen<C extends Closeable> {
  private final ClockCache<C> cache;
  private final Path path;
  private final Slot<C> lent;
  private final C channel;
  private boolean closed;

  private OneTimeOpen(ClockCache<C> cache, Path path, Slot<C> lent, C channel) {
    this.cache = cache;
    this.path = path;
    this.lent = lent;
    this.channel = channel;
  }

  /**
   * Whether a one-time read of {@code path} should open it through the cache ({@link
   * CachedFile#open(ClockCache, Path, OpenOptions, CachedFile.PathOpener)}) rather than {@link #open}
   * its own descriptor: see the class comment. Remembers the miss when it answers {@code false}.
   */
  public static boolean throughCache(
      ClockCache<?> cache, Path path, OpenOptions options, CachedFile.PathOpener<?> opener) {
    if (!options.shareable()) {
      return true;
    }
    Object key = CachedFile.shareKey(path, options, opener);
    return cache.shared.containsKey(key) || cache.oneTimeMisses.seenBefore(key);
  }

  /**
   * Reserves a slot and opens {@code path} with the options' first open, reported to the cache's
   * listeners as an open. May block: it opens a file, and may evict a descriptor or wait for a slot as
   * a miss does.
   */
  public static <C extends Closeable> OneTimeOpen<C> open(
      ClockCache<C> cache, Path path, OpenOptions options, CachedFile.PathOpener<C> opener)
      throws IOException {
    FileIoListener l = cache.events().listener();
    long t0 = Events.start(l);
    Slot<C> s = null;
    try {
      s = cache.lend();
      C channel = opener.open(path, options.firstOpen());
      Events.operation(l, FileIoListener.Operation.OPEN, t0, 0, null);
      return new OneTimeOpen<>(cache, path, s, channel);
    } catch (IOException | RuntimeException | Error e) {
      if (s != null) {
        cache.giveBack(s);
      }
      Events.operation(l, FileIoListener.Operation.OPEN, t0, 0, e);
      throw e;
    }
  }

  public C channel() {
    return channel;
  }

  public Path path() {
    return path;
  }

  /**
   * Closes the descriptor and returns the slot, empty, to the cache; reported as a close. Call once no
   * operation is in flight on the descriptor. Idempotent. The slot is returned even if the close fails.
   */
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    FileIoListener l = cache.events().listener();
    long t0 = Events.start(l);
    try {
      channel.close();
    } catch (IOException | RuntimeException | Error e) {
      Events.operation(l, FileIoListener.Operation.CLOSE, t0, 0, e);
      throw e;
    } finally {
      cache.giveBack(lent);
    }
    Events.operation(l, FileIoListener.Operation.CLOSE, t0, 0, null);
  }
}
