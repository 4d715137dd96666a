package io.virtualfile.reactive;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.internal.OpenFileRegistry;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;

/** Reads shaped for services: sized by the file, whole-file reads, pooled buffers, start-up cleanup. */
class ReadsForServicesTest {
  @TempDir Path dir;
  AsyncFileIo io;
  Path blob;
  byte[] data;

  @BeforeEach
  void setUp() throws Exception {
    io = AsyncFileIo.builder().ioThreads(2).cacheCapacity(4).build();
    data = new byte[5 * 1024 + 17];
    new Random(9).nextBytes(data);
    blob = Files.write(dir.resolve("blob"), data);
  }

  @AfterEach
  void tearDown() {
    io.close();
  }

  /** Regression: a 5 KiB blob read in 64 KiB chunks allocated 64 KiB, and read once more to see the end. */
  @Test
  void read_allocatesNoMoreThanTheFileHasLeft_andNeedsNoReadPastTheEnd() {
    List<Integer> asked = new ArrayList<>();
    CountingExecutor[] executor = new CountingExecutor[1];
    try (AsyncFileIo counted = AsyncFileIo.builder().ioThreads(2)
        .engine(AsyncFileIo.Engine.THREADS) // the decorator sees the thread engine's tasks
        .executorDecorator(e -> executor[0] = new CountingExecutor(e)).build()) {
      StepVerifier.create(AsyncVirtualFile.usingMany(blob, counted, Set.of(READ),
              f -> f.read(1000, 64 * 1024, n -> {
                asked.add(n);
                return ByteBuffer.allocate(n);
              })))
          .assertNext(b -> {
            assertThat(b.remaining()).isEqualTo(data.length - 1000);
            byte[] got = new byte[b.remaining()];
            b.get(got);
            assertThat(got).isEqualTo(java.util.Arrays.copyOfRange(data, 1000, data.length));
          })
          .verifyComplete();
    }
    assertThat(asked).containsExactly(data.length - 1000);
  }

  @Test
  void read_withAnAllocatorsBuffer_fillsFromItsPosition_andEmitsJustTheBytesRead() {
    ByteBuffer pooled = ByteBuffer.allocateDirect(4096);
    pooled.position(100);
    StepVerifier.create(AsyncVirtualFile.usingMany(blob, io, Set.of(READ),
            f -> f.read(0, 1000, n -> pooled.clear().position(100))))
        .assertNext(b -> {
          assertThat(b).isSameAs(pooled);
          assertThat(b.position()).isEqualTo(100);
          assertThat(b.remaining()).isEqualTo(1000);
          assertThat(b.get(100)).isEqualTo(data[0]);
        })
        .thenCancel()
        .verify();
  }

  @Test
  void read_withAnAllocatorReturningAFullBuffer_failsSayingSo() {
    StepVerifier.create(AsyncVirtualFile.usingMany(blob, io, Set.of(READ),
            f -> f.read(0, 1000, n -> ByteBuffer.allocate(0))))
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("allocator"))
        .verify();
  }

  @Test
  void readAll_returnsTheWholeFileSizedByIt() {
    StepVerifier.create(AsyncVirtualFile.readAll(blob, io))
        .assertNext(b -> {
          assertThat(b.position()).isZero();
          assertThat(b.capacity()).isEqualTo(data.length);
          byte[] got = new byte[b.remaining()];
          b.get(got);
          assertThat(got).isEqualTo(data);
        })
        .verifyComplete();
  }

  @Test
  void readAll_ofAnEmptyFile_isAnEmptyBuffer() throws Exception {
    Path empty = Files.write(dir.resolve("empty"), new byte[0]);
    StepVerifier.create(AsyncVirtualFile.readAll(empty, io))
        .assertNext(b -> assertThat(b.remaining()).isZero())
        .verifyComplete();
  }

  @Test
  void readAllOfAPath_isHandedToTheIoThreadsOnce_andLeavesNoHandleOpen() {
    java.util.concurrent.atomic.AtomicInteger fromOutside = new java.util.concurrent.atomic.AtomicInteger();
    CountingExecutor[] all = new CountingExecutor[1];
    try (AsyncFileIo counted = AsyncFileIo.builder().ioThreads(2)
        .engine(AsyncFileIo.Engine.THREADS) // the decorator sees the thread engine's tasks
        .executorDecorator(e -> all[0] = new CountingExecutor(e) {
          @Override
          public void execute(Runnable command) {
            if (!Thread.currentThread().getName().startsWith("virtualfile-io-")) {
              fromOutside.incrementAndGet();
            }
            super.execute(command);
          }
        }).build()) {
      StepVerifier.create(AsyncVirtualFile.readAll(blob, counted))
          .assertNext(b -> assertThat(b.remaining()).isEqualTo(data.length))
          .verifyComplete();
      assertThat(fromOutside).as("tasks handed to the IO threads from other threads").hasValue(1);
      // The open, the read (5 KiB, one call) and the close all run in that one task.
      assertThat(all[0].submitted).as("IO tasks in all").hasValue(1);
    }
    assertThat(OpenFileRegistry.registered(blob)).isZero();
  }

  @Test
  void readAllOfAPath_afterALibraryOverwrite_readsTheNewContent() {
    StepVerifier.create(AsyncVirtualFile.readAll(blob, io)).expectNextCount(1).verifyComplete();
    io.overwrite(blob, ByteBuffer.wrap(new byte[] {1, 2, 3})).block();
    StepVerifier.create(AsyncVirtualFile.readAll(blob, io))
        .assertNext(b -> assertThat(b).isEqualTo(ByteBuffer.wrap(new byte[] {1, 2, 3})))
        .verifyComplete();
  }

  @Test
  void readAllOfAMissingPath_failsAsOpenDoes_andRegistersNothing() {
    Path missing = dir.resolve("missing");
    StepVerifier.create(AsyncVirtualFile.readAll(missing, io))
        .expectError(java.nio.file.NoSuchFileException.class)
        .verify();
    assertThat(OpenFileRegistry.registered(missing)).isZero();
  }

  @Test
  void readAllOfAPath_cancelledAtRandomMoments_leavesNoHandleOpen() throws Exception {
    Random r = new Random(3);
    for (int i = 0; i < 2_000; i++) {
      reactor.core.Disposable d = AsyncVirtualFile.readAll(blob, io).subscribe();
      long until = System.nanoTime() + r.nextInt(100_000);
      while (System.nanoTime() < until) {
        Thread.onSpinWait();
      }
      d.dispose();
    }
    // A read that was admitted to the cache leaves its descriptor cached; one-time reads leave none.
    AsyncHandleLifecycleTest.awaitTrue("every handle and own descriptor closed",
        () -> OpenFileRegistry.registered(blob) == 0 && io.stats().openHandles() <= 1);
  }

  @Test
  void removeStaleTempFiles_removesOnlyThisLibrarysTemps() throws Exception {
    Files.writeString(dir.resolve(".blob.0123456789abcdef.vftmp"), "left by a crash");
    Files.writeString(dir.resolve("keep.tmp"), "not ours");
    StepVerifier.create(io.removeStaleTempFiles(dir)).expectNext(1).verifyComplete();
    assertThat(dir.resolve(".blob.0123456789abcdef.vftmp")).doesNotExist();
    assertThat(dir.resolve("keep.tmp")).exists();
    StepVerifier.create(io.removeStaleTempFiles(blob))
        .expectError(IllegalArgumentException.class)
        .verify();
  }
}
