package io.virtualfile.internal;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.testing.CrashSimulatedFileSystem;
import io.virtualfile.testing.ForwardingFileOps;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Runs the overwrite on {@link CrashSimulatedFileSystem}, crashes it after every operation in every
 * state the crash model allows, and checks the final path. Then runs deliberately broken protocols
 * through the same check to show that it catches them.
 */
class CrashStateEnumerationTest {
  static final Path DIR = Path.of("/sim/dir");
  static final Path FINAL = DIR.resolve("meta");
  static final byte[] OLD = "old content, several bytes".getBytes(UTF_8);
  static final byte[] NEW = "NEW CONTENT, a little longer than the old".getBytes(UTF_8);

  /** An overwrite to check, run on the simulation. */
  interface Protocol {
    void run(CrashSimulatedFileSystem fs, byte[] content) throws IOException;
  }

  /** What the enumeration found. */
  record Verdict(long statesChecked, List<String> violations) {}

  static Verdict enumerate(Protocol protocol, byte[] old) throws IOException {
    Map<String, byte[]> files = new HashMap<>();
    if (old != null) {
      files.put("meta", old);
    }
    CrashSimulatedFileSystem fs = new CrashSimulatedFileSystem(DIR, files);
    protocol.run(fs, NEW);
    int n = fs.log().size();
    List<String> violations = new ArrayList<>();
    long states = 0;
    for (int k = 0; k <= n; k++) {
      boolean returned = k == n;
      int crashPoint = k;
      states += fs.crashStates(k, state -> {
        byte[] got = state.read(FINAL);
        boolean isNew = got != null && Arrays.equals(got, NEW);
        boolean isOld = old == null ? got == null : got != null && Arrays.equals(got, old);
        if (returned ? !isNew : !(isNew || isOld)) {
          violations.add("crash after op " + crashPoint + "/" + n + (returned ? " (call returned)" : "")
              + ": final " + (got == null ? "missing" : "'" + new String(got, UTF_8) + "' ("
              + got.length + " bytes)"));
        }
      });
    }
    return new Verdict(states, violations);
  }

  static final Protocol THE_PROTOCOL = (fs, content) ->
      OverwriteProtocol.prepare(fs, fs, FINAL, DIR.resolve("meta.tmp")).run(ByteBuffer.wrap(content));

  static final Protocol DERIVED_TEMP = (fs, content) ->
      OverwriteProtocol.prepare(fs, fs, FINAL, null).run(ByteBuffer.wrap(content));

  @Test
  void theProtocol_withOldFile_everyCrashStateIsOldOrNew_andNewOnceReturned() throws IOException {
    Verdict v = enumerate(THE_PROTOCOL, OLD);
    assertThat(v.violations()).isEmpty();
    // create, write, fsync, rename, dir fsync: 1 + 2 + 2*3 + 2 + 3 + 1 states over the six crash points
    assertThat(v.statesChecked()).isEqualTo(15);
  }

  @Test
  void theProtocol_withoutOldFile_everyCrashStateIsAbsentOrNew() throws IOException {
    Verdict v = enumerate(THE_PROTOCOL, null);
    assertThat(v.violations()).isEmpty();
    // create, write, fsync, rename, dir fsync: 1 + 2 + 2*3 + 2 + 3 + 1 states over the six crash points
    assertThat(v.statesChecked()).isEqualTo(15);
  }

  @Test
  void theProtocol_withDerivedTemp_everyCrashStateIsOldOrNew() throws IOException {
    assertThat(enumerate(DERIVED_TEMP, OLD).violations()).isEmpty();
  }

  @Test
  void theProtocol_withAStaleTemp_everyCrashStateIsOldOrNew() throws IOException {
    Map<String, byte[]> files = Map.of("meta", OLD, "meta.tmp", "stale".getBytes(UTF_8));
    Protocol withStale = (fs, content) -> THE_PROTOCOL.run(fs, content);
    // the stale temp is part of the initial, durable state
    CrashSimulatedFileSystem fs = new CrashSimulatedFileSystem(DIR, files);
    withStale.run(fs, NEW);
    int n = fs.log().size();
    List<String> bad = new ArrayList<>();
    for (int k = 0; k <= n; k++) {
      boolean returned = k == n;
      fs.crashStates(k, s -> {
        byte[] got = s.read(FINAL);
        if (!(Arrays.equals(got, NEW) || (!returned && Arrays.equals(got, OLD)))) {
          bad.add("bad state");
        }
      });
    }
    assertThat(bad).isEmpty();
  }

  // ---- broken protocols: the check must catch each ----

  @Test
  void brokenProtocol_withoutFileFsync_isCaught() throws IOException {
    Protocol noFileSync = (fs, content) -> {
      FileOps.TempFiles<FileOps.TempFile> temps = (path, perms) -> {
        FileOps.TempFile real = fs.createNew(path, perms);
        return new FileOps.TempFile() {
          @Override
          public void writeAll(ByteBuffer src) throws IOException {
            real.writeAll(src);
          }

          @Override
          public void sync() {} // the bug

          @Override
          public void close() throws IOException {
            real.close();
          }
        };
      };
      OverwriteProtocol.prepare(fs, temps, FINAL, DIR.resolve("meta.tmp")).run(ByteBuffer.wrap(content));
    };
    Verdict v = enumerate(noFileSync, OLD);
    assertThat(v.violations()).isNotEmpty();
    assertThat(v.violations()).anyMatch(s -> s.contains("(call returned)"));
  }

  @Test
  void brokenProtocol_withoutDirectoryFsync_isCaught() throws IOException {
    Protocol noDirSync = (fs, content) -> {
      FileOps ops = new ForwardingFileOps(fs) {
        @Override
        public Directory openDirectory(Path dir) {
          return new Directory() {
            @Override
            public void sync() {} // the bug

            @Override
            public void close() {}
          };
        }
      };
      OverwriteProtocol.prepare(ops, fs, FINAL, DIR.resolve("meta.tmp")).run(ByteBuffer.wrap(content));
    };
    Verdict v = enumerate(noDirSync, OLD);
    assertThat(v.violations()).anyMatch(s -> s.contains("(call returned)") && s.contains("'old"));
  }

  @Test
  void brokenProtocol_renameBeforeFsync_isCaught() throws IOException {
    Protocol renameFirst = (fs, content) -> {
      OverwriteProtocol<CrashSimulatedFileSystem.SimTempFile> p =
          OverwriteProtocol.prepare(fs, fs, FINAL, DIR.resolve("meta.tmp"));
      p.removeStaleTemp();
      p.createTemp();
      p.write(ByteBuffer.wrap(content));
      p.rename(); // the bug: before the temp's data is durable
      p.syncTemp();
      p.closeTemp();
      p.syncParent();
      p.finish();
    };
    Verdict v = enumerate(renameFirst, OLD);
    assertThat(v.violations()).isNotEmpty();
    assertThat(v.violations()).allMatch(s -> !s.contains("(call returned)"));
    assertThat(v.violations()).anyMatch(s -> s.contains("bytes)") && !s.contains("'old") && !s.contains("'NEW"));
  }
}
