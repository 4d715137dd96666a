package io.virtualfile.reactive;

import io.virtualfile.internal.FileOps;
import io.virtualfile.internal.JdkFileOps;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.CompletionHandler;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import reactor.core.publisher.Mono;

/**
 * The reactive overwrite's temp file: an {@link AsynchronousFileChannel} of its own (not cached: it
 * lives for one overwrite) on the engine's IO threads.
 */
final class AsyncChannelTempFile implements AsyncTempFile {
  private final AsynchronousFileChannel channel;

  private AsyncChannelTempFile(AsynchronousFileChannel channel) {
    this.channel = channel;
  }

  /** Creates temp files on {@code executor}, with core's creation rules ({@code CREATE_NEW}, permissions). */
  static FileOps.TempFiles<AsyncChannelTempFile> factory(ExecutorService executor) {
    return (Path path, Set<PosixFilePermission> permissions) ->
        new AsyncChannelTempFile(JdkFileOps.createNewFile(path, permissions,
            (p, options, attrs) -> AsynchronousFileChannel.open(p, options, executor, attrs)));
  }

  @Override
  public Mono<Void> write(ByteBuffer src, long position) {
    if (!src.hasRemaining()) {
      return Mono.empty();
    }
    return Mono.<Integer>create(sink -> {
          try {
            channel.write(src, position, null, new CompletionHandler<Integer, Void>() {
              @Override
              public void completed(Integer n, Void a) {
                sink.success(n);
              }

              @Override
              public void failed(Throwable e, Void a) {
                sink.error(e);
              }
            });
          } catch (Throwable t) {
            sink.error(t);
          }
        })
        .flatMap(n -> write(src, position + n));
  }

  /** Blocking form, for {@link FileOps.TempFile}; the pipeline writes with {@link #write}. */
  @Override
  public void writeAll(ByteBuffer src) throws IOException {
    long position = channel.size();
    try {
      while (src.hasRemaining()) {
        position += channel.write(src, position).get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while writing the temp file");
    } catch (ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
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
