package io.virtualfile.internal;

/**
 * A lossy set of recently seen keys: the admission filter of one-time reads ({@link OneTimeOpen}). A
 * file read once is not worth a place in the cache; one read again while the filter still remembers
 * it is. Keys are remembered by hash in a table a few times larger than the cache, so a key is
 * forgotten once other keys overwrite its entry, after roughly as many other one-time misses as the
 * table has entries.
 *
 * <p>Thread-safe without synchronization, by design: entries are plain {@code int}s, read and written
 * racily. A lost or stale entry only changes whether one read is cached (an extra admission or a
 * delayed one); it can never change what a read returns.
 */
final class Doorkeeper {
  /** Entries per slot of the cache: a hot file is remembered across this many misses per slot. */
  private static final int ENTRIES_PER_SLOT = 4;

  private final int[] seen;

  Doorkeeper(int cacheCapacity) {
    int wanted = (int) Math.min(1 << 20, Math.max(64L, (long) cacheCapacity * ENTRIES_PER_SLOT));
    this.seen = new int[Integer.highestOneBit(wanted - 1) << 1]; // a power of two >= wanted
  }

  /** Remembers {@code key}, and returns whether it was remembered already. */
  boolean seenBefore(Object key) {
    int h = key.hashCode() * 0x9E3779B9; // spread, so that similar hashes use different entries
    h ^= h >>> 16;
    if (h == 0) {
      h = 1; // 0 marks an empty entry
    }
    int i = h & (seen.length - 1);
    if (seen[i] == h) {
      return true;
    }
    seen[i] = h;
    return false;
  }
}
