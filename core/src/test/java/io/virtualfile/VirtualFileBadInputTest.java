package io.virtualfile;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.file.StandardOpenOption.APPEND;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input gets a clear exception and leaves the file as it was. */
class VirtualFileBadInputTest {
  @TempDir Path dir;
  OpenFileCache cache;
  Path path;

  @BeforeEach
  void setUp() throws Exception {
    cache = OpenFileCache.create(2);
    path = dir.resolve("f");
    Files.writeString(path, "original");
  }

  @AfterEach
  void tearDown() throws Exception {
    cache.close();
    if (Files.exists(path)) {
      assertThat(Files.readString(path)).as("bad input must not change the file").isEqualTo("original");
    }
  }

  static ByteBuffer bytes() {
    return ByteBuffer.wrap("XX".getBytes(US_ASCII));
  }

  @Test
  void negativePosition_isRefusedForEveryOperation() throws Exception {
    try (VirtualFile f = VirtualFile.open(path, cache, READ, WRITE)) {
      assertThatThrownBy(() -> f.readAt(ByteBuffer.allocate(1), -1))
          .isInstanceOf(IllegalArgumentException.class).hasMessage("position < 0: -1");
      assertThatThrownBy(() -> f.readExactAt(ByteBuffer.allocate(1), -2))
          .isInstanceOf(IllegalArgumentException.class).hasMessage("position < 0: -2");
      assertThatThrownBy(() -> f.writeAt(bytes(), -3))
          .isInstanceOf(IllegalArgumentException.class).hasMessage("position < 0: -3");
      assertThatThrownBy(() -> f.writeAllAt(bytes(), -4))
          .isInstanceOf(IllegalArgumentException.class).hasMessage("position < 0: -4");
      assertThatThrownBy(() -> f.truncate(-5))
          .isInstanceOf(IllegalArgumentException.class).hasMessage("size < 0: -5");
    }
  }

  @Test
  void nullBuffer_isRefusedWithItsName() throws Exception {
    try (VirtualFile f = VirtualFile.open(path, cache, READ, WRITE)) {
      assertThatThrownBy(() -> f.readAt(null, 0)).isInstanceOf(NullPointerException.class).hasMessage("dst");
      assertThatThrownBy(() -> f.writeAt(null, 0)).isInstanceOf(NullPointerException.class).hasMessage("src");
      assertThatThrownBy(() -> f.writeAllAt(null, 0)).isInstanceOf(NullPointerException.class).hasMessage("src");
      assertThatThrownBy(() -> f.readExactAt(null, 0)).isInstanceOf(NullPointerException.class).hasMessage("dst");
    }
  }

  @Test
  void write_onReadOnlyFile_isRefusedNamingThePath() throws Exception {
    try (VirtualFile f = VirtualFile.open(path, cache, READ)) {
      assertThatThrownBy(() -> f.writeAt(bytes(), 0))
          .isInstanceOf(NonWritableChannelException.class)
          .hasMessageContaining("not opened for writing").hasMessageContaining(path.toString());
      assertThatThrownBy(() -> f.truncate(0)).isInstanceOf(NonWritableChannelException.class);
    }
  }

  @Test
  void read_onWriteOnlyFile_isRefusedNamingThePath() throws Exception {
    try (VirtualFile f = VirtualFile.open(path, cache, WRITE)) {
      assertThatThrownBy(() -> f.readAt(ByteBuffer.allocate(4), 0))
          .isInstanceOf(NonReadableChannelException.class)
          .hasMessageContaining("not opened for reading").hasMessageContaining(path.toString());
    }
  }

  @Test
  void io_afterClose_failsWithClosedChannelNamingThePath() throws Exception {
    VirtualFile f = VirtualFile.open(path, cache, READ, WRITE);
    f.close();
    f.close(); // idempotent
    assertThatThrownBy(() -> f.readAt(ByteBuffer.allocate(1), 0))
        .isInstanceOf(ClosedChannelException.class)
        .hasMessageContaining("file is closed").hasMessageContaining(path.toString());
    assertThatThrownBy(() -> f.writeAt(bytes(), 0)).isInstanceOf(ClosedChannelException.class);
    assertThatThrownBy(f::size).isInstanceOf(ClosedChannelException.class);
    assertThatThrownBy(f::sync).isInstanceOf(ClosedChannelException.class);
  }

  @Test
  void close_keepsTheDescriptorCached_forTheNextOpenOfTheFile() throws Exception {
    VirtualFile f = VirtualFile.open(path, cache, READ);
    f.close();
    assertThat(cache.stats().openHandles()).isEqualTo(1);
    long misses = cache.stats().misses();
    try (VirtualFile again = VirtualFile.open(path, cache, READ)) {
      assertThat(again.readAt(ByteBuffer.allocate(1), 0)).isEqualTo(1);
    }
    assertThat(cache.stats().misses()).as("opened and read without opening the file").isEqualTo(misses);
  }

  @Test
  void close_ofAHandleThatCreatedItsFile_releasesTheDescriptor() throws Exception {
    VirtualFile f = VirtualFile.open(path.resolveSibling("new"), cache,
        StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    assertThat(cache.stats().openHandles()).isEqualTo(1);
    f.close();
    assertThat(cache.stats().openHandles()).isZero();
  }

  @Test
  void capacityBelowOne_isRefused() {
    assertThatThrownBy(() -> OpenFileCache.create(0))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("capacity < 1: 0");
    assertThatThrownBy(() -> OpenFileCache.create(-3))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("capacity < 1: -3");
    assertThatThrownBy(() -> OpenFileCache.create(1, Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pinWait < 0");
  }

  @Test
  void append_isRefusedBeforeOpening() {
    assertThatThrownBy(() -> VirtualFile.open(path, cache, WRITE, APPEND))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("APPEND");
    assertThat(cache.stats().misses()).isZero();
  }

  @Test
  void nullArguments_areRefusedByName() {
    assertThatThrownBy(() -> VirtualFile.open(null, cache)).hasMessage("path");
    assertThatThrownBy(() -> VirtualFile.open(path, (OpenFileCache) null)).hasMessage("cache");
    assertThatThrownBy(() -> VirtualFile.open(path, cache, (OpenOption) null))
        .hasMessage("options contains null");
  }

  @Test
  void missingFileWithoutCreate_failsLikeFileChannel() {
    assertThatThrownBy(() -> VirtualFile.open(dir.resolve("absent"), cache, READ))
        .isInstanceOf(NoSuchFileException.class);
    assertThat(Files.exists(dir.resolve("absent"))).isFalse();
    assertThat(cache.stats().openHandles()).isZero();
  }

  @Test
  void sharedCache_cannotBeClosed() {
    assertThatThrownBy(() -> OpenFileCache.shared().close())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("shared");
  }

  @Test
  void createOnMissingFile_thenFileExists() throws Exception {
    Path fresh = dir.resolve("fresh");
    try (VirtualFile f = VirtualFile.open(fresh, cache, CREATE, WRITE)) {
      assertThat(f.size()).isZero();
    }
    assertThat(fresh).exists();
  }

  /** Regression: public calls threw classes of io.virtualfile.internal, which users cannot name. */
  @Test
  void everyRefusal_hasAPublicType() throws Exception {
    java.util.List<Throwable> errors = new java.util.ArrayList<>();
    try (VirtualFile readOnly = VirtualFile.open(path, cache, READ);
        VirtualFile writeOnly = VirtualFile.open(path, cache, WRITE)) {
      errors.add(catchThrowable(() -> readOnly.writeAt(bytes(), 0)));
      errors.add(catchThrowable(() -> readOnly.truncate(0)));
      errors.add(catchThrowable(() -> writeOnly.readAt(ByteBuffer.allocate(1), 0)));
      VirtualFile closed = VirtualFile.open(path, cache, READ);
      closed.close();
      errors.add(catchThrowable(() -> closed.readAt(ByteBuffer.allocate(1), 0)));
    }
    OpenFileCache closedCache = OpenFileCache.create(1);
    closedCache.close();
    errors.add(catchThrowable(() -> VirtualFile.open(path, closedCache, READ)));
    for (Throwable t : errors) {
      assertThat(t).isNotNull();
      Class<?> type = t.getClass();
      assertThat(java.lang.reflect.Modifier.isPublic(type.getModifiers())).as("%s is public", type).isTrue();
      assertThat(type.getPackageName()).as("%s", type).isIn("io.virtualfile", "java.io",
          "java.nio.channels", "java.nio.file", "java.lang");
    }
    assertThat(errors.get(0)).isInstanceOf(NotWritableException.class);
    assertThat(errors.get(2)).isInstanceOf(NotReadableException.class);
    assertThat(errors.get(3)).isInstanceOf(FileClosedException.class);
  }
}
