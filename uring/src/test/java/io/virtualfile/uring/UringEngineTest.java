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

/**
 * The engine's channels keep {@link java.nio.channels.FileChannel}'s rules. Here every read goes to a
 * ring; {@link InlineReadsTest} runs these tests again with reads tried on the calling thread first.
 */
class UringEngineTest {
  /** Opens {@code p} for reading with {@code O_DIRECT}; skips the test where the file system refuses it. */
  static EngineChannel openDirectOrSkip(UringEngine engine, Path p) throws Exception {
    OpenOption direct = (OpenOption) Class.forName("com.sun.nio.file.ExtendedOpenOption")
        .getField("DIRECT").get(null); // jdk.unsupported, which this module does not read
    try {
      return engine.open(p, Set.of(READ, direct));
    } catch (java.nio.file.FileSystemException e) {
      assumeTrue(false, "no O_DIRECT here: " + e.getMessage());
      throw e; // not reached
    }
  }

  @TempDir Path dir;
  UringEngine engine;

  /** Whether the engine tries reads on the calling thread first. */
  boolean inlineReads() {
    return false;
  }

  @BeforeEach
  void start() {
    engine = (UringEngine) new UringEngineProvider(Ring.Setup.KERNEL, UnaryOperator.identity(),
        inlineReads()).start(new EngineSettings(2, 4, Duration.ofSeconds(1), "engine-test-"));
    assertThat(engine.inlineReads()).isEqualTo(inlineReads());
  }

  @AfterEach
  void stop() {
    engine.shutdown();
  }

  EngineChannel open(Path p, OpenOption... options) throws IOException {
    return engine.open(p, Set.of(options));
  }

  static int read(EngineChannel ch, ByteBuffer b, long position) throws Exception {
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
      try (EngineChannel ch = openDirectOrSkip(engine, p)) {
        ByteBuffer b = ByteBuffer.allocateDirect(8192).alignedSlice(4096).limit(4096);
        assertThat(read(ch, b, 4096)).isEqualTo(4096);
        ByteBuffer heap = ByteBuffer.allocate(4096); // through a page-aligned bounce buffer
        assertThat(read(ch, heap, 0)).isEqualTo(4096);
      }
    } finally {
      Files.deleteIfExists(p);
    }
  }

  /** Reads a file's 4 KiB blocks and records which thread completed each (a ring's thread). */
  private static final class ReadsByThread {
    final java.util.Map<String, Integer> completedOn = new java.util.concurrent.ConcurrentHashMap<>();
    final java.util.Queue<Throwable> errors = new java.util.concurrent.ConcurrentLinkedQueue<>();
    final java.util.concurrent.CountDownLatch done;

    ReadsByThread(int reads) {
      done = new java.util.concurrent.CountDownLatch(reads);
    }

    /** Starts a read of block {@code block} and checks that it holds its own number in every byte. */
    void start(EngineChannel ch, int block) {
      ByteBuffer b = ByteBuffer.allocate(4096);
      ch.read(b, 4096L * block, new io.virtualfile.reactive.spi.IoCompletion() {
        @Override
        public void completed(int bytes) {
          completedOn.merge(Thread.currentThread().getName(), 1, Integer::sum);
          if (bytes != 4096 || b.get(0) != (byte) block || b.get(4095) != (byte) block) {
            errors.add(new AssertionError("block " + block + ": " + bytes + " bytes, " + b.get(0)));
          }
          done.countDown();
        }

        @Override
        public void failed(Throwable error) {
          errors.add(error);
          done.countDown();
        }
      });
    }
  }

  Path blocks(int count) throws IOException {
    byte[] content = new byte[4096 * count];
    for (int i = 0; i < content.length; i++) {
      content[i] = (byte) (i / 4096);
    }
    return Files.write(dir.resolve("blocks"), content);
  }

  @Test
  void readsStartedByOneThread_areSpreadOverEveryRing() throws Exception {
    assumeTrue(!engine.inlineReads(), "cached reads complete on the thread that starts them");
    try (EngineChannel ch = open(blocks(64), READ)) {
      ReadsByThread reads = new ReadsByThread(64);
      for (int i = 0; i < 64; i++) {
        reads.start(ch, i);
      }
      assertThat(reads.done.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(reads.errors).isEmpty();
      // Both rings' threads completed reads: a thread's requests are not all bound to one ring.
      assertThat(reads.completedOn.keySet())
          .containsExactlyInAnyOrder("engine-test-uring-0", "engine-test-uring-1");
    }
  }

  @Test
  void theRingTurn_wrapsPastIntegerMaxValue() throws Exception {
    java.lang.reflect.Field turn = UringEngine.class.getDeclaredField("nextRing");
    turn.setAccessible(true);
    turn.setInt(engine, Integer.MAX_VALUE - 2); // the counter overflows within the next few requests
    try (EngineChannel ch = open(blocks(8), READ)) {
      ReadsByThread reads = new ReadsByThread(8);
      for (int i = 0; i < 8; i++) {
        reads.start(ch, i);
      }
      assertThat(reads.done.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(reads.errors).isEmpty();
    }
  }

  /**
   * Many threads start reads at once (the ring choice is a racy counter): every read completes once,
   * with its own block's bytes.
   */
  @Test
  void readsFromManyThreadsAtOnce_eachCompleteOnceWithTheirOwnBytes() throws Exception {
    int threads = 8;
    int perThread = 500;
    try (EngineChannel ch = open(blocks(256), READ)) {
      ReadsByThread reads = new ReadsByThread(threads * perThread);
      java.util.concurrent.CyclicBarrier go = new java.util.concurrent.CyclicBarrier(threads);
      java.util.List<Thread> starters = new java.util.ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int first = t;
        starters.add(Thread.ofPlatform().start(() -> {
          try {
            go.await();
          } catch (Exception e) {
            reads.errors.add(e);
            return;
          }
          for (int i = 0; i < perThread; i++) {
            reads.start(ch, (first * perThread + i) % 256);
          }
        }));
      }
      for (Thread t : starters) {
        t.join();
      }
      assertThat(reads.done.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(reads.errors).isEmpty();
      assertThat(reads.completedOn.values().stream().mapToInt(Integer::intValue).sum())
          .isEqualTo(threads * perThread);
    }
  }
}
