package io.virtualfile;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/** Helpers shared by the model-based property tests ({@link VirtualFileModelTest} and friends). */
final class ModelSupport {
  private static final Path FDS = Path.of("/proc/self/fd");

  private ModelSupport() {}

  /** {@code content} with the first {@code n} bytes of {@code data} written at {@code pos}; holes are 0. */
  static byte[] written(byte[] content, long pos, byte[] data, int n) {
    if (n == 0) {
      return content; // a write of nothing does not extend the file, not even past its end
    }
    int end = Math.toIntExact(pos + n);
    byte[] out = Arrays.copyOf(content, Math.max(content.length, end));
    System.arraycopy(data, 0, out, (int) pos, n);
    return out;
  }

  /** {@code content} after {@code truncate(size)}: cut when smaller, unchanged when not. */
  static byte[] truncated(byte[] content, long size) {
    return size < content.length ? Arrays.copyOf(content, (int) size) : content;
  }

  /** Bytes as a short list, for action descriptions and failure messages. */
  static String show(byte[] b) {
    if (b == null) {
      return "<absent>";
    }
    StringBuilder s = new StringBuilder("[");
    for (int i = 0; i < b.length; i++) {
      if (i > 0) {
        s.append(',');
      }
      s.append(b[i]);
    }
    return s.append(']').toString();
  }

  /** Whether this platform lets the tests see where descriptors point. */
  static boolean descriptorsVisible() {
    return Files.isDirectory(FDS);
  }

  /** How many descriptors this process has open, or -1 where {@code /proc/self/fd} does not exist. */
  static long descriptorsOpen() {
    String[] fds = FDS.toFile().list();
    return fds == null ? -1 : fds.length;
  }

  /**
   * Once every handle is closed: the cache may keep descriptors for the next opens of their files (at
   * most its capacity), but every descriptor open under {@code dir} is one of those, and closing the
   * cache closes them all.
   */
  static void checkClosedHandlesLeaveOnlyCachedDescriptors(OpenFileCache cache, Path dir) {
    int cached = cache.stats().openHandles();
    assertThat(cached).as("descriptors cached once every handle is closed")
        .isBetween(0, cache.capacity());
    long open = descriptorsUnder(dir);
    if (open >= 0) {
      assertThat(open).as("descriptors open under the test dir once every handle is closed")
          .isEqualTo(cached);
    }
    cache.close();
    assertThat(cache.stats().openHandles()).as("descriptors cached after the cache closed").isZero();
    assertThat(descriptorsUnder(dir)).as("descriptors open under the test dir after the cache closed")
        .isIn(-1L, 0L);
  }

  /**
   * How many of this process's descriptors are open on files under {@code dir} (deleted ones included),
   * or -1 where {@code /proc/self/fd} does not exist.
   */
  static long descriptorsUnder(Path dir) {
    if (!descriptorsVisible()) {
      return -1;
    }
    String prefix = dir.toString() + "/";
    try (Stream<Path> fds = Files.list(FDS)) {
      return fds.filter(fd -> {
            try {
              return Files.readSymbolicLink(fd).toString().startsWith(prefix);
            } catch (NoSuchFileException e) {
              return false; // closed while we looked (the listing's own descriptor, for one)
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          })
          .count();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A RAM file system where there is one (Linux): its fsyncs cost nothing. */
  private static final Path RAM = Path.of("/dev/shm");

  /**
   * A fresh temp directory, by its real path (so descriptor targets compare equal). It is on {@code
   * /dev/shm} where that is a writable directory: the models check content, identity and descriptors,
   * not durability, and on a disk the fsyncs of {@code sync} and {@code crashSafeOverwrite} make each try
   * (and so each shrinking step) several times slower. Elsewhere it is in the default temp directory.
   */
  static Path newTempDir(String prefix) {
    try {
      if (Files.isDirectory(RAM) && Files.isWritable(RAM)) {
        return Files.createTempDirectory(RAM, prefix).toRealPath();
      }
      return Files.createTempDirectory(prefix).toRealPath();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A try's body. */
  @FunctionalInterface
  interface Body {
    void run() throws Exception;
  }

  /**
   * Runs {@code body} on a daemon thread and waits for it at most {@code limit}, so that a hang or a
   * livelock of the library (say, a close spinning on a slot whose pin count broke) fails the property
   * instead of blocking the build. Not a timing assumption: the limit is hundreds of times what a try
   * takes. A body still running then is abandoned; the failure carries its stack, and the failure that
   * the body had already met (if any: the hang may be in its cleanup) as the cause.
   *
   * @param primary where the body records its first failure before its cleanup runs
   */
  static void bounded(Duration limit, String what, AtomicReference<Throwable> primary, Body body)
      throws Exception {
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread t = new Thread(() -> {
      try {
        body.run();
      } catch (Throwable e) {
        failure.set(e);
      }
    }, "vf-model-" + what);
    t.setDaemon(true);
    t.start();
    t.join(limit.toMillis());
    if (t.isAlive()) {
      AssertionError hang = new AssertionError(what + " still running after " + limit.toSeconds()
          + " s: a hang or a livelock (this error's stack trace is that thread's, taken then)"
          + (primary.get() != null ? "; it had already failed, see the cause" : ""), primary.get());
      hang.setStackTrace(t.getStackTrace());
      throw hang;
    }
    Throwable f = failure.get();
    if (f instanceof Exception e) {
      throw e;
    }
    if (f instanceof Error e) {
      throw e;
    }
    if (f != null) {
      throw new AssertionError(f);
    }
  }

  /**
   * Runs tasks one at a time on a daemon thread of its own and waits for each at most a limit: the
   * single-threaded model test runs every library call here, so that a hang of the library fails the
   * property instead of blocking the build, while jqwik (which must generate on its own thread) drives
   * the chain. Once a task hangs, the thread is abandoned and every later call fails at once.
   */
  static final class LibraryThread implements AutoCloseable {
    private final ExecutorService executor;
    private volatile Thread thread;
    private volatile boolean hung;

    LibraryThread(String name) {
      executor = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        thread = t;
        return t;
      });
    }

    <T> T call(Duration limit, Callable<T> task) throws Exception {
      if (hung) {
        throw new AssertionError("the library thread hung earlier in this try");
      }
      Future<T> f = executor.submit(task);
      try {
        return f.get(limit.toMillis(), TimeUnit.MILLISECONDS);
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof Exception ex) {
          throw ex;
        }
        if (cause instanceof Error er) {
          throw er;
        }
        throw e;
      } catch (TimeoutException e) {
        hung = true;
        AssertionError hang = new AssertionError("a library call still running after "
            + limit.toSeconds() + " s: a hang or a livelock (this error's stack trace is the library thread's, taken then)");
        hang.setStackTrace(thread.getStackTrace());
        throw hang;
      }
    }

    boolean hung() {
      return hung;
    }

    @Override
    public void close() {
      executor.shutdownNow();
    }
  }

  /** Deletes {@code dir} and everything under it; a missing dir is fine. */
  static void deleteRecursively(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try {
      Files.walkFileTree(dir, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          Files.deleteIfExists(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
          Files.deleteIfExists(d);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
