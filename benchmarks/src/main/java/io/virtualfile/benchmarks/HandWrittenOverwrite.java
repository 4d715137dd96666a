package io.virtualfile.benchmarks;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The baselines for overwrite benchmarks, written by hand the way users write them today.
 */
final class HandWrittenOverwrite {
  private HandWrittenOverwrite() {}

  /** The crash-safe sequence: temp, write, fsync, close, atomic rename, directory fsync. */
  static void crashSafe(Path target, Path tmp, ByteBuffer content) throws IOException {
    Files.deleteIfExists(tmp);
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      while (content.hasRemaining()) {
        ch.write(content);
      }
      ch.force(true);
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    try (FileChannel d = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  /** Kafka's style: temp, write, fsync, atomic rename, but no directory fsync (the rename may be lost). */
  static void withoutDirectoryFsync(Path target, Path tmp, ByteBuffer content) throws IOException {
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE)) {
      while (content.hasRemaining()) {
        ch.write(content);
      }
      ch.force(true);
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Truncate the file and write it in place, no fsync: not crash-safe, shown for what safety costs. */
  static void truncateThenWrite(Path target, ByteBuffer content) throws IOException {
    try (FileChannel ch = FileChannel.open(target, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      while (content.hasRemaining()) {
        ch.write(content);
      }
    }
  }
}
