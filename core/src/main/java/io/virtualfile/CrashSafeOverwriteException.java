package io.virtualfile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A crash-safe overwrite failed at {@link #step()}.
 *
 * <p>If {@link #newContentVisible()} is {@code false} (every step up to and including {@link
 * Step#RENAME}) the final file was not touched and the temp file was removed: the old content, or no
 * file, is in place, and a retry writes a fresh temp file. If it is {@code true} ({@link
 * Step#OPEN_PARENT}, {@link Step#SYNC_PARENT}) the rename happened: readers see the new content, but
 * it may not survive a power cut. In neither case was an fsync retried.
 */
public class CrashSafeOverwriteException extends IOException {
  private static final long serialVersionUID = 1L;

  /** The steps of the overwrite protocol, in the order they run. */
  public enum Step {
    /**
     * Removing a temp file left by an earlier, interrupted overwrite at the caller's temp path (with a
     * derived temp name, nothing is touched: the name is new).
     */
    REMOVE_STALE_TEMP,
    /** Creating the temp file ({@code CREATE_NEW}, owner-only permissions). */
    CREATE_TEMP,
    /** Writing the content to the temp file. */
    WRITE,
    /** {@code force(true)} on the temp file. */
    SYNC_TEMP,
    /** Closing the temp file; its error is checked. */
    CLOSE_TEMP,
    /** {@code Files.move(temp, final, ATOMIC_MOVE)}. */
    RENAME,
    /** Opening the parent directory for its fsync. */
    OPEN_PARENT,
    /** {@code force(true)} on the parent directory. */
    SYNC_PARENT;

    /** Whether a failure at this step leaves the new content visible (the rename happened). */
    public boolean afterRename() {
      return compareTo(RENAME) > 0;
    }
  }

  private final Step step;
  private final Path finalPath;

  /**
   * @param finalPath the file being overwritten
   * @param step the step that failed
   * @param cause what that step threw
   */
  public CrashSafeOverwriteException(Path finalPath, Step step, Throwable cause) {
    super(message(finalPath, step, cause), cause);
    this.step = Objects.requireNonNull(step, "step");
    this.finalPath = finalPath;
  }

  private static String message(Path finalPath, Step step, Throwable cause) {
    String outcome =
        step.afterRename()
            ? "the new content is visible but may not be durable"
            : "the final file was not changed";
    return "crash-safe overwrite of " + finalPath + " failed at " + step + " (" + outcome + "): "
        + cause;
  }

  /** The step that failed. */
  public Step step() {
    return step;
  }

  /** The file that was being overwritten. */
  public Path finalPath() {
    return finalPath;
  }

  /**
   * True only when the rename happened and a later step failed: the new content is visible, its
   * durability unknown.
   */
  public boolean newContentVisible() {
    return step.afterRename();
  }
}
