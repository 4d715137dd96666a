package io.virtualfile.faults.support;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Small file helpers shared by the fault tests. */
public final class Files2 {
  private Files2() {}

  /** {@code size} bytes that differ for each {@code seed}, so old and new content cannot be confused. */
  public static byte[] content(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  /**
   * Fills the file system of {@code dir} with a file of zeros until a write fails with "no space left";
   * the filler is synced, so the space is really gone. Returns the filler, to delete when space is needed.
   */
  public static Path fill(Path dir) throws IOException {
    Path filler = dir.resolve("filler");
    try (FileChannel ch = FileChannel.open(filler, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      for (int chunk : new int[] {1 << 20, 4096}) {
        ByteBuffer zeros = ByteBuffer.allocateDirect(chunk);
        try {
          while (true) {
            zeros.clear();
            while (zeros.hasRemaining()) {
              ch.write(zeros);
            }
          }
        } catch (IOException e) {
          if (!String.valueOf(e.getMessage()).contains("No space left")) {
            throw e;
          }
        }
      }
      ch.force(true);
    }
    return filler;
  }

  /** The names in {@code dir} that look like this library's temp files (or any name but {@code keep}). */
  public static List<String> others(Path dir, String... keep) throws IOException {
    List<String> kept = List.of(keep);
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> !kept.contains(n)).sorted()
          .collect(Collectors.toList());
    }
  }
}
