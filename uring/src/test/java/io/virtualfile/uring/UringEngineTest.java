package io.virtualfile.uring;

import static io.virtualfile.uring.RingCallsTest.completion;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.DELETE_ON_CLOSE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.TRUNCATE_EXISTING;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.virtualfile.reactive.spi.EngineChannel;
import io.virtualfile.reactive.spi.EngineSettings;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine's channels keep {@link java.nio.channels.FileChannel}'s rules. */
class UringEngineTest {
  @TempDir Path dir;
  UringEngine engine;

  @BeforeEach
  void start() {
    engine = (UringEngine) new UringEngineProvider(Ring.Setup.KERNEL, UnaryOperator.identity())
        .start(new EngineSettings(2, 4, Duration.ofSeconds(1), "engine-test-"));
  }

  @AfterEach
  void stop() {
    engine.shutdown();
  }

  private EngineChannel open(Path p, OpenOption... options) throws IOException {
    return engine.open(p, Set.of(options));
  }

  private static int read(EngineChannel ch, ByteBuffer b, long position) throws Exception {
    CompletableFuture<Integer> done = new CompletableFuture<>();
    ch.read(b, position, completion(done));
    return done.get(10, TimeUnit.SECONDS);
  }

  private static int write(EngineChannel ch, ByteBuffer b, long position) throws Exception {
    CompletableFuture<Integer> done = new CompletableFuture<>();
    ch.write(b, position, completion(done));
    return done.get(10, TimeUnit.SECONDS);
  }

  @Test
  void theRingsGetEverySetupFlagThisKernelHas() {
    assertThat(engine.ringFlags()).isEqualTo(UringEngineProvider.SETUP_FLAGS);
  }

  @Test
  void aFileOpenedForWriting_isWrittenAndSizedAndTruncated() throws Exception {
    Path p = dir.resolve("f");
    try (EngineChannel ch = open(p, READ, WRITE, CREATE_NEW)) {
      assertThat(write(ch, ByteBuffer.wrap(new byte[1000]), 24)).isEqualTo(1000);
      assertThat(ch.size()).isEqualTo(1024);
      ch.truncate(2000); // larger: nothing changes
      assertThat(ch.size()).isEqualTo(1024);
      ch.truncate(100);
      assertThat(ch.size()).isEqualTo(100);
      ch.force(true);
      ch.force(false);
    }
    assertThat(Files.size(p)).isEqualTo(100);
  }

  @Test
  void readOnly_refusesWritesAndTruncate_likeFileChannel() throws Exception {
    Path p = Files.write(dir.resolve("f"), new byte[10]);
    try (EngineChannel ch = open(p, READ)) {
      assertThatThrownBy(() -> write(ch, ByteBuffer.allocate(1), 0))
          .hasCauseInstanceOf(NonWritableChannelException.class);
      assertThatThrownBy(() -> ch.truncate(0)).isInstanceOf(NonWritableChannelException.class);
    }
  }

  @Test
  void writeOnly_refusesReads_likeFileChannel() throws Exception {
    try (EngineChannel ch = open(dir.resolve("f"), WRITE, CREATE)) {
      assertThatThrownBy(() -> read(ch, ByteBuffer.allocate(1), 0))
          .hasCauseInstanceOf(NonReadableChannelException.class);
    }
  }

  @Test
  void aReadIntoAReadOnlyBuffer_isAnIllegalArgument() throws Exception {
    try (EngineChannel ch = open(Files.write(dir.resolve("f"), new byte[10]), READ)) {
      assertThatThrownBy(() -> read(ch, ByteBuffer.allocate(4).asReadOnlyBuffer(), 0))
          .hasCauseInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void aClosedChannel_refusesReads() throws Exception {
    EngineChannel ch = open(Files.write(dir.resolve("f"), new byte[10]), READ);
    ch.close();
    assertThatThrownBy(() -> read(ch, ByteBuffer.allocate(4), 0))
        .hasCauseInstanceOf(ClosedChannelException.class);
  }

  @Test
  void openOptions_createNewAndTruncateAndMissing_likeFileChannel() throws Exception {
    Path p = Files.write(dir.resolve("f"), new byte[10]);
    assertThatThrownBy(() -> open(p, WRITE, CREATE_NEW)).isInstanceOf(FileAlreadyExistsException.class);
    assertThatThrownBy(() -> open(dir.resolve("none"), READ)).isInstanceOf(NoSuchFileException.class);
    try (EngineChannel ch = open(p, WRITE, TRUNCATE_EXISTING)) {
      assertThat(ch.size()).isZero();
    }
    try (EngineChannel ch = open(dir.resolve("created-only-with-write"), READ, CREATE)) {
      throw new AssertionError("CREATE without WRITE must not create: " + ch);
    } catch (NoSuchFileException expected) {
      // as FileChannel: CREATE is ignored without WRITE
    }
  }

  @Test
  void permissionsAttribute_setsTheModeOfANewFile() throws Exception {
    Path p = dir.resolve("f");
    engine.open(p, Set.of(WRITE, CREATE_NEW),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))).close();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p))).isEqualTo("rw-------");
  }

  @Test
  void deleteOnClose_removesTheFileAtClose() throws Exception {
    Path p = dir.resolve("f");
    EngineChannel ch = open(p, WRITE, CREATE_NEW, DELETE_ON_CLOSE);
    assertThat(Files.exists(p)).isTrue();
    ch.close();
    assertThat(Files.exists(p)).isFalse();
  }

  /** O_DIRECT with an aligned direct buffer, on a file system that has it (not tmpfs). */
  @Test
  void directIo_readsIntoAnAlignedBuffer() throws Exception {
    Path p = Path.of("/var/tmp").resolve("virtualfile-uring-direct-" + ProcessHandle.current().pid());
    try {
      Files.write(p, new byte[8192]);
      OpenOption direct = (OpenOption) Class.forName("com.sun.nio.file.ExtendedOpenOption")
          .getField("DIRECT").get(null); // jdk.unsupported, which this module does not read
      EngineChannel ch;
      try {
        ch = engine.open(p, Set.of(READ, direct));
      } catch (java.nio.file.FileSystemException e) {
        assumeTrue(false, "no O_DIRECT here: " + e.getMessage());
        return;
      }
      try (ch) {
        ByteBuffer b = ByteBuffer.allocateDirect(8192).alignedSlice(4096).limit(4096);
        assertThat(read(ch, b, 4096)).isEqualTo(4096);
        ByteBuffer heap = ByteBuffer.allocate(4096); // through a page-aligned bounce buffer
        assertThat(read(ch, heap, 0)).isEqualTo(4096);
      }
    } finally {
      Files.deleteIfExists(p);
    }
  }
}
