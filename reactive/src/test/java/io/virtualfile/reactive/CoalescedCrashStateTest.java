package io.virtualfile.reactive;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.testing.CrashSimulatedFileSystem;
import io.virtualfile.testing.ForwardingFileOps;
import io.virtualfile.internal.FileOps;
import io.virtualfile.internal.OverwriteProtocol;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The core crash-state enumerator run over the reactive pipeline with group commit: several overwrites
 * in one directory, interleaved, sharing directory fsyncs. The interleaving is forced: every rename but
 * the first waits until the first directory fsync has started, and that fsync returns only once every
 * overwrite has renamed, so renames happen while it runs. A correct group commit makes them wait for the
 * next fsync; a deliberately broken one that lets them join the running fsync must be caught.
 */
class CoalescedCrashStateTest {
  static final Path DIR = Path.of("/sim/dir");
  static final List<String> FILES = List.of("a", "b", "c", "d");

  static byte[] oldContent(String name) {
    return ("old " + name).getBytes(UTF_8);
  }

  static byte[] newContent(String name) {
    return ("NEW content of " + name + ", longer than the old").getBytes(UTF_8);
  }

  /** The simulation's directory fsync, slowed until every overwrite has renamed (at most 2 s). */
  static FileOps slowDirectorySync(CrashSimulatedFileSystem fs) {
    return new ForwardingFileOps(fs) {
      @Override
      public void atomicMove(Path source, Path target) throws IOException {
        if (!target.getFileName().toString().equals(FILES.get(0))) {
          // The other renames wait until the first directory fsync has started: they happen while it runs.
          awaitOrTimeout(() -> fs.count(CrashSimulatedFileSystem.SyncDir.class) > 0);
        }
        fs.atomicMove(source, target);
      }

      @Override
      public Directory openDirectory(Path dir) throws IOException {
        Directory d = fs.openDirectory(dir);
        return new Directory() {
          @Override
          public void sync() throws IOException {
            d.sync();
            awaitOrTimeout(() -> fs.count(CrashSimulatedFileSystem.Rename.class) == FILES.size());
          }

          @Override
          public void close() throws IOException {
            d.close();
          }
        };
      }
    };
  }

  static void awaitOrTimeout(java.util.function.BooleanSupplier condition) {
    long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
    while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
  }

  static FileOps.TempFiles<AsyncTempFile> simTemps(CrashSimulatedFileSystem fs) {
    return (path, perms) -> {
      CrashSimulatedFileSystem.SimTempFile t = fs.createNew(path, perms);
      return new AsyncTempFile() {
        @Override
        public Mono<Void> write(ByteBuffer src, long position) {
          return Mono.fromRunnable(() -> t.writeAll(src));
        }

        @Override
        public void writeAll(ByteBuffer src) {
          t.writeAll(src);
        }

        @Override
        public void sync() {
          t.sync();
        }

        @Override
        public void close() {
          t.close();
        }
      };
    };
  }

  /** Runs the overwrites concurrently, then enumerates every crash state; returns the violations. */
  static List<String> enumerate(BiFunction<FileOps, Scheduler, DirectorySyncer> syncer) {
    Map<String, byte[]> initial = new LinkedHashMap<>();
    FILES.forEach(n -> initial.put(n, oldContent(n)));
    CrashSimulatedFileSystem fs = new CrashSimulatedFileSystem(DIR, initial);
    Scheduler blocking = Schedulers.newBoundedElastic(FILES.size() + 2, 1000, "sim-blocking");
    Map<String, Integer> completedAt = new ConcurrentHashMap<>();
    try {
      FileOps ops = slowDirectorySync(fs);
      OverwritePipeline pipeline = new OverwritePipeline(
          ops, simTemps(fs), blocking, syncer.apply(ops, blocking), OverwritePipeline.StepGate.OPEN,
          io.virtualfile.internal.Events.UNOBSERVED);
      Flux.fromIterable(FILES)
          .flatMap(n -> pipeline.overwrite(DIR.resolve(n), null, Mono.fromSupplier(() -> ByteBuffer.wrap(newContent(n))))
              .doOnSuccess(v -> completedAt.put(n, fs.log().size())))
          .blockLast(Duration.ofSeconds(30));
    } finally {
      blocking.dispose();
    }
    assertThat(completedAt).hasSize(FILES.size());
    long syncs = fs.count(CrashSimulatedFileSystem.SyncDir.class);
    assertThat(syncs).as("directory fsyncs were shared").isLessThan(FILES.size());
    int n = fs.log().size();
    List<String> violations = new ArrayList<>();
    for (int k = 0; k <= n; k++) {
      int crashPoint = k;
      fs.crashStates(k, state -> {
        for (String name : FILES) {
          byte[] got = state.read(DIR.resolve(name));
          boolean returned = crashPoint >= completedAt.get(name);
          boolean isNew = Arrays.equals(got, newContent(name));
          boolean isOld = Arrays.equals(got, oldContent(name));
          if (returned ? !isNew : !(isNew || isOld)) {
            violations.add("crash after op " + crashPoint + ": " + name + " reads "
                + (got == null ? "nothing" : "'" + new String(got, UTF_8) + "'")
                + (returned ? " after its overwrite returned" : ""));
          }
        }
      });
    }
    return violations;
  }

  @Test
  void groupCommit_everyCrashStateIsOldOrNew_andNewOnceEachOverwriteReturned() {
    assertThat(enumerate((ops, b) -> new GroupCommitDirectorySyncer(ops, b, dir -> Mono.empty())))
        .isEmpty();
  }

  @Test
  void brokenGroupCommit_joiningARunningFsync_isCaught() {
    assertThat(enumerate(JoinRunningSyncer::new))
        .anyMatch(v -> v.contains("after its overwrite returned"));
  }

  /** Deliberately broken: a rename that arrives while a directory fsync runs joins that fsync. */
  static final class JoinRunningSyncer implements DirectorySyncer {
    final FileOps ops;
    final Scheduler blocking;
    List<MonoSink<Void>> running; // guarded by this

    JoinRunningSyncer(FileOps ops, Scheduler blocking) {
      this.ops = ops;
      this.blocking = blocking;
    }

    @Override
    public Mono<Void> renameThenSync(Path dir, Rename rename) {
      return Mono.create(sink -> {
        try {
          rename.run();
        } catch (Exception e) {
          sink.error(e);
          return;
        }
        boolean start;
        synchronized (this) {
          start = running == null;
          if (start) {
            running = new ArrayList<>();
          }
          running.add(sink);
        }
        if (start) {
          blocking.schedule(() -> {
            Throwable failure = null;
            try {
              OverwriteProtocol.syncDirectory(ops, dir);
            } catch (Throwable t) {
              failure = t;
            }
            // The slowed fsync returns once every overwrite has renamed, but a rename's thread may not
            // have joined this batch yet (it could be preempted between the two); wait for the joins,
            // or the late ones would start an fsync of their own and the defect would not show.
            awaitOrTimeout(() -> {
              synchronized (this) {
                return running.size() == FILES.size();
              }
            });
            List<MonoSink<Void>> batch;
            synchronized (this) {
              batch = running;
              running = null;
            }
            for (MonoSink<Void> s : batch) {
              if (failure == null) {
                s.success();
              } else {
                s.error(failure);
              }
            }
          });
        }
      });
    }
  }
}
