package io.virtualfile.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.virtualfile.CrashSafeOverwriteException;
import io.virtualfile.CrashSafeOverwriteException.Step;
import io.virtualfile.testing.ForwardingFileOps;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A failure injected at each step of the overwrite, on the real file system. */
class FaultInjectionTest {
  @TempDir Path dir;

  /** Real operations, except that the chosen step throws, and syncs are counted. */
  static final class FaultyOps extends ForwardingFileOps {
    final Step failAt;
    final AtomicInteger syncs = new AtomicInteger();

    FaultyOps(Step failAt) {
      super(JdkFileOps.INSTANCE);
      this.failAt = failAt;
    }

    void maybeFail(Step step) throws IOException {
      if (step == failAt) {
        throw new IOException("injected failure at " + step);
      }
    }

    final AtomicInteger deletes = new AtomicInteger();

    @Override
    public void deleteIfExists(Path path) throws IOException {
      if (deletes.getAndIncrement() == 0) { // the first delete is the stale-temp step; cleanup works
        maybeFail(Step.REMOVE_STALE_TEMP);
      }
      JdkFileOps.INSTANCE.deleteIfExists(path);
    }

    @Override
    public void atomicMove(Path source, Path target) throws IOException {
      maybeFail(Step.RENAME);
      JdkFileOps.INSTANCE.atomicMove(source, target);
    }

    @Override
    public Directory openDirectory(Path d) throws IOException {
      maybeFail(Step.OPEN_PARENT);
      Directory real = JdkFileOps.INSTANCE.openDirectory(d);
      return new Directory() {
        @Override
        public void sync() throws IOException {
          syncs.incrementAndGet();
          maybeFail(Step.SYNC_PARENT);
          real.sync();
        }

        @Override
        public void close() throws IOException {
          real.close();
        }
      };
    }

    TempFiles<FileOps.TempFile> temps() {
      return (path, perms) -> {
        maybeFail(Step.CREATE_TEMP);
        FileOps.TempFile real = JdkFileOps.CHANNEL_TEMP_FILES.createNew(path, perms);
        return new FileOps.TempFile() {
          @Override
          public void writeAll(ByteBuffer src) throws IOException {
            if (failAt == Step.WRITE) {
              ByteBuffer half = src.duplicate();
              half.limit(half.position() + half.remaining() / 2);
              real.writeAll(half); // a torn write: half the bytes made it
              throw new IOException("injected failure at WRITE");
            }
            real.writeAll(src);
          }

          @Override
          public void sync() throws IOException {
            syncs.incrementAndGet();
            maybeFail(Step.SYNC_TEMP);
            real.sync();
          }

          @Override
          public void close() throws IOException {
            real.close();
            maybeFail(Step.CLOSE_TEMP);
          }
        };
      };
    }
  }

  Set<String> entries() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
    }
  }

  @Test
  void aDerivedTempName_isNotLookedUpForAStaleTemp_aCallersTempPathIs() throws IOException {
    Path f = dir.resolve("meta");
    Files.writeString(f, "old");
    FaultyOps derived = new FaultyOps(null);
    OverwriteProtocol.prepare(derived, derived.temps(), f, null)
        .run(ByteBuffer.wrap("new".getBytes(UTF_8)));
    assertThat(derived.deletes).as("deletes with a derived name").hasValue(0);
    FaultyOps explicit = new FaultyOps(null);
    OverwriteProtocol.prepare(explicit, explicit.temps(), f, dir.resolve("meta.tmp"))
        .run(ByteBuffer.wrap("newer".getBytes(UTF_8)));
    assertThat(explicit.deletes).as("deletes with the caller's temp path").hasValue(1);
    assertThat(Files.readString(f)).isEqualTo("newer");
    assertThat(entries()).containsExactly("meta");
  }

  CrashSafeOverwriteException overwriteFailingAt(Step step) throws IOException {
    Path f = dir.resolve("meta");
    Files.writeString(f, "old");
    FaultyOps ops = new FaultyOps(step);
    OverwriteProtocol<FileOps.TempFile> p =
        OverwriteProtocol.prepare(ops, ops.temps(), f, dir.resolve("meta.tmp"));
    CrashSafeOverwriteException[] thrown = new CrashSafeOverwriteException[1];
    assertThatThrownBy(() -> p.run(ByteBuffer.wrap("new content".getBytes(UTF_8))))
        .isInstanceOfSatisfying(CrashSafeOverwriteException.class, e -> thrown[0] = e);
    CrashSafeOverwriteException e = thrown[0];
    assertThat(e.step()).isEqualTo(step);
    assertThat(e.getCause()).hasMessageContaining("injected failure at " + step);
    assertThat(e).hasMessageContaining(f.toString()).hasMessageContaining(step.name());
    int expectedSyncs = step.compareTo(Step.SYNC_TEMP) <= 0 ? (step == Step.SYNC_TEMP ? 1 : 0)
        : step.compareTo(Step.SYNC_PARENT) < 0 ? 1 : 2;
    assertThat(ops.syncs.get()).as("fsync is never retried").isEqualTo(expectedSyncs);
    return e;
  }

  @ParameterizedTest
  @EnumSource(value = Step.class, names = {"REMOVE_STALE_TEMP", "CREATE_TEMP", "WRITE", "SYNC_TEMP", "CLOSE_TEMP", "RENAME"})
  void failureBeforeOrAtRename_leavesOldContent_andRemovesTheTemp(Step step) throws IOException {
    CrashSafeOverwriteException e = overwriteFailingAt(step);
    assertThat(e.newContentVisible()).isFalse();
    assertThat(e).hasMessageContaining("final file was not changed");
    assertThat(Files.readString(dir.resolve("meta"))).isEqualTo("old");
    assertThat(entries()).containsExactly("meta");
  }

  @ParameterizedTest
  @EnumSource(value = Step.class, names = {"OPEN_PARENT", "SYNC_PARENT"})
  void failureAfterRename_saysTheNewContentIsVisible(Step step) throws IOException {
    CrashSafeOverwriteException e = overwriteFailingAt(step);
    assertThat(e.newContentVisible()).isTrue();
    assertThat(e).hasMessageContaining("visible but may not be durable");
    assertThat(Files.readString(dir.resolve("meta"))).isEqualTo("new content");
    assertThat(entries()).containsExactly("meta");
  }

  @ParameterizedTest
  @EnumSource(Step.class)
  void afterAFailure_aRetryWritesAFreshTempAndSucceeds(Step step) throws IOException {
    overwriteFailingAt(step);
    Path f = dir.resolve("meta");
    OverwriteProtocol.prepare(JdkFileOps.INSTANCE, JdkFileOps.CHANNEL_TEMP_FILES, f, dir.resolve("meta.tmp"))
        .run(ByteBuffer.wrap("retried".getBytes(UTF_8)));
    assertThat(Files.readString(f)).isEqualTo("retried");
    assertThat(entries()).containsExactly("meta");
  }

  @org.junit.jupiter.api.Test
  void createTempRace_doesNotRemoveSomeoneElsesTemp() throws IOException {
    Path f = dir.resolve("meta");
    Files.writeString(f, "old");
    Path tmp = dir.resolve("meta.tmp");
    OverwriteProtocol<JdkFileOps.ChannelTempFile> p =
        OverwriteProtocol.prepare(JdkFileOps.INSTANCE, JdkFileOps.CHANNEL_TEMP_FILES, f, tmp);
    p.removeStaleTemp();
    Files.writeString(tmp, "another process's temp"); // it won the race between remove and create
    assertThatThrownBy(p::createTemp)
        .isInstanceOfSatisfying(CrashSafeOverwriteException.class,
            e -> assertThat(e.step()).isEqualTo(Step.CREATE_TEMP));
    p.finish();
    assertThat(Files.readString(tmp)).isEqualTo("another process's temp");
    assertThat(Files.readString(f)).isEqualTo("old");
  }
}
