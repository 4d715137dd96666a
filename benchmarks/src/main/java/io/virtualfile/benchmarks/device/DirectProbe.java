package io.virtualfile.benchmarks.device;

import io.virtualfile.reactive.AsyncFileIo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import reactor.core.Exceptions;

/**
 * Finds out whether {@code ExtendedOpenOption.DIRECT} works through the library: opens the test file
 * with {@code READ, DIRECT} through {@link VirtualFileLoad}, reads one aligned block, and checks in
 * {@code /proc/self/fdinfo} that a descriptor of the file really has {@code O_DIRECT} (an engine could
 * accept the option and drop it).
 */
final class DirectProbe {
  /** {@code O_DIRECT}: 0200000 on arm64, 040000 on x86-64 and most others. */
  private static final int O_DIRECT = "aarch64".equals(System.getProperty("os.arch")) ? 0200000 : 040000;

  /** {@code works}: whether DIRECT reads worked; {@code detail}: the evidence, or the exact error. */
  record Outcome(boolean works, String detail) {}

  private DirectProbe() {}

  static Outcome run(TestFile file) throws IOException {
    try (VirtualFileLoad load = VirtualFileLoad.open(file, true, AsyncFileIo.Engine.THREADS)) {
      ByteBuffer buf = TestFile.alignedBlockBuffer();
      int n = load.handle().readAt(buf, 0).block();
      TestFile.checkFullBlock(n, 0);
      List<String> flags = descriptorFlags(file.path());
      boolean direct = flags.stream().anyMatch(f -> (Integer.parseInt(f, 8) & O_DIRECT) != 0);
      return direct
          ? new Outcome(true, "opened with READ, DIRECT and read one block; descriptor flags " + flags
              + " include O_DIRECT")
          : new Outcome(false, "opened and read, but no descriptor of the file has O_DIRECT (flags "
              + flags + ")");
    } catch (Throwable e) {
      return new Outcome(false, describe(Exceptions.unwrap(e)));
    }
  }

  /** The octal {@code flags} of every descriptor of this process open on {@code path}. */
  private static List<String> descriptorFlags(Path path) throws IOException {
    List<String> flags = new ArrayList<>();
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      for (Path fd : (Iterable<Path>) fds::iterator) {
        try {
          if (Files.readSymbolicLink(fd).equals(path.toRealPath())) {
            Files.readAllLines(Path.of("/proc/self/fdinfo").resolve(fd.getFileName())).stream()
                .filter(l -> l.startsWith("flags:"))
                .forEach(l -> flags.add(l.substring("flags:".length()).strip()));
          }
        } catch (IOException e) {
          // the descriptor closed meanwhile (the listing's own, say)
        }
      }
    }
    return flags;
  }

  /** The error and its causes, {@code toString()} each, as the exact error to report. */
  private static String describe(Throwable e) {
    StringBuilder s = new StringBuilder(e.toString());
    for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
      s.append(" caused by ").append(c);
    }
    return s.toString();
  }
}
