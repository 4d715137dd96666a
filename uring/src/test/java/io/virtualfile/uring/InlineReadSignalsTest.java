package io.virtualfile.uring;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.reactive.AsyncFileIo;
import io.virtualfile.reactive.AsyncVirtualFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract of {@link AsyncVirtualFile}'s signals on the io_uring engine: a read that the page cache
 * answers is signalled on the subscribing thread, during the subscription; a loop of such reads, each
 * subscribed from the signal of the one before, runs to its end without overflowing the stack.
 */
class InlineReadSignalsTest {
  @TempDir Path dir;
  AsyncFileIo io;

  @BeforeEach
  void start() {
    io = AsyncFileIo.builder().engine(AsyncFileIo.Engine.IO_URING).ioThreads(2).build();
  }

  @AfterEach
  void stop() {
    io.close();
  }

  @Test
  void aCachedReadAt_isSignalledOnTheSubscribingThread_beforeSubscribeReturns() throws Exception {
    Path p = Files.write(dir.resolve("f"), new byte[] {1, 2, 3, 4, 5});
    AsyncVirtualFile file = AsyncVirtualFile.open(p, io, READ).block();
    try {
      file.readAt(ByteBuffer.allocate(5), 0).block(); // caches the descriptor
      CompletableFuture<String> signalledOn = new CompletableFuture<>();
      CompletableFuture<Boolean> beforeReturn = new CompletableFuture<>();
      ByteBuffer b = ByteBuffer.allocate(5);
      Thread.ofPlatform().name("subscriber").start(() -> {
        file.readAt(b, 1).subscribe(
            n -> signalledOn.complete(Thread.currentThread().getName() + ":" + n),
            signalledOn::completeExceptionally);
        beforeReturn.complete(signalledOn.isDone());
      });
      assertThat(signalledOn.get(10, TimeUnit.SECONDS)).isEqualTo("subscriber:4");
      assertThat(beforeReturn.get(10, TimeUnit.SECONDS)).isTrue();
      assertThat(b.position()).isEqualTo(4);
      assertThat(b.get(0)).isEqualTo((byte) 2);
    } finally {
      file.close().block();
    }
  }

  /** Each read is subscribed from inside the signal of the one before, on a thread with a small stack. */
  @Test
  void aLongLoopOfReadsSubscribedFromSignals_doesNotOverflowTheStack() throws Exception {
    int reads = 100_000;
    Path p = Files.write(dir.resolve("f"), new byte[8192]);
    AsyncVirtualFile file = AsyncVirtualFile.open(p, io, READ).block();
    try {
      file.readAt(ByteBuffer.allocate(1), 0).block(); // caches the descriptor
      CountDownLatch done = new CountDownLatch(1);
      AtomicReference<Throwable> failure = new AtomicReference<>();
      ByteBuffer b = ByteBuffer.allocateDirect(4096);
      Thread starter = new Thread(null, () -> new Object() {
        int left = reads;

        void next() {
          b.clear();
          file.readAt(b, 4096L * (left % 2)).subscribe(n -> {
            if (--left == 0) {
              done.countDown();
            } else {
              next();
            }
          }, e -> {
            failure.compareAndSet(null, e);
            done.countDown();
          });
        }
      }.next(), "starter", 256 * 1024);
      starter.setUncaughtExceptionHandler((t, e) -> {
        failure.compareAndSet(null, e);
        done.countDown();
      });
      starter.start();
      assertThat(done.await(60, TimeUnit.SECONDS)).isTrue();
      assertThat(failure.get()).isNull();
    } finally {
      file.close().block();
    }
  }

  /**
   * A read subscribed from inside a signal waits for the signal to return; cancelled meanwhile, it is
   * still made (it holds its pin), then releases its pin and hands its buffer to the discard hook, on
   * the same thread, and emits nothing.
   */
  @Test
  void aReadCancelledWhileQueuedBehindASignal_isMadeAndReleasesItsBuffer_emitsNothing()
      throws Exception {
    Path p = Files.write(dir.resolve("f"), new byte[8192]);
    AsyncVirtualFile file = AsyncVirtualFile.open(p, io, READ).block();
    try {
      file.readAt(ByteBuffer.allocate(1), 0).block(); // caches the descriptor
      List<String> log = new CopyOnWriteArrayList<>();
      ByteBuffer queued = ByteBuffer.allocateDirect(4096);
      CompletableFuture<Void> done = new CompletableFuture<>();
      Thread.ofPlatform().name("subscriber").start(() -> {
        file.readAt(ByteBuffer.allocateDirect(4096), 0).subscribe(n -> {
          file.readAt(queued, 4096)
              .doOnDiscard(ByteBuffer.class, b -> log.add(
                  (b == queued ? "discarded" : "other") + " on " + Thread.currentThread().getName()))
              .subscribe(m -> log.add("emitted " + m), e -> log.add("failed " + e))
              .dispose();
          log.add("signal returns");
        });
        log.add("subscribe returned");
        done.complete(null);
      });
      done.get(10, TimeUnit.SECONDS);
      assertThat(log).containsExactly("signal returns", "discarded on subscriber", "subscribe returned");
      assertThat(queued.position()).isZero();
    } finally {
      file.close().block(Duration.ofSeconds(10)); // would wait for a pin that was never released
    }
  }
}
