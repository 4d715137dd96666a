package io.virtualfile.uring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.virtualfile.reactive.spi.IoCompletion;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each request of the ring against the real kernel, one behaviour per test. */
class RingCallsTest {
  @TempDir Path dir;
  RingLoop loop;

  @BeforeEach
  void start() throws Exception {
    loop = RingLoop.start("test-ring", UringEngineProvider.SETUP_FLAGS, Ring.Setup.KERNEL);
  }

  @AfterEach
  void stop() throws InterruptedException {
    loop.shutdown();
    loop.awaitTermination();
  }

  /** Runs one read or write on the loop and waits for its result. */
  static int transfer(RingLoop loop, boolean write, int fd, ByteBuffer b, long position)
      throws Exception {
    CompletableFuture<Integer> done = new CompletableFuture<>();
    loop.submit(new Transfer(write, fd, b, position, completion(done), null));
    return done.get(10, TimeUnit.SECONDS);
  }

  static IoCompletion completion(CompletableFuture<Integer> done) {
    return new IoCompletion() {
      @Override
      public void completed(int bytes) {
        done.complete(bytes);
      }

      @Override
      public void failed(Throwable error) {
        done.completeExceptionally(error);
      }
    };
  }

  private int open(Path p, int flags) throws IOException {
    return RingCalls.openat(loop, p.toString(), flags | OpenFlags.O_CLOEXEC, 0644);
  }

  @Test
  void openat_createsTheFile_withTheModeAsked() throws Exception {
    Path p = dir.resolve("new");
    int fd = open(p, OpenFlags.O_RDWR | OpenFlags.O_CREAT | OpenFlags.O_EXCL);
    RingCalls.close(loop, fd);
    assertThat(Files.exists(p)).isTrue();
    assertThat(Files.getPosixFilePermissions(p).toString()).contains("OWNER_READ", "OWNER_WRITE");
  }

  @Test
  void openat_ofAMissingFile_failsWithNoSuchFile_namingThePathAndErrno() {
    Path p = dir.resolve("missing");
    assertThatThrownBy(() -> open(p, OpenFlags.O_RDONLY))
        .isInstanceOf(NoSuchFileException.class)
        .hasMessageContaining(p.toString())
        .hasMessageContaining("ENOENT")
        .hasMessageContaining("errno 2");
  }

  @Test
  void openat_exclusiveOfAnExistingFile_failsWithFileAlreadyExists() throws Exception {
    Path p = Files.createFile(dir.resolve("there"));
    assertThatThrownBy(() -> open(p, OpenFlags.O_RDWR | OpenFlags.O_CREAT | OpenFlags.O_EXCL))
        .isInstanceOf(FileAlreadyExistsException.class);
  }

  @Test
  void writeThenRead_heapBuffers_roundTrip_andMoveThePosition() throws Exception {
    int fd = open(dir.resolve("f"), OpenFlags.O_RDWR | OpenFlags.O_CREAT);
    ByteBuffer out = ByteBuffer.wrap("hello, ring".getBytes(StandardCharsets.US_ASCII));
    assertThat(transfer(loop, true, fd, out, 100)).isEqualTo(11);
    assertThat(out.hasRemaining()).isFalse();
    ByteBuffer in = ByteBuffer.allocate(11);
    assertThat(transfer(loop, false, fd, in, 100)).isEqualTo(11);
    assertThat(new String(in.array(), StandardCharsets.US_ASCII)).isEqualTo("hello, ring");
    assertThat(in.position()).isEqualTo(11);
    RingCalls.close(loop, fd);
  }

  @Test
  void writeThenRead_directBuffers_fromTheirPosition() throws Exception {
    int fd = open(dir.resolve("f"), OpenFlags.O_RDWR | OpenFlags.O_CREAT);
    ByteBuffer out = ByteBuffer.allocateDirect(16).put(new byte[] {9, 9, 1, 2, 3}).flip().position(2);
    assertThat(transfer(loop, true, fd, out, 0)).isEqualTo(3);
    ByteBuffer in = ByteBuffer.allocateDirect(8).position(4);
    assertThat(transfer(loop, false, fd, in, 0)).isEqualTo(3);
    assertThat(in.position()).isEqualTo(7);
    assertThat(new byte[] {in.get(4), in.get(5), in.get(6)}).containsExactly(1, 2, 3);
    RingCalls.close(loop, fd);
  }

  @Test
  void read_acrossTheEnd_isShort_andAtTheEnd_isMinusOne() throws Exception {
    Path p = dir.resolve("f");
    Files.write(p, new byte[] {1, 2, 3, 4, 5});
    int fd = open(p, OpenFlags.O_RDONLY);
    assertThat(transfer(loop, false, fd, ByteBuffer.allocate(10), 3)).isEqualTo(2);
    assertThat(transfer(loop, false, fd, ByteBuffer.allocate(10), 5)).isEqualTo(-1);
    assertThat(transfer(loop, false, fd, ByteBuffer.allocate(10), 1000)).isEqualTo(-1);
    RingCalls.close(loop, fd);
  }

  @Test
  void read_ofAnEmptyBuffer_isZero_notTheEnd() throws Exception {
    Path p = dir.resolve("f");
    Files.write(p, new byte[] {1});
    int fd = open(p, OpenFlags.O_RDONLY);
    assertThat(transfer(loop, false, fd, ByteBuffer.allocate(0), 5)).isEqualTo(0);
    RingCalls.close(loop, fd);
  }

  @Test
  void write_onAReadOnlyDescriptor_failsWithEbadf() throws Exception {
    Path p = Files.createFile(dir.resolve("f"));
    int fd = open(p, OpenFlags.O_RDONLY);
    assertThatThrownBy(() -> transfer(loop, true, fd, ByteBuffer.allocate(4), 0))
        .hasCauseInstanceOf(UringException.class)
        .cause().hasMessageContaining("write failed: EBADF")
        .satisfies(e -> assertThat(((UringException) e).errno()).isEqualTo(9));
    RingCalls.close(loop, fd);
  }

  @Test
  void statx_givesTheSize() throws Exception {
    Path p = dir.resolve("f");
    Files.write(p, new byte[12345]);
    int fd = open(p, OpenFlags.O_RDONLY);
    assertThat(RingCalls.size(loop, fd)).isEqualTo(12345);
    RingCalls.close(loop, fd);
  }

  @Test
  void fsync_andFdatasync_succeedOnAWrittenFile() throws Exception {
    int fd = open(dir.resolve("f"), OpenFlags.O_RDWR | OpenFlags.O_CREAT);
    transfer(loop, true, fd, ByteBuffer.wrap(new byte[100]), 0);
    RingCalls.fsync(loop, fd, false);
    RingCalls.fsync(loop, fd, true);
    RingCalls.close(loop, fd);
  }

  @Test
  void ftruncate_shortensTheFile() throws Exception {
    Path p = dir.resolve("f");
    Files.write(p, new byte[100]);
    int fd = open(p, OpenFlags.O_RDWR);
    RingCalls.ftruncate(loop, fd, 10);
    assertThat(Files.size(p)).isEqualTo(10);
    RingCalls.close(loop, fd);
  }

  @Test
  void close_ofAClosedDescriptor_failsWithEbadf() throws Exception {
    int fd = open(Files.createFile(dir.resolve("f")), OpenFlags.O_RDONLY);
    RingCalls.close(loop, fd);
    assertThatThrownBy(() -> RingCalls.close(loop, fd)).hasMessageContaining("EBADF");
  }

  @Test
  void renameat_replacesTheTarget() throws Exception {
    Path from = dir.resolve("a");
    Path to = dir.resolve("b");
    Files.writeString(from, "new");
    Files.writeString(to, "old");
    RingCalls.rename(loop, from.toString(), to.toString());
    assertThat(Files.exists(from)).isFalse();
    assertThat(Files.readString(to)).isEqualTo("new");
  }

  @Test
  void renameat_ofAMissingSource_failsWithNoSuchFile_namingBothPaths() {
    Path from = dir.resolve("a");
    Path to = dir.resolve("b");
    assertThatThrownBy(() -> RingCalls.rename(loop, from.toString(), to.toString()))
        .isInstanceOf(NoSuchFileException.class)
        .hasMessageContaining(from.toString())
        .hasMessageContaining(to.toString());
  }

  @Test
  void aBlockingCallOnTheRingsOwnThread_isRefused_notADeadlock() throws Exception {
    CompletableFuture<Throwable> refused = new CompletableFuture<>();
    int fd = open(Files.createFile(dir.resolve("f")), OpenFlags.O_RDONLY);
    loop.submit(new Transfer(false, fd, ByteBuffer.allocate(1), 0, new IoCompletion() {
      @Override
      public void completed(int bytes) {
        try {
          RingCalls.size(loop, fd);
          refused.complete(null);
        } catch (Throwable t) {
          refused.complete(t);
        }
      }

      @Override
      public void failed(Throwable error) {
        refused.complete(error);
      }
    }, null));
    assertThat(refused.get(10, TimeUnit.SECONDS)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("io_uring thread");
    RingCalls.close(loop, fd);
  }
}
