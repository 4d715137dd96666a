package io.virtualfile.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
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
   *
   * <p>Not a snapshot: the descriptors are listed, then read one at a time. While other threads open
   * and close descriptors, a number read early may be reused before a later one is read, so a sample
   * can count two files that were never open at the same time (shown: one thread opening files one at
   * a time, another opening and closing /proc/self/stat in a loop, sampled at 2). A test that bounds
   * the count keeps other descriptors still while it samples.
   */
  public static long countUnder(Path dir) {
    return targetsUnder(dir).size();
  }

  /**
   * The descriptors of files under {@code dir} that no name leads to any more (removed, or replaced
   * by a rename): {@code /proc} shows them as {@code "<path> (deleted)"}.
   */
  public static long countDeletedUnder(Path dir) {
    return targetsUnder(dir).stream().filter(t -> t.endsWith(" (deleted)")).count();
  }

  /** The paths that this process's descriptors of files under {@code dir} point to, as /proc shows them. */
  private static List<String> targetsUnder(Path dir) {
    Path real;
    try {
      real = dir.toRealPath();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try (Stream<Path> fds = Files.list(FDS)) {
      return fds.map(fd -> {
        try {
          return Files.readSymbolicLink(fd);
        } catch (NoSuchFileException closedMeanwhile) {
          return null;
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }).filter(t -> t != null && t.startsWith(real)).map(Path::toString)
          .collect(Collectors.toList());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
