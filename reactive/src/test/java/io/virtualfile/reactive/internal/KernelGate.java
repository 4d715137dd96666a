package io.virtualfile.reactive.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;

/**
 * A gate that threads wait at <em>in the kernel</em>, as a read from the device waits, rather than in a
 * futex as a parked thread, a lock or {@code Thread.sleep} do (which {@link KernelWait} does not count as
 * IO): each waiter blocks reading an empty pipe of its own (one pipe per waiter, since a pipe's channel
 * lets one reader in at a time and queues the others on a lock), until {@link #open} closes them.
 */
final class KernelGate {
  /** The sinks of the waiters' pipes; guarded by this. */
  private final List<Pipe.SinkChannel> sinks = new ArrayList<>();

  /** Guarded by this. */
  private boolean open;

  /** Waits in the kernel until the gate opens (or the thread is interrupted). */
  void await() {
    Pipe pipe;
    try {
      pipe = Pipe.open();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    synchronized (this) {
      if (open) {
        return;
      }
      sinks.add(pipe.sink());
    }
    try (Pipe.SourceChannel source = pipe.source()) {
      source.read(ByteBuffer.allocate(1)); // returns -1 once the sink is closed
    } catch (IOException e) { // interrupted: the channel closed itself
      Thread.currentThread().interrupt();
    }
  }

  /** Lets every waiter through, now and later. */
  synchronized void open() {
    open = true;
    for (Pipe.SinkChannel sink : sinks) {
      try {
        sink.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** Waits in the kernel (in epoll, not a futex) for {@code millis}, as a read from the device does. */
  static void sleep(long millis) {
    try (Selector s = Selector.open()) {
      long deadline = System.nanoTime() + millis * 1_000_000;
      for (long left = millis; left > 0; left = (deadline - System.nanoTime()) / 1_000_000) {
        s.select(left);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
