package io.virtualfile.reactive;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.CrashSafeOverwriteException.Step;
import io.virtualfile.internal.JdkFileOps;
import io.virtualfile.internal.OverwriteProtocol;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.Disposable;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * Cancellation at each step of the reactive overwrite, with the pipeline paused there by a test gate;
 * the outcome is checked on disk.
 */
class AsyncOverwriteCancellationTest {
  @TempDir Path dir;

  Set<String> entries() throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
    }
  }

  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      Thread.sleep(1);
    }
  }

  static boolean readsAs(Path f, String content) {
    try {
      return Files.readString(f).equals(content);
    } catch (Exception e) {
      return false;
    }
  }

  @ParameterizedTest
  @EnumSource(value = Step.class, names = {"REMOVE_STALE_TEMP", "CREATE_TEMP", "WRITE", "SYNC_TEMP", "CLOSE_TEMP", "RENAME"})
  void cancelWhilePausedBeforeAStep_leavesTheFinalUntouched_andRemovesTheTemp(Step pauseAt) throws Exception {
    Path f = Files.writeString(dir.resolve("meta"), "old");
    Path tmp = dir.resolve("meta.tmp");
    CountDownLatch reached = new CountDownLatch(1);
    Sinks.Empty<Void> never = Sinks.empty();
    ObservedFileOps ops = new ObservedFileOps(JdkFileOps.INSTANCE);
    try (AsyncFileIo io = AsyncFileIo.builder().fileOps(ops).stepGate(step -> {
          if (step == pauseAt) {
            reached.countDown();
            return never.asMono();
          }
          return Mono.empty();
        }).build()) {
      Disposable d = io.overwrite(f, tmp, ByteBuffer.wrap("new".getBytes(UTF_8)))
          .subscribeOn(Schedulers.parallel()).subscribe();
      assertThat(reached.await(10, TimeUnit.SECONDS)).isTrue();
      if (pauseAt.compareTo(Step.CREATE_TEMP) > 0) {
        assertThat(tmp).as("the temp exists while paused").exists();
      }
      d.dispose();
      // The claim on the temp path is released last, once the cleanup is done: then the run has ended.
      await("the cancelled overwrite ended", () -> !OverwriteProtocol.claimed(tmp));
      assertThat(tmp).doesNotExist();
      assertThat(Files.readString(f)).isEqualTo("old");
      assertThat(entries()).containsExactly("meta");
      assertThat(ops.directorySyncs.get()).isZero();
      // the explicit temp path was released: a new overwrite with it works
      try (AsyncFileIo plain = AsyncFileIo.builder().build()) {
        plain.overwrite(f, tmp, ByteBuffer.wrap("later".getBytes(UTF_8))).block(Duration.ofSeconds(10));
      }
      assertThat(Files.readString(f)).isEqualTo("later");
    }
  }

  @Test
  void cancelAfterTheRename_theDirectoryFsyncStillCompletes() throws Exception {
    Path f = Files.writeString(dir.resolve("meta"), "old");
    CountDownLatch reached = new CountDownLatch(1);
    Sinks.Empty<Void> gate = Sinks.empty();
    ObservedFileOps ops = new ObservedFileOps(JdkFileOps.INSTANCE);
    AtomicReference<Throwable> dropped = new AtomicReference<>();
    Hooks.onErrorDropped(dropped::set);
    try (AsyncFileIo io = AsyncFileIo.builder().fileOps(ops).syncGate(d -> {
          reached.countDown();
          return gate.asMono();
        }).build()) {
      Disposable d = io.overwrite(f, ByteBuffer.wrap("new".getBytes(UTF_8)))
          .subscribeOn(Schedulers.parallel()).subscribe();
      assertThat(reached.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(Files.readString(f)).as("renamed before the directory fsync").isEqualTo("new");
      d.dispose();
      assertThat(ops.directorySyncs.get()).as("held by the gate, cancelled or not").isZero();
      gate.tryEmitEmpty();
      await("directory fsync after cancel", () -> ops.directorySyncs.get() == 1);
      assertThat(Files.readString(f)).isEqualTo("new");
      assertThat(entries()).containsExactly("meta");
      assertThat(dropped.get()).isNull();
    } finally {
      Hooks.resetOnErrorDropped();
    }
  }

  @Test
  void timeoutBeforeTheRename_behavesAsCancel() throws Exception {
    Path f = Files.writeString(dir.resolve("meta"), "old");
    Sinks.Empty<Void> never = Sinks.empty();
    try (AsyncFileIo io = AsyncFileIo.builder()
        .stepGate(step -> step == Step.SYNC_TEMP ? never.asMono() : Mono.empty()).build()) {
      reactor.test.StepVerifier.create(io.overwrite(f, ByteBuffer.wrap("new".getBytes(UTF_8)))
              .timeout(Duration.ofMillis(100))
              .subscribeOn(Schedulers.parallel()))
          .expectError(java.util.concurrent.TimeoutException.class)
          .verify(Duration.ofSeconds(10));
      await("temp removed after timeout", () -> {
        try {
          return entries().equals(Set.of("meta"));
        } catch (Exception x) {
          return false;
        }
      });
      assertThat(Files.readString(f)).isEqualTo("old");
    }
  }
}
