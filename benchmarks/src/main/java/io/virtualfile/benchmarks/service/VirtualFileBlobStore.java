package io.virtualfile.benchmarks.service;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.virtualfile.reactive.AsyncFileIo;
import io.virtualfile.reactive.AsyncVirtualFile;
import java.nio.ByteBuffer;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The service on virtualfile: a GET streams the file in 64 KiB chunks through a handle of one shared
 * {@link AsyncFileIo} whose channel cache (128, the default) is far smaller than the blob count; a PUT
 * is the library's crash-safe overwrite.
 */
final class VirtualFileBlobStore implements BlobStore {
  private static final int CACHE_CAPACITY = 128; // the default, written out

  private final BlobSet blobs;
  /** The engine's defaults; {@code -DmaxIoThreads=N} sets that bound, to compare. */
  private final AsyncFileIo io = AsyncFileIo.builder().cacheCapacity(CACHE_CAPACITY)
      .maxIoThreads(Integer.getInteger("maxIoThreads", 64)).build();

  VirtualFileBlobStore(BlobSet blobs) {
    this.blobs = blobs;
  }

  @Override
  public Flux<ByteBuf> get(int id) {
    return AsyncVirtualFile.usingMany(blobs.path(id), io, Set.of(StandardOpenOption.READ),
            f -> f.read(0, 64 * 1024))
        .map(Unpooled::wrappedBuffer);
  }

  @Override
  public Mono<Void> put(int id, byte[] body) {
    return io.overwrite(blobs.path(id), ByteBuffer.wrap(body));
  }

  @Override
  public String summary() {
    return "channel cache of " + io.cacheCapacity() + ": " + io.stats();
  }
}
