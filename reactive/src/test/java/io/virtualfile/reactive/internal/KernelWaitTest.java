package io.virtualfile.reactive.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

class KernelWaitTest {
  @Test
  void theStateIsTheFieldAfterTheLastParenthesis_whateverTheThreadIsCalled() {
    assertThat(KernelWait.state("1234 (io (1)) S 1 2 3")).isEqualTo('S');
    assertThat(KernelWait.state("1234 (a) b) R 1")).isEqualTo('R');
    assertThat(KernelWait.state("1234 (no state)")).isEqualTo((char) 0);
    assertThat(KernelWait.state("")).isEqualTo((char) 0);
  }

  @Test
  void aParkedThreadWaits_aSpinningOneDoesNot() throws Exception {
    assumeTrue(KernelWait.ofCurrentThread() != null, "the kernel gives no thread state here");
    AtomicReference<KernelWait> parkedState = new AtomicReference<>();
    AtomicReference<KernelWait> spinningState = new AtomicReference<>();
    CountDownLatch ready = new CountDownLatch(2);
    AtomicBoolean stop = new AtomicBoolean();
    Thread parked = new Thread(() -> {
      parkedState.set(KernelWait.ofCurrentThread());
      ready.countDown();
      while (!stop.get()) {
        LockSupport.park();
      }
    });
    Thread spinning = new Thread(() -> {
      spinningState.set(KernelWait.ofCurrentThread());
      ready.countDown();
      while (!stop.get()) {
        Thread.onSpinWait();
      }
    });
    parked.start();
    spinning.start();
    try {
      assertThat(ready.await(10, TimeUnit.SECONDS)).isTrue();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!parkedState.get().waiting() && System.nanoTime() < deadline) {
        Thread.sleep(1); // until the thread has reached park(); the condition is the proof
      }
      assertThat(parkedState.get().waiting()).as("parked").isTrue();
      assertThat(spinningState.get().waiting()).as("spinning").isFalse();
    } finally {
      stop.set(true);
      LockSupport.unpark(parked);
      parked.join();
      spinning.join();
    }
  }

  /** Failed once in CI (JDK 17, session 9): read right after join(), while the thread still exited. */
  @Test
  void anEndedThread_isNotWaiting() throws Exception {
    assumeTrue(KernelWait.ofCurrentThread() != null, "the kernel gives no thread state here");
    AtomicReference<KernelWait> state = new AtomicReference<>();
    Thread t = new Thread(() -> state.set(KernelWait.ofCurrentThread()));
    t.start();
    t.join();
    // join() returns when the Java thread has terminated; its kernel thread may still be on its way out
    // (the JVM's teardown, asleep for a moment) and only then leave /proc.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (state.get().waiting() && System.nanoTime() < deadline) {
      Thread.sleep(1); // the condition, not the sleep, is the proof
    }
    assertThat(state.get().waiting()).isFalse();
  }

  @Test
  void theRunQueueWaitOfASchedstatLine_isItsSecondField() {
    assertThat(KernelWait.runQueue("1200 34 7\n")).isEqualTo(34);
    assertThat(KernelWait.runQueue("1200")).isEqualTo(-1);
    assertThat(KernelWait.runQueue("")).isEqualTo(-1);
    assertThat(KernelWait.runQueue("a b c")).isEqualTo(-1);
  }

  @Test
  void aThreadsRunQueueWait_neverGoesBack() {
    KernelWait self = KernelWait.ofCurrentThread();
    assumeTrue(self != null && self.runQueueNanos() >= 0, "the kernel keeps no scheduler statistics here");
    long first = self.runQueueNanos();
    Thread.yield();
    assertThat(self.runQueueNanos()).isGreaterThanOrEqualTo(first);
  }
}
