package io.virtualfile.internal;

import io.virtualfile.CrashSafeOverwriteException;
import io.virtualfile.CrashSafeOverwriteException.Step;
import io.virtualfile.FileIoListener;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The crash-safe overwrite, once: its validation, its steps in order ({@link #describe}), and what a
 * failure at each step means. Every engine runs the same description: the blocking overwrite ({@link
 * #run(ByteBuffer)}) runs each stage as it is described; the reactive pipeline makes each stage a Mono,
 * writes the temp file itself (with its fsync, where the engine runs the two as one request), and reports
 * a write or fsync failure through {@link #failed(Step, Throwable)}.
 *
 * <h2>Steps</h2>
 * remove stale temp (an explicit temp path only: a derived name is new, and {@code CREATE_NEW} would
 * refuse an existing file, so the step touches nothing), create temp ({@code CREATE_NEW}, owner-only,
 * then the final file's permissions),
 * write, fsync temp, close temp, atomic rename (readied first by {@link #prepareRename}, which holds the
 * file it replaces open until {@link #releaseReplaced}), open parent directory, fsync parent directory. A failure
 * up to and including the rename closes and removes the temp file (only if this overwrite created it:
 * a temp that {@code CREATE_NEW} found existing belongs to someone else) and leaves the final file as it
 * was. No step is ever retried.
 *
 * <h2>Validation (before anything is touched)</h2>
 * The final path needs a parent; it must be absent or a regular file (a directory, a symbolic link or a
 * special file is refused); an explicit temp path must be in the same directory, differ from the final
 * path and not be a directory; and, within this process, no other overwrite may be using the same
 * explicit temp path at the same time.
 *
 * <h2>Events</h2>
 * Each step up to the rename tells the listener of the {@link Events} given to {@link #prepare} its
 * duration and outcome when it ends ({@link #stepStarted} and {@link #stepDone} for a step that an
 * engine runs itself, such as the reactive write); the directory fsync after it is a {@code
 * DIRECTORY_FSYNC} operation of {@link #syncDirectory}, and {@link #finish(Throwable)} reports the whole
 * overwrite. The listener is read once, by {@link #prepare}. An engine that runs the last write and the
 * temp file's fsync as one request reports {@code WRITE} when that request ends, then {@code SYNC_TEMP}
 * with no time of its own (its time is in the write's).
 *
 * <p>Not thread-safe: one overwrite, one step at a time.
 *
 * @param <T> the temp file handle
 */
public final class OverwriteProtocol<T extends FileOps.TempFile> {
  private static final System.Logger LOG = System.getLogger(OverwriteProtocol.class.getName());

  private static final Set<PosixFilePermission> NEW_FILE_PERMISSIONS =
      PosixFilePermissions.fromString("rw-------");

  /**
   * Explicit temp paths claimed by overwrites in flight in this process. Invariant: a path is in the set
   * from {@link #prepare} until the overwrite that added it has finished, including its cleanup, so two
   * overwrites never remove or rename each other's temp file. Derived temp names are unique and never
   * enter the set.
   */
  private static final Set<Path> CLAIMED_TEMPS = ConcurrentHashMap.newKeySet();

  private final FileOps ops;
  private final FileOps.TempFiles<T> temps;
  private final Path finalPath;
  private final Path tmpPath;
  private final Path dir;
  private final Set<PosixFilePermission> permissions;
  private final Path claimed;

  private T temp;
  private boolean tempCreated;
  private boolean finished;

  /** Told the steps and the outcome; read once by {@link #prepare}. */
  private final FileIoListener listener;

  /** When {@link #prepare} made this overwrite (0 if nobody listens). */
  private final long started;

  /** The step under way (begun and not yet reported), and when it began. */
  private Step current;

  private long stepStart;

  /** Bytes written to the temp file. */
  private long written;

  /** The temp file's identity, taken by {@link #prepareRename} for the rename to register. */
  private Object tempKey;

  private boolean renamePrepared;

  /**
   * The file the rename replaces, held open from {@link #prepareRename} until {@link #releaseReplaced}
   * (the blocking overwrite, right after the rename) or {@link #finish} (the reactive one); or null.
   * Only this overwrite's steps and {@link #finish} touch it, one at a time (see the class comment).
   */
  private Closeable replaced;

  /** The failure {@link #failed} reported, if any. */
  private Throwable failure;

  private OverwriteProtocol(
      FileOps ops, FileOps.TempFiles<T> temps, Path finalPath, Path tmpPath, Path dir,
      Set<PosixFilePermission> permissions, Path claimed, FileIoListener listener) {
    this.ops = ops;
    this.temps = temps;
    this.finalPath = finalPath;
    this.tmpPath = tmpPath;
    this.dir = dir;
    this.permissions = permissions;
    this.claimed = claimed;
    this.listener = listener;
    this.started = Events.start(listener);
  }

  /**
   * Validates the paths and, for an explicit temp path, claims it.
   *
   * @param tmpPath the caller's temp path, or {@code null} to derive an unpredictable one
   * @throws IllegalArgumentException for a path that cannot be overwritten this way (nothing touched)
   * @throws CrashSafeOverwriteException at {@link Step#REMOVE_STALE_TEMP} if another overwrite in this
   *     process is using the same explicit temp path
   * @throws IOException if the final path cannot be inspected
   */
  public static <T extends FileOps.TempFile> OverwriteProtocol<T> prepare(
      FileOps ops, FileOps.TempFiles<T> temps, Path finalPath, Path tmpPath) throws IOException {
    return prepare(ops, temps, finalPath, tmpPath, Events.UNOBSERVED);
  }

  /** As {@link #prepare(FileOps, FileOps.TempFiles, Path, Path)}, telling {@code events}' listener. */
  public static <T extends FileOps.TempFile> OverwriteProtocol<T> prepare(
      FileOps ops, FileOps.TempFiles<T> temps, Path finalPath, Path tmpPath, Events events)
      throws IOException {
    Objects.requireNonNull(finalPath, "finalPath");
    Path dir = finalPath.getParent();
    if (dir == null) {
      throw new IllegalArgumentException(
          "finalPath has no parent directory (use ./" + finalPath + "): " + finalPath);
    }
    Path tmp;
    if (tmpPath == null) {
      tmp = TempNames.derive(finalPath);
    } else {
      tmp = tmpPath;
      Path tmpDir = tmpPath.getParent();
      if (tmpDir == null || !sameDirectory(tmpDir, dir)) {
        throw new IllegalArgumentException(
            "tmpPath must be in finalPath's directory " + dir + " (a rename across directories is"
                + " not atomic): " + tmpPath);
      }
      if (tmpPath.toAbsolutePath().normalize().equals(finalPath.toAbsolutePath().normalize())) {
        throw new IllegalArgumentException("tmpPath is finalPath: " + tmpPath);
      }
      if (ops.kindOf(tmpPath) == FileOps.Kind.DIRECTORY) {
        throw new IllegalArgumentException("tmpPath is a directory: " + tmpPath);
      }
    }
    Set<PosixFilePermission> permissions;
    switch (ops.kindOf(finalPath)) {
      case ABSENT:
        permissions = NEW_FILE_PERMISSIONS;
        break;
      case REGULAR_FILE:
        permissions = ops.permissionsOf(finalPath);
        break;
      case DIRECTORY:
        throw new IllegalArgumentException("finalPath is a directory: " + finalPath);
      case SYMBOLIC_LINK:
        throw new IllegalArgumentException(
            "finalPath is a symbolic link; to overwrite its target pass finalPath.toRealPath(): "
                + finalPath);
      default:
        throw new IllegalArgumentException("finalPath is not a regular file: " + finalPath);
    }
    Path claimed = null;
    if (tmpPath != null) {
      claimed = tmpPath.toAbsolutePath().normalize();
      if (!CLAIMED_TEMPS.add(claimed)) {
        throw new CrashSafeOverwriteException(
            finalPath,
            Step.REMOVE_STALE_TEMP,
            new IOException(
                "tmpPath is in use by another overwrite in this process (or by a cancelled one whose"
                    + " cleanup is still running); not removing it: " + tmpPath));
      }
    }
    return new OverwriteProtocol<>(
        ops, temps, finalPath, tmp, dir, permissions, claimed, events.listener());
  }

  /**
   * Whether an overwrite in this process holds {@code tmpPath}: it does until it has finished, its
   * cleanup included. For tests that must know a cancelled overwrite has ended.
   */
  public static boolean claimed(Path tmpPath) {
    return CLAIMED_TEMPS.contains(tmpPath.toAbsolutePath().normalize());
  }

  private static boolean sameDirectory(Path a, Path b) {
    return a.toAbsolutePath().normalize().equals(b.toAbsolutePath().normalize());
  }

  public Path directory() {
    return dir;
  }

  /** How an engine runs the stages of {@link #describe}; {@code R} is its form of a stage. */
  public interface Stages<R> {
    /** A step that blocks, done by {@code action} (one of this class's step methods). */
    R blocking(Step step, StepAction action);

    /** Writing the content to the temp file, the engine's own way. */
    R write();

    /**
     * {@link #prepareRename()} on the overwrite's own thread, then {@link #rename()} (which an engine may
     * queue behind the directory's other renames), then the parent directory's fsync (which an engine
     * may share).
     */
    R renameAndSyncParent();

    /** The stages, one after another: a later one starts only if the earlier ones succeeded. */
    R sequence(List<R> stages);
  }

  /** A blocking step of the protocol. */
  @FunctionalInterface
  public interface StepAction {
    void run() throws CrashSafeOverwriteException;
  }

  /**
   * The overwrite's stages in order, on {@code stages}; {@code protocol} gives the prepared protocol
   * when a stage runs (an engine may prepare it in its first stage).
   */
  public static <R> R describe(Stages<R> stages, Supplier<OverwriteProtocol<?>> protocol) {
    return stages.sequence(Arrays.asList( // not List.of: an eager engine's stages may be null
        stages.blocking(Step.REMOVE_STALE_TEMP, () -> protocol.get().removeStaleTemp()),
        stages.blocking(Step.CREATE_TEMP, () -> protocol.get().createTemp()),
        stages.write(),
        stages.blocking(Step.SYNC_TEMP, () -> protocol.get().syncTemp()),
        stages.blocking(Step.CLOSE_TEMP, () -> protocol.get().closeTemp()),
        stages.renameAndSyncParent()));
  }

  /** Runs every step in order, blocking: {@link #describe} run eagerly, stage by stage. */
  public void run(ByteBuffer content) throws CrashSafeOverwriteException {
    Throwable outcome = null;
    try {
      describe(new Stages<Void>() {
        @Override
        public Void blocking(Step step, StepAction action) {
          return sneak(action);
        }

        @Override
        public Void write() {
          return sneak(() -> OverwriteProtocol.this.write(content));
        }

        @Override
        public Void renameAndSyncParent() {
          return sneak(() -> {
            prepareRename();
            rename();
            releaseReplaced(); // before the directory is opened: one descriptor at a time
            syncParent();
          });
        }

        @Override
        public Void sequence(List<Void> stages) {
          return null; // each ran as it was described, in order
        }
      }, () -> this);
    } catch (Unchecked e) {
      outcome = e.failure;
      throw e.failure;
    } catch (RuntimeException | Error e) {
      outcome = e;
      throw e;
    } finally {
      finish(outcome);
    }
  }

  /** Carries a step's failure out of a stage built by an expression. */
  private static final class Unchecked extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final CrashSafeOverwriteException failure;

    Unchecked(CrashSafeOverwriteException failure) {
      super(null, null, false, false);
      this.failure = failure;
    }
  }

  private static Void sneak(StepAction action) {
    try {
      action.run();
    } catch (CrashSafeOverwriteException e) {
      throw new Unchecked(e);
    }
    return null;
  }

  /** The temp file, once created and until closed. */
  public T temp() {
    return temp;
  }

  public void removeStaleTemp() throws CrashSafeOverwriteException {
    stepStarted(Step.REMOVE_STALE_TEMP);
    try {
      // Only a caller's temp path can be stale. A derived name has 64 random bits; looking it up would
      // cost a lookup of a missing name, under the directory's lock, that every create and rename
      // there contends for.
      if (claimed != null) {
        ops.deleteIfExists(tmpPath);
      }
    } catch (IOException | RuntimeException e) {
      throw failed(Step.REMOVE_STALE_TEMP, e);
    }
    stepDone(Step.REMOVE_STALE_TEMP, 0);
  }

  /** Creates and opens the temp file; a {@code CREATE_NEW} race with someone else fails here. */
  public T createTemp() throws CrashSafeOverwriteException {
    stepStarted(Step.CREATE_TEMP);
    try {
      temp = temps.createNew(tmpPath, permissions);
    } catch (IOException | RuntimeException e) {
      throw failed(Step.CREATE_TEMP, e);
    }
    tempCreated = true;
    stepDone(Step.CREATE_TEMP, 0);
    return temp;
  }

  public void write(ByteBuffer content) throws CrashSafeOverwriteException {
    stepStarted(Step.WRITE);
    int bytes = content.remaining();
    try {
      temp.writeAll(content);
    } catch (IOException | RuntimeException e) {
      throw failed(Step.WRITE, e);
    }
    stepDone(Step.WRITE, bytes);
  }

  public void syncTemp() throws CrashSafeOverwriteException {
    stepStarted(Step.SYNC_TEMP);
    try {
      temp.sync();
    } catch (IOException | RuntimeException e) {
      throw failed(Step.SYNC_TEMP, e);
    }
    stepDone(Step.SYNC_TEMP, 0);
  }

  /** Closes the temp file before the rename, checking the close's error (it may report a write error). */
  public void closeTemp() throws CrashSafeOverwriteException {
    stepStarted(Step.CLOSE_TEMP);
    T t = temp;
    temp = null; // closed or not, never closed a second time by the cleanup
    try {
      t.close();
    } catch (IOException | RuntimeException e) {
      throw failed(Step.CLOSE_TEMP, e);
    }
    stepDone(Step.CLOSE_TEMP, 0);
  }

  /**
   * {@code step} begins: for the listener (see the class comment). The step methods call it
   * themselves; an engine that runs a step its own way (the reactive write) calls it, then {@link
   * #stepDone} or {@link #failed}.
   */
  public void stepStarted(Step step) {
    current = step;
    stepStart = Events.start(listener);
  }

  /** {@code step} succeeded, having written {@code bytes} (for {@link Step#WRITE}). */
  public void stepDone(Step step, long bytes) {
    if (step == Step.WRITE) {
      written += bytes;
    }
    if (current == step) {
      current = null;
      Events.overwriteStep(listener, step, stepStart, bytes, null);
    }
  }

  /**
   * The part of the step {@link Step#RENAME} that need not wait for the directory's other renames, done
   * before it on the overwrite's own thread: takes the temp file's identity for {@link #rename()}, and
   * holds the file the rename will replace open ({@link FileOps#holdReplaced}) until {@link
   * #releaseReplaced} or {@link #finish}.
   *
   * <p>Why hold it: a rename that removes a file's last link frees the file (its blocks and its inode)
   * if no one has it open, inside the rename's system call, while the call holds the directory's lock;
   * every create and rename in that directory waits for it, and the renames of one directory run one
   * at a time anyway. Held open, the file is freed by the close in {@link #releaseReplaced}, outside that
   * lock.
   * Holding it changes nothing on disk: the rename replaces the name either way, and a crash before the
   * close leaves the file to the file system's recovery of unlinked files, as any open unlinked file.
   */
  public void prepareRename() throws CrashSafeOverwriteException {
    stepStarted(Step.RENAME);
    try {
      tempKey = ops.fileKey(tmpPath);
    } catch (IOException | RuntimeException e) {
      throw failed(Step.RENAME, e);
    }
    renamePrepared = true;
    replaced = ops.holdReplaced(finalPath);
  }

  /**
   * Renames the temp file over the final file, through {@link OpenFileRegistry#rename}: renames of one
   * path in this process take effect one at a time, and open virtual files of the final path are told
   * before (so a reopen during the rename may meet either file) and after (they drop their cached
   * descriptors, so every operation that starts after this returns uses the new file; operations in
   * flight finish on the old one).
   */
  public void rename() throws CrashSafeOverwriteException {
    if (!renamePrepared) {
      prepareRename();
    }
    stepStarted(Step.RENAME);
    try {
      OpenFileRegistry.rename(finalPath, tempKey, () -> ops.atomicMove(tmpPath, finalPath));
    } catch (IOException | RuntimeException e) {
      throw failed(Step.RENAME, e);
    }
    tempCreated = false; // it is the final file now
    stepDone(Step.RENAME, 0);
  }

  /** Opens the parent directory, fsyncs it and closes it: the two steps after the rename. */
  public void syncParent() throws CrashSafeOverwriteException {
    try {
      syncDirectory(ops, dir, listener);
    } catch (StepFailure e) {
      throw failed(e.step(), e.getCause());
    }
  }

  /**
   * The steps {@link Step#OPEN_PARENT} and {@link Step#SYNC_PARENT} on their own, for a directory fsync
   * shared by several overwrites: opens {@code dir}, fsyncs it, closes it (a close error counts as a
   * failed sync).
   *
   * @throws StepFailure naming the step that failed
   */
  public static void syncDirectory(FileOps ops, Path dir) throws StepFailure {
    syncDirectory(ops, dir, Events.NONE);
  }

  /**
   * As {@link #syncDirectory(FileOps, Path)}, telling {@code events}' listener a {@code
   * DIRECTORY_FSYNC} operation.
   */
  public static void syncDirectory(FileOps ops, Path dir, Events events) throws StepFailure {
    syncDirectory(ops, dir, events.listener());
  }

  private static void syncDirectory(FileOps ops, Path dir, FileIoListener l) throws StepFailure {
    long t0 = Events.start(l);
    try {
      syncDirectoryUntimed(ops, dir);
    } catch (StepFailure e) {
      Events.operation(l, FileIoListener.Operation.DIRECTORY_FSYNC, t0, 0, e.getCause());
      throw e;
    }
    Events.operation(l, FileIoListener.Operation.DIRECTORY_FSYNC, t0, 0, null);
  }

  private static void syncDirectoryUntimed(FileOps ops, Path dir) throws StepFailure {
    FileOps.Directory d;
    try {
      d = ops.openDirectory(dir);
    } catch (IOException | RuntimeException e) {
      throw new StepFailure(Step.OPEN_PARENT, e);
    }
    try {
      d.sync();
    } catch (IOException | RuntimeException e) {
      StepFailure failure = new StepFailure(Step.SYNC_PARENT, e);
      closeSuppressing(d::close, failure);
      throw failure;
    }
    try {
      d.close();
    } catch (IOException | RuntimeException e) {
      throw new StepFailure(Step.SYNC_PARENT, e);
    }
  }

  /**
   * Records that {@code step} failed with {@code cause}: before the rename the temp file is closed and
   * removed (their own errors are added as suppressed). Returns the exception to report.
   */
  public CrashSafeOverwriteException failed(Step step, Throwable cause) {
    CrashSafeOverwriteException failure = new CrashSafeOverwriteException(finalPath, step, cause);
    if (current == step) {
      current = null;
      Events.overwriteStep(listener, step, stepStart, 0, cause);
    }
    if (this.failure == null) {
      this.failure = failure;
    }
    if (!step.afterRename()) {
      removeTemp(failure);
    }
    return failure;
  }

  /**
   * Abandons an overwrite that stopped between steps (a cancelled pipeline): before the rename the temp
   * file is closed and removed. Errors of that cleanup are thrown. Then {@link #finish()}.
   */
  public void abandon() throws IOException {
    IOException failure = new IOException("cleaning up the abandoned overwrite of " + finalPath);
    try {
      removeTemp(failure);
    } finally {
      finish(new CancellationException("the overwrite of " + finalPath + " was cancelled"));
    }
    if (failure.getSuppressed().length > 0) {
      throw failure;
    }
  }

  /**
   * Releases the claim on an explicit temp path. Idempotent. Call after any cleanup. The overwrite is
   * reported as failed if a step {@link #failed}, else as succeeded; {@link #finish(Throwable)} says
   * otherwise.
   */
  public void finish() {
    finish(null);
  }

  /**
   * As {@link #finish()}, the overwrite having ended with {@code outcome} ({@code null}: as far as this
   * protocol saw). Only the first call reports it.
   */
  public void finish(Throwable outcome) {
    if (!finished) {
      finished = true;
      if (claimed != null) {
        CLAIMED_TEMPS.remove(claimed);
      }
      Throwable reported = outcome != null ? outcome : failure;
      releaseReplaced(reported);
      Events.operation(listener, FileIoListener.Operation.OVERWRITE, started, written, reported);
    }
  }

  /**
   * Closes the replaced file held since {@link #prepareRename}, if it is still held: once the rename is
   * done, or at the latest in {@link #finish}. Idempotent.
   */
  public void releaseReplaced() {
    releaseReplaced(failure);
  }

  /**
   * Nothing was written through the held file, so a failed close says nothing about either file's
   * content: it is added to the overwrite's failure, or, for an overwrite that succeeded, logged.
   */
  private void releaseReplaced(Throwable reported) {
    Closeable r = replaced;
    replaced = null;
    if (r == null) {
      return;
    }
    try {
      r.close();
    } catch (IOException | RuntimeException e) {
      if (reported != null) {
        reported.addSuppressed(e);
      } else {
        LOG.log(System.Logger.Level.WARNING,
            "closing the file replaced by the overwrite of " + finalPath + " failed", e);
      }
    }
  }

  private void removeTemp(Throwable failure) {
    T t = temp;
    temp = null;
    if (t != null) {
      closeSuppressing(t::close, failure);
    }
    if (tempCreated) {
      tempCreated = false;
      try {
        ops.deleteIfExists(tmpPath);
      } catch (IOException | RuntimeException e) {
        failure.addSuppressed(e);
      }
    }
  }

  @FunctionalInterface
  private interface Closer {
    void close() throws IOException;
  }

  private static void closeSuppressing(Closer c, Throwable failure) {
    try {
      c.close();
    } catch (IOException | RuntimeException e) {
      failure.addSuppressed(e);
    }
  }
}
