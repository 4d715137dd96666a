package io.virtualfile.uring;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.virtualfile.reactive.AsyncFileIo;
import io.virtualfile.reactive.AsyncVirtualFile;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Direct buffers of arenas that can be closed: the kernel never gets their memory (a close while it
 * reads would let it write freed memory), and a closed one is refused as the JDK's channels refuse it,
 * with an exception, never a crash. Found by an outside probe: a read into a closed shared arena's
 * buffer returned 4096 and the process then died in malloc.
 */
class ArenaBuffersTest {
  @TempDir Path dir;
  AsyncFileIo io;
  AsyncVirtualFile file;
  byte[] content;

  @BeforeEach
  void open() throws Exception {
    content = new byte[8192];
    for (int i = 0; i < content.length; i++) {
      content[i] = (byte) (i * 7);
    }
    Path p = dir.resolve("f");
    Files.write(p, content);
    io = AsyncFileIo.builder().engine(AsyncFileIo.Engine.IO_URING).ioThreads(2).build();
    file = AsyncVirtualFile.open(p, io, READ, WRITE).block(Duration.ofSeconds(10));
    file.readAt(ByteBuffer.allocateDirect(16), 0).block(Duration.ofSeconds(10)); // cached: reads inline
  }

  @AfterEach
  void close() {
    file.close().block(Duration.ofSeconds(10));
    io.close();
  }

  @Test
  void aReadIntoALiveSharedArenasBuffer_readsTheFile() {
    try (Arena arena = Arena.ofShared()) {
      ByteBuffer dst = arena.allocate(4096, 4096).asByteBuffer();
      assertThat(file.readAt(dst, 4096).block(Duration.ofSeconds(10))).isEqualTo(4096);
      byte[] got = new byte[4096];
      dst.flip().get(got);
      assertThat(got).isEqualTo(Arrays.copyOfRange(content, 4096, 8192));
    }
  }

  /** A page of a shared arena, the arena closed: its memory freed. */
  private static ByteBuffer closedArenasBuffer() {
    Arena arena = Arena.ofShared();
    ByteBuffer b = arena.allocate(4096, 4096).asByteBuffer();
    arena.close();
    return b;
  }

  @Test
  void aReadIntoAClosedArenasBuffer_failsWithTheArenasException() {
    ByteBuffer dst = closedArenasBuffer();
    assertThatThrownBy(() -> file.readAt(dst, 0).block(Duration.ofSeconds(10)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void aWriteFromAClosedArenasBuffer_failsAndWritesNothing() throws Exception {
    ByteBuffer src = closedArenasBuffer();
    assertThatThrownBy(() -> file.writeAt(src, 0).block(Duration.ofSeconds(10)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
    assertThat(Files.readAllBytes(dir.resolve("f"))).isEqualTo(content);
  }

  @Test
  void anotherThreadsConfinedArenaBuffer_isRefused() throws Exception {
    try (Arena arena = Arena.ofConfined()) {
      ByteBuffer src = arena.allocate(4096, 4096).asByteBuffer();
      assertThatThrownBy(() -> file.writeAt(src, 0).block(Duration.ofSeconds(10)))
          .isInstanceOf(WrongThreadException.class);
    }
    assertThat(Files.readAllBytes(dir.resolve("f"))).isEqualTo(content);
  }
}
