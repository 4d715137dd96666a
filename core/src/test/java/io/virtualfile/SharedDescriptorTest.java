package io.virtualfile;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.TRUNCATE_EXISTING;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Handles of one file share one cached descriptor, which outlives them until it is evicted. */
class SharedDescriptorTest {
  @TempDir Path dir;
  Path path;
  OpenFileCache cache;

  @BeforeEach
  void setUp() throws Exception {
    path = Files.writeString(dir.resolve("f"), "old");
    cache = OpenFileCache.create(4);
  }

  @AfterEach
  void tearDown() {
    cache.close();
  }

  static String read(VirtualFile f) throws Exception {
    ByteBuffer b = ByteBuffer.allocate((int) f.size());
    f.readExactAt(b, 0);
    return new String(b.array(), US_ASCII);
  }

  @Test
  void handlesOfOnePath_shareOneDescriptor() throws Exception {
    try (VirtualFile a = VirtualFile.open(path, cache, READ);
        VirtualFile b = VirtualFile.open(path, cache, READ);
        VirtualFile c = VirtualFile.open(path, cache, READ)) {
      assertThat(read(a) + read(b) + read(c)).isEqualTo("oldoldold");
      assertThat(cache.stats().openHandles()).isEqualTo(1);
      assertThat(cache.stats().misses()).as("one open of the file").isEqualTo(1);
    }
  }

  @Test
  void create_ofAFileThatExists_joinsItsDescriptor() throws Exception {
    try (VirtualFile a = VirtualFile.open(path, cache, READ, WRITE, CREATE);
        VirtualFile b = VirtualFile.open(path, cache, READ, WRITE, CREATE)) {
      a.writeAllAt(ByteBuffer.wrap("new".getBytes(US_ASCII)), 0);
      assertThat(read(b)).isEqualTo("new");
      assertThat(cache.stats().openHandles()).isEqualTo(1);
    }
  }

  @Test
  void anOpenThatTruncates_opensTheFileItself() throws Exception {
    try (VirtualFile a = VirtualFile.open(path, cache, READ, WRITE);
        VirtualFile b = VirtualFile.open(path, cache, READ, WRITE, TRUNCATE_EXISTING)) {
      assertThat(b.size()).isZero();
      assertThat(a.size()).isZero();
      assertThat(cache.stats().openHandles()).isEqualTo(2);
    }
  }

  @Test
  void handlesWithOtherOptions_doNotShare() throws Exception {
    try (VirtualFile a = VirtualFile.open(path, cache, READ);
        VirtualFile b = VirtualFile.open(path, cache, READ, WRITE)) {
      assertThat(read(a) + read(b)).isEqualTo("oldold");
      assertThat(cache.stats().openHandles()).isEqualTo(2);
    }
  }

  @Test
  void closingOneHandle_leavesTheOthersWorking() throws Exception {
    VirtualFile a = VirtualFile.open(path, cache, READ);
    try (VirtualFile b = VirtualFile.open(path, cache, READ)) {
      a.close();
      assertThat(read(b)).isEqualTo("old");
      assertThatThrownBy(() -> read(a)).isInstanceOf(FileClosedException.class);
    }
  }

  @Test
  void anOpenAfterTheLastHandleClosed_needsNoOpenOfTheFile() throws Exception {
    try (VirtualFile a = VirtualFile.open(path, cache, READ)) {
      read(a);
    }
    long misses = cache.stats().misses();
    try (VirtualFile b = VirtualFile.open(path, cache, READ)) {
      assertThat(read(b)).isEqualTo("old");
    }
    assertThat(cache.stats().misses()).isEqualTo(misses);
  }

  @Test
  void anOpenAfterALibraryOverwrite_readsTheNewFile() throws Exception {
    try (VirtualFile a = VirtualFile.open(path, cache, READ)) {
      read(a);
    }
    VirtualFile.crashSafeOverwrite(path, ByteBuffer.wrap("new".getBytes(US_ASCII)));
    try (VirtualFile b = VirtualFile.open(path, cache, READ)) {
      assertThat(read(b)).isEqualTo("new");
    }
  }

  @Test
  void anOpenAfterAnOutsideReplacement_readsTheNewFile_andOldHandlesStillRefuseIt() throws Exception {
    VirtualFile old = VirtualFile.open(path, cache, READ);
    Path other = Files.writeString(dir.resolve("other"), "outside");
    Files.move(other, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    try (VirtualFile fresh = VirtualFile.open(path, cache, READ)) {
      assertThat(read(fresh)).isEqualTo("outside");
      assertThat(read(old)).as("still its own descriptor, on the file it opened").isEqualTo("old");
      for (int i = 0; i < 4; i++) { // evict the old handle's descriptor
        try (VirtualFile f = VirtualFile.open(Files.writeString(dir.resolve("e" + i), "e"), cache, READ)) {
          read(f);
        }
      }
      assertThatThrownBy(() -> read(old)).isInstanceOf(FileReplacedException.class);
    } finally {
      old.close();
    }
  }

  @Test
  void anOpenAfterTheFileWasDeletedAndRecreated_readsTheNewFile() throws Exception {
    try (VirtualFile a = VirtualFile.open(path, cache, READ)) {
      read(a);
    }
    Files.delete(path);
    Files.writeString(path, "recreated");
    try (VirtualFile b = VirtualFile.open(path, cache, READ)) {
      assertThat(read(b)).isEqualTo("recreated");
    }
  }

  @Test
  void aDescriptorKeptAfterItsHandles_isClosedWhenEvicted() throws Exception {
    try (VirtualFile a = VirtualFile.open(path, cache, READ)) {
      read(a);
    }
    assertThat(cache.stats().openHandles()).isEqualTo(1);
    for (int i = 0; i < 8; i++) {
      try (VirtualFile f = VirtualFile.open(Files.writeString(dir.resolve("e" + i), "e"), cache, READ)) {
        read(f);
      }
    }
    assertThat(cache.stats().openHandles()).isEqualTo(4);
    assertThat(cache.stats().evictions()).isEqualTo(5);
  }
}
