package io.virtualfile.reactive;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Hooks;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;
import reactor.test.util.RaceTestUtils;

/** Cancellation never closes the shared channel, never leaks a pin, never loses a late result. */
class AsyncVirtualFileCancellationTest {
  @TempDir Path dir;
  CountingExecutor executor;
  AsyncFileIo io;
  Path path;
  byte[] data;

  @BeforeEach
  void setUp() throws Exception {
    io = AsyncFileIo.builder().ioThreads(2).cacheCapacity(4)
        .engine(AsyncFileIo.Engine.THREADS) // the decorator sees the thread engine's tasks
        .executorDecorator(e -> executor = new CountingExecutor(e)).build();
    path = dir.resolve("f");
    data = new byte[1 << 20];
    new Random(5).nextBytes(data);
    Files.write(path, data);
  }

  @AfterEach
  void tearDown() {
    io.close();
  }

  static void awaitZero(AsyncVirtualFile f) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (f.operationsInFlight() != 0 && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    assertThat(f.operationsInFlight()).as("pins left after cancellation").isZero();
  }

  /**
   * Each round races a read's completion with its cancel. Exactly one of two things happens to each:
   * the count is delivered, or the buffer goes to the discard hook, and only once the read can no longer
   * write into it: the hook refills the buffer at once, as a pooled-buffer user would reuse it, and the
   * refill must survive.
   */
  @Test
  void cancelRacingCompletion_eachRoundDeliversOrDiscardsOnce_andADiscardedBufferIsNeverWrittenAgain()
      throws Exception {
    AsyncVirtualFile f = AsyncVirtualFile.open(path, io, READ).block();
    long missesBefore = io.stats().misses();
    int rounds = 5_000;
    AtomicInteger[] events = new AtomicInteger[rounds];
    ByteBuffer[] buffers = new ByteBuffer[rounds];
    AtomicInteger discarded = new AtomicInteger();
    for (int i = 0; i < rounds; i++) {
      int round = i;
      events[i] = new AtomicInteger();
      ByteBuffer b = buffers[i] = ByteBuffer.allocate(4096);
      BaseSubscriber<Integer> subscriber = new BaseSubscriber<>() {
        @Override
        protected void hookOnNext(Integer n) { // counted even after its own cancel: nothing is lost
          events[round].incrementAndGet();
        }
      };
      RaceTestUtils.race(
          () -> f.readAt(b, 0)
              .doOnDiscard(ByteBuffer.class, d -> {
                assertThat(d).isSameAs(b);
                java.util.Arrays.fill(d.array(), (byte) 0x5A); // reused at once
                events[round].incrementAndGet();
                discarded.incrementAndGet();
              })
              .subscribe(subscriber),
          subscriber::dispose);
    }
    executor.awaitIdle(); // every completion has run: no signal can still come
    for (int i = 0; i < rounds; i++) {
      assertThat(events[i].get()).as("round %d: delivered or discarded, once", i).isEqualTo(1);
    }
    assertThat(discarded.get()).as("some cancels won the race").isPositive();
    byte[] refill = new byte[4096];
    java.util.Arrays.fill(refill, (byte) 0x5A);
    for (int i = 0; i < rounds; i++) {
      if (events[i].get() == 1 && buffers[i].position() == 0) { // discarded, not delivered
        assertThat(buffers[i].array()).as("round %d: written after its discard", i).isEqualTo(refill);
      }
    }
    awaitZero(f);
    assertThat(io.stats().misses()).as("the shared channel was never closed").isEqualTo(missesBefore);
    StepVerifier.create(f.readAt(ByteBuffer.allocate(10), 0)).expectNext(10).verifyComplete();
  }

  @Test
  void cancelOfAWrite_keepsTheChannelOpen() throws Exception {
    AsyncVirtualFile f = AsyncVirtualFile.open(path, io, READ, WRITE).block();
    long missesBefore = io.stats().misses();
    for (int i = 0; i < 1_000; i++) {
      f.writeAt(ByteBuffer.wrap(new byte[] {1, 2, 3}), i).subscribe().dispose();
    }
    awaitZero(f);
    assertThat(io.stats().misses()).isEqualTo(missesBefore);
    StepVerifier.create(f.size()).expectNext((long) data.length).verifyComplete();
  }

  @Test
  void synchronousChannelThrow_isSignalledToTheSubscriber_notDropped() throws Exception {
    AsyncVirtualFile f = AsyncVirtualFile.open(path, io, READ).block();
    AtomicInteger dropped = new AtomicInteger();
    Hooks.onErrorDropped(e -> dropped.incrementAndGet());
    try {
      ByteBuffer readOnly = ByteBuffer.allocate(1).asReadOnlyBuffer(); // fails synchronously in the channel
      StepVerifier.create(f.readAt(readOnly, 0)).expectError(IllegalArgumentException.class).verify();
      assertThat(dropped.get()).isZero();
    } finally {
      Hooks.resetOnErrorDropped();
    }
  }

  @Test
  void streamingRead_readsNothingWithoutDemand_andStopsWhenCancelled() throws Exception {
    AsyncVirtualFile f = AsyncVirtualFile.open(path, io, READ).block();
    int before = executor.submitted.get();
    StepVerifier.create(f.read(0, 4096), 0)
        .expectSubscription()
        .expectNoEvent(Duration.ofMillis(100))
        .then(() -> assertThat(executor.submitted.get()).as("no read without demand").isEqualTo(before))
        .thenRequest(2)
        .expectNextCount(2)
        .expectNoEvent(Duration.ofMillis(50))
        .thenCancel()
        .verify();
    executor.awaitIdle(); // every completion has run: a read it started would have been counted
    assertThat(executor.submitted.get() - before)
        .as("the size, then two chunks requested, two reads, none after cancel")
        .isEqualTo(3);
  }

  @Test
  void cancelWhileReopening_startsNoIo_andLeaksNoPin() throws Exception {
    AsyncVirtualFile f = AsyncVirtualFile.open(path, io, READ).block();
    for (int i = 0; i < 200; i++) {
      // evict f's channel so that each read must reopen on the blocking scheduler
      for (int k = 0; k < 4; k++) {
        Path o = Files.write(dir.resolve("o" + k), new byte[1]);
        AsyncVirtualFile.open(o, io, READ).flatMap(AsyncVirtualFile::close).block();
      }
      f.readAt(ByteBuffer.allocate(16), 0).subscribeOn(Schedulers.parallel()).subscribe().dispose();
    }
    awaitZero(f);
    StepVerifier.create(f.readAt(ByteBuffer.allocate(16), 0)).expectNext(16).verifyComplete();
  }
}
