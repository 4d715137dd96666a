package io.virtualfile.reactive;

import static java.nio.file.StandardOpenOption.APPEND;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.FileClosedException;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The static entry points check their arguments when subscribed, as every call of the API does: a bad
 * one is signalled (never thrown at assembly), and nothing touches the disk.
 */
class OpenAndReadAllArgumentsTest {
  @TempDir Path dir;

  @Test
  void aNullPathOrEngine_isSignalledOnSubscription() {
    try (AsyncFileIo io = AsyncFileIo.builder().ioThreads(1).build()) {
      Mono<AsyncVirtualFile> noPath = AsyncVirtualFile.open(null, io, CREATE, WRITE);
      StepVerifier.create(noPath).expectErrorMessage("path").verify();
      StepVerifier.create(AsyncVirtualFile.open(dir.resolve("f"), (AsyncFileIo) null, CREATE, WRITE))
          .expectErrorMessage("io").verify();
      StepVerifier.create(AsyncVirtualFile.readAll(null, io)).expectErrorMessage("path").verify();
      StepVerifier.create(AsyncVirtualFile.readAll(dir.resolve("f"), null))
          .expectErrorMessage("io").verify();
    }
  }

  @Test
  void append_isRefusedOnSubscription_andCreatesNothing() {
    try (AsyncFileIo io = AsyncFileIo.builder().ioThreads(1).build()) {
      Path f = dir.resolve("f");
      StepVerifier.create(AsyncVirtualFile.open(f, io, CREATE, WRITE, APPEND))
          .expectError(IllegalArgumentException.class).verify();
      assertThat(Files.exists(f)).isFalse();
    }
  }

  @Test
  void theOptionsAreReadWhenTheMonoIsMade_notWhenSubscribed() {
    try (AsyncFileIo io = AsyncFileIo.builder().ioThreads(1).build()) {
      OpenOption[] options = {CREATE, WRITE};
      Mono<AsyncVirtualFile> open = AsyncVirtualFile.open(dir.resolve("f"), io, options);
      options[1] = APPEND; // the caller reuses its array
      StepVerifier.create(open.flatMap(AsyncVirtualFile::close)).verifyComplete();
    }
  }

  @Test
  void aClosedEngine_isSignalledOnSubscription_andCreatesNothing() {
    AsyncFileIo io = AsyncFileIo.builder().ioThreads(1).build();
    Mono<AsyncVirtualFile> open = AsyncVirtualFile.open(dir.resolve("f"), io, CREATE, WRITE);
    Mono<?> read = AsyncVirtualFile.readAll(dir.resolve("f"), io);
    io.close();
    StepVerifier.create(open).expectError(FileClosedException.class).verify();
    StepVerifier.create(read).expectError(FileClosedException.class).verify();
    assertThat(Files.exists(dir.resolve("f"))).isFalse();
  }
}
