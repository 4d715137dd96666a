package io.virtualfile.benchmarks.service;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The service written the usual way: blocking JDK calls wrapped in {@code Mono.fromCallable} on {@code
 * boundedElastic}. A GET reads the whole file; a PUT is the crash-safe sequence written by hand (temp
 * file, write, fsync, atomic rename, directory fsync).
 */
final class UsualBlobStore implements BlobStore {
  private final BlobSet blobs;
  private final AtomicLong tempNumber = new AtomicLong();

  UsualBlobStore(BlobSet blobs) {
    this.blobs = blobs;
  }

  @Override
  public Mono<ByteBuf> get(int id) {
    return Mono.fromCallable(() -> Files.readAllBytes(blobs.path(id)))
        .subscribeOn(Schedulers.boundedElastic())
        .map(Unpooled::wrappedBuffer);
  }

  @Override
  public Mono<Void> put(int id, byte[] body) {
    return Mono.<Void>fromCallable(() -> {
          overwrite(blobs.path(id), body);
          return null;
        })
        .subscribeOn(Schedulers.boundedElastic());
  }

  private void overwrite(Path target, byte[] body) throws IOException {
    // A temp name of its own per call: two PUTs of one blob may run at once.
    Path tmp = target.resolveSibling(target.getFileName() + "." + tempNumber.incrementAndGet() + ".tmp");
    try {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        ByteBuffer content = ByteBuffer.wrap(body);
        while (content.hasRemaining()) {
          ch.write(content);
        }
        ch.force(true);
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    try (FileChannel dir = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
      dir.force(true);
    }
  }
}
