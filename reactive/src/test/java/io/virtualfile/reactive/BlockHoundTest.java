package io.virtualfile.reactive;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.blockhound.BlockingOperationError;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * BlockHound is installed for this whole test suite (blockhound-junit-platform) with {@link
 * NioFileBlockingIntegration}. These tests show the check can fail: each deliberate blocking file call
 * on a parallel (non-blocking) thread is caught.
 */
class BlockHoundTest {
  @TempDir Path dir;

  static void assertCaughtOnParallel(Mono<?> blockingWork) {
    StepVerifier.create(blockingWork.subscribeOn(Schedulers.parallel()))
        .expectError(BlockingOperationError.class)
        .verify();
  }

  @Test
  void positionalRead_onParallelThread_isCaught() throws Exception {
    Path f = Files.writeString(dir.resolve("f"), "data");
    try (FileChannel ch = FileChannel.open(f, READ)) {
      assertCaughtOnParallel(Mono.fromCallable(() -> ch.read(ByteBuffer.allocate(4), 0)));
    }
  }

  @Test
  void positionalWrite_onParallelThread_isCaught() throws Exception {
    Path f = dir.resolve("f");
    try (FileChannel ch = FileChannel.open(f, CREATE, WRITE)) {
      assertCaughtOnParallel(Mono.fromCallable(() -> ch.write(ByteBuffer.allocate(4), 0)));
    }
  }

  @Test
  void force_onParallelThread_isCaught() throws Exception {
    Path f = dir.resolve("f");
    try (FileChannel ch = FileChannel.open(f, CREATE, WRITE)) {
      assertCaughtOnParallel(Mono.fromRunnable(() -> {
        try {
          ch.force(true);
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }));
    }
  }

  @Test
  void open_onParallelThread_isCaught() {
    assertCaughtOnParallel(Mono.fromCallable(() -> FileChannel.open(dir.resolve("g"), CREATE, WRITE)));
  }

  @Test
  void rename_onParallelThread_isCaught() throws Exception {
    Path a = Files.writeString(dir.resolve("a"), "a");
    assertCaughtOnParallel(Mono.fromCallable(
        () -> Files.move(a, dir.resolve("b"), StandardCopyOption.ATOMIC_MOVE)));
  }

  @Test
  void unlink_onParallelThread_isCaught() throws Exception {
    Path a = Files.writeString(dir.resolve("a"), "a");
    assertCaughtOnParallel(Mono.fromCallable(() -> Files.deleteIfExists(a)));
  }
}
