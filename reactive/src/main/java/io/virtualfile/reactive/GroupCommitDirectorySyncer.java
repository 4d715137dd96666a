package io.virtualfile.reactive;

import io.virtualfile.internal.FileOps;
import io.virtualfile.internal.OverwriteProtocol;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.scheduler.Scheduler;

/**
 * Group commit of directory fsyncs: overwrites of different files in one directory share them.
 *
 * <h2>Safety</h2>
 * A directory fsync makes durable the entries changed <em>before it started</em>. So a rename is never
 * attached to a sync already running: its request waits for the next one, which starts only after the
 * running one finished, and so after the rename. Invariant, per directory: at most one sync runs; {@code
 * pending} holds the requests of renames made since it started; when it finishes, all of {@code pending}
 * become the next batch and one new sync starts for them.
 *
 * <h2>Order</h2>
 * The rename and the registration of its request happen together under the directory's lock, so
 * requests are registered in rename order and batches complete in that order: of two overwrites of one
 * path, the one whose content stays is the one that completes last.
 *
 * <h2>Concurrency</h2>
 * All state of a directory lives in its {@link Group} inside {@link #groups}; every transition (rename
 * and add a request, start a batch, finish a batch, drop an idle group) runs inside {@link
 * ConcurrentHashMap#compute}, which holds the map's lock for that key, so transitions of one directory
 * are serialized and no group is dropped while a request is being added to it. The fsync itself runs on
 * the blocking scheduler, outside that lock.
 *
 * <h2>Errors</h2>
 * A failed open or fsync fails every request of its batch (each overwrite reports it as its own
 * {@code OPEN_PARENT} or {@code SYNC_PARENT} failure); it is not retried. Later requests get a new fsync
 * of their own renames.
 */
final class GroupCommitDirectorySyncer implements DirectorySyncer {
  /** The state of one directory. Guarded by the map's lock for its key. */
  private static final class Group {
    boolean running;
    List<MonoSink<Void>> pending = new ArrayList<>();
  }

  private final FileOps ops;
  private final Scheduler blocking;
  private final SyncGate gate;
  private final ConcurrentHashMap<Path, Group> groups = new ConcurrentHashMap<>();

  GroupCommitDirectorySyncer(FileOps ops, Scheduler blocking, SyncGate gate) {
    this.ops = ops;
    this.blocking = blocking;
    this.gate = gate;
  }

  /** Signals arrive on the blocking scheduler. */
  @Override
  public Mono<Void> renameThenSync(Path dir, Rename rename) {
    Path key = dir.toAbsolutePath().normalize();
    return Mono.create(sink -> {
      @SuppressWarnings("unchecked")
      List<MonoSink<Void>>[] toStart = new List[1];
      Throwable[] renameFailure = new Throwable[1];
      groups.compute(key, (k, g) -> {
        try {
          rename.run();
        } catch (Throwable t) {
          renameFailure[0] = t;
          return g;
        }
        if (g == null) {
          g = new Group();
        }
        g.pending.add(sink);
        if (!g.running) {
          toStart[0] = takeBatch(g);
        }
        return g;
      });
      if (renameFailure[0] != null) {
        sink.error(renameFailure[0]);
      } else if (toStart[0] != null) {
        sync(key, toStart[0]); // on this (blocking) thread: no hand-off for an uncontended overwrite
      }
    });
  }

  /** Held under the key's lock. */
  private static List<MonoSink<Void>> takeBatch(Group g) {
    List<MonoSink<Void>> batch = g.pending;
    g.pending = new ArrayList<>();
    g.running = true;
    return batch;
  }

  /** Runs the batch's fsync on the calling thread, which must be allowed to block. */
  private void sync(Path dir, List<MonoSink<Void>> batch) {
    Mono.defer(() -> gate.beforeSync(dir))
        .then(Mono.fromCallable(() -> {
          OverwriteProtocol.syncDirectory(ops, dir);
          return true;
        }))
        .subscribe(null, failure -> finish(dir, batch, failure), () -> finish(dir, batch, null));
  }

  private void finish(Path dir, List<MonoSink<Void>> batch, Throwable failure) {
    @SuppressWarnings("unchecked")
    List<MonoSink<Void>>[] next = new List[1];
    groups.compute(dir, (k, g) -> {
      if (g.pending.isEmpty()) {
        return null; // idle: forget the directory
      }
      next[0] = takeBatch(g);
      return g;
    });
    for (MonoSink<Void> s : batch) {
      if (failure == null) {
        s.success();
      } else {
        s.error(failure);
      }
    }
    if (next[0] != null) {
      List<MonoSink<Void>> nextBatch = next[0];
      blocking.schedule(() -> sync(dir, nextBatch)); // a new task: no recursion from batch to batch
    }
  }
}
