package io.virtualfile.benchmarks.device;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Eviction of the test file from the page cache before a buffered (non-DIRECT) reader, so that its
 * reads go to the device. {@code posix_fadvise(POSIX_FADV_DONTNEED)} is not reachable from Java 17,
 * so this drops the whole clean page cache ({@code echo 1 > /proc/sys/vm/drop_caches}), which needs
 * root. The test file is synced when created, so all its cached pages are clean.
 */
final class PageCache {
  private static final Path DROP_CACHES = Path.of("/proc/sys/vm/drop_caches");

  private PageCache() {}

  /** Whether this process may drop the page cache (root, in practice). */
  static boolean canEvict() {
    return Files.isWritable(DROP_CACHES);
  }

  static void evictAll() throws IOException {
    Files.writeString(DROP_CACHES, "1");
  }
}
