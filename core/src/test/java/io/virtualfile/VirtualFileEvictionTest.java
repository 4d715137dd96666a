package io.virtualfile;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.DELETE_ON_CLOSE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.TRUNCATE_EXISTING;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What happens to a virtual file when the cache closes its descriptor and it has to reopen. */
class VirtualFileEvictionTest {
  @TempDir Path dir;
  OpenFileCache cache;

  @BeforeEach
  void setUp() {
    cache = OpenFileCache.create(1);
  }

  @AfterEach
  void tearDown() {
    cache.close();
  }

  static ByteBuffer ascii(String s) {
    return ByteBuffer.wrap(s.getBytes(US_ASCII));
  }

  static String readAll(VirtualFile f) throws Exception {
    ByteBuffer b = ByteBuffer.allocate((int) f.size());
    f.readExactAt(b, 0);
    return new String(b.array(), US_ASCII);
  }

  /** Evicts whatever the one-slot cache holds by touching another file. */
  void evict() throws Exception {
    Path other = dir.resolve("evictor");
    try (VirtualFile f = VirtualFile.open(other, cache, CREATE, WRITE)) {
      f.writeAllAt(ascii("e"), 0);
    }
  }

  @Test
  void createNew_survivesEvictionAndReopenWithItsData() throws Exception {
    Path p = dir.resolve("new");
    try (VirtualFile f = VirtualFile.open(p, cache, CREATE_NEW, READ, WRITE)) {
      f.writeAllAt(ascii("kept"), 0);
      long missesBefore = cache.stats().misses();
      evict();
      assertThat(readAll(f)).isEqualTo("kept");
      assertThat(cache.stats().misses()).as("the read reopened the file").isEqualTo(missesBefore + 2);
    }
  }

  @Test
  void truncateExisting_appliesOnlyOnFirstOpen() throws Exception {
    Path p = dir.resolve("t");
    Files.writeString(p, "old content");
    try (VirtualFile f = VirtualFile.open(p, cache, TRUNCATE_EXISTING, READ, WRITE)) {
      assertThat(f.size()).isZero();
      f.writeAllAt(ascii("fresh"), 0);
      evict();
      assertThat(readAll(f)).isEqualTo("fresh");
    }
  }

  @Test
  void create_isNotRepeated_aDeletedFileIsNotRecreatedEmpty() throws Exception {
    Path p = dir.resolve("c");
    try (VirtualFile f = VirtualFile.open(p, cache, CREATE, READ, WRITE)) {
      f.writeAllAt(ascii("x"), 0);
      evict();
      Files.delete(p);
      assertThatThrownBy(() -> f.readAt(ByteBuffer.allocate(1), 0))
          .isInstanceOf(FileReplacedException.class)
          .hasMessageContaining("was deleted")
          .hasRootCauseInstanceOf(NoSuchFileException.class);
      assertThat(p).doesNotExist();
    }
  }

  @Test
  void deleteOnClose_deletesAtHandleCloseNotAtEviction() throws Exception {
    Path p = dir.resolve("d");
    VirtualFile f = VirtualFile.open(p, cache, CREATE, READ, WRITE, DELETE_ON_CLOSE);
    f.writeAllAt(ascii("tmp"), 0);
    evict();
    assertThat(p).as("eviction closes the descriptor but must not delete").exists();
    assertThat(readAll(f)).isEqualTo("tmp");
    f.close();
    assertThat(p).doesNotExist();
  }

  @Test
  void evictions_areCountedAndCapacityIsNeverExceeded() throws Exception {
    try (VirtualFile a = VirtualFile.open(dir.resolve("a"), cache, CREATE, READ, WRITE);
        VirtualFile b = VirtualFile.open(dir.resolve("b"), cache, CREATE, READ, WRITE)) {
      for (int i = 0; i < 10; i++) {
        a.writeAllAt(ascii("a" + i), 0);
        b.writeAllAt(ascii("b" + i), 0);
        assertThat(cache.stats().openHandles()).isEqualTo(1);
      }
      assertThat(readAll(a)).isEqualTo("a9");
      assertThat(readAll(b)).isEqualTo("b9");
    }
    CacheStats s = cache.stats();
    assertThat(s.evictions()).isGreaterThanOrEqualTo(20);
    assertThat(s.misses()).isEqualTo(s.evictions() + 1);
  }

  @Test
  void hits_areCountedWhileTheDescriptorStaysCached() throws Exception {
    try (VirtualFile a = VirtualFile.open(dir.resolve("a"), cache, CREATE, READ, WRITE)) {
      for (int i = 0; i < 5; i++) {
        a.writeAllAt(ascii("z"), i);
      }
    }
    assertThat(cache.stats().hits()).isEqualTo(5);
    assertThat(cache.stats().misses()).isEqualTo(1);
  }

  @Test
  void oneThreadUsingTwoFilesOnOneSlot_neverDeadlocks() {
    assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
      try (VirtualFile a = VirtualFile.open(dir.resolve("a"), cache, CREATE, READ, WRITE);
          VirtualFile b = VirtualFile.open(dir.resolve("b"), cache, CREATE, READ, WRITE)) {
        for (int i = 0; i < 1_000; i++) {
          a.writeAllAt(ascii("A"), i);
          b.writeAllAt(ascii("B"), i);
          ByteBuffer one = ByteBuffer.allocate(1);
          a.readExactAt(one, i);
          assertThat(one.get(0)).isEqualTo((byte) 'A');
        }
        assertThat(b.size()).isEqualTo(1_000);
      }
    });
  }

  @Test
  void closedCache_failsLaterIoClearly_andClosesDescriptors() throws Exception {
    Path p = dir.resolve("x");
    VirtualFile f = VirtualFile.open(p, cache, CREATE, READ, WRITE);
    f.writeAllAt(ascii("x"), 0);
    cache.close();
    assertThat(cache.stats().openHandles()).isZero();
    assertThatThrownBy(() -> f.readAt(ByteBuffer.allocate(1), 0))
        .isInstanceOf(ClosedChannelException.class)
        .hasMessageContaining("cache is closed");
    assertThatThrownBy(() -> VirtualFile.open(p, cache, READ))
        .isInstanceOf(ClosedChannelException.class)
        .hasMessageContaining("cache is closed");
    cache.close(); // idempotent
    f.close();
  }
}
