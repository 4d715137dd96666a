package io.virtualfile;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.internal.OpenFileRegistry;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression: handles that were never closed stayed registered forever (strong references in a static
 * map), held their descriptors, and made every later overwrite of the path tell them all.
 */
class VirtualFileLeakTest {
  @TempDir Path dir;

  /** Collects garbage until {@code condition} holds, or fails after 20 seconds of trying. */
  static void gcUntil(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("still not true after 20 s of garbage collection: " + what);
      }
      System.gc();
      Thread.sleep(10); // lets the cleaner thread run; the condition, not the sleep, is the proof
    }
  }

  static void openAndForget(Path path, OpenFileCache cache, int n, StandardOpenOption... extra)
      throws Exception {
    for (int i = 0; i < n; i++) {
      StandardOpenOption[] options = new StandardOpenOption[extra.length + 1];
      options[0] = READ;
      System.arraycopy(extra, 0, options, 1, extra.length);
      VirtualFile f = VirtualFile.open(path, cache, options);
      f.readAt(ByteBuffer.allocate(1), 0);
    }
  }

  @Test
  void unreachableUnclosedHandles_areClosed_andUnregistered() throws Exception {
    Path path = Files.writeString(dir.resolve("leaky"), "x");
    try (OpenFileCache cache = OpenFileCache.create(8)) {
      openAndForget(path, cache, 1_000);
      gcUntil("every leaked handle closed", () -> OpenFileRegistry.registered(path) == 0);
      assertThat(cache.stats().openHandles()).as("one descriptor, shared, kept for the next open")
          .isEqualTo(1);
    }
  }

  @Test
  void unreachableUnclosedHandle_withDeleteOnClose_deletesItsFile() throws Exception {
    Path path = Files.writeString(dir.resolve("scratch"), "x");
    try (OpenFileCache cache = OpenFileCache.create(8)) {
      openAndForget(path, cache, 1, StandardOpenOption.DELETE_ON_CLOSE);
      gcUntil("the scratch file deleted", () -> !Files.exists(path));
    }
  }

  @Test
  void closedHandle_isUnregisteredAtOnce() throws Exception {
    Path path = Files.writeString(dir.resolve("tidy"), "x");
    try (OpenFileCache cache = OpenFileCache.create(8)) {
      VirtualFile f = VirtualFile.open(path, cache, READ);
      assertThat(OpenFileRegistry.registered(path)).isEqualTo(1);
      f.close();
      assertThat(OpenFileRegistry.registered(path)).isZero();
    }
  }
}
