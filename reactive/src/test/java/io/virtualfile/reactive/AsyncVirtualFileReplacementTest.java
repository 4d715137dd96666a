package io.virtualfile.reactive;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.FileReplacedException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/** {@link AsyncVirtualFile} handles stay truthful when their file is replaced. */
class AsyncVirtualFileReplacementTest {
  @TempDir Path dir;
  AsyncFileIo io;
  Path path;

  @BeforeEach
  void setUp() throws Exception {
    io = AsyncFileIo.builder().cacheCapacity(2).build();
    path = Files.writeString(dir.resolve("meta"), "old content");
  }

  @AfterEach
  void tearDown() {
    io.close();
  }

  static Mono<String> readAll(AsyncVirtualFile f) {
    return f.size().flatMap(n -> {
      ByteBuffer b = ByteBuffer.allocate(n.intValue());
      return f.readExactAt(b, 0).then(Mono.fromSupplier(() -> new String(b.array(), UTF_8)));
    }).subscribeOn(Schedulers.parallel());
  }

  /** Fills every slot with other files, held open together, so that no earlier channel stays cached. */
  void evictAll() {
    Flux.range(0, io.cacheCapacity())
        .concatMap(i -> AsyncVirtualFile.open(dir.resolve("other" + i), io, CREATE, WRITE))
        .collectList()
        .flatMap(others -> Flux.fromIterable(others).concatMap(AsyncVirtualFile::close).then())
        .block();
  }

  @Test
  void libraryOverwrite_withTheChannelStillCached_readsTheNewContent() {
    AsyncVirtualFile f = AsyncVirtualFile.open(path, io, READ).block();
    StepVerifier.create(readAll(f)).expectNext("old content").verifyComplete();
    StepVerifier.create(io.overwrite(path, ByteBuffer.wrap("new".getBytes(UTF_8)))).verifyComplete();
    StepVerifier.create(readAll(f)).expectNext("new").verifyComplete();
  }

  @Test
  void libraryOverwrite_afterTheChannelWasEvicted_readsTheNewContent() {
    AsyncVirtualFile f = AsyncVirtualFile.open(path, io, READ).block();
    evictAll();
    StepVerifier.create(AsyncVirtualFile.overwrite(path, ByteBuffer.wrap("new".getBytes(UTF_8))))
        .verifyComplete();
    StepVerifier.create(readAll(f)).expectNext("new").verifyComplete();
  }

  @Test
  void outsideReplacement_failsTheNextReopen() throws Exception {
    AsyncVirtualFile f = AsyncVirtualFile.open(path, io, READ).block();
    Path other = Files.writeString(dir.resolve("elsewhere"), "someone else's file");
    Files.move(other, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    evictAll();
    StepVerifier.create(f.readAt(ByteBuffer.allocate(4), 0).subscribeOn(Schedulers.parallel()))
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(FileReplacedException.class)
            .hasMessageContaining(path.toString()))
        .verify();
  }

  @Test
  void outsideDelete_failsTheNextReopen() throws Exception {
    AsyncVirtualFile f = AsyncVirtualFile.open(path, io, READ).block();
    Files.delete(path);
    evictAll();
    StepVerifier.create(f.readAt(ByteBuffer.allocate(4), 0))
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(FileReplacedException.class)
            .hasMessageContaining("was deleted"))
        .verify();
  }
}
