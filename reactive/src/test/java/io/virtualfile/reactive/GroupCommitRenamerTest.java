package io.virtualfile.reactive;

import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.internal.JdkFileOps;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/** The renames of one directory: one at a time, in request order, without holding requesters back. */
class GroupCommitRenamerTest {
  @TempDir Path dir;

  private final GroupCommitDirectorySyncer syncer =
      new GroupCommitDirectorySyncer(JdkFileOps.INSTANCE, Schedulers.boundedElastic(), d -> Mono.empty());

  @Test
  void aRequestWhileAnotherRenameIsUnderWay_returnsAtOnce_andItsRenameRunsAfterThatOne()
      throws Exception {
    CountDownLatch firstEntered = new CountDownLatch(1);
    CountDownLatch releaseFirst = new CountDownLatch(1);
    List<String> renamed = new CopyOnWriteArrayList<>();
    Mono<Void> first = syncer.renameThenSync(dir, () -> {
      firstEntered.countDown();
      releaseFirst.await();
      renamed.add("first");
    }).cache();
    first.subscribeOn(Schedulers.boundedElastic()).subscribe();
    assertThat(firstEntered.await(10, TimeUnit.SECONDS)).isTrue();

    Mono<Void> second = syncer.renameThenSync(dir, () -> renamed.add("second")).cache();
    // Subscribed on a thread of its own, so that a requester held back by the first rename shows as a
    // timeout here rather than as a hung test.
    CompletableFuture<Void> subscribed = CompletableFuture.runAsync(second::subscribe);
    subscribed.get(5, TimeUnit.SECONDS);
    assertThat(renamed).as("the second rename waits for the first").isEmpty();

    releaseFirst.countDown();
    first.block(Duration.ofSeconds(10));
    second.block(Duration.ofSeconds(10));
    assertThat(renamed).containsExactly("first", "second");
  }

  @Test
  void aFailedRenamesSubscriber_neverHoldsUpTheRenamesQueuedBehindIt() throws Exception {
    CountDownLatch firstEntered = new CountDownLatch(1);
    CountDownLatch releaseFirst = new CountDownLatch(1);
    CountDownLatch secondDone = new CountDownLatch(1);
    CompletableFuture<Boolean> firstSawSecond = new CompletableFuture<>();
    syncer.renameThenSync(dir, () -> {
          firstEntered.countDown();
          releaseFirst.await();
          throw new IOException("the first rename fails");
        })
        // A subscriber that waits, in its error signal, for the overwrite queued behind it (bounded
        // here; unbounded it would be a deadlock if the renamer signalled before renaming the rest).
        .doOnError(e -> firstSawSecond.complete(await(secondDone, 5)))
        .subscribeOn(Schedulers.boundedElastic())
        .subscribe(null, e -> {});
    assertThat(firstEntered.await(10, TimeUnit.SECONDS)).isTrue();
    syncer.renameThenSync(dir, () -> {}).subscribe(null, e -> {}, secondDone::countDown);
    releaseFirst.countDown();
    assertThat(firstSawSecond.get(10, TimeUnit.SECONDS)).as("the second completed meanwhile").isTrue();
  }

  @Test
  void aFatalErrorThrownByAFailedRenamesSubscriber_leavesLaterRenamesOfTheDirectoryWorking()
      throws Exception {
    CountDownLatch firstEntered = new CountDownLatch(1);
    CountDownLatch releaseFirst = new CountDownLatch(1);
    Mono<Void> first = syncer.renameThenSync(dir, () -> {
      firstEntered.countDown();
      releaseFirst.await();
    }).cache();
    first.subscribeOn(Schedulers.boundedElastic()).subscribe(null, e -> {});
    assertThat(firstEntered.await(10, TimeUnit.SECONDS)).isTrue();
    syncer.renameThenSync(dir, () -> {
      throw new IOException("the second rename fails");
    }).subscribe(null, e -> {
      throw new NoClassDefFoundError("thrown by the subscriber"); // JVM-fatal: Reactor rethrows it
    });
    Mono<Void> third = syncer.renameThenSync(dir, () -> {}).cache();
    third.subscribe(null, e -> {});
    releaseFirst.countDown();
    first.block(Duration.ofSeconds(10));
    third.block(Duration.ofSeconds(10));
    syncer.renameThenSync(dir, () -> {}).block(Duration.ofSeconds(10)); // and the directory goes on
  }

  /**
   * The overwrite whose thread became the renamer completes elsewhere (in a batch another thread
   * fsynced) while the renamer still renames for a later request; the disposal of its worker must not
   * interrupt the renamer, whose own fsync would then fail with ClosedByInterruptException. The steps
   * run on a scheduler of the test's own: x's batch is fsynced by a task scheduled while the renamer's
   * task spins, and the shared {@code boundedElastic}, at its bound of threads (workers that other tests
   * of this JVM left undisposed), may queue that task behind the spinning one, which waits for x.
   */
  @Test
  void aRenamersFirstRequestCompletingElsewhere_doesNotInterruptTheRenamesAndFsyncsThatFollow()
      throws Exception {
    Scheduler steps = Schedulers.newBoundedElastic(4, 100, "renamer-test");
    try {
      renamerOfAnOverwriteCompletingElsewhere(steps);
    } finally {
      steps.dispose();
    }
  }

  private void renamerOfAnOverwriteCompletingElsewhere(Scheduler steps) throws Exception {
    Sinks.Empty<Void> firstGate = Sinks.empty();
    java.util.concurrent.atomic.AtomicInteger syncs = new java.util.concurrent.atomic.AtomicInteger();
    GroupCommitDirectorySyncer gated = new GroupCommitDirectorySyncer(JdkFileOps.INSTANCE,
        steps, d -> syncs.getAndIncrement() == 0 ? firstGate.asMono() : Mono.empty());
    gated.renameThenSync(dir, () -> {}).subscribe(null, e -> {}); // batch 0: its fsync waits at the gate

    CountDownLatch xRenaming = new CountDownLatch(1);
    CountDownLatch yQueued = new CountDownLatch(1);
    CountDownLatch yRenaming = new CountDownLatch(1);
    java.util.concurrent.atomic.AtomicBoolean releaseY = new java.util.concurrent.atomic.AtomicBoolean();
    CountDownLatch xDone = new CountDownLatch(1);
    gated.renameThenSync(dir, () -> {
          xRenaming.countDown();
          yQueued.await();
        })
        .subscribeOn(steps) // a worker that is disposed when x completes
        .subscribe(null, e -> {}, xDone::countDown);
    assertThat(xRenaming.await(10, TimeUnit.SECONDS)).isTrue();
    Mono<Void> y = gated.renameThenSync(dir, () -> {
      yRenaming.countDown();
      while (!releaseY.get()) { // a busy rename, which an interrupt does not end
        Thread.onSpinWait();
      }
    }).cache();
    y.subscribe(null, e -> {});
    yQueued.countDown();
    assertThat(yRenaming.await(10, TimeUnit.SECONDS)).isTrue();
    firstGate.tryEmitEmpty(); // batch 0 ends; x's batch is fsynced and signalled by another thread
    assertThat(xDone.await(10, TimeUnit.SECONDS)).isTrue();
    releaseY.set(true);
    y.block(Duration.ofSeconds(10)); // fails at SYNC_PARENT if its fsync ran on an interrupted thread
  }

  private static boolean await(CountDownLatch latch, int seconds) {
    try {
      return latch.await(seconds, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Test
  void renamesRequestedFromManyThreads_neverOverlap() {
    int n = 200;
    java.util.concurrent.atomic.AtomicInteger inside = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger overlaps = new java.util.concurrent.atomic.AtomicInteger();
    reactor.core.publisher.Flux.range(0, n)
        .flatMap(i -> syncer.renameThenSync(dir, () -> {
          if (inside.incrementAndGet() != 1) {
            overlaps.incrementAndGet();
          }
          long until = System.nanoTime() + 20_000; // a rename's worth of time, for overlaps to show
          while (System.nanoTime() < until) {
            Thread.onSpinWait();
          }
          inside.decrementAndGet();
        }).subscribeOn(Schedulers.boundedElastic()), 32)
        .blockLast(Duration.ofSeconds(30));
    assertThat(overlaps).hasValue(0);
  }
}
