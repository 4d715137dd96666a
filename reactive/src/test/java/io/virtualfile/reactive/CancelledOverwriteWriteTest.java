package io.virtualfile.reactive;

import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.internal.Events;
import io.virtualfile.internal.FileOps;
import io.virtualfile.internal.JdkFileOps;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * A cancel stops a streamed overwrite between buffers, never under a write in flight: the cleanup
 * closes the temp file only once the engine is done with its descriptor. Found by an outside probe:
 * on io_uring a write dropped by the cancel was still queued when the cleanup closed the descriptor,
 * and the ring later wrote the content into the file that had reused the descriptor's number.
 */
class CancelledOverwriteWriteTest {
  @TempDir Path dir;

  /** A temp file whose writes end when the test says, and which notes when it is closed. */
  private static final class HeldTemp implements AsyncTempFile {
    final Sinks.Empty<Void> writeEnds = Sinks.empty();
    final CountDownLatch writing = new CountDownLatch(1);
    final CountDownLatch closed = new CountDownLatch(1);
    final AtomicBoolean writeEnded = new AtomicBoolean();
    final AtomicBoolean closedUnderWrite = new AtomicBoolean();

    @Override
    public Mono<Void> write(ByteBuffer src, long position) {
      return Mono.defer(() -> {
        writing.countDown();
        return writeEnds.asMono().doOnTerminate(() -> writeEnded.set(true));
      });
    }

    @Override
    public void writeAll(ByteBuffer src) {}

    @Override
    public void sync() {}

    @Override
    public void close() {
      if (writing.getCount() == 0 && !writeEnded.get()) {
        closedUnderWrite.set(true);
      }
      closed.countDown();
    }
  }

  @Test
  void aCancelDuringAStreamedWrite_closesTheTempFileOnlyAfterThatWrite() throws Exception {
    HeldTemp temp = new HeldTemp();
    FileOps.TempFiles<AsyncTempFile> temps = (path, permissions) -> {
      Files.createFile(path); // so that the cleanup has a file to remove
      return temp;
    };
    Scheduler blocking = Schedulers.newBoundedElastic(4, 100, "cancelled-write");
    try {
      OverwritePipeline pipeline = new OverwritePipeline(
          JdkFileOps.INSTANCE, temps, blocking,
          new GroupCommitDirectorySyncer(JdkFileOps.INSTANCE, blocking, d -> Mono.empty()),
          OverwritePipeline.StepGate.OPEN, Events.UNOBSERVED);
      Path target = dir.resolve("f");
      Files.writeString(target, "old");
      Flux<ByteBuffer> content = Flux.just("first", "second")
          .map(s -> ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8)));

      Disposable overwrite = pipeline.overwrite(target, null, content).subscribe();
      assertThat(temp.writing.await(10, TimeUnit.SECONDS)).as("the first write started").isTrue();
      overwrite.dispose();

      assertThat(temp.closed.await(200, TimeUnit.MILLISECONDS))
          .as("the temp file closed while its write was in flight").isFalse();
      temp.writeEnds.tryEmitEmpty();
      assertThat(temp.closed.await(10, TimeUnit.SECONDS)).as("closed once the write ended").isTrue();
      assertThat(temp.closedUnderWrite).isFalse();
      assertThat(Files.readString(target)).as("the final file").isEqualTo("old");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (listTemps() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(5); // the cleanup removes the temp file after closing it; the condition decides
      }
      assertThat(listTemps()).as("temp files left").isZero();
    } finally {
      blocking.dispose();
    }
  }

  private long listTemps() throws Exception {
    try (var files = Files.list(dir)) {
      return files.filter(p -> !p.getFileName().toString().equals("f")).count();
    }
  }
}
