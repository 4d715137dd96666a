package io.virtualfile;

/**
 * A snapshot of an {@link OpenFileCache}'s counters. The counters are read one after another without a
 * common lock, so under concurrent use the fields may be from slightly different instants.
 *
 * @param hits operations that found their file's descriptor still cached
 * @param misses descriptors opened: first opens, reopens after eviction, and descriptors opened for
 *     one whole-file read only (a slot lent for the read; see {@code AsyncVirtualFile.readAll(Path,
 *     AsyncFileIo)})
 * @param evictions cached descriptors closed to make room for another file
 * @param openHandles descriptors the cache holds open now (at most its capacity), including shared
 *     descriptors kept after their last handle closed and descriptors lent to one whole-file read
 */
public record CacheStats(long hits, long misses, long evictions, int openHandles) {}
