package io.virtualfile;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A thread interrupted during IO closes a {@code FileChannel} for every user. Through a virtual file,
 * only the interrupted caller may notice.
 */
class VirtualFileInterruptTest {
  static final int CHUNK = 1 << 20;

  @TempDir Path dir;
  Path path;
  byte[] data;

  @BeforeEach
  void setUp() throws Exception {
    data = new byte[8 * CHUNK];
    new Random(42).nextBytes(data);
    path = dir.resolve("data");
    Files.write(path, data);
  }

  interface PositionalReader {
    int read(ByteBuffer dst, long position) throws Exception;
  }

  /** What the interrupt scenario observed. */
  record Outcome(Throwable bystanderFailure, int bystanderReads, int interruptsSeen) {}

  /**
   * A bystander reads and verifies chunks while a victim reads in a loop and is interrupted every
   * millisecond. Runs until the victim has seen {@code interrupts} interrupts, the bystander failed, or
   * 20 seconds passed.
   */
  Outcome interruptScenario(PositionalReader reader, int interrupts) throws Exception {
    AtomicReference<Throwable> bystanderFailure = new AtomicReference<>();
    AtomicInteger bystanderReads = new AtomicInteger();
    AtomicInteger interruptsSeen = new AtomicInteger();
    AtomicReference<Throwable> victimFailure = new AtomicReference<>();
    Thread bystander = new Thread(() -> {
      Random r = new Random(1);
      ByteBuffer b = ByteBuffer.allocate(CHUNK);
      boolean last = false;
      while (!last && bystanderFailure.get() == null) {
        last = interruptsSeen.get() >= interrupts; // one more read after the victim is done
        int chunk = r.nextInt(8);
        b.clear();
        try {
          while (b.hasRemaining()) {
            reader.read(b, (long) chunk * CHUNK + b.position());
          }
          if (!Arrays.equals(b.array(), 0, CHUNK, data, chunk * CHUNK, (chunk + 1) * CHUNK)) {
            throw new AssertionError("bystander read wrong bytes in chunk " + chunk);
          }
          bystanderReads.incrementAndGet();
        } catch (Throwable t) {
          bystanderFailure.set(t);
        }
      }
    });
    Thread victim = new Thread(() -> {
      ByteBuffer b = ByteBuffer.allocate(CHUNK);
      while (interruptsSeen.get() < interrupts && bystanderFailure.get() == null) {
        try {
          b.clear();
          reader.read(b, 0);
        } catch (ClosedByInterruptException | java.io.InterruptedIOException e) {
          // Interrupted during IO, or (InterruptedIOException) while waiting for the bystander's reopen
          // of the shared file: either way a prompt error that says so, with the status kept.
          if (!Thread.interrupted()) {
            victimFailure.set(new AssertionError("interrupt status was not kept"));
          }
          interruptsSeen.incrementAndGet();
        } catch (ClosedChannelException e) {
          // a raw channel stays closed after the first interrupt: nothing more to see
          interruptsSeen.set(interrupts);
        } catch (Throwable t) {
          victimFailure.set(t);
          return;
        }
      }
    });
    bystander.start();
    victim.start();
    long deadline = System.nanoTime() + 20_000_000_000L;
    while (victim.isAlive() && System.nanoTime() < deadline) {
      victim.interrupt();
      Thread.sleep(1);
    }
    interruptsSeen.set(interrupts);
    victim.join();
    bystander.join();
    assertThat(victimFailure.get()).isNull();
    return new Outcome(bystanderFailure.get(), bystanderReads.get(), interruptsSeen.get());
  }

  @Test
  void rawFileChannel_interruptOfOneReader_breaksTheOtherReader() throws Exception {
    // The hazard this library exists to contain; shows the scenario below can fail.
    try (FileChannel ch = FileChannel.open(path, READ)) {
      Outcome o = interruptScenario(ch::read, 50);
      assertThat(o.bystanderFailure()).isInstanceOf(ClosedChannelException.class);
    }
  }

  @Test
  void virtualFile_interruptOfOneReader_otherReaderKeepsWorking() throws Exception {
    try (OpenFileCache cache = OpenFileCache.create(4);
        VirtualFile f = VirtualFile.open(path, cache, READ)) {
      long missesBefore = cache.stats().misses();
      Outcome o = interruptScenario(f::readAt, 50);
      assertThat(o.bystanderFailure()).isNull();
      assertThat(o.bystanderReads()).isPositive();
      assertThat(cache.stats().misses() - missesBefore)
          .as("some interrupts landed during IO and closed the shared descriptor, which was reopened")
          .isPositive();
      ByteBuffer b = ByteBuffer.allocate(CHUNK);
      f.readExactAt(b, 0);
      assertThat(b.array()).isEqualTo(Arrays.copyOf(data, CHUNK));
    }
  }

  @Test
  void alreadyInterruptedCaller_failsWithoutClosingTheSharedDescriptor() throws Exception {
    try (OpenFileCache cache = OpenFileCache.create(4);
        VirtualFile f = VirtualFile.open(path, cache, READ)) {
      Thread.currentThread().interrupt();
      try {
        f.readAt(ByteBuffer.allocate(16), 0);
        throw new AssertionError("expected ClosedByInterruptException");
      } catch (ClosedByInterruptException expected) {
        assertThat(Thread.interrupted()).as("interrupt status kept").isTrue();
      }
      long misses = cache.stats().misses();
      f.readExactAt(ByteBuffer.allocate(16), 0);
      assertThat(cache.stats().misses()).as("descriptor was not closed").isEqualTo(misses);
    }
  }

  /**
   * Regression (fsyncgate): when another thread's interrupt closed the shared descriptor during an fsync,
   * the fsync was issued again on a reopened descriptor, and its success reported the data durable,
   * although the first fsync's own result (maybe EIO) was never seen.
   */
  @Test
  void sync_whenTheDescriptorIsClosedUnderIt_failsAsUnknown_andIsNotIssuedAgain() throws Exception {
    AtomicInteger forces = new AtomicInteger();
    VirtualFile.ChannelOpener opener = (p, options) ->
        new io.virtualfile.testing.ForwardingFileChannel(FileChannel.open(p, options)) {
          @Override
          public void force(boolean metaData) throws java.io.IOException {
            if (forces.incrementAndGet() == 1) { // as an interrupt of another thread does mid-fsync
              close();
              throw new java.nio.channels.AsynchronousCloseException();
            }
            super.force(metaData);
          }
        };
    try (OpenFileCache cache = OpenFileCache.create(2);
        VirtualFile f = VirtualFile.open(path, cache,
            io.virtualfile.internal.OpenOptions.of(READ, java.nio.file.StandardOpenOption.WRITE),
            opener)) {
      org.assertj.core.api.Assertions.assertThatThrownBy(f::sync)
          .isInstanceOf(java.io.SyncFailedException.class)
          .hasMessageContaining("unknown outcome")
          .hasCauseInstanceOf(ClosedChannelException.class);
      assertThat(forces.get()).as("fsync issued once, never retried").isEqualTo(1);
      // The handle itself stays usable: the broken descriptor was dropped.
      ByteBuffer b = ByteBuffer.allocate(16);
      f.readExactAt(b, 0);
      assertThat(b.array()).isEqualTo(Arrays.copyOf(data, 16));
    }
  }
}
