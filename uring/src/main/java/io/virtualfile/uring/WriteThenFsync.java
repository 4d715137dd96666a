package io.virtualfile.uring;

import io.virtualfile.reactive.spi.IoCompletion;
import io.virtualfile.reactive.spi.WriteThenForce;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;

/**
 * {@link WriteThenForce#writeThenForce} on a ring: a WRITE and an FSYNC of one descriptor as two linked
 * requests ({@link Op#IOSQE_IO_LINK}). The kernel starts the fsync once the write has transferred every
 * byte it asked for; a write that fails or transfers fewer bytes breaks the link, and the fsync then
 * completes with {@code -ECANCELED} without running. (The kernel runs an fsync on one of its io-wq
 * workers, never on the ring's thread.)
 *
 * <p>The completion is told once <em>both</em> CQEs have arrived: until then the kernel may still take
 * the descriptor by its number (a linked request looks its file up when it starts), so the caller must
 * not close it before, and the write's buffer (or its bounce buffer) stays the request's until its own
 * CQE. The outcome, from the two results: a failed write is a write failure; a short write is {@link
 * WriteThenForce.Completion#partlyWritten} (the caller writes the rest and fsyncs then); a whole write is
 * {@link WriteThenForce.Completion#forced} if the fsync returned 0, else an fsync failure, {@code
 * -ECANCELED} included (the fsync may not have run: durability unknown). Never retried.
 *
 * <p>Loop thread only, but for the constructor.
 */
final class WriteThenFsync extends Op implements IoCompletion {
  private final WriteThenForce.Completion completion;
  /** The bytes asked for: all of them must be written for the fsync to count. */
  private final int asked;
  /**
   * The bytes the write request asks for: {@link #asked}, capped at the kernel's maximum for one write.
   * A request written whole keeps the link, so the fsync runs even when that is fewer than asked.
   */
  private final int requested;
  private final Transfer write;
  private final Op fsync;

  /** CQEs arrived (0, 1 or 2), and what they said. */
  private int arrived;

  private int written;
  private Throwable writeError;
  private int fsyncResult;

  WriteThenFsync(int fd, ByteBuffer src, long position, boolean dataOnly,
      WriteThenForce.Completion completion) {
    this.completion = completion;
    this.asked = src.remaining();
    this.requested = Math.min(asked, Transfer.MAX_RW);
    this.write = new Transfer(true, fd, src, position, this, null);
    this.fsync = new Op() {
      @Override
      void prepare(MemorySegment sqe, RingLoop loop) {
        Ring.prep(sqe, FSYNC, fd, 0, 0, 0);
        sqe.set(ValueLayout.JAVA_INT, Ring.SQE_OP_FLAGS, dataOnly ? FSYNC_DATASYNC : 0);
      }

      @Override
      void complete(int res, RingLoop loop) {
        fsyncResult = res;
        arrived();
      }

      @Override
      void reject(Throwable why) {
        // never called: a chain is rejected through its first request (the write)
      }
    };
  }

  @Override
  void prepare(MemorySegment sqe, RingLoop loop) {
    write.prepare(sqe, loop);
    sqe.set(ValueLayout.JAVA_BYTE, Ring.SQE_FLAGS, IOSQE_IO_LINK);
  }

  @Override
  Op linked() {
    return fsync;
  }

  /** The write's CQE: {@link Transfer#complete} moves the buffer's position, then tells this. */
  @Override
  void complete(int res, RingLoop loop) {
    write.complete(res, loop);
  }

  @Override
  void reject(Throwable why) { // neither request reached the kernel
    completion.writeFailed(why);
  }

  @Override
  public void completed(int bytes) {
    written = bytes;
    arrived();
  }

  @Override
  public void failed(Throwable error) {
    writeError = error;
    arrived();
  }

  private void arrived() {
    if (++arrived < 2) {
      return;
    }
    if (writeError != null) {
      completion.writeFailed(writeError);
    } else if (written < asked && !(written == requested && fsyncResult < 0)) {
      // A short write (the link broke: no fsync ran), or a capped one whose fsync ran and succeeded.
      completion.partlyWritten(written);
    } else if (fsyncResult < 0) {
      completion.forceFailed(Errors.io("fsync", -fsyncResult));
    } else {
      completion.forced(written);
    }
  }
}
