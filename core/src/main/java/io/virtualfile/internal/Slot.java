package io.virtualfile.internal;

import java.io.Closeable;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One place in a {@link ClockCache}: holds at most one open descriptor and the tag of the binding that
 * owns it.
 *
 * <h2>States</h2>
 * {@link #state} is the whole concurrency protocol of a slot:
 * <ul>
 *   <li>{@code n >= 0} without {@link #RETIRED}: the slot is <em>open for pins</em> and {@code n} callers
 *       have pinned it. While {@code n > 0} its descriptor is in use and must not be closed or
 *       replaced.</li>
 *   <li>{@code n | RETIRED}: the binding is being dropped (its file was closed, replaced or broken).
 *       No new pin is granted; the caller whose {@link #unpin()} releases the last pin closes the
 *       descriptor and empties the slot. So dropping a binding never waits for operations in flight.</li>
 *   <li>{@link #LOCKED}: one thread owns the slot exclusively, for a bounded amount of work (binding a
 *       new descriptor, or closing a retired one). Pins fail while it is locked.</li>
 *   <li>{@link #LENT}: the slot is empty, and its place in the bound is lent to a descriptor the cache
 *       does not hold, for one read ({@link OneTimeOpen}). Pins and locks fail; only the borrower
 *       leaves this state, when it has closed its descriptor. The cache's close does not wait for
 *       it.</li>
 *   <li>{@link #DEAD}: the cache is closed and the slot empty, for good.</li>
 * </ul>
 * Only the transitions {@code 0 -> LOCKED} and {@code RETIRED -> LOCKED} (the latter by the last pin's
 * holder alone) take the lock, so a descriptor is never closed while pinned. {@link #channel} and
 * {@link #tag} are written only while the slot is locked and read only while it is pinned (or locked);
 * the volatile write that leaves {@code LOCKED} publishes them to every later pin.
 *
 * <p>A tag is unique in the process (see {@link ClockCache}), so a handle that remembers
 * {@code (slot, tag)} can tell, once it holds a pin, whether the descriptor in the slot is still its own.
 *
 * @param <C> the descriptor type
 */
public final class Slot<C extends Closeable> {
  /** The state value of a slot owned exclusively by one thread. */
  static final int LOCKED = -1;

  /** The state value of an empty slot of a closed cache. */
  static final int DEAD = -2;

  /** The state value of an empty slot lent to a one-time read's own descriptor. */
  static final int LENT = -3;

  /** The state bit of a binding that is being dropped; see the class comment. */
  static final int RETIRED = 1 << 30;

  private static final int PINS = RETIRED - 1;

  private static final VarHandle STATE;

  static {
    try {
      STATE = MethodHandles.lookup().findVarHandle(Slot.class, "state", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /**
   * Pin count, possibly with {@link #RETIRED}, or {@link #LOCKED} or {@link #DEAD}. Guards {@link
   * #channel} and {@link #tag}; see the class comment.
   */
  private volatile int state;

  /** The clock's reference bit: set on every pin by its own binding, cleared as the hand passes. */
  volatile boolean referenced;

  /** Written only under {@link #LOCKED}. {@code null} when the slot is empty. */
  C channel;

  /** Written only under {@link #LOCKED}. {@code 0} when the slot is empty; real tags start at 1. */
  long tag;

  /** Told when the binding {@link #tag} loses this slot; written only under {@link #LOCKED}. */
  ClockCache.Owner owner;

  /** What a slot held, taken out of it by {@link #empty()}. */
  record Held<C>(C channel, ClockCache.Owner owner, long tag) {
    /** Tells the owner, if any, that its binding lost the slot. Call after the slot was released. */
    void tellLost() {
      if (owner != null) {
        owner.lost(tag);
      }
    }
  }

  /** Takes the descriptor, owner and tag out of the slot; the caller holds {@link #LOCKED}. */
  Held<C> empty() {
    Held<C> held = new Held<>(channel, owner, tag);
    channel = null;
    tag = 0;
    owner = null;
    return held;
  }

  final int index;

  /** Closes retired descriptors when their last pin goes. */
  private final ClockCache<C> cache;

  Slot(int index, ClockCache<C> cache) {
    this.index = index;
    this.cache = cache;
  }

  /**
   * Pins the slot unless it is locked, retired or dead. On success the descriptor cannot be closed
   * until {@link #unpin()}; the caller still has to check {@link #tag()} to know whose descriptor it
   * pinned.
   */
  boolean tryPin() {
    for (;;) {
      int s = state;
      if (s < 0 || (s & RETIRED) != 0) {
        return false;
      }
      if (STATE.weakCompareAndSet(this, s, s + 1)) {
        return true;
      }
    }
  }

  /**
   * Releases one pin taken by {@link #tryPin()} or handed out pinned by {@link ClockCache#install}. If
   * the binding was retired and this was its last pin, closes the descriptor now, on this thread.
   */
  public void unpin() {
    int previous = (int) STATE.getAndAdd(this, -1);
    assert (previous & PINS) > 0 && previous >= 0 : "unpin of an unpinned slot: " + previous;
    if (previous == (RETIRED | 1)) {
      // RETIRED with no pins: no other thread can change that state (pins and locks both fail on it).
      STATE.setVolatile(this, LOCKED);
      cache.reclaim(this);
    }
  }

  /** Marks the binding retired; the caller holds a pin, so the slot is neither locked nor dead. */
  void retire() {
    for (;;) {
      int s = state;
      assert s > 0 : "retire without a pin: " + s;
      if ((s & RETIRED) != 0 || STATE.weakCompareAndSet(this, s, s | RETIRED)) {
        return;
      }
    }
  }

  /** Takes the exclusive lock if nobody holds a pin and the binding is not retired. */
  boolean tryLock() {
    return state == 0 && STATE.compareAndSet(this, 0, LOCKED);
  }

  /** Leaves {@link #LOCKED} with {@code pins} pins held by the caller (0 or 1), or for {@link #DEAD}. */
  void unlock(int newState) {
    state = newState;
  }

  /** The raw state word, for {@link ClockCache#close()}. */
  int state() {
    return state;
  }

  /** From {@code expected} to {@code update}, for {@link ClockCache#close()}. */
  boolean compareAndSetState(int expected, int update) {
    return STATE.compareAndSet(this, expected, update);
  }

  /** Pins held now: a racy snapshot, for monitoring. */
  int pins() {
    int s = state;
    return s < 0 ? 0 : s & PINS;
  }

  boolean isIdle() {
    return state == 0;
  }

  /** The descriptor; call only while holding a pin. */
  public C channel() {
    return channel;
  }

  /** The tag of the binding that owns the descriptor; meaningful only while holding a pin. */
  public long tag() {
    return tag;
  }
}
