package io.virtualfile.internal;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.VirtualFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A deterministic reproduction of the bug that {@code
 * VirtualFileConcurrentModelTest.threadsAlsoOpeningFilesBeingOverwritten_eachSeesItsOwnModel} found: a
 * handle whose first open races with a {@code crashSafeOverwrite} of its path misses the overwrite.
 *
 * <p>{@link CachedFile#open} opens the descriptor, then reads the file's identity by path, binds, and
 * registers the handle in {@link OpenFileRegistry} last. An overwrite whose rename and announcement fall
 * between the descriptor's open and the registration is never announced to the handle. Here the first
 * opener itself runs the overwrite right after opening the descriptor, which is one interleaving of a
 * {@code VirtualFile.open} on one thread and a {@code crashSafeOverwrite} on another.
 */
class CachedFileOpenRacesOverwriteTest {
  @TempDir Path dir;

  @Disabled("genuine library bug, not fixed yet: an open racing a crashSafeOverwrite of its path keeps the "
      + "replaced file's descriptor (by another interleaving, it fails later with FileReplacedException)")
  @Test
  void overwriteBetweenDescriptorOpenAndRegistration_laterReadsSeeTheNewContent() throws Exception {
    Path p = dir.resolve("f");
    Files.write(p, new byte[] {1});
    ClockCache<FileChannel> cache = new ClockCache<>(1, Duration.ofSeconds(1));
    try {
      CachedFile<FileChannel> file = CachedFile.open(cache, p,
          () -> {
            FileChannel old = FileChannel.open(p, READ, WRITE);
            // another thread's overwrite, landing after the descriptor's open: it returns before open does
            VirtualFile.crashSafeOverwrite(p, ByteBuffer.wrap(new byte[] {2}));
            return old;
          },
          () -> FileChannel.open(p, READ, WRITE));
      Slot<FileChannel> slot = file.pin(); // an operation that starts after the overwrite returned
      ByteBuffer b = ByteBuffer.allocate(1);
      try {
        slot.channel().read(b, 0);
      } finally {
        slot.unpin();
      }
      assertThat(b.get(0)).as("the byte read after the overwrite returned (1 = the replaced file's)")
          .isEqualTo((byte) 2);
      file.close();
    } finally {
      cache.close();
    }
  }
}
