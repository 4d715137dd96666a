package io.virtualfile.torture;

import io.virtualfile.VirtualFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.ServiceLoader;

/**
 * The process that gets killed: overwrites {@code <dir>/state} with versioned content in a loop and
 * prints each version after the overwrite returned. Usage: {@code TortureChild <dir> <writer>} where
 * writer is {@code derived}, {@code explicit}, or the name of a {@link Overwriter} service.
 */
public final class TortureChild {
  /** One way to overwrite a file crash-safely; the reactive module registers its own. */
  public interface Overwriter {
    String name();

    /** Start-up cleanup of what an earlier, killed process left; none by default. */
    default void startUp(Path dir) throws Exception {}

    void overwrite(Path finalPath, ByteBuffer content) throws Exception;
  }

  @FunctionalInterface
  private interface Write {
    void overwrite(Path finalPath, ByteBuffer content) throws Exception;
  }

  private static Overwriter builtIn(String name, boolean removeStaleTempsAtStartUp, Write write) {
    return new Overwriter() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public void startUp(Path dir) throws Exception {
        if (removeStaleTempsAtStartUp) {
          VirtualFile.removeStaleTempFiles(dir);
        }
      }

      @Override
      public void overwrite(Path finalPath, ByteBuffer content) throws Exception {
        write.overwrite(finalPath, content);
      }
    };
  }

  private static final List<Overwriter> BUILT_IN = List.of(
      builtIn("derived", true, VirtualFile::crashSafeOverwrite),
      // the explicit-temp overload removes its own stale temp on its next call
      builtIn("explicit", false, (f, content) ->
          VirtualFile.crashSafeOverwrite(f, f.resolveSibling("state.tmp"), content)),
      // not crash-safe: shows that the torture can fail
      builtIn("truncate-then-write", false, (f, content) -> {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
          while (content.hasRemaining()) {
            ch.write(content);
          }
        }
      }));

  static Overwriter pick(String name) {
    for (Overwriter o : BUILT_IN) {
      if (o.name().equals(name)) {
        return o;
      }
    }
    for (Overwriter o : ServiceLoader.load(Overwriter.class)) {
      if (o.name().equals(name)) {
        return o;
      }
    }
    throw new IllegalArgumentException("no overwriter named " + name);
  }

  /**
   * One overwrite in a scratch directory before "ready", so that class loading and engine start-up are
   * done and the parent's random kill delays fall among real overwrites.
   */
  static void warmUp(Overwriter writer) throws Exception {
    Path scratch = Files.createTempDirectory("torture-warmup");
    Path f = scratch.resolve("warmup");
    writer.overwrite(f, VersionedContent.encode(0));
    Files.delete(f);
    Files.delete(scratch);
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    Overwriter writer = pick(args[1]);
    Path state = dir.resolve("state");
    writer.startUp(dir);
    long version;
    try {
      version = VersionedContent.decode(Files.readAllBytes(state)) + 1;
    } catch (NoSuchFileException e) {
      version = 1;
    } catch (IllegalStateException e) {
      version = 1_000_000; // only the unsafe writer gets here; the parent has already failed the run
    }
    warmUp(writer);
    System.out.println("ready");
    System.out.flush();
    for (; ; version++) {
      writer.overwrite(state, VersionedContent.encode(version));
      System.out.println(version);
      System.out.flush();
    }
  }
}
