package io.virtualfile.benchmarks.service;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.virtualfile.reactive.AsyncFileIo;
import io.virtualfile.reactive.AsyncVirtualFile;
import java.nio.ByteBuffer;
import reactor.core.publisher.Mono;

/**
 * The service on virtualfile: a GET is the library's one-call whole-file read ({@link
 * AsyncVirtualFile#readAll(java.nio.file.Path, AsyncFileIo)}) on one shared {@link AsyncFileIo} whose
 * open-file cache (128, the default) is far smaller than the blob count; a PUT is the library's
 * crash-safe overwrite.
 */
final class VirtualFileBlobStore implements BlobStore {
  private static final int CACHE_CAPACITY = 128; // the default, written out

  private final BlobSet blobs;
  /**
   * The engine's defaults; {@code -DioThreads=N} sets the core IO threads, {@code -DmaxIoThreads=N}
   * their bound and {@code -Dengine=THREADS} (or {@code IO_URING}) the engine, to compare.
   */
  private final StepTimes steps = Boolean.getBoolean("steps") ? new StepTimes() : null;
  private final AsyncFileIo io = withListener(AsyncFileIo.builder()).cacheCapacity(CACHE_CAPACITY)
      .ioThreads(Integer.getInteger("ioThreads", Runtime.getRuntime().availableProcessors()))
      .maxIoThreads(Integer.getInteger("maxIoThreads", 64))
      .engine(AsyncFileIo.Engine.valueOf(System.getProperty("engine", "AUTO"))).build();

  private AsyncFileIo.Builder withListener(AsyncFileIo.Builder b) {
    return steps == null ? b : b.listener(steps);
  }

  VirtualFileBlobStore(BlobSet blobs) {
    this.blobs = blobs;
  }

  @Override
  public Mono<ByteBuf> get(int id) {
    return AsyncVirtualFile.readAll(blobs.path(id), io).map(Unpooled::wrappedBuffer);
  }

  @Override
  public Mono<Void> put(int id, byte[] body) {
    return io.overwrite(blobs.path(id), ByteBuffer.wrap(body));
  }

  @Override
  public String summary() {
    return io.engine() + " engine, open-file cache of " + io.cacheCapacity() + ": " + io.stats()
        + (steps == null ? "" : "; " + steps);
  }
}
