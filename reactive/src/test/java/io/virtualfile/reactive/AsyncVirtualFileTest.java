package io.virtualfile.reactive;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.CREATE_NEW;
import static java.nio.file.StandardOpenOption.DELETE_ON_CLOSE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/** The operations of {@link AsyncVirtualFile}, each subscribed from a parallel (non-blocking) thread. */
class AsyncVirtualFileTest {
  @TempDir Path dir;
  AsyncFileIo io;
  Path path;

  @BeforeEach
  void setUp() {
    io = AsyncFileIo.builder().ioThreads(2).cacheCapacity(4).build();
    path = dir.resolve("f");
  }

  @AfterEach
  void tearDown() {
    io.close();
  }

  static ByteBuffer ascii(String s) {
    return ByteBuffer.wrap(s.getBytes(US_ASCII));
  }

  static String ascii(ByteBuffer b) {
    byte[] bytes = new byte[b.remaining()];
    b.duplicate().get(bytes);
    return new String(bytes, US_ASCII);
  }

  static <T> Mono<T> onParallel(Mono<T> m) {
    return m.subscribeOn(Schedulers.parallel());
  }

  AsyncVirtualFile open(java.nio.file.OpenOption... options) {
    return AsyncVirtualFile.open(path, io, options).subscribeOn(Schedulers.parallel()).block();
  }

  @Test
  void writesAtOffsets_readBackInPlace() {
    AsyncVirtualFile f = open(CREATE, READ, WRITE);
    StepVerifier.create(onParallel(f.writeAllAt(ascii("BAR"), 3).then(f.writeAllAt(ascii("FOO"), 0))))
        .verifyComplete();
    ByteBuffer all = ByteBuffer.allocate(6);
    StepVerifier.create(onParallel(f.readExactAt(all, 0))).verifyComplete();
    assertThat(ascii(all.flip())).isEqualTo("FOOBAR");
    ByteBuffer mid = ByteBuffer.allocate(3);
    StepVerifier.create(onParallel(f.readExactAt(mid, 2))).verifyComplete();
    assertThat(ascii(mid.flip())).isEqualTo("OBA");
    StepVerifier.create(onParallel(f.size())).expectNext(6L).verifyComplete();
  }

  @Test
  void readAt_atEndOfFile_emitsMinusOne() throws Exception {
    Files.writeString(path, "abc");
    AsyncVirtualFile f = open(READ);
    StepVerifier.create(onParallel(f.readAt(ByteBuffer.allocate(8), 3))).expectNext(-1).verifyComplete();
    StepVerifier.create(onParallel(f.readAt(ByteBuffer.allocate(8), 1))).expectNext(2).verifyComplete();
  }

  @Test
  void readExactAt_pastEnd_failsWithEof() throws Exception {
    Files.writeString(path, "abcdef");
    AsyncVirtualFile f = open(READ);
    StepVerifier.create(onParallel(f.readExactAt(ByteBuffer.allocate(5), 3)))
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(EOFException.class)
            .hasMessageContaining("end of file at 6").hasMessageContaining(path.toString()))
        .verify();
  }

  @Test
  void writeAt_emitsBytesWritten() {
    AsyncVirtualFile f = open(CREATE, WRITE);
    StepVerifier.create(onParallel(f.writeAt(ascii("hello"), 10))).expectNext(5).verifyComplete();
    StepVerifier.create(onParallel(f.size())).expectNext(15L).verifyComplete();
  }

  @Test
  void truncate_shrinks_andSyncsComplete() throws Exception {
    Files.writeString(path, "abcdef");
    AsyncVirtualFile f = open(READ, WRITE);
    StepVerifier.create(onParallel(f.truncate(2).then(f.sync()).then(f.syncData()).then(f.size())))
        .expectNext(2L).verifyComplete();
    assertThat(Files.readString(path)).isEqualTo("ab");
  }

  @Test
  void nothingHappensBeforeSubscription() throws Exception {
    Files.writeString(path, "abc");
    AsyncVirtualFile f = open(READ, WRITE);
    long missesBefore = io.stats().misses();
    long hitsBefore = io.stats().hits();
    Mono<Void> trunc = f.truncate(0);
    Mono<Integer> write = f.writeAt(ascii("X"), 0);
    // Assembly is synchronous: had it started anything, it would have pinned the channel by now.
    assertThat(io.stats().hits()).isEqualTo(hitsBefore);
    assertThat(io.stats().misses()).isEqualTo(missesBefore);
    assertThat(Files.readString(path)).isEqualTo("abc");
    StepVerifier.create(onParallel(write)).expectNext(1).verifyComplete();
    assertThat(Files.readString(path)).isEqualTo("Xbc");
    StepVerifier.create(onParallel(trunc)).verifyComplete();
    StepVerifier.create(onParallel(trunc)).verifyComplete(); // each subscription performs it again
    assertThat(Files.readString(path)).isEmpty();
  }

  @Test
  void badArguments_areSignalledAsErrors_notThrown() throws Exception {
    Files.writeString(path, "abc");
    AsyncVirtualFile f = open(READ);
    StepVerifier.create(f.readAt(ByteBuffer.allocate(1), -1))
        .expectErrorMessage("position < 0: -1").verify();
    StepVerifier.create(f.readAt(null, 0)).expectErrorMessage("dst").verify();
    StepVerifier.create(f.writeAt(ascii("x"), 0))
        .expectError(NonWritableChannelException.class).verify();
    StepVerifier.create(f.truncate(-1)).expectErrorMessage("size < 0: -1").verify();
    StepVerifier.create(f.read(0, 0)).expectErrorMessage("chunkSize < 1: 0").verify();
    assertThat(Files.readString(path)).isEqualTo("abc");
  }

  @Test
  void readingAWriteOnlyFile_isAnError() {
    AsyncVirtualFile f = open(CREATE, WRITE);
    StepVerifier.create(f.readAt(ByteBuffer.allocate(1), 0))
        .expectError(NonReadableChannelException.class).verify();
  }

  @Test
  void channelsSynchronousThrow_readOnlyBuffer_becomesAnError() throws Exception {
    Files.writeString(path, "abc");
    AsyncVirtualFile f = open(READ);
    ByteBuffer readOnly = ByteBuffer.allocate(4).asReadOnlyBuffer();
    StepVerifier.create(onParallel(f.readAt(readOnly, 0)))
        .expectError(IllegalArgumentException.class).verify(Duration.ofSeconds(5));
    // and the pin taken for it was released: the file still works and can be closed
    StepVerifier.create(onParallel(f.readAt(ByteBuffer.allocate(3), 0))).expectNext(3).verifyComplete();
    assertThat(f.operationsInFlight()).isZero();
  }

  @Test
  void openMissingFile_isAnError() {
    StepVerifier.create(AsyncVirtualFile.open(dir.resolve("absent"), io, READ))
        .expectError(NoSuchFileException.class).verify();
  }

  @Test
  void close_isIdempotent_andLaterIoFails() throws Exception {
    Files.writeString(path, "abc");
    AsyncVirtualFile f = open(READ);
    StepVerifier.create(f.close().then(f.close())).verifyComplete();
    StepVerifier.create(onParallel(f.readAt(ByteBuffer.allocate(1), 0)))
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(ClosedChannelException.class)
            .hasMessageContaining("file is closed"))
        .verify();
  }

  @Test
  void deleteOnClose_deletesAtClose() {
    AsyncVirtualFile f = open(CREATE_NEW, WRITE, DELETE_ON_CLOSE);
    StepVerifier.create(f.writeAllAt(ascii("tmp"), 0)).verifyComplete();
    assertThat(path).exists();
    StepVerifier.create(f.close()).verifyComplete();
    assertThat(path).doesNotExist();
  }

  @Test
  void eviction_isTransparent_andCreateNewIsNotRepeated() throws Exception {
    AsyncVirtualFile f = open(CREATE_NEW, READ, WRITE);
    StepVerifier.create(f.writeAllAt(ascii("kept"), 0)).verifyComplete();
    for (int i = 0; i < 8; i++) { // more files than the 4 slots
      Path other = dir.resolve("o" + i);
      AsyncVirtualFile o = AsyncVirtualFile.open(other, io, CREATE, WRITE).block();
      StepVerifier.create(o.writeAllAt(ascii("o"), 0).then(o.close())).verifyComplete();
    }
    assertThat(io.stats().evictions()).isPositive();
    ByteBuffer b = ByteBuffer.allocate(4);
    StepVerifier.create(onParallel(f.readExactAt(b, 0))).verifyComplete();
    assertThat(ascii(b.flip())).isEqualTo("kept");
  }

  @Test
  void closedEngine_failsLaterIo() throws Exception {
    Files.writeString(path, "abc");
    AsyncVirtualFile f = open(READ);
    io.close();
    StepVerifier.create(onParallel(f.readAt(ByteBuffer.allocate(1), 0)))
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(ClosedChannelException.class)
            .hasMessageContaining("AsyncFileIo is closed"))
        .verify();
  }

  @Test
  void write_ofAPublisher_writesSequentially_andEmitsTheByteCount() throws Exception {
    AsyncVirtualFile f = open(CREATE, READ, WRITE);
    Flux<ByteBuffer> parts = Flux.just("one,", "two,", "", "three").map(AsyncVirtualFileTest::ascii);
    StepVerifier.create(onParallel(f.write(parts, 2))).expectNext(13L).verifyComplete();
    assertThat(Files.readAllBytes(path)).startsWith(0, 0);
    assertThat(Files.readString(path).substring(2)).isEqualTo("one,two,three");
    StepVerifier.create(f.write(Flux.empty(), 0)).expectNext(0L).verifyComplete();
  }

  @Test
  void write_ofAFailingPublisher_failsWithItsError() {
    AsyncVirtualFile f = open(CREATE, WRITE);
    StepVerifier.create(f.write(Flux.concat(Flux.just(ascii("a")), Flux.error(new IllegalStateException("boom"))), 0))
        .expectErrorMessage("boom").verify();
  }

  @Test
  void read_streamsToEndOfFileInChunks() throws Exception {
    Files.writeString(path, "0123456789");
    AsyncVirtualFile f = open(READ);
    StepVerifier.create(f.read(1, 4).map(AsyncVirtualFileTest::ascii).subscribeOn(Schedulers.parallel()))
        .expectNext("1234", "5678", "9")
        .verifyComplete();
  }

  @Test
  void read_ofEmptyTail_completesEmpty() throws Exception {
    Files.writeString(path, "abc");
    AsyncVirtualFile f = open(READ);
    StepVerifier.create(f.read(3, 4)).verifyComplete();
  }
}
