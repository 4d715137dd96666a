package io.virtualfile.internal;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The open virtual files of the process, by path, so that an overwrite through this library can tell
 * every handle of its path (in every cache, core or reactive) that the file is being replaced.
 *
 * <h2>Protocol</h2>
 * {@link #rename} runs a library overwrite's rename: it tells the handles of the final path before (they
 * accept the temp file's identity as well as the old one: a reopen may meet either), renames, and then
 * tells them that the new identity is the only one (their cached descriptors are dropped, so the next
 * operation reopens the new file), or that the rename failed.
 *
 * <h2>Concurrency</h2>
 * Renames of one path are serialized by the path's lock (one of {@link #LOCKS}, chosen by the path's
 * hash). Invariant: while a path's lock is held, no other library rename of that path, no {@link
 * #deleteIfSame} of it and no registration of a binding of it runs; so the handles of a path learn of
 * its replacements one at a time and in the order the renames took effect, and a handle's identity
 * always names the file the path holds (or, during a rename, the file it is about to hold), unless a
 * file was replaced from outside this library. The lock is held for the rename syscall and the
 * notifications, a registration, or a {@link #deleteIfSame}; the notifications never wait (see {@link
 * FileBinding#replaced}).
 *
 * <h2>Registration</h2>
 * A binding registers before its first open, under its path's lock, and is removed when it dies (see
 * {@link FileBinding}; a handle that becomes unreachable unclosed is closed by its cleaner). Invariant:
 * a binding is registered only while no rename of its path is under way, so of each rename it hears
 * either every step (it registered before: its open and the rename may race, and the notifications
 * settle that) or none (it registered after the rename's notifications: its open finds the new file).
 * A binding that registered between a rename's announcement and its rename would accept neither the
 * file it opened before the rename nor the new one after it, until told that the rename completed, so
 * a reopen in that gap would refuse the new file as if it had been replaced from outside. The price:
 * a first open waits while a rename of its path (or of a path that shares its lock) runs, which is a
 * rename system call and the notifications.
 *
 * <p>Paths are compared absolute and normalized; a file reached through a symbolic link or a hard link
 * under another name is a different entry. Thread-safe.
 */
public final class OpenFileRegistry {
  private static final ConcurrentHashMap<Path, Set<FileBinding<?>>> OPEN = new ConcurrentHashMap<>();

  /** Striped: two paths may share a lock, which only serializes their renames. */
  private static final ReentrantLock[] LOCKS = new ReentrantLock[64];

  static {
    for (int i = 0; i < LOCKS.length; i++) {
      LOCKS[i] = new ReentrantLock();
    }
  }

  /** A blocking file-system step. */
  @FunctionalInterface
  public interface IoStep {
    void run() throws IOException;
  }

  private OpenFileRegistry() {}

  static Path key(Path path) {
    return path.toAbsolutePath().normalize();
  }

  /**
   * Registers {@code file} under its path's lock: see the class comment. Only a wait for the lock is
   * interruptible: a caller whose interrupt status is set registers if no rename is under way.
   *
   * @throws InterruptedIOException if interrupted while a rename of the path runs (nothing registered)
   */
  static void register(FileBinding<?> file) throws InterruptedIOException {
    ReentrantLock lock = lockOf(file.registryKey);
    if (!lock.tryLock()) {
      lock = lock(file.registryKey, "open");
    }
    try {
      OPEN.compute(file.registryKey, (k, set) -> {
        Set<FileBinding<?>> s = set == null ? ConcurrentHashMap.newKeySet() : set;
        s.add(file);
        return s;
      });
    } finally {
      lock.unlock();
    }
  }

  /** Whether a thread waits for the lock of {@code path} (to open it, or to rename over it): for tests. */
  static boolean lockWaitedFor(Path path) {
    return lockOf(key(path)).hasQueuedThreads();
  }

  static void unregister(FileBinding<?> file) {
    OPEN.computeIfPresent(file.registryKey, (k, set) -> {
      set.remove(file);
      return set.isEmpty() ? null : set;
    });
  }

  /**
   * Files an fsync of which failed in this process, by path and identity, with what failed. Entries are
   * never removed: after a failed fsync the kernel may have dropped the file's dirty pages and reports
   * the error once per open file description, so a later fsync (on another descriptor, or after a
   * reopen) may succeed with the data gone. The path is part of the key because an inode number is
   * reused once its file is gone: only a file that takes the same number at the same path (deleted and
   * created again by other means) inherits the entry. Grows only with fsync failures.
   */
  private static final ConcurrentHashMap<List<Object>, String> SYNC_FAILED = new ConcurrentHashMap<>();

  /** Records that an fsync of the file {@code fileKey} at {@code path} failed with {@code failure}. */
  static void syncFailed(Path path, Object fileKey, Throwable failure) {
    SYNC_FAILED.putIfAbsent(List.of(key(path), fileKey), String.valueOf(failure));
  }

  /** What failed in an earlier fsync of the file {@code fileKey} at {@code path}, or null. */
  static String earlierSyncFailure(Path path, Object fileKey) {
    return SYNC_FAILED.get(List.of(key(path), fileKey));
  }

  /** Open handles of {@code path} now, for tests and leak checks. */
  public static int registered(Path path) {
    return OPEN.getOrDefault(key(path), Set.of()).stream().mapToInt(FileBinding::handles).sum();
  }

  private static Set<FileBinding<?>> at(Path key) {
    return OPEN.getOrDefault(key, Set.of());
  }

  private static ReentrantLock lockOf(Path key) {
    return LOCKS[Math.floorMod(key.hashCode() * 0x9E3779B9, LOCKS.length)];
  }

  private static ReentrantLock lock(Path key, String what) throws InterruptedIOException {
    ReentrantLock lock = lockOf(key);
    try {
      lock.lockInterruptibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting to " + what + " " + key);
    }
    return lock;
  }

  /**
   * Runs {@code move}, which renames the file whose identity is {@code newKey} over {@code finalPath},
   * telling the handles of {@code finalPath} before and after; see the class comment. An interrupt
   * while waiting for the path's lock fails before anything is renamed.
   */
  public static void rename(Path finalPath, Object newKey, IoStep move) throws IOException {
    Path key = key(finalPath);
    ReentrantLock lock = lock(key, "rename over");
    try {
      for (FileBinding<?> f : at(key)) {
        f.expectReplacement(newKey);
      }
      try {
        move.run();
      } catch (IOException | RuntimeException | Error e) {
        for (FileBinding<?> f : at(key)) {
          f.replacementFailed();
        }
        throw e;
      }
      // The new file is not the one whose fsync failed, even if it took a freed inode number.
      if (newKey != null) {
        SYNC_FAILED.remove(List.of(key, newKey));
      }
      for (FileBinding<?> f : at(key)) {
        f.replaced(newKey);
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Deletes {@code path} if it still names the file whose identity is {@code fileKey} (for {@code
   * DELETE_ON_CLOSE}): content that a library overwrite installed since is not deleted. A replacement
   * by anything else between the check and the delete is not seen. Where the file system has no file
   * keys ({@code fileKey == null}) the path is deleted.
   *
   * @return whether a file was deleted
   */
  public static boolean deleteIfSame(Path path, Object fileKey) throws IOException {
    Path key = key(path);
    // Not interruptible: a close must finish its delete (the lock is held only for a rename).
    ReentrantLock lock = lockOf(key);
    lock.lock();
    try {
      if (fileKey != null) {
        Object now;
        try {
          now = JdkFileOps.INSTANCE.fileKey(path);
        } catch (NoSuchFileException e) {
          return false;
        }
        if (!fileKey.equals(now)) {
          return false;
        }
      }
      return Files.deleteIfExists(path);
    } finally {
      lock.unlock();
    }
  }
}
