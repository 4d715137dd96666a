package io.virtualfile.reactive;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;

import io.virtualfile.FileClosedException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;

/** After the engine is closed, a handle's blocking calls and streams are refused as every call is. */
class ClosedEngineBlockingCallsTest {
  @TempDir Path dir;

  @Test
  void sizeSyncTruncateAndStreams_afterTheEngineClosed_failWithFileClosedException() {
    AsyncFileIo io = AsyncFileIo.builder().ioThreads(1).build();
    AsyncVirtualFile f = AsyncVirtualFile.open(dir.resolve("f"), io, CREATE, READ, WRITE).block();
    io.close();
    StepVerifier.create(f.size()).expectError(FileClosedException.class).verify();
    StepVerifier.create(f.sync()).expectError(FileClosedException.class).verify();
    StepVerifier.create(f.truncate(0)).expectError(FileClosedException.class).verify();
    StepVerifier.create(f.read(0, 16)).expectError(FileClosedException.class).verify();
  }
}
