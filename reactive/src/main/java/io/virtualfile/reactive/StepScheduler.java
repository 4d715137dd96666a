package io.virtualfile.reactive;

import java.util.concurrent.RejectedExecutionException;
import java.util.function.BooleanSupplier;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Where the overwrite's blocking steps and directory fsyncs run: on the engine's step scheduler (the IO
 * threads by default) while the engine is open, and on Reactor's {@code boundedElastic} once it is
 * closed. An overwrite that was under way when the engine closed then goes on to its end (its writes,
 * which go through the closed engine, fail; its cleanup and its directory fsync still run), instead of
 * leaving its temp file and descriptor behind, or a renamed file without its directory fsync. New
 * overwrites are refused before they start ({@link AsyncFileIo#overwrite}).
 */
final class StepScheduler {
  private StepScheduler() {}

  static Scheduler of(Scheduler steps, BooleanSupplier engineClosed) {
    return Schedulers.fromExecutor(task -> {
      if (!engineClosed.getAsBoolean()) {
        try {
          steps.schedule(task);
          return;
        } catch (RejectedExecutionException refused) {
          if (!engineClosed.getAsBoolean()) {
            throw refused; // refused while the engine runs: the step fails, as it says
          } // else the engine closed after the check: as if it had closed before it
        }
      }
      Schedulers.boundedElastic().schedule(task);
    });
  }
}
