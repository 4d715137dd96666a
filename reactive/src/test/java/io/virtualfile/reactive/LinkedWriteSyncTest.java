package io.virtualfile.reactive;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.CrashSafeOverwriteException;
import io.virtualfile.CrashSafeOverwriteException.Step;
import io.virtualfile.internal.Events;
import io.virtualfile.internal.JdkFileOps;
import io.virtualfile.reactive.spi.EngineChannel;
import io.virtualfile.reactive.spi.IoCompletion;
import io.virtualfile.reactive.spi.IoEngine;
import io.virtualfile.reactive.spi.WriteThenForce;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * The overwrite's last write and the temp file's fsync as one request of the engine ({@link
 * WriteThenForce}), on an engine whose channel scripts that request over a real file: where it fails,
 * how much it writes, when it completes. The pipeline is engine-independent; the io_uring engine's
 * linked requests are tested in its own module.
 */
class LinkedWriteSyncTest {
  @TempDir Path dir;

  final Scheduler blocking = Schedulers.newBoundedElastic(4, 100, "linked-steps");
  final ScriptedEngine engine = new ScriptedEngine();

  @AfterEach
  void stop() {
    blocking.dispose();
  }

  /** What the channel's linked request does next. */
  enum Script { WHOLE, SHORT_THEN_WHOLE, WRITE_FAILS, FORCE_FAILS, HELD }

  /** An engine whose files are real, and whose channels run {@link WriteThenForce} by a script. */
  final class ScriptedEngine implements IoEngine {
    volatile Script script = Script.WHOLE;
    /** What the files saw, in order: "write N@P", "linked N@P", "force", "close". */
    final List<String> log = new CopyOnWriteArrayList<>();
    /** A {@link Script#HELD} request has started, and waits for {@link #release}. */
    final CountDownLatch started = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    volatile boolean inFlight;
    volatile boolean closedInFlight;

    @Override
    public ExecutorService ioThreads() {
      throw new UnsupportedOperationException("not used by the pipeline");
    }

    @Override
    public EngineChannel open(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
        throws IOException {
      return new ScriptedChannel(FileChannel.open(path, options, attrs));
    }

    @Override
    public void shutdown() {}

    final class ScriptedChannel implements EngineChannel, WriteThenForce {
      final FileChannel file;

      ScriptedChannel(FileChannel file) {
        this.file = file;
      }

      @Override
      public void write(ByteBuffer src, long position, IoCompletion completion) {
        try {
          int n = file.write(src, position);
          log.add("write " + n + "@" + position);
          completion.completed(n);
        } catch (IOException e) {
          completion.failed(e);
        }
      }

      @Override
      public void writeThenForce(ByteBuffer src, long position, boolean metaData, Completion c) {
        Script s = script;
        inFlight = true;
        new Thread(() -> { // completes on another thread, as an engine's would
          try {
            if (s == Script.HELD) {
              started.countDown();
              release.await();
            }
            if (s == Script.WRITE_FAILS) {
              inFlight = false;
              c.writeFailed(new IOException("injected write failure"));
              return;
            }
            ByteBuffer part = src.duplicate();
            if (s == Script.SHORT_THEN_WHOLE) {
              part.limit(part.position() + part.remaining() / 2);
              script = Script.WHOLE;
            }
            int n = file.write(part, position);
            src.position(src.position() + n);
            log.add("linked " + n + "@" + position);
            if (src.hasRemaining()) {
              inFlight = false;
              c.partlyWritten(n);
              return;
            }
            if (s == Script.FORCE_FAILS) {
              inFlight = false;
              c.forceFailed(new IOException("injected fsync failure"));
              return;
            }
            file.force(metaData);
            log.add("force");
            inFlight = false;
            c.forced(n);
          } catch (Exception e) {
            inFlight = false;
            c.writeFailed(e);
          }
        }).start();
      }

      @Override
      public void read(ByteBuffer dst, long position, IoCompletion completion) {
        completion.failed(new UnsupportedOperationException("not used by the pipeline"));
      }

      @Override
      public long size() throws IOException {
        return file.size();
      }

      @Override
      public void truncate(long size) throws IOException {
        file.truncate(size);
      }

      @Override
      public void force(boolean metaData) throws IOException {
        log.add("force");
        file.force(metaData);
      }

      @Override
      public void close() throws IOException {
        if (inFlight) {
          closedInFlight = true;
        }
        log.add("close");
        file.close();
      }
    }
  }

  Mono<Void> overwrite(Path f, Path tmp, String... buffers) {
    OverwritePipeline pipeline = new OverwritePipeline(
        JdkFileOps.INSTANCE, EngineTempFile.factory(engine, e -> e), blocking,
        new GroupCommitDirectorySyncer(JdkFileOps.INSTANCE, blocking, d -> Mono.empty()),
        OverwritePipeline.StepGate.OPEN, Events.UNOBSERVED);
    // One buffer as a Mono, as AsyncFileIo.overwrite(Path, ByteBuffer) gives it; more as a stream.
    return pipeline.overwrite(f, tmp, buffers.length == 1
        ? Mono.just(ByteBuffer.wrap(buffers[0].getBytes(UTF_8)))
        : Flux.fromArray(buffers).map(b -> ByteBuffer.wrap(b.getBytes(UTF_8))));
  }

  @Test
  void aOneBufferContent_isWrittenWithTheFsync_andNoSeparateFsyncRuns() throws Exception {
    Path f = Files.writeString(dir.resolve("meta"), "old");
    overwrite(f, dir.resolve("meta.tmp"), "content").block(Duration.ofSeconds(10));
    assertThat(Files.readString(f)).isEqualTo("content");
    assertThat(engine.log).containsExactly("linked 7@0", "force", "close");
  }

  /**
   * A streamed content is written buffer by buffer, each before the next is requested (a publisher may
   * refill one buffer), so nothing is held back to go with the fsync, which runs as its own step.
   */
  @Test
  void aStreamedContent_isWrittenBufferByBuffer_thenFsynced() throws Exception {
    Path f = Files.writeString(dir.resolve("meta"), "old");
    overwrite(f, dir.resolve("meta.tmp"), "first,", "second,", "last").block(Duration.ofSeconds(10));
    assertThat(Files.readString(f)).isEqualTo("first,second,last");
    assertThat(engine.log).containsExactly("write 6@0", "write 7@6", "write 4@13", "force", "close");
  }

  @Test
  void aShortLinkedWrite_isCompleted_andTheFsyncFollowsTheLastByte() throws Exception {
    Path f = Files.writeString(dir.resolve("meta"), "old");
    engine.script = Script.SHORT_THEN_WHOLE;
    overwrite(f, dir.resolve("meta.tmp"), "new content").block(Duration.ofSeconds(10));
    assertThat(Files.readString(f)).isEqualTo("new content");
    assertThat(engine.log).containsExactly("linked 5@0", "linked 6@5", "force", "close");
  }

  @ParameterizedTest
  @EnumSource(value = Script.class, names = {"WRITE_FAILS", "FORCE_FAILS"})
  void aFailureInTheLinkedRequest_isReportedAtItsStep_andRemovesTheTemp(Script failure)
      throws Exception {
    Path f = Files.writeString(dir.resolve("meta"), "old");
    Path tmp = dir.resolve("meta.tmp");
    engine.script = failure;
    StepVerifier.create(overwrite(f, tmp, "new"))
        .expectErrorSatisfies(e -> {
          assertThat(e).isInstanceOfSatisfying(CrashSafeOverwriteException.class, c -> assertThat(
              c.step()).isEqualTo(failure == Script.WRITE_FAILS ? Step.WRITE : Step.SYNC_TEMP));
          assertThat(e).hasRootCauseMessage(failure == Script.WRITE_FAILS
              ? "injected write failure" : "injected fsync failure");
        })
        .verify(Duration.ofSeconds(10));
    assertThat(tmp).doesNotExist();
    assertThat(Files.readString(f)).isEqualTo("old");
    assertThat(engine.log).doesNotContain("force").endsWith("close");
  }

  @Test
  void aCancelWhileTheLinkedRequestRuns_closesTheTempOnlyAfterIt_thenRemovesIt() throws Exception {
    Path f = Files.writeString(dir.resolve("meta"), "old");
    Path tmp = dir.resolve("meta.tmp");
    engine.script = Script.HELD;
    Disposable d = overwrite(f, tmp, "new").subscribe();
    assertThat(engine.started.await(10, TimeUnit.SECONDS)).isTrue();
    d.dispose();
    // A pipeline that abandoned the request would close the descriptor under it now: give it the time.
    await("a close under the request, or 200 ms", () -> engine.closedInFlight, Duration.ofMillis(200));
    assertThat(engine.log).as("nothing closed while the request holds the descriptor")
        .doesNotContain("close");
    engine.release.countDown();
    await("the temp removed", () -> !Files.exists(tmp) && engine.log.contains("close"),
        Duration.ofSeconds(10));
    assertThat(tmp).doesNotExist();
    assertThat(engine.log).endsWith("force", "close");
    assertThat(engine.closedInFlight).isFalse();
    assertThat(Files.readString(f)).isEqualTo("old");
  }

  static void await(String what, BooleanSupplier condition, Duration limit) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
  }
}
