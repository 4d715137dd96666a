package io.virtualfile.benchmarks.service;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.util.stream.IntStream;
import reactor.core.publisher.Mono;

/**
 * The ceiling: every blob held in memory, loaded from the blob set at start. A PUT replaces the array
 * entry (not durable, nothing on disk): what the service costs with no file IO at all.
 */
final class MemoryBlobStore implements BlobStore {
  /** Release/acquire on the entries, so a GET on another thread sees a PUT's array complete. */
  private static final VarHandle ENTRY = MethodHandles.arrayElementVarHandle(byte[][].class);

  private final byte[][] blobs;

  MemoryBlobStore(BlobSet set) {
    this.blobs = IntStream.range(0, set.count()).mapToObj(id -> {
      try {
        return Files.readAllBytes(set.path(id));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }).toArray(byte[][]::new);
  }

  @Override
  public Mono<ByteBuf> get(int id) {
    return Mono.fromSupplier(() -> Unpooled.wrappedBuffer((byte[]) ENTRY.getAcquire(blobs, id)));
  }

  @Override
  public Mono<Void> put(int id, byte[] body) {
    return Mono.fromRunnable(() -> ENTRY.setRelease(blobs, id, body));
  }
}
