package io.virtualfile.reactive;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.util.context.Context;

/**
 * The overwrite runs detached from its subscriber, but with the subscriber's {@link Context}: what the
 * caller wrote into it reaches the content publisher and the background directory fsync.
 */
class AsyncOverwriteContextTest {
  private static final String KEY = "caller";

  @TempDir Path dir;

  @Test
  void theContentPublisher_seesTheSubscribersContext() throws Exception {
    Path f = Files.writeString(dir.resolve("meta"), "old");
    try (AsyncFileIo io = AsyncFileIo.builder().build()) {
      io.overwrite(f, Flux.deferContextual(ctx -> Flux.just(ascii(ctx.getOrDefault(KEY, "none")))))
          .contextWrite(Context.of(KEY, "request-7"))
          .subscribeOn(Schedulers.parallel())
          .block(Duration.ofSeconds(10));
    }
    assertThat(Files.readString(f)).isEqualTo("request-7");
  }

  @Test
  void cancelAfterTheRename_theBackgroundDirectoryFsyncStillSeesTheContext() throws Exception {
    Path f = Files.writeString(dir.resolve("meta"), "old");
    CountDownLatch reached = new CountDownLatch(1);
    Sinks.Empty<Void> gate = Sinks.empty();
    AtomicReference<String> seenAfterCancel = new AtomicReference<>();
    try (AsyncFileIo io = AsyncFileIo.builder().syncGate(d -> {
          reached.countDown();
          // read only once the gate opens, which the test does after the cancel
          return gate.asMono().then(Mono.deferContextual(ctx -> {
            seenAfterCancel.set(ctx.getOrDefault(KEY, "none"));
            return Mono.empty();
          }));
        }).build()) {
      Disposable d = io.overwrite(f, ascii("new"))
          .contextWrite(Context.of(KEY, "request-7"))
          .subscribeOn(Schedulers.parallel())
          .subscribe();
      assertThat(reached.await(10, TimeUnit.SECONDS)).isTrue();
      d.dispose();
      gate.tryEmitEmpty();
      AsyncOverwriteCancellationTest.await("the detached fsync ran", () -> seenAfterCancel.get() != null);
      assertThat(seenAfterCancel.get()).isEqualTo("request-7");
    }
  }

  static ByteBuffer ascii(String s) {
    return ByteBuffer.wrap(s.getBytes(UTF_8));
  }
}
