package io.virtualfile.reactive;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.virtualfile.CrashSafeOverwriteException;
import io.virtualfile.CrashSafeOverwriteException.Step;
import io.virtualfile.internal.JdkFileOps;
import io.virtualfile.testing.ProcessDescriptors;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The reactive overwrite holds the file its rename replaces open from before the rename until it has
 * finished, on every engine, and leaves no descriptor behind whichever way it ends.
 */
class ReplacedFileHeldTest {
  @TempDir Path dir;

  @BeforeEach
  void linuxOnly() {
    assumeTrue(System.getProperty("os.name", "").startsWith("Linux") && ProcessDescriptors.countable(),
        "holding the replaced file, and seeing it in /proc/self/fd, are Linux's");
  }

  private static ByteBuffer utf8(String s) {
    return ByteBuffer.wrap(s.getBytes(UTF_8));
  }

  /** Waits until no descriptor of a file under the test's directory is open; false after 10 s. */
  private boolean noDescriptorLeft() throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (ProcessDescriptors.countUnder(dir) != 0) {
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      Thread.sleep(5);
    }
    return true;
  }

  @Test
  void theReplacedFileIsHeldUntilTheDirectoryFsyncHasEnded() throws Exception {
    Path file = Files.writeString(dir.resolve("f"), "old");
    AtomicLong heldAtSync = new AtomicLong(-1);
    try (AsyncFileIo io = AsyncFileIo.builder().syncGate(d -> Mono.fromRunnable(
        () -> heldAtSync.set(ProcessDescriptors.countDeletedUnder(dir)))).build()) {
      io.overwrite(file, utf8("new")).block(Duration.ofSeconds(10));

      assertThat(heldAtSync).as("descriptors of the replaced file at the directory fsync").hasValue(1);
      assertThat(ProcessDescriptors.countUnder(dir)).as("descriptors left").isZero();
      assertThat(Files.readString(file)).isEqualTo("new");
    }
  }

  @Test
  void aFailedRenameReleasesTheHeldFile() throws Exception {
    Path file = Files.writeString(dir.resolve("f"), "old");
    ObservedFileOps ops = new ObservedFileOps(JdkFileOps.INSTANCE);
    ops.failAt = Step.RENAME;
    try (AsyncFileIo io = AsyncFileIo.builder().fileOps(ops).build()) {
      Throwable t = io.overwrite(file, utf8("new")).then(Mono.<Throwable>empty())
          .onErrorResume(Mono::just).block(Duration.ofSeconds(10));

      assertThat(t).isInstanceOfSatisfying(CrashSafeOverwriteException.class,
          e -> assertThat(e.step()).isEqualTo(Step.RENAME));
      assertThat(noDescriptorLeft()).as("no descriptor left after the failure").isTrue();
      assertThat(Files.readString(file)).isEqualTo("old");
    }
  }

  @Test
  void anOverwriteCancelledDuringItsDirectoryFsyncReleasesTheHeldFileWhenTheFsyncEnds()
      throws Exception {
    Path file = Files.writeString(dir.resolve("f"), "old");
    Sinks.Empty<Void> gate = Sinks.empty();
    AtomicLong heldAtSync = new AtomicLong(-1);
    try (AsyncFileIo io = AsyncFileIo.builder().syncGate(d -> Mono.defer(() -> {
      heldAtSync.set(ProcessDescriptors.countDeletedUnder(dir));
      return gate.asMono();
    })).build()) {
      Disposable run = io.overwrite(file, utf8("new")).subscribe();
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (heldAtSync.get() < 0 && System.nanoTime() - deadline < 0) {
        Thread.sleep(1);
      }
      run.dispose(); // the rename is done: the fsync goes on in the background
      assertThat(heldAtSync).as("held at the directory fsync").hasValue(1);
      assertThat(ProcessDescriptors.countDeletedUnder(dir)).as("still held while the fsync waits")
          .isEqualTo(1);

      gate.tryEmitEmpty();

      assertThat(noDescriptorLeft()).as("no descriptor left once the fsync ended").isTrue();
      assertThat(Files.readString(file)).isEqualTo("new");
    }
  }

  @Test
  void overwritesWaitingForTheirDirectoryFsyncHoldNoMoreThanTheBoundOfReplacedFiles()
      throws Exception {
    int overwrites = JdkFileOps.MAX_HELD_REPLACED + 36;
    List<Path> paths = new ArrayList<>();
    for (int i = 0; i < overwrites; i++) {
      paths.add(Files.writeString(dir.resolve("f" + i), "old"));
    }
    Sinks.Empty<Void> firstSync = Sinks.empty();
    AtomicLong syncs = new AtomicLong();
    try (AsyncFileIo io = AsyncFileIo.builder()
        .syncGate(d -> syncs.getAndIncrement() == 0 ? firstSync.asMono() : Mono.empty()).build()) {
      List<Disposable> runs = new ArrayList<>();
      List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
      java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(overwrites);
      for (Path p : paths) {
        runs.add(io.overwrite(p, utf8("new")).doFinally(signal -> done.countDown())
            .subscribe(null, failures::add));
      }
      // Every rename but the first batch's waits behind the paused fsync, each still holding its file.
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (countRenamed(paths) < overwrites && System.nanoTime() - deadline < 0) {
        Thread.sleep(5);
      }
      assertThat(countRenamed(paths)).as("renamed while the first fsync is paused").isEqualTo(overwrites);
      assertThat(ProcessDescriptors.countDeletedUnder(dir)).as("replaced files held at once")
          .isLessThanOrEqualTo(JdkFileOps.MAX_HELD_REPLACED);

      firstSync.tryEmitEmpty();

      assertThat(done.await(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      assertThat(failures).isEmpty();
      assertThat(noDescriptorLeft()).as("no descriptor left").isTrue();
    }
  }

  private static long countRenamed(List<Path> paths) throws java.io.IOException {
    long n = 0;
    for (Path p : paths) {
      if (Files.readString(p).equals("new")) {
        n++;
      }
    }
    return n;
  }

  @Test
  void concurrentOverwritesOfFewFilesLeaveNoDescriptorAndTheLastRenameWins() throws Exception {
    int files = 3;
    int rounds = 60;
    List<Path> paths = new ArrayList<>();
    for (int f = 0; f < files; f++) {
      paths.add(Files.writeString(dir.resolve("f" + f), "initial"));
    }
    try (AsyncFileIo io = AsyncFileIo.builder().build()) {
      List<String> lastCompleted = new ArrayList<>(List.of("initial", "initial", "initial"));
      Flux.range(0, files * rounds)
          .flatMap(i -> io.overwrite(paths.get(i % files), utf8("v" + i))
              .then(Mono.fromRunnable(() -> {
                synchronized (lastCompleted) {
                  lastCompleted.set(i % files, "v" + i);
                }
              })), 32)
          .blockLast(Duration.ofSeconds(60));

      assertThat(ProcessDescriptors.countUnder(dir)).as("descriptors left").isZero();
      for (int f = 0; f < files; f++) {
        // overwrites of one path complete in the order their renames took effect
        assertThat(Files.readString(paths.get(f))).isEqualTo(lastCompleted.get(f));
      }
    }
  }
}
