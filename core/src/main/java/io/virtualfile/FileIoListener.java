package io.virtualfile;

import io.virtualfile.CrashSafeOverwriteException.Step;

/**
 * Told what an {@link OpenFileCache} (or a reactive {@code AsyncFileIo}) and the virtual files on it do:
 * each operation's duration and outcome, the overwrite's steps, waits for a descriptor slot, and the
 * batches of shared directory fsyncs. Meant for metrics; {@code io.virtualfile:virtualfile-micrometer}
 * binds it to Micrometer.
 *
 * <p>Every method has an empty default, so an implementation overrides only what it wants. Register one
 * with {@link OpenFileCache#addListener(FileIoListener)} (or {@code AsyncFileIo.addListener} / {@code
 * AsyncFileIo.Builder.listener}), at any time. A cache with no listener reads no clock and makes no call:
 * listening costs nothing until a listener is added.
 *
 * <h2>Threads</h2>
 * Callbacks run on the thread that finished the event, while the operation's caller waits for it: the
 * caller's thread for a blocking {@link VirtualFile} operation, an IO thread ({@code virtualfile-io-N})
 * for a reactive one, the thread whose miss evicted a descriptor for {@link Operation#EVICTION}. They may
 * run on many threads at once, so an implementation must be thread-safe, and it must be cheap and never
 * block: a counter increment or a timer record, nothing that waits for a lock held across IO, does IO, or
 * uses the cache it listens to. What a callback throws is logged and otherwise ignored: it never fails
 * the operation.
 *
 * <h2>Which events</h2>
 * Durations are in nanoseconds of {@link System#nanoTime()}; a failure is the {@link Throwable} the
 * operation reports (the caller's exception), or {@code null} on success. An event is emitted once the
 * operation's outcome is known, whether or not anyone still waits for it (a cancelled reactive read
 * still completes in the kernel, and is reported then). A reactive read or write cancelled before its
 * IO started never ran, and is not reported.
 */
public interface FileIoListener {
  /** What an {@link #operation} event is about. */
  enum Operation {
    /**
     * Opening a virtual file: the first open of its path, or joining the path's cached descriptor
     * (which costs a {@code stat}); the time includes waiting for a slot.
     */
    OPEN,
    /**
     * Reopening the descriptor of a virtual file after eviction (or after the file was replaced by an
     * overwrite); the time includes waiting for a slot and checking the file's identity.
     */
    REOPEN,
    /** Closing a virtual file (its descriptor may stay cached; see {@link OpenFileCache}). */
    CLOSE,
    /** Closing the descriptor of another file to make room in the cache: the time of that close. */
    EVICTION,
    /** A positional read: {@code bytes} is how many were read (0 at the end of the file). */
    READ,
    /** A positional write: {@code bytes} is how many were written. */
    WRITE,
    /** {@code sync()}: {@code force(true)}. */
    FSYNC,
    /** {@code syncData()}: {@code force(false)}. */
    FDATASYNC,
    /** Reading the file's size. */
    SIZE,
    /** Truncating the file. */
    TRUNCATE,
    /**
     * Opening, fsyncing and closing a directory: the end of an overwrite, {@link
     * VirtualFile#fsyncDirectory(java.nio.file.Path)}, or one fsync that a reactive engine shares
     * between the overwrites of one directory (see {@link FileIoListener#directorySyncBatch(int)}).
     */
    DIRECTORY_FSYNC,
    /**
     * A whole crash-safe overwrite that passed validation, from its first step to its end: {@code
     * bytes} is the content's length. A cancelled reactive overwrite fails with a {@link
     * java.util.concurrent.CancellationException}.
     */
    OVERWRITE
  }

  /**
   * An operation finished.
   *
   * @param op which
   * @param nanos how long it took, from the start of its work (for a reactive read or write: from its
   *     subscription, so including any wait for an IO thread) to its outcome
   * @param bytes bytes transferred: for {@link Operation#READ}, {@link Operation#WRITE} and {@link
   *     Operation#OVERWRITE}; 0 for the others
   * @param failure what it failed with, or {@code null} if it succeeded
   */
  default void operation(Operation op, long nanos, long bytes, Throwable failure) {}

  /**
   * A step of a crash-safe overwrite finished, from {@link Step#REMOVE_STALE_TEMP} to {@link
   * Step#RENAME}; what follows the rename, the parent directory's fsync, is an {@link
   * Operation#DIRECTORY_FSYNC} operation (shared between overwrites by a reactive engine).
   *
   * @param bytes for {@link Step#WRITE}, the bytes written to the temp file; else 0
   * @param failure what the step failed with (the overwrite then fails with a {@link
   *     CrashSafeOverwriteException} naming the step), or {@code null}
   */
  default void overwriteStep(Step step, long nanos, long bytes, Throwable failure) {}

  /**
   * A reopen found every slot of the cache pinned by operations in flight, and waited.
   *
   * @param nanos how long it waited
   * @param acquired whether it got a slot; if not, it failed (its pin wait ran out, or its thread was
   *     interrupted)
   */
  default void pinWait(long nanos, boolean acquired) {}

  /**
   * A reactive engine starts one directory fsync for {@code overwrites} overwrites of one directory
   * (group commit): the fsync itself is then reported as one {@link Operation#DIRECTORY_FSYNC}.
   */
  default void directorySyncBatch(int overwrites) {}
}
