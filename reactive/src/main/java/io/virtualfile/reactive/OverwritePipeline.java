package io.virtualfile.reactive;

import io.virtualfile.CrashSafeOverwriteException.Step;
import io.virtualfile.internal.Events;
import io.virtualfile.internal.FileOps;
import io.virtualfile.internal.OverwriteProtocol;
import io.virtualfile.internal.StepFailure;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.util.context.Context;

/**
 * The crash-safe overwrite as one non-blocking pipeline of stages. The steps, their order ({@link
 * OverwriteProtocol#describe}), validation and what a failure means are {@link OverwriteProtocol}'s; this
 * class only makes each stage a Mono and decides where it runs: the blocking steps on one worker of the
 * engine's step scheduler (its IO threads by default, so that consecutive stages run on one thread with
 * no hand-off), the write on the IO threads, the rename and the directory fsync through a {@link
 * DirectorySyncer}, which shares directory fsyncs between concurrent overwrites in one directory.
 * Where the engine runs a write and an fsync as one request ({@link AsyncTempFile#writesThenSyncs}) and
 * the content is one buffer, the write stage ends with the temp file's fsync, and the {@code SYNC_TEMP}
 * stage has nothing left to do.
 * Cancellation is checked between stages.
 *
 * <h2>Cancellation</h2>
 * The pipeline runs detached from its subscriber. Cancelling (or a {@code timeout}) before the {@code
 * RENAME} step starts stops it at the next step boundary (a write in progress stops after its current
 * buffer; a last write that runs with the fsync, after both), then closes and removes the temp file; the
 * final file is untouched. Cancelling once that step has started (the rename may still wait for the
 * directory's earlier renames) changes nothing: the rename and the directory fsync still run to the end,
 * in the background, so that durability is never abandoned halfway; an error goes to {@code
 * Hooks.onErrorDropped}.
 *
 * <h2>Context</h2>
 * The detached pipeline, and the cleanup after a cancel, run with the subscriber's {@link Context}: the
 * content publisher, the steps and the background directory fsync see what the caller wrote into it
 * (discard hooks, tracing), before and after a cancel.
 */
final class OverwritePipeline {
  /**
   * Test seam: called before each step up to {@link Step#RENAME}; the step waits for the returned Mono
   * to complete. (The directory fsync has its own gate, {@link DirectorySyncer.SyncGate}.)
   */
  @FunctionalInterface
  interface StepGate {
    Mono<Void> before(Step step);

    StepGate OPEN = step -> Mono.empty();
  }

  private final FileOps ops;
  private final FileOps.TempFiles<? extends AsyncTempFile> temps;
  private final Scheduler blocking;
  private final DirectorySyncer directorySyncer;
  private final StepGate gate;
  private final Events events;

  OverwritePipeline(
      FileOps ops, FileOps.TempFiles<? extends AsyncTempFile> temps, Scheduler blocking,
      DirectorySyncer directorySyncer, StepGate gate, Events events) {
    this.events = events;
    this.ops = ops;
    this.temps = temps;
    this.blocking = blocking;
    this.directorySyncer = directorySyncer;
    this.gate = gate;
  }

  /**
   * @param tmpPath the temp path, or {@code null} for a derived one
   * @param content buffers written in order, each from its position to its limit
   */
  Mono<Void> overwrite(Path finalPath, Path tmpPath, Publisher<ByteBuffer> content) {
    return Mono.create(sink -> new Run(finalPath, tmpPath, content).start(sink));
  }

  /** Marks the stop of a cancelled run; never reaches a subscriber. */
  private static final class Cancelled extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Cancelled() {
      super("overwrite cancelled", null, false, false);
    }
  }

  /** One overwrite. Its steps run one after another; the chain orders their memory effects. */
  private final class Run {
    private final Path finalPath;
    private final Path tmpPath;
    private final Publisher<ByteBuffer> content;
    private final Sinks.Empty<Void> cancelSignal = Sinks.empty();

    /**
     * One worker of the step scheduler (the IO threads by default) for all of this run's blocking steps:
     * consecutive steps then run back to back on one thread instead of waking a different thread for
     * each.
     */
    private final Scheduler.Worker worker = blocking.createWorker();

    private final Scheduler onWorker = Schedulers.fromExecutor(task -> worker.schedule(task));
    private volatile boolean cancelled;
    private OverwriteProtocol<? extends AsyncTempFile> protocol;

    /** The content's last buffer so far, held back to be written with the fsync (see {@link #write}). */
    private ByteBuffer heldBack;

    /** The write ran with the fsync: the step {@code SYNC_TEMP} is done. */
    private boolean synced;

    Run(Path finalPath, Path tmpPath, Publisher<ByteBuffer> content) {
      this.finalPath = finalPath;
      this.tmpPath = tmpPath;
      this.content = content;
    }

    void start(MonoSink<Void> sink) {
      sink.onCancel(() -> {
        cancelled = true;
        cancelSignal.tryEmitEmpty();
      });
      Mono<Void> chain =
          OverwriteProtocol.describe(new OverwriteProtocol.Stages<Mono<Void>>() {
                @Override
                public Mono<Void> blocking(Step step, OverwriteProtocol.StepAction action) {
                  if (step == Step.SYNC_TEMP) { // done already if the write ran with the fsync
                    return gated(step, Mono.defer(
                        () -> synced ? Mono.empty() : Run.this.blocking(action::run)));
                  }
                  return step(step, () -> {
                    if (protocol == null) { // the first stage validates, on the worker
                      protocol = OverwriteProtocol.prepare(ops, temps, finalPath, tmpPath, events);
                    }
                    action.run();
                  });
                }

                @Override
                public Mono<Void> write() {
                  return gated(Step.WRITE, Mono.defer(Run.this::write));
                }

                // Once the rename has started, cancellation is ignored: the new content is visible and
                // must be made durable.
                @Override
                public Mono<Void> renameAndSyncParent() {
                  return gated(Step.RENAME, Mono.defer(() -> {
                        try {
                          runStep(protocol::prepareRename); // on this run's worker, not the renamer
                        } catch (Exception e) {
                          return Mono.<Void>error(e);
                        }
                        return directorySyncer.renameThenSync(protocol.directory(), protocol::rename);
                      })
                      .subscribeOn(onWorker));
                }

                @Override
                public Mono<Void> sequence(List<Mono<Void>> stages) {
                  return Flux.concat(stages).then();
                }
              }, () -> protocol)
              .onErrorMap(StepFailure.class, e -> protocol.failed(e.step(), e.getCause()));
      Context callers = Context.of(sink.contextView());
      chain.subscribe(
          null,
          error -> {
            if (error instanceof Cancelled) {
              abandon(sink);
            } else {
              finish(error);
              sink.error(error);
            }
          },
          () -> {
            finish(null);
            sink.success();
          },
          callers);
    }

    /** A blocking step, run on this run's worker after its gate, unless cancelled before it. */
    private Mono<Void> step(Step step, BlockingStep action) {
      return gated(step, blocking(action));
    }

    private Mono<Void> blocking(BlockingStep action) {
      return Mono.<Void>fromCallable(() -> runStep(action)).subscribeOn(onWorker);
    }

    private Mono<Void> gated(Step step, Mono<Void> action) {
      return Mono.defer(() -> gate.before(step))
          .or(cancelSignal.asMono()) // a cancel while paused does not wait for the gate
          .then(Mono.defer(() -> cancelled ? Mono.error(new Cancelled()) : action));
    }

    /**
     * The step {@code WRITE}. Where the temp file offers it ({@link AsyncTempFile#writesThenSyncs}) and
     * the content is one buffer at most (a {@link Mono}), the step {@code SYNC_TEMP} goes with it: the
     * buffer is held back until the content completes, and written together with the fsync, as one
     * request of the engine. A streamed content is written buffer by buffer, then fsynced as its own step. That request is never
     * abandoned halfway: a cancel stops the run at the next step boundary, once the engine is done with
     * the temp file's descriptor, which the cleanup then closes.
     */
    private Mono<Void> write() {
      protocol.stepStarted(Step.WRITE);
      AsyncTempFile temp = protocol.temp();
      // Only content of one buffer at most (a Mono: the overwrite of one ByteBuffer) is held back: a
      // streamed content may refill a buffer once the next is requested, and each buffer must be written
      // before that (the contract of the streamed overwrite).
      boolean withSync = temp.writesThenSyncs() && content instanceof Mono;
      AtomicLong position = new AtomicLong();
      return Flux.from(content)
          // A cancel stops the content, never a write in flight: the cleanup closes the temp file's
          // descriptor, and an engine may still hold a dropped write queued for it (io_uring submits it
          // later, to whatever file has the descriptor's number by then). Stopping the content lets
          // concatMap finish its current write and then complete.
          .takeUntilOther(cancelSignal.asMono())
          // A duplicate: the content's buffers are not consumed, so a re-subscription (a retry after
          // a timeout, say) writes them whole again instead of installing an empty file.
          .concatMap(buf -> {
            ByteBuffer next = buf.duplicate();
            if (withSync) {
              ByteBuffer previous = heldBack;
              heldBack = next;
              next = previous;
            }
            return next == null
                ? Mono.<Void>empty()
                : temp.write(next, position.getAndAdd(next.remaining()));
          }, 0)
          .then(Mono.defer(() -> {
            if (cancelled) {
              return Mono.empty(); // the write stopped early, and the run is abandoned
            }
            ByteBuffer last = heldBack;
            if (last == null) {
              protocol.stepDone(Step.WRITE, position.get());
              return Mono.empty();
            }
            return temp.writeThenSync(last, position.getAndAdd(last.remaining()))
                .then(Mono.<Void>fromRunnable(() -> {
                  protocol.stepDone(Step.WRITE, position.get());
                  protocol.stepStarted(Step.SYNC_TEMP); // its time went into WRITE's
                  protocol.stepDone(Step.SYNC_TEMP, 0);
                  synced = true;
                }));
          }))
          .onErrorResume(e -> blocking(() -> {
            if (e instanceof StepFailure f && f.step() == Step.SYNC_TEMP) {
              protocol.stepDone(Step.WRITE, position.get());
              protocol.stepStarted(Step.SYNC_TEMP);
              throw protocol.failed(Step.SYNC_TEMP, f.getCause());
            }
            throw protocol.failed(Step.WRITE, e instanceof StepFailure f ? f.getCause() : e);
          })); // failed() closes and removes the temp: blocking
    }

    /** Cleans up after a cancel before the rename, in the background; errors are dropped to hooks. */
    private void abandon(MonoSink<Void> sink) {
      Mono.<Void>fromCallable(() -> runStep(() -> {
            if (protocol != null) {
              protocol.abandon();
            }
          }))
          .subscribeOn(blocking)
          .doFinally(signal -> worker.dispose())
          // the sink is cancelled: Reactor routes an error to onErrorDropped
          .subscribe(null, sink::error, null, Context.of(sink.contextView()));
    }

    /** @param outcome the overwrite's failure, or null if it succeeded */
    private void finish(Throwable outcome) {
      if (protocol != null) {
        protocol.finish(outcome);
      }
      worker.dispose();
    }
  }

  @FunctionalInterface
  private interface BlockingStep {
    void run() throws Exception;
  }

  /**
   * Runs a blocking step. It runs no subscriber's code, so the BlockHound integration (module blockhound) allows
   * blocking inside it, by name.
   */
  private static Void runStep(BlockingStep action) throws Exception {
    action.run();
    return null;
  }
}
