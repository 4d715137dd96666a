package io.virtualfile.internal;

import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The open virtual files of the process, by path, so that an overwrite through this library can tell
 * every handle of its path (in every cache, core or reactive) that the file is being replaced.
 *
 * <p>Protocol, driven by {@link OverwriteProtocol#rename()}: {@link #replacing} before the rename (the
 * handles accept the temp file's identity as well as the old one: a reopen may meet either),
 * then {@link #replaced} after it (the new identity is the only one; cached descriptors are dropped so
 * the next operation reopens the new file), or {@link #replaceFailed} if the rename failed.
 *
 * <p>Paths are compared absolute and normalized; a file reached through a symbolic link or a hard link
 * under another name is a different entry. Handles are registered at open and removed at close: a handle
 * that is never closed stays registered. Thread-safe.
 */
public final class OpenFileRegistry {
  private static final ConcurrentHashMap<Path, Set<CachedFile<?>>> OPEN = new ConcurrentHashMap<>();

  private OpenFileRegistry() {}

  static Path key(Path path) {
    return path.toAbsolutePath().normalize();
  }

  static void register(CachedFile<?> file) {
    OPEN.compute(key(file.path()), (k, set) -> {
      Set<CachedFile<?>> s = set == null ? ConcurrentHashMap.newKeySet() : set;
      s.add(file);
      return s;
    });
  }

  static void unregister(CachedFile<?> file) {
    OPEN.computeIfPresent(key(file.path()), (k, set) -> {
      set.remove(file);
      return set.isEmpty() ? null : set;
    });
  }

  private static Set<CachedFile<?>> at(Path path) {
    return OPEN.getOrDefault(key(path), Set.of());
  }

  /** The file at {@code path} is about to be replaced by the file whose key is {@code newKey}. */
  public static void replacing(Path path, Object newKey) {
    for (CachedFile<?> f : at(path)) {
      f.expectReplacement(newKey);
    }
  }

  /** The rename that {@link #replacing} announced failed: the old file stays. */
  public static void replaceFailed(Path path, Object newKey) {
    for (CachedFile<?> f : at(path)) {
      f.replacementFailed(newKey);
    }
  }

  /**
   * The file at {@code path} is now the one whose key is {@code newKey}. Returns once every handle of the
   * path has dropped its cached descriptor, after the operations in flight on it finished.
   */
  public static void replaced(Path path, Object newKey) {
    for (CachedFile<?> f : at(path)) {
      f.replaced(newKey);
    }
  }
}
