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
 *   <li>{@code n >= 0}: the slot is <em>open for pins</em> and {@code n} callers have pinned it. While
 *       {@code n > 0} its descriptor is in use and must not be closed or replaced.</li>
 *   <li>{@link #LOCKED}: one thread owns the slot exclusively (binding a new descriptor, unbinding a
 *       broken one, or closing the cache). Pins fail while it is locked.</li>
 * </ul>
 * Only a transition {@code 0 -> LOCKED} takes the lock, so a descriptor is never closed while pinned.
 * {@link #channel} and {@link #tag} are written only while the slot is locked and read only while it is
 * pinned (or locked); the volatile write that leaves {@code LOCKED} publishes them to every later pin.
 *
 * <p>A tag is unique in the process (see {@link ClockCache}), so a handle that remembers
 * {@code (slot, tag)} can tell, once it holds a pin, whether the descriptor in the slot is still its own.
 *
 * @param <C> the descriptor type
 */
public final class Slot<C extends Closeable> {
  /** The state value of a slot owned exclusively by one thread. */
  static final int LOCKED = -1;

  private static final VarHandle STATE;

  static {
    try {
      STATE = MethodHandles.lookup().findVarHandle(Slot.class, "state", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** Pin count, or {@link #LOCKED}. Guards {@link #channel} and {@link #tag}; see the class comment. */
  private volatile int state;

  /** The clock's reference bit: set on every pin by its own binding, cleared as the hand passes. */
  volatile boolean referenced;

  /** Written only under {@link #LOCKED}. {@code null} when the slot is empty. */
  C channel;

  /** Written only under {@link #LOCKED}. {@code 0} when the slot is empty; real tags start at 1. */
  long tag;

  final int index;

  Slot(int index) {
    this.index = index;
  }

  /**
   * Pins the slot unless it is locked. On success the descriptor cannot be closed until {@link
   * #unpin()}; the caller still has to check {@link #tag()} to know whose descriptor it pinned.
   */
  boolean tryPin() {
    for (;;) {
      int s = state;
      if (s == LOCKED) {
        return false;
      }
      if (STATE.weakCompareAndSet(this, s, s + 1)) {
        return true;
      }
    }
  }

  /** Releases one pin taken by {@link #tryPin()} or handed out pinned by {@link ClockCache#install}. */
  public void unpin() {
    int previous = (int) STATE.getAndAdd(this, -1);
    assert previous > 0 : "unpin of an unpinned slot: " + previous;
  }

  /** Takes the exclusive lock if nobody holds a pin. */
  boolean tryLock() {
    return state == 0 && STATE.compareAndSet(this, 0, LOCKED);
  }

  /** Leaves {@link #LOCKED} with {@code pins} pins held by the caller (0 or 1). */
  void unlock(int pins) {
    state = pins;
  }

  int pins() {
    return state;
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
