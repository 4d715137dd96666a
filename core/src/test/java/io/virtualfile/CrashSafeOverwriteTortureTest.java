package io.virtualfile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.virtualfile.torture.KillNineTorture;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kill -9 at random moments, hundreds of times; see {@link KillNineTorture}. */
class CrashSafeOverwriteTortureTest {
  @TempDir Path dir;

  @Test
  void derivedTempNames_surviveRandomKills() throws Exception {
    KillNineTorture.Report r = KillNineTorture.run(dir, "derived", KillNineTorture.kills(200), 11);
    assertThat(r.lastVersion()).as("the children made progress").isGreaterThan(r.kills());
    assertThat(r.maxLeftoverTemps()).isLessThanOrEqualTo(1);
  }

  @Test
  void truncateThenWrite_isCaughtByTheSameTorture() {
    assertThatThrownBy(() -> KillNineTorture.run(dir, "truncate-then-write", 100, 13))
        .satisfiesAnyOf(
            e -> assertThat(e).hasMessageContaining("checksum mismatch"),
            e -> assertThat(e).hasMessageContaining("too short"),
            e -> assertThat(e).hasMessageContaining("does not match size"));
  }

  @Test
  void explicitTemp_surviveRandomKills() throws Exception {
    KillNineTorture.Report r =
        KillNineTorture.run(dir, "explicit", KillNineTorture.kills(200) / 4, 12);
    assertThat(r.lastVersion()).isGreaterThan(r.kills());
  }
}
