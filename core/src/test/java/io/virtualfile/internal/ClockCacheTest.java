package io.virtualfile.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The slot and clock invariants of {@link ClockCache}, on fake descriptors. */
class ClockCacheTest {
  /** A descriptor that knows whether it is in use and fails loudly if closed while in use. */
  static final class FakeChannel implements Closeable {
    final AtomicInteger users = new AtomicInteger();
    volatile boolean closed;
    static final AtomicReference<String> violation = new AtomicReference<>();

    void use() {
      users.incrementAndGet();
      if (closed) {
        violation.compareAndSet(null, "used after close");
      }
      Thread.onSpinWait();
      if (closed) {
        violation.compareAndSet(null, "closed during use");
      }
      users.decrementAndGet();
    }

    @Override
    public void close() {
      if (users.get() != 0) {
        violation.compareAndSet(null, "closed while " + users.get() + " users");
      }
      closed = true;
    }
  }

  @Test
  void allSlotsPinned_missWaitsThenFailsNamingTheCause() throws Exception {
    ClockCache<FakeChannel> cache = new ClockCache<>(2, Duration.ofMillis(200));
    cache.install(new FakeChannel(), null); // pinned, never released
    cache.install(new FakeChannel(), null);
    FakeChannel third = new FakeChannel();
    long start = System.nanoTime();
    assertThatThrownBy(() -> cache.install(third, null))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("all 2 descriptor slots stayed pinned");
    assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(200));
    assertThat(third.closed).as("the descriptor that found no slot is closed, not leaked").isTrue();
    assertThat(cache.openDescriptors()).isEqualTo(2);
  }

  @Test
  void allSlotsPinned_missProceedsOnceAPinIsReleased() throws Exception {
    ClockCache<FakeChannel> cache = new ClockCache<>(2, Duration.ofSeconds(10));
    Slot<FakeChannel> a = cache.install(new FakeChannel(), null);
    cache.install(new FakeChannel(), null);
    CompletableFuture<Slot<FakeChannel>> waiter = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try {
        waiter.complete(cache.install(new FakeChannel(), null));
      } catch (Throwable e) {
        waiter.completeExceptionally(e);
      }
    });
    t.start();
    while (t.getState() != Thread.State.TIMED_WAITING) { // parked in the slot wait: no slot was free
      Thread.onSpinWait();
    }
    assertThat(waiter).isNotDone();
    FakeChannel evicted = a.channel();
    a.unpin();
    Slot<FakeChannel> got = waiter.get(5, TimeUnit.SECONDS);
    assertThat(got).isSameAs(a);
    assertThat(evicted.closed).isTrue();
    assertThat(cache.evictions()).isEqualTo(1);
  }

  /** Fills three slots, then lets one miss sweep all reference bits clear: the hand rests on slot 1. */
  static List<Slot<FakeChannel>> threeSlotsSweptOnce(ClockCache<FakeChannel> cache) throws IOException {
    List<Slot<FakeChannel>> slots = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Slot<FakeChannel> s = cache.install(new FakeChannel(), null);
      s.unpin();
      slots.add(s);
    }
    Slot<FakeChannel> d = cache.install(new FakeChannel(), null); // clears 0, 1, 2 and takes 0
    d.unpin();
    assertThat(d).isSameAs(slots.get(0));
    return slots;
  }

  @Test
  void unreferencedSlotUnderTheHand_isTheVictim() throws Exception {
    ClockCache<FakeChannel> cache = new ClockCache<>(3, Duration.ofSeconds(1));
    List<Slot<FakeChannel>> slots = threeSlotsSweptOnce(cache);
    Slot<FakeChannel> e = cache.install(new FakeChannel(), null);
    assertThat(e).isSameAs(slots.get(1));
  }

  @Test
  void slotUsedSinceTheHandPassed_getsASecondChance() throws Exception {
    ClockCache<FakeChannel> cache = new ClockCache<>(3, Duration.ofSeconds(1));
    List<Slot<FakeChannel>> slots = threeSlotsSweptOnce(cache);
    Slot<FakeChannel> b = slots.get(1);
    assertThat(cache.tryPin(b, b.tag())).isTrue(); // a hit sets the reference bit
    b.unpin();
    Slot<FakeChannel> e = cache.install(new FakeChannel(), null);
    assertThat(e).as("the recently used slot was spared").isSameAs(slots.get(2));
  }

  @Test
  void staleTag_doesNotPinSomeoneElsesDescriptor() throws Exception {
    ClockCache<FakeChannel> cache = new ClockCache<>(1, Duration.ofSeconds(1));
    Slot<FakeChannel> s = cache.install(new FakeChannel(), null);
    long oldTag = s.tag();
    s.unpin();
    cache.install(new FakeChannel(), null).unpin();
    assertThat(cache.tryPin(s, oldTag)).isFalse();
    assertThat(s.pins()).isZero();
  }

  @Test
  void stress_aPinnedDescriptorIsNeverClosed_andTheBoundHolds() throws Exception {
    FakeChannel.violation.set(null);
    int capacity = 4;
    ClockCache<FakeChannel> cache = new ClockCache<>(capacity, Duration.ofSeconds(10));
    int threads = 6;
    int files = 32;
    @SuppressWarnings("unchecked")
    Slot<FakeChannel>[] bound = new Slot[files];
    long[] tags = new long[files];
    Object[] locks = new Object[files];
    for (int i = 0; i < files; i++) {
      locks[i] = new Object();
    }
    List<Thread> ts = new ArrayList<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    for (int t = 0; t < threads; t++) {
      int id = t;
      ts.add(new Thread(() -> {
        Random r = new Random(id);
        try {
          for (int op = 0; op < 100_000; op++) {
            int f = r.nextInt(files);
            Slot<FakeChannel> s;
            synchronized (locks[f]) {
              s = bound[f];
              if (s == null || !cache.tryPin(s, tags[f])) {
                s = cache.install(new FakeChannel(), null);
                bound[f] = s;
                tags[f] = s.tag();
              }
            }
            s.channel().use();
            int drop = r.nextInt(100);
            if (drop == 0) { // retire after our own unpin
              long tag = s.tag();
              s.unpin();
              cache.retire(s, tag);
            } else if (drop == 1) { // retire while we still use it: closed at the last unpin
              cache.retire(s, s.tag());
              s.channel().use();
              s.unpin();
            } else {
              s.unpin();
            }
            if (cache.openDescriptors() > capacity) {
              throw new AssertionError("open descriptors " + cache.openDescriptors());
            }
          }
        } catch (Throwable e) {
          failure.compareAndSet(null, e);
        }
      }));
    }
    ts.forEach(Thread::start);
    for (Thread t : ts) {
      t.join();
    }
    assertThat(failure.get()).isNull();
    assertThat(FakeChannel.violation.get()).isNull();
    assertThat(cache.evictions()).isPositive();
    cache.close();
    assertThat(cache.openDescriptors()).isZero();
    assertThat(FakeChannel.violation.get()).isNull();
  }

  @Test
  void close_doesNotWaitForAPin_andTheLastUnpinClosesTheDescriptor() throws Exception {
    ClockCache<FakeChannel> cache = new ClockCache<>(2, Duration.ofSeconds(1));
    Slot<FakeChannel> pinned = cache.install(new FakeChannel(), null);
    Slot<FakeChannel> idle = cache.install(new FakeChannel(), null);
    FakeChannel idleChannel = idle.channel();
    idle.unpin();
    cache.close(); // returns at once, with a pin held
    assertThat(idleChannel.closed).isTrue();
    FakeChannel c = pinned.channel();
    assertThat(c.closed).as("in use: not closed under its operation").isFalse();
    assertThat(cache.openDescriptors()).isEqualTo(1);
    pinned.unpin();
    assertThat(c.closed).isTrue();
    assertThat(cache.openDescriptors()).isZero();
    assertThat(cache.tryPin(pinned, pinned.tag())).isFalse();
    assertThatThrownBy(() -> cache.install(new FakeChannel(), null)).hasMessageContaining("closed");
  }

  @Test
  void lend_takesAPlaceInTheBound_andGiveBackLeavesAnEmptySlotForTheNextMissWithoutEviction()
      throws Exception {
    ClockCache<FakeChannel> cache = new ClockCache<>(2, Duration.ofMillis(100));
    Slot<FakeChannel> a = cache.lend();
    Slot<FakeChannel> b = cache.lend();
    assertThat(cache.openDescriptors()).isEqualTo(2);
    assertThatThrownBy(cache::lend).as("both places lent").hasMessageContaining("pinned");
    cache.giveBack(a);
    cache.giveBack(b);
    assertThat(cache.openDescriptors()).isZero();
    cache.install(new FakeChannel(), null).unpin();
    cache.install(new FakeChannel(), null).unpin();
    assertThat(cache.evictions()).isZero();
  }

  /** A lent slot's read may be completed by a thread that the closing thread would wait for. */
  @Test
  void close_doesNotWaitForALentSlot_andGiveBackAfterTheCloseKillsIt() throws Exception {
    ClockCache<FakeChannel> cache = new ClockCache<>(2, Duration.ofSeconds(1));
    Slot<FakeChannel> lent = cache.lend();
    CompletableFuture<Void> closing = CompletableFuture.runAsync(cache::close);
    closing.get(5, TimeUnit.SECONDS);
    cache.giveBack(lent);
    assertThat(lent.state()).isEqualTo(Slot.DEAD);
    assertThat(cache.openDescriptors()).isZero();
    assertThatThrownBy(cache::lend).hasMessageContaining("closed");
  }

  @Test
  void retire_ofAPinnedBinding_refusesNewPins_andClosesAtTheLastUnpin() throws Exception {
    ClockCache<FakeChannel> cache = new ClockCache<>(1, Duration.ofSeconds(1));
    Slot<FakeChannel> s = cache.install(new FakeChannel(), null);
    long tag = s.tag();
    assertThat(cache.tryPin(s, tag)).isTrue(); // two operations in flight
    cache.retire(s, tag); // does not wait
    assertThat(cache.tryPin(s, tag)).as("no new pin of a retired binding").isFalse();
    FakeChannel c = s.channel();
    s.unpin();
    assertThat(c.closed).isFalse();
    s.unpin();
    assertThat(c.closed).isTrue();
    assertThat(cache.openDescriptors()).isZero();
    Slot<FakeChannel> next = cache.install(new FakeChannel(), null);
    assertThat(next).as("the emptied slot is reused").isSameAs(s);
    assertThat(cache.evictions()).as("nothing had to be evicted").isZero();
  }

  @Test
  void retire_ofAStaleTag_leavesTheNewBindingAlone() throws Exception {
    ClockCache<FakeChannel> cache = new ClockCache<>(1, Duration.ofSeconds(1));
    Slot<FakeChannel> s = cache.install(new FakeChannel(), null);
    long oldTag = s.tag();
    s.unpin();
    Slot<FakeChannel> again = cache.install(new FakeChannel(), null);
    again.unpin();
    cache.retire(s, oldTag);
    assertThat(cache.tryPin(again, again.tag())).isTrue();
    assertThat(again.channel().closed).isFalse();
  }

  /** Regression: an interrupted waiter spun hot until the pin wait ended, then blamed the pins. */
  @Test
  void allSlotsPinned_interruptedWaiter_failsAtOnceSayingSo_andKeepsItsInterruptStatus()
      throws Exception {
    ClockCache<FakeChannel> cache = new ClockCache<>(1, Duration.ofSeconds(30));
    cache.install(new FakeChannel(), null); // pinned for good
    CompletableFuture<Throwable> result = new CompletableFuture<>();
    Thread waiter = new Thread(() -> {
      try {
        cache.install(new FakeChannel(), null);
        result.complete(null);
      } catch (Throwable t) {
        result.complete(Thread.currentThread().isInterrupted() ? t : new AssertionError("status lost", t));
      }
    });
    waiter.start();
    while (waiter.getState() != Thread.State.TIMED_WAITING) { // parked in the slot wait
      Thread.onSpinWait();
    }
    long start = System.nanoTime();
    waiter.interrupt();
    Throwable t = result.get(10, TimeUnit.SECONDS);
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(5_000);
    assertThat(t).isInstanceOf(java.io.InterruptedIOException.class).hasMessageContaining("interrupted");
  }
}
