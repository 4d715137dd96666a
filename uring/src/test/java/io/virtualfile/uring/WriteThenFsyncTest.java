package io.virtualfile.uring;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.virtualfile.CrashSafeOverwriteException.Step;
import io.virtualfile.FileIoListener;
import io.virtualfile.reactive.AsyncFileIo;
import io.virtualfile.reactive.spi.EngineSettings;
import io.virtualfile.reactive.spi.WriteThenForce;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;

/**
 * A write and an fsync as two linked requests ({@link WriteThenFsync}): on the kernel's rings, and the
 * outcome decided from the two CQEs, which arrive in either order.
 */
class WriteThenFsyncTest {
  @TempDir Path dir;
  UringEngine engine;

  @BeforeEach
  void start() {
    engine = (UringEngine) new UringEngineProvider(Ring.Setup.KERNEL, UnaryOperator.identity(), false)
        .start(new EngineSettings(1, 2, Duration.ofSeconds(1), "linked-test-"));
  }

  @AfterEach
  void stop() {
    engine.shutdown();
  }

  /** What a completion was told: "forced N", "partly N", "write-failed: …" or "force-failed: …". */
  static WriteThenForce.Completion recording(CompletableFuture<String> outcome) {
    return new WriteThenForce.Completion() {
      @Override
      public void forced(int bytes) {
        outcome.complete("forced " + bytes);
      }

      @Override
      public void partlyWritten(int bytes) {
        outcome.complete("partly " + bytes);
      }

      @Override
      public void writeFailed(Throwable error) {
        outcome.complete("write-failed: " + error.getMessage());
      }

      @Override
      public void forceFailed(Throwable error) {
        outcome.complete("force-failed: " + error.getMessage());
      }
    };
  }

  String onTheRing(UringChannel ch, ByteBuffer src) throws Exception {
    CompletableFuture<String> outcome = new CompletableFuture<>();
    ch.writeThenForce(src, 0, true, recording(outcome));
    return outcome.get(10, TimeUnit.SECONDS);
  }

  @Test
  void aWholeWrite_isFsynced_andTheBufferMovesToItsLimit() throws Exception {
    Path p = dir.resolve("f");
    try (UringChannel ch = (UringChannel) engine.open(p, Set.of(WRITE, CREATE_NEW))) {
      ByteBuffer src = ByteBuffer.wrap("linked".getBytes(UTF_8)); // a heap buffer: bounced
      assertThat(onTheRing(ch, src)).isEqualTo("forced 6");
      assertThat(src.hasRemaining()).isFalse();
    }
    assertThat(Files.readString(p)).isEqualTo("linked");
  }

  @Test
  void aFailedWrite_isAWriteFailure() throws Exception {
    Path full = Path.of("/dev/full"); // every write fails with ENOSPC
    assumeTrue(Files.isWritable(full), "no /dev/full here");
    try (UringChannel ch = (UringChannel) engine.open(full, Set.of(WRITE))) {
      assertThat(onTheRing(ch, ByteBuffer.allocateDirect(512))).startsWith("write-failed: ")
          .contains("ENOSPC");
    }
  }

  @Test
  void aFailedFsync_afterAWholeWrite_isAForceFailure() throws Exception {
    Path fifo = dir.resolve("fifo"); // a pipe takes a small write at once, and refuses fsync (EINVAL)
    assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "no mkfifo");
    try (UringChannel ch = (UringChannel) engine.open(fifo, Set.of(READ, WRITE))) {
      assertThat(onTheRing(ch, ByteBuffer.wrap(new byte[16]))).startsWith("force-failed: ")
          .contains("EINVAL");
    }
  }

  @Test
  void moreChainsThanTheRingHasSqesOrSlots_allRunWhole() throws Exception {
    // 400 chains are 800 SQEs: more than the SQ (256) and the completion slots (511) of the one ring.
    // Started on the ring's thread (from a completion), they are all queued for its next turn, so chains
    // wait for SQ space and for slots, and must never be split across submissions.
    Path shm = Path.of("/dev/shm");
    Path p = Files.createTempFile(Files.isWritable(shm) ? shm : dir, "chains", ""); // fsync is cheap there
    int chains = 400;
    try (UringChannel ch = (UringChannel) engine.open(p, Set.of(WRITE))) {
      List<CompletableFuture<String>> outcomes = new java.util.ArrayList<>();
      for (int i = 0; i < chains; i++) {
        outcomes.add(new CompletableFuture<>());
      }
      CompletableFuture<Integer> single = new CompletableFuture<>();
      ch.write(ByteBuffer.allocate(0), 0, new io.virtualfile.reactive.spi.IoCompletion() {
        @Override
        public void completed(int bytes) { // on the ring's thread
          // One single request first, so that a chain meets an SQ with one SQE free.
          ch.write(ByteBuffer.wrap(new byte[] {-1}), chains, RingCallsTest.completion(single));
          for (int i = 0; i < chains; i++) {
            ch.writeThenForce(ByteBuffer.wrap(new byte[] {(byte) i}), i, true,
                recording(outcomes.get(i)));
          }
        }

        @Override
        public void failed(Throwable error) {
          outcomes.forEach(o -> o.completeExceptionally(error));
        }
      });
      for (CompletableFuture<String> o : outcomes) {
        assertThat(o.get(30, TimeUnit.SECONDS)).isEqualTo("forced 1");
      }
      assertThat(single.get(30, TimeUnit.SECONDS)).isEqualTo(1);
      byte[] got = Files.readAllBytes(p);
      assertThat(got).hasSize(chains + 1);
      for (int i = 0; i < chains; i++) {
        assertThat(got[i]).isEqualTo((byte) i);
      }
    } finally {
      Files.deleteIfExists(p);
    }
  }

  @Test
  void theWriteSqe_isLinkedToTheFsyncSqe_ofTheSameDescriptor() {
    ByteBuffer src = ByteBuffer.allocateDirect(8);
    WriteThenFsync op = new WriteThenFsync(7, src, 0, false, recording(new CompletableFuture<>()));
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment write = arena.allocate(Ring.SQE_SIZE);
      MemorySegment fsync = arena.allocate(Ring.SQE_SIZE);
      op.prepare(write, null); // a direct buffer needs no bounce buffer, so no loop
      op.linked().prepare(fsync, null);
      assertThat(write.get(ValueLayout.JAVA_BYTE, Ring.SQE_OPCODE)).isEqualTo((byte) Op.WRITE);
      assertThat(write.get(ValueLayout.JAVA_BYTE, Ring.SQE_FLAGS)).isEqualTo(Op.IOSQE_IO_LINK);
      assertThat(fsync.get(ValueLayout.JAVA_BYTE, Ring.SQE_OPCODE)).isEqualTo((byte) Op.FSYNC);
      assertThat(fsync.get(ValueLayout.JAVA_INT, Ring.SQE_FD)).isEqualTo(7);
      assertThat(fsync.get(ValueLayout.JAVA_INT, Ring.SQE_OP_FLAGS)).isZero(); // fsync, not fdatasync
    }
  }

  /**
   * Completes a prepared {@link WriteThenFsync} of 8 bytes with the given CQE results, the fsync's
   * first if {@code fsyncFirst}; returns what its completion was told, and checks it was told nothing
   * after the first CQE alone.
   */
  static String outcome(int writeRes, int fsyncRes, boolean fsyncFirst) {
    CompletableFuture<String> told = new CompletableFuture<>();
    WriteThenFsync op =
        new WriteThenFsync(7, ByteBuffer.allocateDirect(8), 0, false, recording(told));
    try (Arena arena = Arena.ofConfined()) {
      op.prepare(arena.allocate(Ring.SQE_SIZE), null);
    }
    if (fsyncFirst) {
      op.linked().complete(fsyncRes, null);
    } else {
      op.complete(writeRes, null);
    }
    assertThat(told).as("nothing told before both CQEs arrived").isNotDone();
    if (fsyncFirst) {
      op.complete(writeRes, null);
    } else {
      op.linked().complete(fsyncRes, null);
    }
    return told.getNow("nothing told");
  }

  @Test
  void theOutcome_comesFromBothCqes_inEitherOrder() {
    int canceled = -Native.ECANCELED;
    for (boolean fsyncFirst : new boolean[] {false, true}) {
      assertThat(outcome(8, 0, fsyncFirst)).isEqualTo("forced 8");
      assertThat(outcome(3, canceled, fsyncFirst)).as("a short write breaks the link")
          .isEqualTo("partly 3");
      assertThat(outcome(0, canceled, fsyncFirst)).isEqualTo("partly 0");
      assertThat(outcome(-5, canceled, fsyncFirst)).startsWith("write-failed: ").contains("EIO");
      assertThat(outcome(8, -5, fsyncFirst)).startsWith("force-failed: ").contains("EIO");
      assertThat(outcome(8, canceled, fsyncFirst)).as("an fsync that may not have run is no success")
          .startsWith("force-failed: ").contains("ECANCELED");
    }
  }

  /** Descriptors of this process open on files in {@code dir} (deleted or not). */
  static long descriptorsIn(Path dir) throws Exception {
    try (var fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.filter(fd -> {
        try {
          return Files.readSymbolicLink(fd).toString().startsWith(dir + "/");
        } catch (Exception gone) { // closed meanwhile, or the listing's own descriptor
          return false;
        }
      }).count();
    }
  }

  static List<String> entries(Path dir) throws Exception {
    try (var s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /**
   * A cancel returns at once and the overwrite ends in the background, so "no temp left" is checked
   * once it has ended: when it reported its end (the OVERWRITE operation), or when its first step had
   * not ended by the cancel (its next step then sees the cancel and creates nothing). Checking only
   * that no temp is there could pass before the temp was created and fail while it was being removed.
   */
  @Test
  void overwritesCancelledAtAnyMoment_onIoUring_leaveNoTempAndNoDescriptor() throws Exception {
    Path f = Files.writeString(dir.resolve("meta"), "old");
    ByteBuffer content = ByteBuffer.allocate(4 << 20); // long enough to cancel inside the linked request
    AtomicBoolean firstStepEnded = new AtomicBoolean();
    AtomicBoolean overwriteEnded = new AtomicBoolean();
    FileIoListener ends = new FileIoListener() {
      @Override
      public void overwriteStep(Step step, long nanos, long bytes, Throwable failure) {
        if (step == Step.REMOVE_STALE_TEMP) {
          firstStepEnded.set(true);
        }
      }

      @Override
      public void operation(Operation op, long nanos, long bytes, Throwable failure) {
        if (op == Operation.OVERWRITE) {
          overwriteEnded.set(true);
        }
      }
    };
    try (AsyncFileIo io =
        AsyncFileIo.builder().engine(AsyncFileIo.Engine.IO_URING).listener(ends).build()) {
      for (int i = 0; i < 20; i++) {
        firstStepEnded.set(false);
        overwriteEnded.set(false);
        Disposable d = io.overwrite(f, content).subscribe(null, e -> {});
        long until = System.nanoTime() + TimeUnit.MICROSECONDS.toNanos(250L * i);
        while (System.nanoTime() < until) {
          Thread.onSpinWait();
        }
        d.dispose();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (((firstStepEnded.get() && !overwriteEnded.get()) // read first: then the files are final
                || entries(dir).size() > 1 || descriptorsIn(dir) > 0)
            && System.nanoTime() < deadline) {
          Thread.sleep(1);
        }
        assertThat(entries(dir)).as("no temp left").containsExactly("meta");
        assertThat(descriptorsIn(dir)).as("no descriptor left").isZero();
      }
    }
  }
}
