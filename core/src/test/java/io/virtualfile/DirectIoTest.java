package io.virtualfile;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** O_DIRECT: aligned IO works; misaligned IO is refused naming the alignment, before any IO. */
class DirectIoTest {
  Path dir;
  Path path;
  OpenFileCache cache;
  VirtualFile f;

  @BeforeEach
  void setUp() throws Exception {
    // Under the build directory, not /tmp: tmpfs refuses O_DIRECT.
    dir = Files.createTempDirectory(Files.createDirectories(Path.of("target", "direct-io")), "t");
    path = dir.resolve("f");
    Files.write(path, new byte[16384]);
    cache = OpenFileCache.create(2);
    try {
      f = VirtualFile.open(path, cache, READ, WRITE, direct());
    } catch (IOException | UnsupportedOperationException | ReflectiveOperationException e) {
      Assumptions.abort("O_DIRECT is not available here: " + e);
    }
  }

  /** {@code ExtendedOpenOption.DIRECT}, reached reflectively: this module does not read jdk.unsupported. */
  static java.nio.file.OpenOption direct() throws ReflectiveOperationException {
    return (java.nio.file.OpenOption)
        Class.forName("com.sun.nio.file.ExtendedOpenOption").getField("DIRECT").get(null);
  }

  @AfterEach
  void tearDown() throws Exception {
    if (f != null) {
      f.close();
    }
    cache.close();
    Files.deleteIfExists(path);
    Files.deleteIfExists(dir);
  }

  @Test
  void alignedIo_roundTrips_andTheAlignmentIsTheBlockSize() throws Exception {
    int a = f.alignment();
    assertThat(a).isEqualTo((int) Files.getFileStore(path).getBlockSize());
    ByteBuffer out = VirtualFile.allocateAligned(a, a);
    while (out.hasRemaining()) {
      out.put((byte) 7);
    }
    out.flip();
    f.writeAllAt(out, a);
    ByteBuffer in = VirtualFile.allocateAligned(a, a);
    f.readExactAt(in, a);
    in.flip();
    assertThat(in.get(0)).isEqualTo((byte) 7);
    assertThat(in.get(a - 1)).isEqualTo((byte) 7);
  }

  @Test
  void misalignedIo_isRefusedNamingTheAlignment() {
    int a = f.alignment();
    assertThatThrownBy(() -> f.readAt(ByteBuffer.allocate(a), 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("heap buffer")
        .hasMessageContaining(a + "-byte alignment");
    ByteBuffer aligned = VirtualFile.allocateAligned(2 * a, a);
    assertThatThrownBy(() -> f.readAt(aligned.position(1), 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not aligned");
    assertThatThrownBy(() -> f.readAt(aligned.clear().limit(a - 1), 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a multiple of " + a);
    assertThatThrownBy(() -> f.writeAt(aligned.clear().limit(a), 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("file position 1");
  }

  @Test
  void withoutDirect_theAlignmentIsOne() throws Exception {
    try (VirtualFile plain = VirtualFile.open(path, cache, READ, CREATE)) {
      assertThat(plain.alignment()).isEqualTo(1);
    }
  }

  @Test
  void allocateAligned_refusesBadArguments() {
    assertThatThrownBy(() -> VirtualFile.allocateAligned(10, 3))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("power of two: 3");
    assertThatThrownBy(() -> VirtualFile.allocateAligned(-1, 4096))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("capacity < 0");
    ByteBuffer b = VirtualFile.allocateAligned(100, 4096);
    assertThat(b.capacity()).isEqualTo(100);
    assertThat(b.alignmentOffset(0, 4096)).isZero();
  }
}
