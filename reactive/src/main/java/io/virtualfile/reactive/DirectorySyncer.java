package io.virtualfile.reactive;

import io.virtualfile.CrashSafeOverwriteException.Step;
import java.nio.file.Path;
import reactor.core.publisher.Mono;

/** Renames into a directory and makes the rename durable with a directory fsync. */
interface DirectorySyncer {
  /** A blocking rename. */
  @FunctionalInterface
  interface Rename {
    void run() throws Exception;
  }

  /** Called before each directory fsync starts; the fsync waits for the returned Mono (a test seam). */
  @FunctionalInterface
  interface SyncGate {
    Mono<Void> beforeSync(Path dir);
  }

  /**
   * Runs {@code rename} (blocking: subscribe where blocking is allowed), then completes when a directory
   * fsync of {@code dir} that started after the rename has completed. A failed rename fails with its
   * own error; a failed directory fsync with a {@link io.virtualfile.internal.StepFailure} at {@link
   * Step#OPEN_PARENT} or {@link Step#SYNC_PARENT}.
   */
  Mono<Void> renameThenSync(Path dir, Rename rename);
}
