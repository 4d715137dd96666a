package io.virtualfile.benchmarks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/** A benchmark's scratch directory under {@code java.io.tmpdir}, with files of random bytes; removed on close. */
final class ScratchDirectory implements AutoCloseable {
  final Path dir;

  ScratchDirectory(String name) {
    try {
      dir = Files.createTempDirectory("virtualfile-bench-" + name);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A file of {@code size} random bytes, read once so that it sits in the page cache. */
  Path file(String name, long size) throws IOException {
    Path p = dir.resolve(name);
    SplittableRandom r = new SplittableRandom(size);
    ByteBuffer chunk = ByteBuffer.allocate(1 << 20);
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.READ)) {
      for (long written = 0; written < size; ) {
        chunk.clear();
        while (chunk.hasRemaining()) {
          chunk.put((byte) r.nextInt());
        }
        chunk.flip().limit((int) Math.min(chunk.limit(), size - written));
        while (chunk.hasRemaining()) {
          written += ch.write(chunk, written);
        }
      }
      chunk.clear();
      for (long pos = 0; pos < size; pos += chunk.capacity()) {
        chunk.clear();
        ch.read(chunk, pos);
      }
    }
    return p;
  }

  @Override
  public void close() {
    try (Stream<Path> all = Files.walk(dir)) {
      all.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
