package io.virtualfile.uring;

import static io.virtualfile.uring.RingCallsTest.completion;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.virtualfile.reactive.spi.IoCompletion;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The loop: wake-ups, many requests in flight, and shutdown with requests in flight. */
class RingLoopTest {
  @TempDir Path dir;
  RingLoop loop;
  byte[] data;
  int fd;

  @BeforeEach
  void start() throws Exception {
    loop = RingLoop.start("test-ring", UringEngineProvider.SETUP_FLAGS, Ring.Setup.KERNEL);
    data = new byte[1 << 20];
    new Random(13).nextBytes(data);
    Path p = dir.resolve("f");
    Files.write(p, data);
    fd = RingCalls.openat(loop, p.toString(), OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC, 0);
  }

  @AfterEach
  void stop() throws Exception {
    if (!loop.isShutdown()) {
      RingCalls.close(loop, fd);
    }
    loop.shutdown();
    loop.awaitTermination();
  }

  @Test
  void aRequestFromAnotherThread_wakesTheSleepingLoop() throws Exception {
    while (!loop.isSleeping()) {
      Thread.onSpinWait(); // the loop goes to sleep in io_uring_enter once it has nothing to do
    }
    CompletableFuture<Integer> done = new CompletableFuture<>();
    Thread other = Thread.ofPlatform().start(
        () -> loop.submit(
            new Transfer(false, fd, ByteBuffer.allocate(8), 0, completion(done), null)));
    assertThat(done.get(10, TimeUnit.SECONDS)).isEqualTo(8);
    other.join();
  }

  /** More requests than the CQ holds, at once: the loop holds back the excess and runs it all. */
  @Test
  void manyMoreRequestsThanTheRingHolds_allCompleteWithTheirOwnContent() throws Exception {
    int n = 4000;
    List<CompletableFuture<Integer>> done = new ArrayList<>();
    List<ByteBuffer> buffers = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      CompletableFuture<Integer> f = new CompletableFuture<>();
      ByteBuffer b = i % 2 == 0 ? ByteBuffer.allocate(64) : ByteBuffer.allocateDirect(64);
      done.add(f);
      buffers.add(b);
      loop.submit(new Transfer(false, fd, b, offset(i), completion(f), null));
    }
    for (int i = 0; i < n; i++) {
      assertThat(done.get(i).get(10, TimeUnit.SECONDS)).isEqualTo(64);
      assertContent(buffers.get(i).flip(), offset(i));
    }
  }

  private static long offset(int i) {
    return (i * 4099L) % ((1 << 20) - 64);
  }

  private void assertContent(ByteBuffer b, long position) {
    for (int j = 0; j < b.remaining(); j++) {
      if (b.get(b.position() + j) != data[(int) position + j]) {
        throw new AssertionError("byte " + j + " of the read at " + position + " is wrong");
      }
    }
  }

  /** Threads submit reads concurrently, each checks its bytes; every read completes exactly once. */
  @Test
  void readsFromManyThreads_eachGetsItsOwnBytes() throws Exception {
    int threads = 8;
    int perThread = 2000;
    AtomicInteger completions = new AtomicInteger();
    List<Thread> started = new ArrayList<>();
    List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int t = 0; t < threads; t++) {
      int seed = t;
      started.add(Thread.ofPlatform().start(() -> {
        Random r = new Random(seed);
        for (int i = 0; i < perThread; i++) {
          int len = 1 + r.nextInt(8192);
          long pos = r.nextInt(data.length - len);
          ByteBuffer b = r.nextBoolean() ? ByteBuffer.allocate(len) : ByteBuffer.allocateDirect(len);
          CompletableFuture<Integer> f = new CompletableFuture<>();
          loop.submit(new Transfer(false, fd, b, pos, counting(f, completions), null));
          try {
            assertThat(f.get(10, TimeUnit.SECONDS)).isEqualTo(len);
            assertContent(b.flip(), pos);
          } catch (Throwable e) {
            errors.add(e);
            return;
          }
        }
      }));
    }
    for (Thread t : started) {
      t.join();
    }
    assertThat(errors).isEmpty();
    assertThat(completions.get()).isEqualTo(threads * perThread);
  }

  private static IoCompletion counting(CompletableFuture<Integer> f, AtomicInteger count) {
    return new IoCompletion() {
      @Override
      public void completed(int bytes) {
        count.incrementAndGet();
        if (!f.complete(bytes)) {
          throw new AssertionError("completed twice");
        }
      }

      @Override
      public void failed(Throwable error) {
        count.incrementAndGet();
        f.completeExceptionally(error);
      }
    };
  }

  /**
   * Shut down with requests in flight: each completes (with its bytes) or is rejected, never both, and
   * the loop ends, after which it frees its memory.
   */
  @Test
  void shutdownWithRequestsInFlight_completesOrRejectsEachOnce_andTheLoopEnds() throws Exception {
    int n = 1000;
    AtomicInteger completions = new AtomicInteger();
    List<CompletableFuture<Integer>> done = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      CompletableFuture<Integer> f = new CompletableFuture<>();
      done.add(f);
      loop.submit(new Transfer(false, fd, ByteBuffer.allocate(4096), offset(i),
          counting(f, completions), null));
      if (i == n / 2) {
        RingCalls.close(loop, fd); // later reads fail with EBADF, or are rejected
        loop.shutdown();
      }
    }
    loop.awaitTermination();
    for (CompletableFuture<Integer> f : done) {
      assertThat(f).isDone();
      if (f.isCompletedExceptionally()) {
        assertThatThrownBy(f::get).isInstanceOf(ExecutionException.class)
            .cause().isInstanceOfAny(RejectedExecutionException.class, UringException.class);
      }
    }
    assertThat(completions.get()).isEqualTo(n);
  }

  @Test
  void aRequestAfterShutdown_isRejected() throws Exception {
    RingCalls.close(loop, fd);
    loop.shutdown();
    CompletableFuture<Integer> f = new CompletableFuture<>();
    loop.submit(new Transfer(false, fd, ByteBuffer.allocate(8), 0, completion(f), null));
    assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS)).cause()
        .isInstanceOf(RejectedExecutionException.class);
  }

  /**
   * A request queued by a completion goes to the kernel before the next completion of the same batch
   * runs, not a turn later: with one submission per batch, reads that go to the device start in
   * bursts, which cost that device throughput (benchmarks/results/session11/device-depth.md).
   */
  @Test
  void aRequestQueuedByACompletion_isSubmittedBeforeTheNextCompletionOfTheBatchRuns() throws Exception {
    CompletableFuture<Boolean> nextWasSubmitted = new CompletableFuture<>();
    CompletableFuture<Void> nextDone = new CompletableFuture<>();
    Nop next = new Nop(() -> nextDone.complete(null));
    int[] completed = {0}; // the loop's thread only
    Runnable eitherOfTwo = () -> {
      if (completed[0]++ == 0) {
        loop.submit(next); // from a completion: queued locally
      } else {
        nextWasSubmitted.complete(next.prepared);
      }
    };
    // Both NOPs are queued by one completion, so they go out in one submission; a NOP completes inside
    // it, so their two CQEs are reaped as one batch.
    loop.submit(new Nop(() -> {
      loop.submit(new Nop(eitherOfTwo));
      loop.submit(new Nop(eitherOfTwo));
    }));
    assertThat(nextWasSubmitted.get(10, TimeUnit.SECONDS)).isTrue();
    nextDone.get(10, TimeUnit.SECONDS);
  }

  /**
   * A completion that queues more requests than the SQ holds, while another CQE of its batch waits: the
   * early submission fills the SQ, submits and reaps inside the outer reap. Every request completes
   * exactly once (a nested reap must not see the outer batch's CQEs again).
   */
  @Test
  void aCompletionQueueingMoreThanTheSqHolds_midBatch_completesEachRequestOnce() throws Exception {
    int many = RingLoop.ENTRIES + 100;
    AtomicInteger[] counts = new AtomicInteger[many + 2];
    for (int i = 0; i < counts.length; i++) {
      counts[i] = new AtomicInteger();
    }
    CompletableFuture<Void> all = new CompletableFuture<>();
    AtomicInteger left = new AtomicInteger(counts.length);
    java.util.function.IntFunction<Nop> counted = i -> new Nop(() -> {
      counts[i].incrementAndGet();
      if (left.decrementAndGet() == 0) {
        all.complete(null);
      }
    });
    Nop first = new Nop(() -> {
      counts[0].incrementAndGet();
      left.decrementAndGet();
      for (int i = 2; i < counts.length; i++) {
        loop.submit(counted.apply(i));
      }
    });
    loop.submit(new Nop(() -> { // both go out in one submission, so their CQEs are one batch
      loop.submit(first);
      loop.submit(counted.apply(1));
    }));
    all.get(10, TimeUnit.SECONDS);
    while (!loop.isSleeping()) { // done with everything: a second completion would have run by now
      Thread.onSpinWait();
    }
    for (int i = 0; i < counts.length; i++) {
      assertThat(counts[i].get()).as("completions of request %d", i).isEqualTo(1);
    }
  }

  /** {@code IORING_OP_NOP}, which completes inside its submission; runs {@code then} on completion. */
  private static final class Nop extends Op {
    private final Runnable then;
    volatile boolean prepared;

    Nop(Runnable then) {
      this.then = then;
    }

    @Override
    void prepare(java.lang.foreign.MemorySegment sqe, RingLoop loop) {
      Ring.prep(sqe, NOP, -1, 0, 0, 0);
      prepared = true;
    }

    @Override
    void complete(int res, RingLoop loop) {
      then.run();
    }

    @Override
    void reject(Throwable why) {
      throw new AssertionError("rejected", why);
    }
  }
}
