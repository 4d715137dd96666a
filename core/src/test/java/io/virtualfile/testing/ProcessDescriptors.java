package io.virtualfile.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The process's open file descriptors, from {@code /proc/self/fd} where there is one. */
public final class ProcessDescriptors {
  private static final Path FDS = Path.of("/proc/self/fd");

  private ProcessDescriptors() {}

  /** Whether this platform lets the tests count descriptors. */
  public static boolean countable() {
    return Files.isDirectory(FDS);
  }

  /** The number of open descriptors, including the one this listing itself uses. */
  public static long count() {
    try (Stream<Path> fds = Files.list(FDS)) {
      return fds.count();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
