package io.virtualfile.reactive;

import io.virtualfile.CrashSafeOverwriteException.Step;
import io.virtualfile.internal.FileOps;
import io.virtualfile.internal.JdkFileOps;
import io.virtualfile.internal.StepFailure;
import io.virtualfile.reactive.spi.EngineChannel;
import io.virtualfile.reactive.spi.IoCompletion;
import io.virtualfile.reactive.spi.IoEngine;
import io.virtualfile.reactive.spi.WriteThenForce;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.UnaryOperator;
import reactor.core.publisher.Mono;

/**
 * The reactive overwrite's temp file: a channel of the engine's own (not cached: it lives for one
 * overwrite), written asynchronously, synced and closed on an IO thread.
 */
final class EngineTempFile implements AsyncTempFile {
  private final EngineChannel channel;
  private final UnaryOperator<Throwable> refusal;

  private EngineTempFile(EngineChannel channel, UnaryOperator<Throwable> refusal) {
    this.channel = channel;
    this.refusal = refusal;
  }

  /**
   * Creates temp files on {@code engine}, with core's creation rules ({@code CREATE_NEW}, permissions).
   *
   * @param refusal maps a write's failure as the caller sees it ({@link AsyncFileIo#refusal})
   */
  static FileOps.TempFiles<EngineTempFile> factory(IoEngine engine, UnaryOperator<Throwable> refusal) {
    return (Path path, Set<PosixFilePermission> permissions) ->
        new EngineTempFile(JdkFileOps.createNewFile(path, permissions, engine::open), refusal);
  }

  @Override
  public Mono<Void> write(ByteBuffer src, long position) {
    if (!src.hasRemaining()) {
      return Mono.empty();
    }
    return Mono.<Integer>create(sink -> channel.write(src, position, new IoCompletion() {
          @Override
          public void completed(int n) {
            sink.success(n);
          }

          @Override
          public void failed(Throwable e) {
            sink.error(refusal.apply(e));
          }
        }))
        .flatMap(n -> write(src, position + n));
  }

  @Override
  public boolean writesThenSyncs() {
    return channel instanceof WriteThenForce;
  }

  /**
   * The write and the fsync as one request of the engine ({@link WriteThenForce}); after a short write,
   * the rest is written the same way, so that the fsync still follows the last byte.
   */
  @Override
  public Mono<Void> writeThenSync(ByteBuffer src, long position) {
    WriteThenForce linked = (WriteThenForce) channel;
    return Mono.<Integer>create(sink -> linked.writeThenForce(src, position, true,
            new WriteThenForce.Completion() {
              @Override
              public void forced(int bytes) {
                sink.success();
              }

              @Override
              public void partlyWritten(int bytes) {
                sink.success(bytes);
              }

              @Override
              public void writeFailed(Throwable error) {
                sink.error(new StepFailure(Step.WRITE, refusal.apply(error)));
              }

              @Override
              public void forceFailed(Throwable error) {
                sink.error(new StepFailure(Step.SYNC_TEMP, error));
              }
            }))
        .flatMap(n -> writeThenSync(src, position + n));
  }

  /**
   * Blocking form, for {@link FileOps.TempFile}; the pipeline writes with {@link #write}. Waits for the
   * engine, so it must not be called on an IO thread.
   */
  @Override
  public void writeAll(ByteBuffer src) throws IOException {
    long position = channel.size();
    while (src.hasRemaining()) {
      CompletableFuture<Integer> done = new CompletableFuture<>();
      channel.write(src, position, new IoCompletion() {
        @Override
        public void completed(int n) {
          done.complete(n);
        }

        @Override
        public void failed(Throwable e) {
          done.completeExceptionally(e);
        }
      });
      try {
        position += done.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while writing the temp file");
      } catch (ExecutionException e) {
        throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
      }
    }
  }

  @Override
  public void sync() throws IOException {
    channel.force(true);
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
