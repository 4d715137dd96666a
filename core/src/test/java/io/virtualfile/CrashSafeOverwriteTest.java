package io.virtualfile;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link VirtualFile#crashSafeOverwrite} on the real file system. */
class CrashSafeOverwriteTest {
  @TempDir Path dir;

  static ByteBuffer utf8(String s) {
    return ByteBuffer.wrap(s.getBytes(UTF_8));
  }

  Set<String> entries() throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
    }
  }

  static boolean posix() {
    return FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
  }

  @Test
  void explicitTemp_replacesOldWithNew_andTheTempIsGone() throws Exception {
    Path f = dir.resolve("meta");
    Files.writeString(f, "old");
    VirtualFile.crashSafeOverwrite(f, dir.resolve("meta.tmp"), utf8("new"));
    assertThat(Files.readString(f)).isEqualTo("new");
    assertThat(entries()).containsExactly("meta");
  }

  @Test
  void derivedTemp_replacesOldWithNew_andTheTempIsGone() throws Exception {
    Path f = dir.resolve("meta");
    Files.writeString(f, "old");
    VirtualFile.crashSafeOverwrite(f, utf8("new"));
    assertThat(Files.readString(f)).isEqualTo("new");
    assertThat(entries()).containsExactly("meta");
  }

  @Test
  void staleTemp_isRemovedFirst() throws Exception {
    Path f = dir.resolve("meta");
    Path tmp = dir.resolve("meta.tmp");
    Files.writeString(f, "old");
    Files.writeString(tmp, "half-written garbage from a crash");
    VirtualFile.crashSafeOverwrite(f, tmp, utf8("new"));
    assertThat(Files.readString(f)).isEqualTo("new");
    assertThat(tmp).doesNotExist();
  }

  @Test
  void noOldFile_createsIt() throws Exception {
    Path f = dir.resolve("fresh");
    VirtualFile.crashSafeOverwrite(f, utf8("first"));
    assertThat(Files.readString(f)).isEqualTo("first");
  }

  @Test
  void emptyContent_leavesAnEmptyFile() throws Exception {
    Path f = dir.resolve("meta");
    Files.writeString(f, "old");
    VirtualFile.crashSafeOverwrite(f, ByteBuffer.allocate(0));
    assertThat(Files.size(f)).isZero();
  }

  @Test
  void largeContent_64MiB_isWrittenWhole() throws Exception {
    byte[] big = new byte[64 << 20];
    new Random(3).nextBytes(big);
    Path f = dir.resolve("big");
    Files.writeString(f, "old");
    VirtualFile.crashSafeOverwrite(f, ByteBuffer.wrap(big));
    assertThat(Arrays.equals(Files.readAllBytes(f), big)).isTrue();
  }

  @Test
  void content_positionIsNotChanged_andOnlyRemainingBytesAreWritten() throws Exception {
    ByteBuffer b = utf8("xxPAYLOAD");
    b.position(2);
    Path f = dir.resolve("meta");
    VirtualFile.crashSafeOverwrite(f, b);
    assertThat(b.position()).isEqualTo(2);
    assertThat(Files.readString(f)).isEqualTo("PAYLOAD");
  }

  @Test
  void finalWithoutParent_isRefused_nothingTouched() throws Exception {
    Set<String> before = entries();
    assertThatThrownBy(() -> VirtualFile.crashSafeOverwrite(Path.of("orphan"), utf8("x")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no parent directory");
    assertThat(Path.of("orphan")).doesNotExist();
    assertThat(entries()).isEqualTo(before);
  }

  @Test
  void finalIsADirectory_isRefused_untouched() throws Exception {
    Path d = Files.createDirectory(dir.resolve("d"));
    Files.writeString(d.resolve("inside"), "kept");
    assertThatThrownBy(() -> VirtualFile.crashSafeOverwrite(d, utf8("x")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is a directory");
    assertThat(Files.readString(d.resolve("inside"))).isEqualTo("kept");
    assertThat(entries()).containsExactly("d");
  }

  @Test
  void tempInAnotherDirectory_isRefusedBeforeAnythingIsWritten() throws Exception {
    Path f = dir.resolve("meta");
    Files.writeString(f, "old");
    Path other = Files.createDirectory(dir.resolve("other"));
    assertThatThrownBy(() -> VirtualFile.crashSafeOverwrite(f, other.resolve("t"), utf8("new")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be in finalPath's directory");
    assertThat(Files.readString(f)).isEqualTo("old");
    assertThat(entries()).containsExactlyInAnyOrder("meta", "other");
    try (Stream<Path> s = Files.list(other)) {
      assertThat(s).isEmpty();
    }
  }

  @Test
  void tempEqualToFinal_isRefused() throws Exception {
    Path f = dir.resolve("meta");
    Files.writeString(f, "old");
    assertThatThrownBy(() -> VirtualFile.crashSafeOverwrite(f, dir.resolve("./meta"), utf8("new")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("tmpPath is finalPath");
    assertThat(Files.readString(f)).isEqualTo("old");
  }

  /** Narrower and wider than the temp file's owner-only start, wider than the umask allows. */
  @ParameterizedTest
  @ValueSource(strings = {"rw-r-----", "rw-rw-rw-", "r--------"})
  void existingFilePermissions_carryOverToTheNewContent(String permissions) throws Exception {
    assumeTrue(posix(), "needs a POSIX file system");
    Path f = dir.resolve("meta");
    Files.writeString(f, "old");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(permissions));
    VirtualFile.crashSafeOverwrite(f, utf8("new"));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo(permissions);
    assertThat(Files.readString(f)).isEqualTo("new");
  }

  @Test
  void newFile_isOwnerReadWriteOnly() throws Exception {
    assumeTrue(posix(), "needs a POSIX file system");
    Path f = dir.resolve("fresh");
    VirtualFile.crashSafeOverwrite(f, utf8("new"));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-------");
  }

  @Test
  void symbolicLinkFinal_isRefused_linkAndTargetUntouched() throws Exception {
    Path target = dir.resolve("target");
    Files.writeString(target, "target content");
    Path link = Files.createSymbolicLink(dir.resolve("link"), target.getFileName());
    assertThatThrownBy(() -> VirtualFile.crashSafeOverwrite(link, utf8("new")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("symbolic link")
        .hasMessageContaining("toRealPath");
    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(Files.readString(target)).isEqualTo("target content");
    assertThat(entries()).containsExactlyInAnyOrder("target", "link");
  }

  @Test
  void symbolicLinkFinal_resolvedByTheCaller_overwritesTheTarget() throws Exception {
    Path target = dir.resolve("target");
    Files.writeString(target, "target content");
    Path link = Files.createSymbolicLink(dir.resolve("link"), target.getFileName());
    VirtualFile.crashSafeOverwrite(link.toRealPath(), utf8("new"));
    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(Files.readString(link)).isEqualTo("new");
  }

  @Test
  void tempThatIsADirectory_isRefused_untouched() throws Exception {
    Path f = dir.resolve("meta");
    Path tmp = Files.createDirectory(dir.resolve("meta.tmp"));
    assertThatThrownBy(() -> VirtualFile.crashSafeOverwrite(f, tmp, utf8("new")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("tmpPath is a directory");
    assertThat(tmp).isDirectory();
  }

  @Test
  void concurrentWritersWithDerivedTemps_leaveOneCompleteContent() throws Exception {
    Path f = dir.resolve("shared");
    Files.writeString(f, "old");
    int writers = 8;
    int rounds = 50;
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> fs = new ArrayList<>();
    Set<String> written = new HashSet<>();
    for (int w = 0; w < writers; w++) {
      for (int r = 0; r < rounds; r++) {
        written.add(payload(w, r));
      }
      int id = w;
      fs.add(pool.submit(() -> {
        start.await();
        for (int r = 0; r < rounds; r++) {
          VirtualFile.crashSafeOverwrite(f, utf8(payload(id, r)));
          String seen = Files.readString(f);
          if (!written.contains(seen)) {
            throw new AssertionError("torn content: " + seen.length() + " chars");
          }
        }
        return null;
      }));
    }
    start.countDown();
    for (Future<?> x : fs) {
      x.get();
    }
    pool.shutdown();
    assertThat(written).contains(Files.readString(f));
    assertThat(entries()).containsExactly("shared");
  }

  static String payload(int writer, int round) {
    return ("writer " + writer + " round " + round + " ").repeat(200 + writer);
  }

  @Test
  void concurrentUseOfOneExplicitTemp_isRefusedForTheSecond() throws Exception {
    Path f = dir.resolve("meta");
    Path tmp = dir.resolve("meta.tmp");
    Files.writeString(f, "old");
    var first =
        io.virtualfile.internal.OverwriteProtocol.prepare(
            io.virtualfile.internal.JdkFileOps.INSTANCE,
            io.virtualfile.internal.JdkFileOps.CHANNEL_TEMP_FILES, f, tmp);
    try {
      assertThatThrownBy(() -> VirtualFile.crashSafeOverwrite(f, tmp, utf8("second")))
          .isInstanceOfSatisfying(CrashSafeOverwriteException.class, e -> {
            assertThat(e.step()).isEqualTo(CrashSafeOverwriteException.Step.REMOVE_STALE_TEMP);
            assertThat(e.newContentVisible()).isFalse();
            assertThat(e).hasMessageContaining("in use by another overwrite");
          });
    } finally {
      first.finish();
    }
    VirtualFile.crashSafeOverwrite(f, tmp, utf8("after"));
    assertThat(Files.readString(f)).isEqualTo("after");
  }

  @Test
  void removeStaleTempFiles_removesOnlyThisLibrarysTemps() throws Exception {
    Files.writeString(dir.resolve("meta"), "keep");
    Files.writeString(dir.resolve(".meta.0123456789abcdef.vftmp"), "stale");
    Files.writeString(dir.resolve(".other.fedcba9876543210.vftmp"), "stale");
    Files.writeString(dir.resolve("meta.tmp"), "user's own temp");
    Files.writeString(dir.resolve(".meta.0123.vftmp"), "wrong shape");
    Files.createDirectory(dir.resolve(".d.0123456789abcdef.vftmp"));
    assertThat(VirtualFile.removeStaleTempFiles(dir)).isEqualTo(2);
    assertThat(entries())
        .containsExactlyInAnyOrder("meta", "meta.tmp", ".meta.0123.vftmp", ".d.0123456789abcdef.vftmp");
  }

  @Test
  void fsyncDirectory_onADirectory_succeeds_onAFile_isRefused() throws Exception {
    VirtualFile.fsyncDirectory(dir);
    Path f = Files.writeString(dir.resolve("f"), "x");
    assertThatThrownBy(() -> VirtualFile.fsyncDirectory(f))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a directory");
    assertThatThrownBy(() -> VirtualFile.removeStaleTempFiles(f))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
