package io.virtualfile.benchmarks.device;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The file read by every reader: {@code size} bytes of random data, created once and reused while
 * its size is right. Written to a temp name, synced, then renamed, so a half-written file is never
 * reused. Reads are of {@link #BLOCK} bytes at block-aligned offsets.
 */
final class TestFile {
  static final int BLOCK = 4096;

  private final Path path;
  private final long blocks;

  private TestFile(Path path, long size) {
    this.path = path;
    this.blocks = size / BLOCK;
  }

  static TestFile createOrReuse(Path path, long size) throws IOException {
    if (Files.isRegularFile(path) && Files.size(path) == size) {
      System.out.printf("Reusing %s (%d MiB)%n", path, size >> 20);
      return new TestFile(path, size);
    }
    System.out.printf("Creating %s (%d MiB of random bytes)...%n", path, size >> 20);
    Files.createDirectories(path.getParent());
    Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
    SplittableRandom random = new SplittableRandom();
    byte[] chunk = new byte[1 << 20];
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      for (long written = 0; written < size; written += chunk.length) {
        random.nextBytes(chunk);
        ByteBuffer b = ByteBuffer.wrap(chunk, 0, (int) Math.min(chunk.length, size - written));
        while (b.hasRemaining()) {
          ch.write(b);
        }
      }
      ch.force(true); // on the device before any O_DIRECT read
    }
    Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE);
    return new TestFile(path, size);
  }

  Path path() {
    return path;
  }

  /** A uniformly random block-aligned offset. */
  long randomOffset() {
    return ThreadLocalRandom.current().nextLong(blocks) * BLOCK;
  }

  /** A direct buffer of one block, its address aligned to the block size (as O_DIRECT needs). */
  static ByteBuffer alignedBlockBuffer() {
    // alignedSlice may keep 8192 bytes when the allocation happens to be aligned: cut to one block.
    return ByteBuffer.allocateDirect(2 * BLOCK).alignedSlice(BLOCK).slice(0, BLOCK);
  }

  /** Fails unless a read of one block returned the whole block. */
  static void checkFullBlock(int n, long offset) throws IOException {
    if (n != BLOCK) {
      throw new IOException("read of " + BLOCK + " bytes at " + offset + " returned " + n);
    }
  }
}
