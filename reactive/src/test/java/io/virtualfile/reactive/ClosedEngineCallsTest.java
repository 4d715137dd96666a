package io.virtualfile.reactive;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;

import io.virtualfile.FileClosedException;
import java.nio.file.Path;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;

/**
 * After the engine is closed, a handle's calls are refused with {@link FileClosedException} (an
 * overwrite that had started fails at its step, with that cause), and nothing is left behind.
 */
class ClosedEngineCallsTest {
  @TempDir Path dir;

  @Test
  void sizeSyncTruncateAndStreams_afterTheEngineClosed_failWithFileClosedException() {
    AsyncFileIo io = AsyncFileIo.builder().ioThreads(1).build();
    AsyncVirtualFile f = AsyncVirtualFile.open(dir.resolve("f"), io, CREATE, READ, WRITE).block();
    io.close();
    StepVerifier.create(f.size()).expectError(FileClosedException.class).verify();
    StepVerifier.create(f.sync()).expectError(FileClosedException.class).verify();
    StepVerifier.create(f.truncate(0)).expectError(FileClosedException.class).verify();
    StepVerifier.create(f.read(0, 16)).expectError(FileClosedException.class).verify();
  }

  /**
   * Work submitted while the engine closes, which passed the closed check before the close and reached
   * the engine after it, fails as work after the close does, not with the engine's rejection.
   */
  @Test
  void readsWritesWholeFileReadsAndOverwritesRacingTheClose_failOnlyWithFileClosedException() throws Exception {
    for (int round = 0; round < 10; round++) {
      AsyncFileIo io = AsyncFileIo.builder().ioThreads(1).build();
      Path p = dir.resolve("f" + round);
      AsyncVirtualFile f = AsyncVirtualFile.open(p, io, CREATE, READ, WRITE).block();
      f.writeAt(ByteBuffer.allocate(4096), 0).block();
      ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
      Thread[] threads = new Thread[4];
      for (int t = 0; t < threads.length; t++) {
        int kind = t;
        threads[t] = new Thread(() -> {
          for (int i = 0; i < 1_000; i++) {
            try {
              switch (kind) {
                case 0 -> f.writeAt(ByteBuffer.allocate(16), 0).block();
                case 1 -> f.readAt(ByteBuffer.allocate(16), 0).block();
                case 2 -> io.overwrite(p.resolveSibling(p.getFileName() + ".o"), ByteBuffer.allocate(16)).block();
                default -> AsyncVirtualFile.readAll(p, io).block();
              }
            } catch (RuntimeException e) {
              errors.add(reactor.core.Exceptions.unwrap(e));
            }
          }
        });
        threads[t].start();
      }
      Thread.sleep(round % 5);
      io.close();
      for (Thread t : threads) {
        t.join();
      }
      AsyncHandleLifecycleTest.awaitTrue("no temp file left", () -> temps().length == 0);
      // An overwrite whose write the close cut short reports the step it failed at, with the cause.
      org.assertj.core.api.Assertions.assertThat(errors)
          .allSatisfy(e -> org.assertj.core.api.Assertions.assertThat(
                  e instanceof io.virtualfile.CrashSafeOverwriteException ? e.getCause() : e)
              .isInstanceOf(FileClosedException.class));
    }
  }

  /**
   * An overwrite whose content arrives after the engine closed ends either way, and leaves no temp file
   * or descriptor (the cleanup step was refused by the closed engine's threads, and left both behind).
   * Its write fails on the thread engine; the io_uring engine's rings may still take it, as they stop
   * only after the IO threads' queued work, and then the overwrite completes.
   */
  @Test
  void anOverwriteCutShortByTheClose_leavesNoTempFileOrDescriptor() throws Exception {
    AsyncFileIo io = AsyncFileIo.builder().ioThreads(1).build();
    Path target = dir.resolve("target");
    reactor.core.publisher.Sinks.One<ByteBuffer> content = reactor.core.publisher.Sinks.one();
    java.util.concurrent.CompletableFuture<Throwable> outcome = new java.util.concurrent.CompletableFuture<>();
    io.overwrite(target, content.asMono()).subscribe(null, outcome::complete, () -> outcome.complete(null));
    AsyncHandleLifecycleTest.awaitTrue("the temp file created", () -> temps().length == 1);
    io.close();
    content.tryEmitValue(ByteBuffer.allocate(100));
    Throwable failure = outcome.get(10, java.util.concurrent.TimeUnit.SECONDS);
    AsyncHandleLifecycleTest.awaitTrue("the temp file removed", () -> temps().length == 0);
    AsyncHandleLifecycleTest.awaitTrue("its descriptor closed",
        () -> OneTimeReadsTest.descriptorsUnder(dir) == 0);
    if (failure == null) {
      org.assertj.core.api.Assertions.assertThat(java.nio.file.Files.size(target)).isEqualTo(100);
    } else {
      org.assertj.core.api.Assertions.assertThat(failure.getCause()).isInstanceOf(FileClosedException.class);
      org.assertj.core.api.Assertions.assertThat(target).doesNotExist();
    }
  }

  private String[] temps() {
    String[] names = dir.toFile().list((d, name) -> name.endsWith(".vftmp"));
    return names == null ? new String[0] : names;
  }
}
