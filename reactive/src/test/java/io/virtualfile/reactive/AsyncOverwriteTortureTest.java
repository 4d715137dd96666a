package io.virtualfile.reactive;

import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.torture.KillNineTorture;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

/** The core kill -9 torture, run against {@link AsyncVirtualFile#overwrite}. */
class AsyncOverwriteTortureTest {
  @TempDir Path dir;

  @Test
  void reactiveOverwrite_survivesRandomKills() throws Exception {
    KillNineTorture.Report r = KillNineTorture.run(dir, "reactive", KillNineTorture.kills(200) / 2, 21,
        ReactiveTortureOverwriter.class, AsyncVirtualFile.class, Mono.class, Publisher.class);
    assertThat(r.lastVersion()).as("the children made progress").isGreaterThan(r.kills() / 2);
    assertThat(r.maxLeftoverTemps()).isLessThanOrEqualTo(1);
  }
}
