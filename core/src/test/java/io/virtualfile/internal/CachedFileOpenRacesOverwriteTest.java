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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A deterministic reproduction of the bug that {@code
 * VirtualFileConcurrentModelTest.threadsAlsoOpeningFilesBeingOverwritten_eachSeesItsOwnModel} found: a
 * handle whose first open races with a {@code crashSafeOverwrite} of its path misses the overwrite.
 *
 * <p>{@link CachedFile#open} used to open the descriptor, read the file's identity by path, bind, and
 * register the handle in {@link OpenFileRegistry} last, so an overwrite whose rename and announcement
 * fell between the descriptor's open and the registration was never announced to the handle. It now
 * registers first and redoes a first open that a replacement overtook. Here the first opener itself
 * runs the overwrite right after opening the descriptor, which is one interleaving of a {@code
 * VirtualFile.open} on one thread and a {@code crashSafeOverwrite} on another; it failed every time
 * before the fix.
 */
class CachedFileOpenRacesOverwriteTest {
  @TempDir Path dir;

  @Test
  void overwriteBetweenDescriptorOpenAndRegistration_laterReadsSeeTheNewContent() throws Exception {
    Path p = dir.resolve("f");
    Files.write(p, new byte[] {1});
    ClockCache<FileChannel> cache = new ClockCache<>(1, Duration.ofSeconds(1));
    try {
      java.util.concurrent.atomic.AtomicInteger firstOpens = new java.util.concurrent.atomic.AtomicInteger();
      CachedFile<FileChannel> file = CachedFile.open(cache, p,
          () -> {
            firstOpens.incrementAndGet();
            FileChannel old = FileChannel.open(p, READ, WRITE);
            // another thread's overwrite, landing after the descriptor's open: it returns before open does
            VirtualFile.crashSafeOverwrite(p, ByteBuffer.wrap(new byte[] {2}));
            return old;
          },
          () -> FileChannel.open(p, READ, WRITE), false);
      assertThat(firstOpens.get()).as("the first open's options are used once, never redone").isEqualTo(1);
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
