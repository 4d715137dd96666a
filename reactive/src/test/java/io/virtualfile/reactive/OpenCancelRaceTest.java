package io.virtualfile.reactive;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.internal.OpenFileRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Hooks;

/**
 * A cancel from another thread racing the moment the open hands its handle over. Regression (found by
 * a helper's probe, 8 to 66 leaks in 30,000): Reactor's {@code MonoSink.success} after a racing cancel
 * can drop the value to {@code onNextDropped} instead of the discard hook, so the handle was never
 * closed.
 */
class OpenCancelRaceTest {
  /** Handles of one path share one descriptor, which the cache keeps after the last closes. */
  private static final int SHARED_DESCRIPTOR = 1;

  @TempDir Path dir;

  @AfterEach
  void reset() {
    Hooks.resetOnNextDropped();
  }

  @Test
  void cancelRacingTheOpensCompletion_neverLeavesAnUnclosedHandle() throws Exception {
    Path path = Files.writeString(dir.resolve("f"), "0123456789");
    // The IO executor captures the open's task, so the test runs it while another thread cancels.
    AtomicReference<Runnable> captured = new AtomicReference<>();
    List<Object> dropped = new CopyOnWriteArrayList<>();
    Hooks.onNextDropped(dropped::add);
    List<AsyncVirtualFile> delivered = new CopyOnWriteArrayList<>();
    try (AsyncFileIo io = AsyncFileIo.builder().ioThreads(1).cacheCapacity(4)
        .engine(AsyncFileIo.Engine.THREADS) // the decorator sees the thread engine's tasks
        .executorDecorator(e -> new CountingExecutor(e) {
          @Override
          public void execute(Runnable task) {
            if (!captured.compareAndSet(null, task)) {
              super.execute(task);
            }
          }
        }).build()) {
      long total = 0;
      for (int i = 0; i < 200; i++) { // calibrate: how long an open takes here
        captured.set(null);
        AtomicReference<AsyncVirtualFile> got = new AtomicReference<>();
        AsyncVirtualFile.open(path, io, READ).subscribe(got::set);
        long start = System.nanoTime();
        captured.get().run();
        total += System.nanoTime() - start;
        got.get().close().block();
      }
      long perOpen = Math.max(2_000, total / 200);
      Random r = new Random(7);
      for (int i = 0; i < 5_000; i++) {
        captured.set(null);
        BaseSubscriber<AsyncVirtualFile> s = new BaseSubscriber<>() {
          @Override
          protected void hookOnSubscribe(Subscription subscription) {
            subscription.request(1);
          }

          @Override
          protected void hookOnNext(AsyncVirtualFile value) {
            delivered.add(value);
          }
        };
        AsyncVirtualFile.open(path, io, READ).subscribe(s);
        Runnable task = captured.get();
        long spin = (long) (r.nextDouble() * perOpen * 1.5);
        CountDownLatch go = new CountDownLatch(1);
        Thread canceller = new Thread(() -> {
          try {
            go.await();
          } catch (InterruptedException e) {
            return;
          }
          long until = System.nanoTime() + spin;
          while (System.nanoTime() < until) {
            Thread.onSpinWait();
          }
          s.cancel();
        });
        canceller.start();
        go.countDown();
        task.run();
        canceller.join();
      }
      for (AsyncVirtualFile f : delivered) {
        f.close().block();
      }
      captured.set(() -> {}); // later tasks (the closes of released handles) run normally
      assertThat(dropped).as("handles dropped to onNextDropped, never closed").isEmpty();
      AsyncHandleLifecycleTest.awaitTrue("every handle closed",
          () -> OpenFileRegistry.registered(path) == 0
            && io.stats().openHandles() <= SHARED_DESCRIPTOR);
    }
  }
}
