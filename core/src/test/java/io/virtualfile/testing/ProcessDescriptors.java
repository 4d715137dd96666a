package io.virtualfile.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
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

  /**
   * The number of open descriptors of files under {@code dir}. Counting only these keeps a bound on
   * a cache's descriptors exact: the process also opens descriptors for reasons of its own, at any
   * moment (the JVM, a listing like this one, the IO pool's looks at {@code /proc}), and a count of
   * all of them would need an allowance that could hide one descriptor too many.
   */
  public static long countUnder(Path dir) {
    Path real;
    try {
      real = dir.toRealPath();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try (Stream<Path> fds = Files.list(FDS)) {
      return fds.filter(fd -> {
        try {
          return Files.readSymbolicLink(fd).startsWith(real);
        } catch (NoSuchFileException closedMeanwhile) {
          return false;
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }).count();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
