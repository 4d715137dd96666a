package io.virtualfile.blockhound;


import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.reactive.AsyncFileIo;
import io.virtualfile.reactive.AsyncVirtualFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.blockhound.BlockingOperationError;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * {@link AsyncFileIo.Builder#nonBlockingIoThreads(boolean)}, with BlockHound installed for the suite:
 * code that blocks in a signal on an IO thread is reported, the engine's own IO is not.
 */
class NonBlockingIoThreadsTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir Path dir;

  static AsyncFileIo engine(boolean nonBlocking) {
    return AsyncFileIo.builder().engine(AsyncFileIo.Engine.THREADS).ioThreads(2).cacheCapacity(1)
        .nonBlockingIoThreads(nonBlocking).build();
  }

  /** A read whose signal (on an IO thread) runs {@code inSignal}. */
  Mono<Integer> readThen(AsyncFileIo io, Blocking inSignal) throws Exception {
    Path f = Files.writeString(dir.resolve("f"), "data");
    return AsyncVirtualFile.open(f, io, READ)
        .flatMap(file -> file.readAt(ByteBuffer.allocate(4), 0)
            .map(n -> {
              try {
                inSignal.run();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
              return n;
            })
            .doFinally(s -> file.close().subscribe()))
        .subscribeOn(Schedulers.parallel());
  }

  @FunctionalInterface
  interface Blocking {
    void run() throws Exception;
  }

  @Test
  void withTheOption_sleepingInASignal_isReported() throws Exception {
    try (AsyncFileIo io = engine(true)) {
      StepVerifier.create(readThen(io, () -> Thread.sleep(1)))
          .expectError(BlockingOperationError.class)
          .verify(WAIT);
    }
  }

  @Test
  void withTheOption_aBlockingFileReadInASignal_isReported() throws Exception {
    Path other = Files.writeString(dir.resolve("other"), "x");
    try (AsyncFileIo io = engine(true); FileChannel ch = FileChannel.open(other, READ)) {
      StepVerifier.create(readThen(io, () -> ch.read(ByteBuffer.allocate(1), 0)))
          .expectError(BlockingOperationError.class)
          .verify(WAIT);
    }
  }

  @Test
  void withoutTheOption_sleepingInASignal_isNotReported() throws Exception {
    try (AsyncFileIo io = engine(false)) {
      StepVerifier.create(readThen(io, () -> Thread.sleep(1))).expectNext(4).verifyComplete();
    }
  }

  @Test
  void ioThreads_areNonBlockingThreads_onlyWithTheOption() throws Exception {
    for (boolean option : new boolean[] {true, false}) {
      try (AsyncFileIo io = engine(option)) {
        boolean[] seen = new boolean[1];
        StepVerifier.create(readThen(io, () -> seen[0] = Schedulers.isInNonBlockingThread()))
            .expectNext(4).verifyComplete();
        assertThat(seen[0]).as("option " + option).isEqualTo(option);
      }
    }
  }

  /**
   * Every kind of operation, each started inside the previous one's signal (so on an IO thread), on a
   * cache of one file, so that the two files evict each other and every other call reopens.
   */
  @Test
  void withTheOption_theEnginesOwnIo_runsClean() throws Exception {
    Path a = dir.resolve("a");
    Path b = dir.resolve("b");
    try (AsyncFileIo io = engine(true)) {
      Mono<String> all = AsyncVirtualFile.open(a, io, CREATE, READ, WRITE)
          .flatMap(fa -> AsyncVirtualFile.open(b, io, CREATE, READ, WRITE)
              .flatMap(fb -> fa.writeAllAt(ascii("alpha"), 0)
                  .then(fb.writeAllAt(ascii("beta"), 0)) // evicts a
                  .then(fa.sync()) // reopens a
                  .then(fb.syncData())
                  .then(fa.truncate(4))
                  .then(fb.size())
                  .then(fa.readExactAt(ByteBuffer.allocate(4), 0))
                  .then(fb.read(0, 2).count())
                  .then(io.overwrite(a, ascii("omega")))
                  .then(fa.close())
                  .then(fb.close())))
          .then(AsyncVirtualFile.readAll(a, io))
          .map(buf -> US_ASCII.decode(buf).toString())
          .subscribeOn(Schedulers.parallel());
      StepVerifier.create(all).expectNext("omega").verifyComplete();
    }
  }

  static ByteBuffer ascii(String s) {
    return ByteBuffer.wrap(s.getBytes(US_ASCII));
  }
}
