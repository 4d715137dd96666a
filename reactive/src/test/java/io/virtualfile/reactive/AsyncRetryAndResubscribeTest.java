package io.virtualfile.reactive;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/** Re-subscribing an operation performs it again from the start: buffer region and file position. */
class AsyncRetryAndResubscribeTest {
  @TempDir Path dir;
  AsyncFileIo io;
  Path path;
  byte[] data;

  @BeforeEach
  void setUp() throws Exception {
    io = AsyncFileIo.builder().ioThreads(2).cacheCapacity(4).build();
    path = dir.resolve("f");
    data = new byte[200];
    new Random(3).nextBytes(data);
  }

  @AfterEach
  void tearDown() {
    io.close();
  }

  /**
   * Regression: the retry resumed with the buffer already advanced by the first attempt but read from
   * the original file position, so bytes landed in the wrong slots.
   */
  @Test
  void readExactAt_retriedAfterEofOnceTheFileGrew_fillsTheBufferWithTheRightBytes() throws Exception {
    Files.write(path, Arrays.copyOf(data, 100));
    AsyncVirtualFile f = AsyncVirtualFile.open(path, io, READ).block();
    ByteBuffer dst = ByteBuffer.allocate(200);
    f.readExactAt(dst, 0)
        .retryWhen(Retry.max(1)
            .filter(EOFException.class::isInstance)
            .doBeforeRetry(s -> append(Arrays.copyOfRange(data, 100, 200))))
        .block(Duration.ofSeconds(10));
    assertThat(dst.position()).isEqualTo(200);
    assertThat(dst.array()).isEqualTo(data);
    f.close().block();
  }

  @Test
  void readExactAt_failingWithEof_leavesThePositionJustPastTheBytesRead() throws Exception {
    Files.write(path, Arrays.copyOf(data, 100));
    AsyncVirtualFile f = AsyncVirtualFile.open(path, io, READ).block();
    ByteBuffer dst = ByteBuffer.allocate(200);
    dst.position(10);
    assertThat(f.readExactAt(dst, 0).onErrorResume(EOFException.class, e -> Mono.empty())
        .block(Duration.ofSeconds(10))).isNull();
    assertThat(dst.position()).isEqualTo(110);
    assertThat(Arrays.copyOfRange(dst.array(), 10, 110)).isEqualTo(Arrays.copyOf(data, 100));
    f.close().block();
  }

  /** Regression: the second subscription found the buffer consumed and wrote nothing. */
  @Test
  void writeAllAt_subscribedTwice_writesTheWholeBufferEachTime() throws Exception {
    Files.write(path, new byte[0]);
    AsyncVirtualFile f = AsyncVirtualFile.open(path, io, READ, WRITE).block();
    ByteBuffer src = ByteBuffer.wrap(data);
    Mono<Void> write = f.writeAllAt(src, 0);
    write.block(Duration.ofSeconds(10));
    assertThat(src.hasRemaining()).isFalse();
    f.truncate(0).block();
    write.block(Duration.ofSeconds(10));
    assertThat(Files.readAllBytes(path)).isEqualTo(data);
    f.close().block();
  }

  @Test
  void readAt_subscribedTwice_readsIntoTheSameRegionAgain() throws Exception {
    Files.write(path, data);
    AsyncVirtualFile f = AsyncVirtualFile.open(path, io, READ).block();
    ByteBuffer dst = ByteBuffer.allocate(10);
    Mono<Integer> read = f.readAt(dst, 0);
    assertThat(read.block()).isEqualTo(10);
    assertThat(dst.position()).isEqualTo(10);
    assertThat(read.block()).as("performed again, not a read into a full buffer").isEqualTo(10);
    assertThat(dst.position()).isEqualTo(10);
    assertThat(dst.array()).isEqualTo(Arrays.copyOf(data, 10));
    f.close().block();
  }

  @Test
  void writeAt_resubscribed_writesTheSameBytesAtTheSamePlace() throws Exception {
    Files.write(path, new byte[0]);
    AsyncVirtualFile f = AsyncVirtualFile.open(path, io, READ, WRITE).block();
    Mono<Integer> write = f.writeAt(ByteBuffer.wrap(data, 0, 50), 5);
    assertThat(write.repeat(2).collectList().block()).containsExactly(50, 50, 50);
    byte[] expected = new byte[55];
    System.arraycopy(data, 0, expected, 5, 50);
    assertThat(Files.readAllBytes(path)).isEqualTo(expected);
    f.close().block();
  }

  private void append(byte[] bytes) {
    try {
      Files.write(path, bytes, StandardOpenOption.APPEND);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Regression (found by a helper's probe): the second subscription installed an empty file. */
  @Test
  void overwriteOfStreamedContent_subscribedTwice_installsTheWholeContentBothTimes() throws Exception {
    Path cfg = dir.resolve("cfg");
    byte[] content = "new content".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    Mono<Void> overwrite = io.overwrite(cfg, reactor.core.publisher.Flux.just(ByteBuffer.wrap(content)));
    overwrite.block(Duration.ofSeconds(10));
    assertThat(Files.readAllBytes(cfg)).isEqualTo(content);
    Files.writeString(cfg, "changed");
    overwrite.block(Duration.ofSeconds(10));
    assertThat(Files.readAllBytes(cfg)).as("after the second subscription").isEqualTo(content);
  }

  /** Regression (found by a helper's probe): the second subscription wrote nothing. */
  @Test
  void writeOfAPublisher_subscribedTwice_writesTheBuffersBothTimes() throws Exception {
    Files.write(path, new byte[0]);
    AsyncVirtualFile f = AsyncVirtualFile.open(path, io, READ, WRITE).block();
    ByteBuffer buf = ByteBuffer.wrap(new byte[] {1, 2, 3});
    Mono<Long> write = f.write(reactor.core.publisher.Flux.just(buf), 0);
    assertThat(write.block()).isEqualTo(3L);
    f.truncate(0).block();
    assertThat(write.block()).isEqualTo(3L);
    assertThat(Files.readAllBytes(path)).containsExactly(1, 2, 3);
    assertThat(buf.position()).as("the publisher's buffer is not consumed").isZero();
    f.close().block();
  }
}
