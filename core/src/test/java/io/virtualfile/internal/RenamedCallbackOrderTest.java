package io.virtualfile.internal;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link OpenFileRegistry#rename(Path, Object, OpenFileRegistry.IoStep, Runnable)}: what the {@code
 * renamed} callback does is in the order of the path's renames (the reactive group commit registers its
 * directory fsync requests there, and the overwrites of one path must complete in rename order). While
 * one rename's callback runs, a second rename of the same path must not take effect.
 */
class RenamedCallbackOrderTest {
  @TempDir Path dir;

  @Test
  void aLaterRenameOfThePath_waitsForTheCallback() throws Exception {
    Path path = Files.write(dir.resolve("p"), "old".getBytes(US_ASCII));
    Path first = Files.write(dir.resolve("p.1"), "1".getBytes(US_ASCII));
    Path second = Files.write(dir.resolve("p.2"), "2".getBytes(US_ASCII));
    CountDownLatch inCallback = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean secondMoved = new AtomicBoolean();
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      Future<?> a = threads.submit(() -> {
        OpenFileRegistry.rename(path, JdkFileOps.INSTANCE.fileKey(first), () -> move(first, path), () -> {
          inCallback.countDown();
          await(release);
        });
        return null;
      });
      assertThat(inCallback.await(10, TimeUnit.SECONDS)).isTrue();
      Future<?> b = threads.submit(() -> {
        OpenFileRegistry.rename(path, JdkFileOps.INSTANCE.fileKey(second), () -> {
          move(second, path);
          secondMoved.set(true);
        });
        return null;
      });
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!OpenFileRegistry.lockWaitedFor(path) && !secondMoved.get()) { // queued, or it ran
        assertThat(System.nanoTime()).as("second rename neither queued nor done").isLessThan(deadline);
        Thread.onSpinWait();
      }
      assertThat(secondMoved).as("second rename of p took effect during the first's callback").isFalse();
      release.countDown();
      a.get(10, TimeUnit.SECONDS);
      b.get(10, TimeUnit.SECONDS);
      assertThat(Files.readString(path)).isEqualTo("2");
    } finally {
      release.countDown();
      threads.shutdownNow();
    }
  }

  private static void move(Path source, Path target) throws java.io.IOException {
    Files.move(source, target, StandardCopyOption.ATOMIC_MOVE);
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(10, TimeUnit.SECONDS)) {
        throw new AssertionError("not released");
      }
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }
}
