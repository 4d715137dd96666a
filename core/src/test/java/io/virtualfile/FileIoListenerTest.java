package io.virtualfile;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.virtualfile.testing.RecordingListener;
import io.virtualfile.testing.RecordingListener.Event;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a {@link FileIoListener} on an {@link OpenFileCache} is told, by core's blocking calls. */
class FileIoListenerTest {
  @TempDir Path dir;

  private final RecordingListener recorder = new RecordingListener();

  private static ByteBuffer bytes(String s) {
    return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void eachOperationOfAVirtualFileIsReportedOnceWithItsBytes() throws IOException {
    try (OpenFileCache cache = OpenFileCache.create(4, Duration.ofSeconds(1), recorder)) {
      try (VirtualFile f = VirtualFile.open(dir.resolve("a"), cache, CREATE, READ, WRITE)) {
        f.writeAt(bytes("hello"), 0);
        f.readAt(ByteBuffer.allocate(16), 0);
        f.readAt(ByteBuffer.allocate(4), 5); // at the end of the file: -1, no bytes
        f.size();
        f.truncate(2);
        f.sync();
        f.syncData();
      }
    }
    assertThat(recorder.briefs()).containsExactly(
        "OPEN", "WRITE:5", "READ:5", "READ", "SIZE", "TRUNCATE", "FSYNC", "FDATASYNC", "CLOSE");
    assertThat(recorder.events()).allSatisfy(e -> assertThat(e.nanos()).isPositive());
  }

  @Test
  void anEvictionAndTheReopenAfterItAreReported() throws IOException {
    try (OpenFileCache cache = OpenFileCache.create(1, Duration.ofSeconds(1), recorder);
        VirtualFile a = VirtualFile.open(dir.resolve("a"), cache, CREATE, READ, WRITE);
        VirtualFile b = VirtualFile.open(dir.resolve("b"), cache, CREATE, READ, WRITE)) {
      a.size();
    }
    // b's open evicts a's descriptor; a's next operation reopens it, evicting b's.
    assertThat(recorder.briefs()).startsWith("OPEN", "EVICTION", "OPEN", "EVICTION", "REOPEN", "SIZE");
  }

  @Test
  void aFailedOperationIsReportedWithTheExceptionItsCallerGets() throws IOException {
    Path p = dir.resolve("a");
    try (OpenFileCache cache = OpenFileCache.create(1, Duration.ofSeconds(1), recorder);
        VirtualFile a = VirtualFile.open(p, cache, CREATE, READ, WRITE);
        VirtualFile b = VirtualFile.open(dir.resolve("b"), cache, CREATE, READ, WRITE)) {
      Files.delete(p); // a's descriptor was evicted: its reopen finds no file
      recorder.clear();
      Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(() -> a.size());
      assertThat(thrown).isInstanceOf(FileReplacedException.class);
      List<Event> events = recorder.events();
      // The reopen claims its slot (evicting b) before it opens, so the eviction comes first.
      assertThat(recorder.briefs()).containsExactly("EVICTION", "REOPEN!", "SIZE!");
      assertThat(events.subList(1, 3)).allSatisfy(e -> assertThat(e.failure()).isSameAs(thrown));
    }
  }

  @Test
  void aRemovedListenerIsToldNothingMore() throws IOException {
    try (OpenFileCache cache = OpenFileCache.create(4);
        VirtualFile f = VirtualFile.open(dir.resolve("a"), cache, CREATE, READ, WRITE)) {
      cache.addListener(recorder);
      f.size();
      assertThat(cache.removeListener(recorder)).isTrue();
      f.size();
      assertThat(cache.removeListener(recorder)).as("no longer registered").isFalse();
    }
    assertThat(recorder.briefs()).containsExactly("SIZE");
  }

  @Test
  void aListenerThatThrowsNeitherFailsTheOperationNorSilencesTheOthers() throws IOException {
    FileIoListener throwing = new FileIoListener() {
      @Override
      public void operation(Operation op, long nanos, long bytes, Throwable failure) {
        throw new IllegalStateException("a broken listener");
      }
    };
    try (OpenFileCache cache = OpenFileCache.create(4, Duration.ofSeconds(1), throwing);
        VirtualFile f = VirtualFile.open(dir.resolve("a"), cache, CREATE, READ, WRITE)) {
      cache.addListener(recorder);
      assertThat(f.writeAt(bytes("abc"), 0)).isEqualTo(3);
    }
    assertThat(recorder.briefs()).startsWith("WRITE:3");
  }

  @Test
  void theStaticOverwriteReportsItsStepsThenTheDirectoryFsyncThenTheWholeToTheSharedCache()
      throws IOException {
    OpenFileCache.shared().addListener(recorder);
    try {
      VirtualFile.crashSafeOverwrite(dir.resolve("f"), bytes("abc"));
    } finally {
      OpenFileCache.shared().removeListener(recorder);
    }
    // Only the overwrite's events: a cleaner may close another test's leaked handle meanwhile.
    assertThat(recorder.briefs(e -> !e.name().equals("CLOSE"))).containsExactly(
        "overwrite.REMOVE_STALE_TEMP", "overwrite.CREATE_TEMP", "overwrite.WRITE:3",
        "overwrite.SYNC_TEMP", "overwrite.CLOSE_TEMP", "overwrite.RENAME", "DIRECTORY_FSYNC",
        "OVERWRITE:3");
  }

  @Test
  void fsyncDirectoryIsReportedToTheSharedCache() throws IOException {
    OpenFileCache.shared().addListener(recorder);
    try {
      VirtualFile.fsyncDirectory(dir);
    } finally {
      OpenFileCache.shared().removeListener(recorder);
    }
    assertThat(recorder.briefs(e -> !e.name().equals("CLOSE"))).containsExactly("DIRECTORY_FSYNC");
  }

  @Test
  void addingNullIsRefused() {
    try (OpenFileCache cache = OpenFileCache.create(1)) {
      assertThatThrownBy(() -> cache.addListener(null)).isInstanceOf(NullPointerException.class);
    }
  }
}
