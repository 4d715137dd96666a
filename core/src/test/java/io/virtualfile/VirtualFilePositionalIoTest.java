package io.virtualfile;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The positional IO contract of {@link VirtualFile}, on a cache with room for the file. */
class VirtualFilePositionalIoTest {
  @TempDir Path dir;
  OpenFileCache cache;
  Path path;

  @BeforeEach
  void setUp() {
    cache = OpenFileCache.create(4);
    path = dir.resolve("f");
  }

  @AfterEach
  void tearDown() {
    cache.close();
  }

  static ByteBuffer ascii(String s) {
    return ByteBuffer.wrap(s.getBytes(US_ASCII));
  }

  static String ascii(ByteBuffer b) {
    b.flip();
    byte[] bytes = new byte[b.remaining()];
    b.get(bytes);
    return new String(bytes, US_ASCII);
  }

  @Test
  void writesAtOffsets_readBackInPlace() throws Exception {
    try (VirtualFile f = VirtualFile.open(path, cache, CREATE, READ, WRITE)) {
      f.writeAllAt(ascii("BAR"), 3);
      f.writeAllAt(ascii("FOO"), 0);
      ByteBuffer all = ByteBuffer.allocate(6);
      f.readExactAt(all, 0);
      assertThat(ascii(all)).isEqualTo("FOOBAR");
      ByteBuffer mid = ByteBuffer.allocate(3);
      f.readExactAt(mid, 2);
      assertThat(ascii(mid)).isEqualTo("OBA");
    }
    assertThat(Files.readString(path)).isEqualTo("FOOBAR");
  }

  @Test
  void readAt_atEndOfFile_returnsMinusOne() throws Exception {
    Files.writeString(path, "abc");
    try (VirtualFile f = VirtualFile.open(path, cache, READ)) {
      assertThat(f.readAt(ByteBuffer.allocate(4), 3)).isEqualTo(-1);
      assertThat(f.readAt(ByteBuffer.allocate(4), 100)).isEqualTo(-1);
    }
  }

  @Test
  void readAt_nearEndOfFile_returnsShortCount() throws Exception {
    Files.writeString(path, "abcdef");
    try (VirtualFile f = VirtualFile.open(path, cache, READ)) {
      ByteBuffer b = ByteBuffer.allocate(10);
      assertThat(f.readAt(b, 4)).isEqualTo(2);
      assertThat(ascii(b)).isEqualTo("ef");
    }
  }

  @Test
  void readExactAt_pastEndOfFile_throwsEofAndKeepsWhatWasThere() throws Exception {
    Files.writeString(path, "abcdef");
    try (VirtualFile f = VirtualFile.open(path, cache, READ)) {
      ByteBuffer b = ByteBuffer.allocate(5);
      assertThatThrownBy(() -> f.readExactAt(b, 3))
          .isInstanceOf(EOFException.class)
          .hasMessageContaining("end of file at 6")
          .hasMessageContaining(path.toString());
      assertThat(ascii(b)).isEqualTo("def");
    }
  }

  @Test
  void writeAt_pastEnd_leavesZeroFilledHole() throws Exception {
    try (VirtualFile f = VirtualFile.open(path, cache, CREATE, READ, WRITE)) {
      f.writeAllAt(ascii("x"), 4);
      assertThat(f.size()).isEqualTo(5);
    }
    assertThat(Files.readAllBytes(path)).containsExactly(0, 0, 0, 0, 'x');
  }

  @Test
  void truncate_shrinksAndSizeFollows() throws Exception {
    Files.writeString(path, "abcdef");
    try (VirtualFile f = VirtualFile.open(path, cache, READ, WRITE)) {
      assertThat(f.size()).isEqualTo(6);
      f.truncate(2);
      assertThat(f.size()).isEqualTo(2);
      f.truncate(10); // larger: no change, as FileChannel.truncate
      assertThat(f.size()).isEqualTo(2);
    }
    assertThat(Files.readString(path)).isEqualTo("ab");
  }

  @Test
  void syncAndSyncData_succeedAndKeepContent() throws Exception {
    try (VirtualFile f = VirtualFile.open(path, cache, CREATE, WRITE)) {
      f.writeAllAt(ascii("durable"), 0);
      f.sync();
      f.syncData();
    }
    assertThat(Files.readString(path)).isEqualTo("durable");
  }

  @Test
  void writeAllAt_largeBuffer_writesEverything() throws Exception {
    byte[] data = new byte[3 << 20];
    new java.util.Random(7).nextBytes(data);
    try (VirtualFile f = VirtualFile.open(path, cache, CREATE, READ, WRITE)) {
      f.writeAllAt(ByteBuffer.wrap(data), 1);
      ByteBuffer back = ByteBuffer.allocate(data.length);
      f.readExactAt(back, 1);
      assertThat(back.array()).isEqualTo(data);
    }
  }

  @Test
  void path_isThePathOpened() throws Exception {
    try (VirtualFile f = VirtualFile.open(path, cache, CREATE, WRITE)) {
      assertThat(f.path()).isEqualTo(path);
    }
  }

  @Test
  void open_withoutReadOrWrite_opensForReading() throws Exception {
    Files.writeString(path, "r");
    try (VirtualFile f = VirtualFile.open(path, cache)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      f.readExactAt(b, 0);
      assertThat(ascii(b)).isEqualTo("r");
    }
  }

  @Test
  void open_sharedCache_works() throws Exception {
    Files.writeString(path, "shared");
    try (VirtualFile f = VirtualFile.open(path, READ)) {
      assertThat(f.size()).isEqualTo(6);
    }
    assertThat(OpenFileCache.shared().capacity()).isEqualTo(128);
  }
}
