package io.virtualfile.faults.powercut;

import io.virtualfile.VirtualFile;
import io.virtualfile.reactive.AsyncFileIo;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The ways the power-cut child overwrites its file: the library's two calls, and three broken
 * hand-written protocols that the power cuts must catch. The broken ones name their temp files as the
 * library does, so that the leftover-temp check and the start-up cleanup treat them alike.
 */
public enum Overwriters {
  /** {@link VirtualFile#crashSafeOverwrite(Path, ByteBuffer)}. */
  CORE {
    @Override
    Overwriter open() {
      return VirtualFile::crashSafeOverwrite;
    }
  },
  /** {@code AsyncFileIo.overwrite(path, content).block()} on an engine of its own. */
  REACTIVE {
    @Override
    Overwriter open() {
      AsyncFileIo io = AsyncFileIo.builder().ioThreads(2).build();
      return new Overwriter() {
        @Override
        public void overwrite(Path path, ByteBuffer content) {
          io.overwrite(path, content).block();
        }

        @Override
        public AsyncFileIo.Engine engine() {
          return io.engine();
        }
      };
    }
  },
  /** Broken: the temp file is never fsynced, so the rename can reach the disk before its data. */
  NO_FILE_FSYNC {
    @Override
    Overwriter open() {
      return (path, content) -> {
        Path tmp = tempFor(path);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
          writeAll(ch, content);
        }
        Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE);
        VirtualFile.fsyncDirectory(path.getParent());
      };
    }
  },
  /** Broken: the directory is never fsynced, so an acknowledged rename may not be durable. */
  NO_DIRECTORY_FSYNC {
    @Override
    Overwriter open() {
      return (path, content) -> {
        Path tmp = tempFor(path);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
          writeAll(ch, content);
          ch.force(true);
        }
        Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE);
      };
    }
  },
  /** Broken: renames first and fsyncs the (now final) file after, so the rename may land without data. */
  RENAME_BEFORE_FSYNC {
    @Override
    Overwriter open() {
      return (path, content) -> {
        Path tmp = tempFor(path);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
          writeAll(ch, content);
          Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE);
          ch.force(true);
        }
        VirtualFile.fsyncDirectory(path.getParent());
      };
    }
  };

  /** Overwrites a file; {@link #overwrite} returns once the call would be acknowledged to a client. */
  @FunctionalInterface
  interface Overwriter {
    void overwrite(Path path, ByteBuffer content) throws Exception;

    /** The reactive engine the overwrites run on; null for those that use none. */
    default AsyncFileIo.Engine engine() {
      return null;
    }
  }

  abstract Overwriter open();

  private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

  static Path tempFor(Path path) {
    return path.resolveSibling("." + path.getFileName() + "."
        + String.format("%016x", RANDOM.nextLong()) + ".vftmp");
  }

  private static void writeAll(FileChannel ch, ByteBuffer content) throws java.io.IOException {
    ByteBuffer b = content.duplicate();
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }
}
