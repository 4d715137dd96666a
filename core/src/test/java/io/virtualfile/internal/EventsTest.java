package io.virtualfile.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.virtualfile.CrashSafeOverwriteException;
import io.virtualfile.testing.RecordingListener;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Events that need the internals to provoke: waits for a slot, a failing overwrite step. */
class EventsTest {
  @TempDir Path dir;

  private final RecordingListener recorder = new RecordingListener();

  private static final class Fd implements Closeable {
    @Override
    public void close() {}
  }

  @Test
  void aWaitForASlotThatEndsInAFailureIsReportedAsNotAcquired() throws IOException {
    ClockCache<Fd> cache = new ClockCache<>(1, Duration.ofMillis(50));
    cache.events().add(recorder);
    cache.install(new Fd(), null); // pinned for good
    assertThatThrownBy(() -> cache.install(new Fd(), null)).isInstanceOf(IOException.class);
    assertThat(recorder.briefs()).containsExactly("pinWait!");
    assertThat(recorder.events().get(0).nanos()).isGreaterThanOrEqualTo(50_000_000L);
  }

  @Test
  void aWaitForASlotThatGetsOneIsReportedAsAcquired() throws Exception {
    ClockCache<Fd> cache = new ClockCache<>(1, Duration.ofSeconds(10));
    cache.events().add(recorder);
    Slot<Fd> pinned = cache.install(new Fd(), null);
    CompletableFuture<Slot<Fd>> waiter = CompletableFuture.supplyAsync(() -> {
      try {
        return cache.install(new Fd(), null);
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });
    Thread.sleep(50);
    pinned.unpin();
    waiter.get();
    assertThat(recorder.briefs()).containsExactly("EVICTION", "pinWait");
  }

  @Test
  void aMissWithAFreeSlotReportsNoWait() throws IOException {
    ClockCache<Fd> cache = new ClockCache<>(2, Duration.ofSeconds(10));
    cache.events().add(recorder);
    cache.install(new Fd(), null);
    cache.install(new Fd(), null);
    assertThat(recorder.briefs()).isEmpty();
  }

  @Test
  void aFailingStepIsReportedWithItsCauseAndSoIsTheOverwrite() throws IOException {
    Events events = new Events();
    events.add(recorder);
    IOException cause = new IOException("no space left on device");
    FileOps.TempFiles<FileOps.TempFile> failing = (path, permissions) -> {
      throw cause;
    };
    OverwriteProtocol<FileOps.TempFile> p =
        OverwriteProtocol.prepare(JdkFileOps.INSTANCE, failing, dir.resolve("f"), null, events);
    assertThatThrownBy(() -> p.run(ByteBuffer.allocate(3)))
        .isInstanceOf(CrashSafeOverwriteException.class);
    assertThat(recorder.briefs())
        .containsExactly("overwrite.REMOVE_STALE_TEMP", "overwrite.CREATE_TEMP!", "OVERWRITE!");
    assertThat(recorder.events().get(1).failure()).isSameAs(cause);
    assertThat(recorder.events().get(2).failure()).isInstanceOf(CrashSafeOverwriteException.class);
    assertThat(Files.list(dir)).as("nothing left behind").isEmpty();
  }

  @Test
  void listenersAreToldInTheOrderTheyWereAddedAndRemovedOneRegistrationAtATime() {
    Events events = new Events();
    assertThat(events.listener()).isSameAs(Events.NONE);
    RecordingListener other = new RecordingListener();
    events.add(recorder);
    events.add(other);
    events.add(recorder);
    Events.directorySyncBatch(events.listener(), 2);
    assertThat(recorder.briefs()).containsExactly("directorySyncBatch:2", "directorySyncBatch:2");
    assertThat(other.briefs()).containsExactly("directorySyncBatch:2");
    events.remove(recorder);
    events.remove(other);
    assertThat(events.listener()).as("the one left, not a composite").isSameAs(recorder);
    events.remove(recorder);
    assertThat(events.listener()).isSameAs(Events.NONE);
  }
}
