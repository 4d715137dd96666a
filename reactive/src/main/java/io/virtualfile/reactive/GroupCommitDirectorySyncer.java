package io.virtualfile.reactive;

import io.virtualfile.CrashSafeOverwriteException.Step;
import io.virtualfile.internal.Events;
import io.virtualfile.internal.FileOps;
import io.virtualfile.internal.OverwriteProtocol;
import io.virtualfile.internal.StepFailure;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.scheduler.Scheduler;
import reactor.util.context.Context;

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
 * Renames of one directory run one at a time, in the order they were requested, on whichever thread is
 * the directory's <em>renamer</em> ({@link Group#renaming}): a request joins {@code toRename}, and the
 * thread that finds no renamer becomes it and runs the queued renames back to back until the queue is
 * empty (or hands the role to a new task after {@link #MAX_RENAMES_PER_TURN}). A successful rename
 * registers its request in {@code pending} as it ends, in rename order, and batches finish in that
 * order. The renamer starts the next batch's fsync only once it has given up the role, so the renames
 * that arrive together share one fsync, and it signals failed renames only then, so that no
 * subscriber's code ever holds up the directory's renames. Each finished batch is queued, under the group's monitor, for delivery,
 * and one thread at a time delivers the queue in order ({@link Group#delivering}). So the overwrites of
 * one path signal completion in the order their renames took effect: the last to complete holds the
 * content on disk.
 *
 * <h2>Where the renamer runs</h2>
 * In a task of its own on the step scheduler ({@link Scheduler#schedule}), never in the task of the
 * overwrite that found no renamer: that task belongs to the overwrite's worker, which is disposed when
 * the overwrite completes, and a disposal from another thread interrupts the task it finds running. A
 * renamer still renaming for others when its first overwrite completed elsewhere would then fsync on an
 * interrupted thread, which closes the directory's channel ({@code ClosedByInterruptException}) and
 * fails a whole batch. On the IO threads that task runs next on the same thread, with no wake-up.
 *
 * <h2>Why a renamer</h2>
 * The renames of one directory are serialized anyway: by the order above, and in the kernel by the
 * directory's lock, which creates of temp files take too. Had each overwrite's thread waited for a
 * monitor held across its rename, every rename would add a thread wake-up to the directory's critical
 * path, and the waiting IO threads could do nothing else. A request instead costs its thread one queue
 * insertion, and the renamer runs the queued renames with no wake-up between them.
 *
 * <h2>Concurrency</h2>
 * All state of a directory lives in its {@link Group}, guarded by the group's monitor, which is held
 * only to change that state, never across a system call or a subscriber's code. The map only finds
 * groups: a group leaves the map, under its monitor, once it is idle (no renamer, no rename queued, no
 * sync running, nothing pending, nothing left to deliver), and is then marked {@code removed}, so that a
 * request that found it just before goes back to the map for a new one. The fsync and the delivery of
 * signals (which run subscribers' code) run outside the monitor, and the next batch is scheduled before
 * a finished batch is delivered.
 *
 * <h2>Errors</h2>
 * A failed open or fsync fails every request of its batch (each overwrite reports it as its own {@code
 * OPEN_PARENT} or {@code SYNC_PARENT} failure); it is not retried. Later requests get a new fsync of
 * their own renames. If the scheduler refuses the next batch's fsync, that batch fails at {@code
 * OPEN_PARENT} (its renames are visible, their durability unknown) and the group carries on.
 *
 * <h2>Context</h2>
 * A batch's fsync serves several subscribers; it runs with the {@link Context} of the first request of
 * its batch (the overwrite whose rename came first), so that what that caller wrote into its context
 * (discard hooks, tracing) applies to it, even after that caller cancelled.
 */
final class GroupCommitDirectorySyncer implements DirectorySyncer {
  /** The state of one directory. Every field is guarded by the group's monitor, but {@link #delivering}. */
  private static final class Group {
    final Path dir;
    boolean removed;

    /** Renames requested and not yet run, in request order. */
    final ArrayDeque<Request> toRename = new ArrayDeque<>();

    /** A thread is running the renames of {@link #toRename}; only it takes from the queue. */
    boolean renaming;

    boolean running;
    List<MonoSink<Void>> pending = new ArrayList<>();

    /** Finished batches, in the order they finished, with their outcome (null: success). */
    final ArrayDeque<Finished> toDeliver = new ArrayDeque<>();

    /** Makes delivery one thread at a time: whoever moves it from 0 delivers until the queue is empty. */
    final AtomicInteger delivering = new AtomicInteger();

    Group(Path dir) {
      this.dir = dir;
    }

    boolean idle() {
      return !renaming && toRename.isEmpty() && !running && pending.isEmpty() && toDeliver.isEmpty();
    }
  }

  private record Request(Rename rename, MonoSink<Void> sink) {}

  /** Renames a renamer runs before it hands its role to a new task while requests keep coming. */
  static final int MAX_RENAMES_PER_TURN = 256;

  private record Finished(List<MonoSink<Void>> batch, Throwable failure) {}

  private final FileOps ops;
  private final Scheduler blocking;
  private final SyncGate gate;
  private final Events events;
  private final ConcurrentHashMap<Path, Group> groups = new ConcurrentHashMap<>();

  GroupCommitDirectorySyncer(FileOps ops, Scheduler blocking, SyncGate gate) {
    this(ops, blocking, gate, Events.UNOBSERVED);
  }

  /** Tells {@code events}' listener each batch's size and its directory fsync. */
  GroupCommitDirectorySyncer(FileOps ops, Scheduler blocking, SyncGate gate, Events events) {
    this.ops = ops;
    this.blocking = blocking;
    this.gate = gate;
    this.events = events;
  }

  /**
   * Signals arrive on the thread that finished the batch's fsync (the step scheduler's); a failed
   * rename's, on the renamer's.
   */
  @Override
  public Mono<Void> renameThenSync(Path dir, Rename rename) {
    Path key = dir.toAbsolutePath().normalize();
    return Mono.create(sink -> {
      Request request = new Request(rename, sink);
      for (;;) {
        Group g = groups.computeIfAbsent(key, Group::new);
        boolean renamer;
        synchronized (g) {
          if (g.removed) {
            continue; // went idle and left the map just now: take the new one
          }
          g.toRename.add(request);
          renamer = !g.renaming;
          g.renaming = true;
        }
        if (renamer && !handOver(g)) {
          renameQueued(g); // the scheduler refused a task: rename here
        }
        return;
      }
    });
  }

  /**
   * Runs the queued renames of {@code g} in order, as its renamer, until none is left; then, no longer
   * the renamer, starts the fsync of the renamed requests if none runs, on this thread (no hand-off for
   * an uncontended overwrite), and signals the renames that failed. So renames that arrive together
   * share one fsync, and no subscriber's code runs while this thread holds the role. After {@value
   * #MAX_RENAMES_PER_TURN} renames with more still queued, the role goes to a new task, so that an
   * endless stream of renames cannot put off every fsync.
   */
  private void renameQueued(Group g) {
    List<MonoSink<Void>> failed = null;
    List<Throwable> failures = null;
    List<MonoSink<Void>> toStart = null;
    boolean renamer = true;
    try {
      for (int turn = 1; renamer; turn++) {
        Request r;
        synchronized (g) {
          r = g.toRename.poll();
          if (r == null) { // only for a renamer that took over from one that stopped abnormally
            g.renaming = false;
            removeIfIdle(g);
            renamer = false;
            break;
          }
        }
        Throwable failure = null;
        try {
          r.rename().run();
        } catch (Throwable t) {
          failure = t;
        }
        if (failure != null) {
          if (failed == null) {
            failed = new ArrayList<>();
            failures = new ArrayList<>();
          }
          failed.add(r.sink());
          failures.add(failure);
        }
        boolean handOver = false;
        synchronized (g) {
          if (failure == null) {
            g.pending.add(r.sink());
          }
          if (g.toRename.isEmpty()) {
            g.renaming = false; // after its rename: renames never overlap
            renamer = false;
          } else if (turn % MAX_RENAMES_PER_TURN == 0) {
            handOver = true;
          }
          if (!renamer) {
            toStart = startableBatch(g);
            removeIfIdle(g);
          }
        }
        if (handOver && handOver(g)) { // if refused, this thread goes on renaming
          renamer = false;
          synchronized (g) {
            toStart = startableBatch(g);
          }
        }
      }
    } finally {
      if (renamer) { // left by a throwable while renaming: the queued requests need a renamer
        releaseRole(g);
      }
    }
    if (toStart != null) {
      sync(g, toStart);
    }
    if (failed != null) {
      signalFailures(failed, failures);
    }
  }

  /** Signals each failed rename, even if a subscriber throws (what it throws is rethrown at the end). */
  private static void signalFailures(List<MonoSink<Void>> failed, List<Throwable> failures) {
    Throwable thrown = null;
    for (int i = 0; i < failed.size(); i++) {
      try {
        failed.get(i).error(failures.get(i));
      } catch (Throwable t) {
        if (thrown == null) {
          thrown = t;
        } else {
          thrown.addSuppressed(t);
        }
      }
    }
    if (thrown instanceof RuntimeException e) {
      throw e;
    }
    if (thrown instanceof Error e) {
      throw e;
    }
  }

  /** Gives the role of renamer to a new task on the step scheduler; false if it refused. */
  private boolean handOver(Group g) {
    try {
      blocking.schedule(() -> renameQueued(g));
      return true;
    } catch (Throwable refused) {
      return false;
    }
  }

  /** Holds the group's monitor. The next batch, if its fsync can start now; else null. */
  private static List<MonoSink<Void>> startableBatch(Group g) {
    return !g.running && !g.pending.isEmpty() ? takeBatch(g) : null;
  }

  /**
   * Releases the role of a renamer that stopped abnormally. Requests still queued get a new renamer on
   * the step scheduler; if it refuses, they fail before their rename ({@code RENAME}: nothing changed).
   */
  private void releaseRole(Group g) {
    if (handOver(g)) {
      return; // the new task is the renamer now, and finds the queue as it is (or empty)
    }
    List<Request> stranded;
    synchronized (g) {
      stranded = new ArrayList<>(g.toRename);
      g.toRename.clear();
      g.renaming = false;
      removeIfIdle(g);
    }
    for (Request r : stranded) {
      r.sink().error(new StepFailure(Step.RENAME, new java.util.concurrent.RejectedExecutionException(
          "the directory's renamer stopped, and the step scheduler refused a new one")));
    }
  }

  /** Holds the group's monitor. */
  private static List<MonoSink<Void>> takeBatch(Group g) {
    List<MonoSink<Void>> batch = g.pending;
    g.pending = new ArrayList<>();
    g.running = true;
    return batch;
  }

  /** Holds the group's monitor. */
  private void removeIfIdle(Group g) {
    if (g.idle() && !g.removed) {
      g.removed = true;
      groups.remove(g.dir, g);
    }
  }

  /** Runs the batch's fsync on the calling thread, which must be allowed to block. */
  private void sync(Group g, List<MonoSink<Void>> batch) {
    Events.directorySyncBatch(events.listener(), batch.size());
    Mono.defer(() -> gate.beforeSync(g.dir))
        .then(Mono.fromCallable(() -> {
          OverwriteProtocol.syncDirectory(ops, g.dir, events);
          return true;
        }))
        .subscribe(
            null,
            failure -> finish(g, batch, failure),
            () -> finish(g, batch, null),
            Context.of(batch.get(0).contextView()));
  }

  private void finish(Group g, List<MonoSink<Void>> batch, Throwable failure) {
    for (;;) {
      List<MonoSink<Void>> next;
      synchronized (g) {
        g.toDeliver.add(new Finished(batch, failure));
        if (g.pending.isEmpty()) {
          g.running = false;
          break;
        }
        next = takeBatch(g);
      }
      try {
        blocking.schedule(() -> sync(g, next)); // a new task: no recursion from batch to batch
        break;
      } catch (Throwable t) { // rejected: that batch fails, and the loop takes the one after it
        batch = next;
        failure = new StepFailure(Step.OPEN_PARENT, t);
      }
    }
    deliver(g);
  }

  /** Delivers finished batches in order, one thread at a time; see the class comment. */
  private void deliver(Group g) {
    if (g.delivering.getAndIncrement() != 0) {
      return;
    }
    int missed = 1;
    do {
      for (;;) {
        Finished f;
        synchronized (g) {
          f = g.toDeliver.poll();
          if (f == null) {
            removeIfIdle(g);
            break;
          }
        }
        for (MonoSink<Void> s : f.batch()) {
          if (f.failure() == null) {
            s.success();
          } else {
            s.error(f.failure());
          }
        }
      }
      missed = g.delivering.addAndGet(-missed);
    } while (missed != 0);
  }
}
