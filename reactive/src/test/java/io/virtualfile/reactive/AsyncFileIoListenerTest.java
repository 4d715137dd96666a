package io.virtualfile.reactive;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.CrashSafeOverwriteException.Step;
import io.virtualfile.FileReplacedException;
import io.virtualfile.testing.RecordingListener;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/** What a {@link io.virtualfile.FileIoListener} on an {@link AsyncFileIo} is told. */
class AsyncFileIoListenerTest {
  @TempDir Path dir;

  private final RecordingListener recorder = new RecordingListener();

  private static ByteBuffer utf8(String s) {
    return ByteBuffer.wrap(s.getBytes(UTF_8));
  }

  @Test
  void eachOperationOfAnAsyncVirtualFileIsReportedOnceWithItsBytes() {
    try (AsyncFileIo io = AsyncFileIo.builder().ioThreads(2).listener(recorder).build()) {
      AsyncVirtualFile f = AsyncVirtualFile.open(dir.resolve("a"), io, CREATE, READ, WRITE).block();
      f.writeAt(utf8("hello"), 0).block();
      f.readAt(ByteBuffer.allocate(16), 0).block();
      f.size().block();
      f.truncate(2).block();
      f.sync().block();
      f.syncData().block();
      f.close().block();
    }
    assertThat(recorder.briefs()).containsExactly(
        "OPEN", "WRITE:5", "READ:5", "SIZE", "TRUNCATE", "FSYNC", "FDATASYNC", "CLOSE");
    assertThat(recorder.events()).allSatisfy(e -> assertThat(e.nanos()).isPositive());
  }

  @Test
  void aFailedReadIsReportedWithTheErrorItsSubscriberGets() throws Exception {
    Path p = dir.resolve("a");
    try (AsyncFileIo io = AsyncFileIo.builder().ioThreads(2).cacheCapacity(1).build()) {
      AsyncVirtualFile a = AsyncVirtualFile.open(p, io, CREATE, READ, WRITE).block();
      AsyncVirtualFile.open(dir.resolve("b"), io, CREATE, READ, WRITE).block(); // evicts a's channel
      Files.delete(p);
      io.addListener(recorder);
      Throwable thrown = a.readAt(ByteBuffer.allocate(4), 0).<Throwable>map(n -> null)
          .onErrorResume(Mono::just).block();
      assertThat(thrown).isInstanceOf(FileReplacedException.class);
      // The reopen claims its slot (evicting the other file) before it opens: the eviction comes first.
      assertThat(recorder.briefs()).containsExactly("EVICTION", "REOPEN!", "READ!");
      assertThat(recorder.events().subList(1, 3))
          .allSatisfy(e -> assertThat(e.failure()).isSameAs(thrown));
    }
  }

  /**
   * Regression (found by a probe): a listener's {@code StackOverflowError} was rethrown on the read's
   * completion path, before the signal, and the read never completed.
   */
  @Test
  void aListenerThrowingAVirtualMachineError_doesNotKeepTheReadFromCompleting() throws Exception {
    io.virtualfile.FileIoListener overflowing = new io.virtualfile.FileIoListener() {
      @Override
      public void operation(Operation op, long nanos, long bytes, Throwable failure) {
        throw new StackOverflowError("a listener recursing too deep");
      }
    };
    Path p = Files.write(dir.resolve("f"), new byte[10]);
    try (AsyncFileIo io = AsyncFileIo.builder().ioThreads(2).listener(overflowing).build()) {
      AsyncVirtualFile f = AsyncVirtualFile.open(p, io, READ).block(java.time.Duration.ofSeconds(10));
      assertThat(f.readAt(ByteBuffer.allocate(16), 0).block(java.time.Duration.ofSeconds(10)))
          .isEqualTo(10);
      assertThat(AsyncVirtualFile.readAll(p, io).block(java.time.Duration.ofSeconds(10)).remaining())
          .isEqualTo(10);
      f.close().block(java.time.Duration.ofSeconds(10));
    }
  }

  @Test
  void readAllReportsTheOpenEachReadAndTheClose() throws Exception {
    Path p = Files.writeString(dir.resolve("a"), "0123456789");
    try (AsyncFileIo io = AsyncFileIo.builder().ioThreads(2).listener(recorder).build()) {
      assertThat(AsyncVirtualFile.readAll(p, io).block().remaining()).isEqualTo(10);
    }
    assertThat(recorder.briefs()).containsExactly("OPEN", "READ:10", "CLOSE");
  }

  @Test
  void anOverwriteReportsItsStepsItsDirectoryFsyncAndTheWhole() throws Exception {
    try (AsyncFileIo io = AsyncFileIo.builder().ioThreads(2).listener(recorder).build()) {
      io.overwrite(dir.resolve("f"), utf8("abc")).block();
    }
    assertThat(recorder.briefs()).containsExactly(
        "overwrite.REMOVE_STALE_TEMP", "overwrite.CREATE_TEMP", "overwrite.WRITE:3",
        "overwrite.SYNC_TEMP", "overwrite.CLOSE_TEMP", "overwrite.RENAME", "directorySyncBatch:1",
        "DIRECTORY_FSYNC", "OVERWRITE:3");
  }

  @Test
  void overwritesThatShareADirectoryFsyncAreReportedAsOneBatch() throws Exception {
    Sinks.Empty<Void> firstSync = Sinks.empty();
    AtomicInteger syncs = new AtomicInteger();
    try (AsyncFileIo io = AsyncFileIo.builder().ioThreads(2).listener(recorder)
        .syncGate(d -> syncs.getAndIncrement() == 0 ? firstSync.asMono() : Mono.empty())
        .build()) {
      Mono<Void> first = io.overwrite(dir.resolve("a"), utf8("A")).cache();
      first.subscribe();
      while (syncs.get() == 0) { // the first batch's fsync is paused at its gate
        Thread.onSpinWait();
      }
      Mono<Void> second = io.overwrite(dir.resolve("b"), utf8("B")).cache();
      Mono<Void> third = io.overwrite(dir.resolve("c"), utf8("C")).cache();
      second.subscribe();
      third.subscribe();
      while (!Files.exists(dir.resolve("b")) || !Files.exists(dir.resolve("c"))) {
        Thread.onSpinWait(); // both renamed: their requests wait for the next fsync
      }
      firstSync.tryEmitEmpty();
      Mono.when(first, second, third).block(Duration.ofSeconds(10));
    }
    assertThat(recorder.briefs(e -> e.name().equals("directorySyncBatch")))
        .containsExactly("directorySyncBatch:1", "directorySyncBatch:2");
    assertThat(recorder.briefs(e -> e.name().equals("DIRECTORY_FSYNC"))).hasSize(2);
    assertThat(recorder.briefs(e -> e.name().equals("OVERWRITE"))).hasSize(3);
  }

  @Test
  void aCancelledOverwriteIsReportedAsFailed() throws Exception {
    Sinks.Empty<Void> gate = Sinks.empty();
    try (AsyncFileIo io = AsyncFileIo.builder().ioThreads(2).listener(recorder)
        .stepGate(step -> step == Step.SYNC_TEMP ? gate.asMono() : Mono.empty())
        .build()) {
      reactor.core.Disposable run = io.overwrite(dir.resolve("f"), utf8("abc")).subscribe();
      while (recorder.briefs(e -> e.name().equals("overwrite.WRITE")).isEmpty()) {
        Thread.onSpinWait();
      }
      run.dispose();
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (recorder.briefs(e -> e.name().equals("OVERWRITE")).isEmpty()
          && System.nanoTime() < deadline) {
        Thread.sleep(1);
      }
    }
    RecordingListener.Event whole = recorder.events().stream()
        .filter(e -> e.name().equals("OVERWRITE")).findFirst().orElseThrow();
    assertThat(whole.failure()).isInstanceOf(java.util.concurrent.CancellationException.class);
  }

  @Test
  void anIdleEngineHasNoQueuedTasksAndNoExtraThreads() {
    try (AsyncFileIo io = AsyncFileIo.builder().ioThreads(1).build()) {
      assertThat(io.queuedTasks()).isZero();
      assertThat(io.extraIoThreads()).isZero();
    }
  }
}
