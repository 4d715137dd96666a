package io.virtualfile.internal;

import io.virtualfile.FileClosedException;
import io.virtualfile.FileIoListener;

import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed array of descriptor slots with clock (second-chance) replacement. Both {@code
 * OpenFileCache} (for {@code FileChannel}) and the reactive engine (for {@code
 * AsynchronousFileChannel}) run on this one class.
 *
 * <h2>Bound</h2>
 * At most {@link #capacity()} descriptors are held by the slots at any moment, and a miss claims its
 * slot ({@link #reserve()}) <em>before</em> it opens the file, so the descriptors this cache opens never
 * exceed its capacity, however many misses run at once. The price: a miss whose open then fails (the
 * file is gone) has evicted a descriptor for nothing. Descriptors pinned by in-flight operations are
 * never closed; when every slot is pinned or reserved a miss waits (see below), holding no descriptor.
 *
 * <h2>Concurrency</h2>
 * Each slot is guarded by its own state word ({@link Slot}); there is no cache-wide lock. A hit is one
 * CAS on the slot's pin count plus a read of its tag. The clock hand is an {@link AtomicLong} that
 * every miss advances; two misses never claim the same slot because claiming is a {@code 0 -> LOCKED}
 * CAS. A slot lock is held for a bounded amount of work: a reservation (closing the evicted
 * descriptor, then the miss's open of its file), or closing one retired descriptor. A slot lent to a
 * one-time read ({@link #lend()}) is not locked but {@link Slot#LENT}, for as long as that read takes.
 *
 * <h2>Dropping a binding</h2>
 * {@link #retire} never waits for operations in flight: it marks the binding retired, so that no new
 * pin is granted, and the thread that releases its last pin closes the descriptor (see {@link Slot}).
 * Closing a handle, a library overwrite and a broken descriptor all drop bindings this way.
 *
 * <h2>Eviction</h2>
 * A miss walks the hand over the slots. A slot that is pinned or locked is skipped. A slot whose
 * reference bit is set gets a second chance: the bit is cleared and the hand moves on. The first idle
 * slot with a clear bit is claimed, its old descriptor (if any) closed, and the new descriptor bound
 * under a fresh tag. The new binding starts referenced and pinned by the caller. The known weakness of
 * clock applies: under a uniform random access pattern it behaves like random replacement.
 *
 * <h2>When every slot is pinned</h2>
 * After two full turns without a victim, the miss parks and retries with back-off for at most {@link
 * #pinWait()}, then fails with an {@link IOException} that says so. An interrupt ends the wait at once
 * with an {@link InterruptedIOException} (the interrupt status stays set). Waiting is not fair: a miss
 * may lose a freed slot to another.
 *
 * <p><b>Liveness.</b> The wait ends with a slot once one slot's pins are all released, so it is live
 * exactly when every pin is released without a waiting miss being served first. The callers keep two
 * rules for that. First, nobody holds a pin while it waits for a slot (a pin lasts for one operation on
 * one file, and a handle takes its pin only after its miss is served). Second, nobody holds a pin while
 * its operation waits for a thread that a waiting miss may occupy: the pin is taken where the operation
 * then runs at once. The blocking {@code VirtualFile} pins and makes its call on the caller's thread;
 * the reactive engine pins in the IO task that makes the call, or hands the call to a thread that never
 * waits here (its {@code CachedIo} rule). An operation that pinned and then queued behind misses on a
 * bounded pool would break the second rule: once misses fill the pool, nobody unpins, and they all
 * fail after {@link #pinWait()}. Within the rules a wait fails only if the operations in flight hold
 * every slot that long themselves (a device that hangs, say).
 *
 * <h2>Events</h2>
 * {@link #events()} are told each eviction (the close of the evicted descriptor) and each wait for a
 * slot when every slot was pinned; the files on this cache tell them the rest. A miss reads the
 * listener once per eviction and once per wait, so a hit never touches it.
 *
 * <h2>Tags</h2>
 * Tags come from one process-wide counter, so a tag names one binding of one descriptor for the life
 * of the process. A handle remembers {@code (slot, tag)}; any mixed or stale read of the pair fails the
 * tag check and falls back to the slow path, never to somebody else's descriptor.
 *
 * @param <C> the descriptor type
 */
public final class ClockCache<C extends Closeable> {
  private static final System.Logger LOG = System.getLogger(ClockCache.class.getName());

  /** Who bound a slot: told when its binding loses the slot. */
  @FunctionalInterface
  interface Owner {
    /**
     * The binding {@code tag} lost its slot (evicted, or retired and now closed). Called on the thread
     * that closed the descriptor, after the slot was released; it must not block.
     */
    void lost(long tag);
  }

  /**
   * The bindings that handles of one file may share, by share key ({@link FileBinding#shareKey}). An
   * entry lives while its binding has handles or a descriptor in this cache: see {@link FileBinding}.
   */
  final ConcurrentHashMap<Object, FileBinding<C>> shared = new ConcurrentHashMap<>();

  /** One-time reads' recent misses, by share key: their admission filter ({@link OneTimeOpen}). */
  final Doorkeeper oneTimeMisses;

  /** Process-wide so that a tag can never be reused by another binding, in any cache. */
  private static final AtomicLong TAGS = new AtomicLong();

  private final Slot<C>[] slots;
  private final Duration pinWait;

  /** Position of the clock hand; only its value modulo the capacity matters. */
  private final AtomicLong hand = new AtomicLong();

  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder evictions = new LongAdder();

  /**
   * Slots that hold a descriptor, cached or lent ({@link #lend()}); changed only by the thread that holds
   * the slot's lock, or by the borrower of a lent slot.
   */
  private final AtomicInteger open = new AtomicInteger();

  /** Who is told about evictions and waits for a slot (and, through the files on this cache, the rest). */
  private final Events events = new Events();

  /** Set once by {@link #close()}; after it no pin is granted and no descriptor is installed. */
  private volatile boolean closed;

  /** Makes {@link #close()} run once. */
  private final AtomicBoolean closeOnce = new AtomicBoolean();

  @SuppressWarnings("unchecked")
  public ClockCache(int capacity, Duration pinWait) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity < 1: " + capacity);
    }
    if (pinWait.isNegative()) {
      throw new IllegalArgumentException("pinWait < 0: " + pinWait);
    }
    this.slots = new Slot[capacity];
    for (int i = 0; i < capacity; i++) {
      slots[i] = new Slot<>(i, this);
    }
    this.pinWait = pinWait;
    this.oneTimeMisses = new Doorkeeper(capacity);
  }

  public int capacity() {
    return slots.length;
  }

  /** How long a miss waits for a slot when every slot is pinned. */
  public Duration pinWait() {
    return pinWait;
  }

  public long hits() {
    return hits.sum();
  }

  public long misses() {
    return misses.sum();
  }

  public long evictions() {
    return evictions.sum();
  }

  /** Slots that currently hold an open descriptor (cached, or lent to a one-time read). */
  public int openDescriptors() {
    return open.get();
  }

  public boolean isClosed() {
    return closed;
  }

  /** The listeners of this cache and of the files on it. */
  public Events events() {
    return events;
  }

  /**
   * Pins {@code slot} if it still holds the binding {@code tag}; the hit path. Returns {@code false}
   * when the binding is gone (evicted, discarded) or the slot is locked, and then holds no pin.
   */
  boolean tryPin(Slot<C> slot, long tag) throws FileClosedException {
    if (!slot.tryPin()) {
      return false;
    }
    if (slot.tag != tag) {
      slot.unpin();
      return false;
    }
    if (closed) {
      slot.unpin();
      throw closedException();
    }
    if (!slot.referenced) {
      slot.referenced = true; // written only when clear: a hit does not dirty a shared cache line
    }
    hits.increment();
    return true;
  }

  /**
   * Binds {@code channel} to a slot chosen by the clock and returns that slot pinned once for the
   * caller: {@link #reserve()} and {@link #bind}. If no slot can be had the channel is closed and the
   * failure thrown; it is never leaked. (A miss reserves first and opens after, so that no descriptor
   * is open beyond the slots; this form is for a descriptor that is already open.)
   */
  Slot<C> install(C channel, Owner owner) throws IOException {
    Slot<C> s;
    try {
      s = reserve();
    } catch (IOException | RuntimeException | Error e) {
      closeReporting(channel, e);
      throw e;
    }
    return bind(s, channel, owner);
  }

  /**
   * Claims a slot chosen by the clock for a descriptor about to be opened: closes the descriptor it
   * held (an eviction) and returns it {@link Slot#LOCKED}, empty. The caller must end the reservation
   * with {@link #bind} or {@link #unreserve}, soon: {@link #close()} waits for it. Reserving before
   * opening is what bounds the descriptors by the slots, however many misses run at once: a miss that
   * waits for a slot holds no descriptor.
   *
   * @throws IOException if every slot stayed pinned for {@link #pinWait()}
   * @throws InterruptedIOException if interrupted while it waits (the interrupt status stays set)
   */
  Slot<C> reserve() throws IOException {
    misses.increment();
    final int n = slots.length;
    long deadline = 0;
    long waitStart = 0;
    FileIoListener waitListener = Events.NONE; // read when a wait begins
    long parkNanos = 10_000;
    for (;;) {
      for (int step = 0; step < 2 * n; step++) {
        if (closed) {
          throw closedException();
        }
        Slot<C> s = slots[(int) Long.remainderUnsigned(hand.getAndIncrement(), n)];
        if (!s.isIdle()) {
          continue;
        }
        if (s.referenced) {
          s.referenced = false;
          continue;
        }
        if (!s.tryLock()) {
          continue;
        }
        Slot.Held<C> old = s.empty();
        if (old.channel() != null) {
          open.decrementAndGet();
          evictions.increment();
          FileIoListener l = events.listener();
          long t0 = Events.start(l);
          IOException failure = closeEvicted(old.channel());
          Events.operation(l, FileIoListener.Operation.EVICTION, t0, 0, failure);
          old.tellLost();
        }
        if (closed) { // close() is waiting for this lock: leave the slot dead, as close() would
          s.unlock(Slot.DEAD);
          throw closedException();
        }
        if (deadline != 0) {
          Events.pinWait(waitListener, waitStart, true);
        }
        return s;
      }
      // Two full turns found nothing idle: every slot is pinned (or reserved by other misses).
      if (Thread.currentThread().isInterrupted()) { // parkNanos would return at once: no hot spin
        if (deadline != 0) {
          Events.pinWait(waitListener, waitStart, false);
        }
        throw new InterruptedIOException(
            "interrupted while waiting for one of " + n + " descriptor slots, all pinned by operations"
                + " in flight");
      }
      long now = System.nanoTime();
      if (deadline == 0) {
        deadline = now + pinWait.toNanos();
        waitStart = now;
        waitListener = events.listener();
      } else if (now - deadline >= 0) {
        Events.pinWait(waitListener, waitStart, false);
        throw new IOException(
            "all " + n + " descriptor slots stayed pinned by in-flight operations for " + pinWait
                + "; raise the cache capacity or bound the concurrency");
      }
      LockSupport.parkNanos(parkNanos);
      parkNanos = Math.min(parkNanos * 2, 5_000_000);
    }
  }

  /**
   * Ends the reservation of {@code s} ({@link #reserve()}) by binding {@code channel} to it under a
   * fresh tag, referenced and pinned once for the caller. If the cache closed meanwhile, the slot dies
   * and the channel is closed.
   */
  Slot<C> bind(Slot<C> s, C channel, Owner owner) throws FileClosedException {
    if (closed) { // close() is waiting for this lock
      s.unlock(Slot.DEAD);
      FileClosedException e = closedException();
      closeReporting(channel, e);
      throw e;
    }
    s.channel = channel;
    s.tag = TAGS.incrementAndGet();
    s.owner = owner;
    s.referenced = true;
    open.incrementAndGet();
    s.unlock(1);
    return s;
  }

  /**
   * Reserves a slot as a miss does ({@link #reserve()}: an eviction if the clock finds no empty slot, a
   * wait while every slot is pinned) and lends its place in the bound to a descriptor that the caller
   * opens, uses for one read and closes ({@link OneTimeOpen}). The slot stays {@link Slot#LENT}, and
   * counts as holding a descriptor, until {@link #giveBack}. {@link #close()} does not wait for it.
   */
  Slot<C> lend() throws IOException {
    Slot<C> s = reserve();
    open.incrementAndGet();
    s.unlock(Slot.LENT); // close() waited for our LOCKED, or will see LENT and leave it to giveBack
    return s;
  }

  /** Ends {@link #lend()}, after the borrower closed its descriptor: the slot is empty and free. */
  void giveBack(Slot<C> s) {
    open.decrementAndGet();
    // Read after the slot left LENT: either close() sees the free slot and kills it, or we see `closed`.
    s.unlock(0);
    if (closed) {
      s.compareAndSetState(0, Slot.DEAD);
    }
  }

  /** Ends the reservation of {@code s} without a descriptor (the open failed): the slot is free. */
  void unreserve(Slot<C> s) {
    s.unlock(closed ? Slot.DEAD : 0);
  }

  /**
   * Drops the binding {@code tag} of {@code slot}: no new pin is granted on it, and its descriptor is
   * closed as soon as no operation holds it, by the thread that releases the last pin (maybe this one,
   * now). Never waits. Does nothing if the binding is already gone or going. The caller may hold a pin
   * on the slot; the descriptor then stays open until it releases it.
   */
  void retire(Slot<C> slot, long tag) {
    if (!slot.tryPin()) {
      return; // locked, retired or dead: this binding is being dropped, or is gone, without us
    }
    if (slot.tag == tag) { // stable while we hold a pin
      slot.retire();
    }
    slot.unpin();
  }

  /**
   * Called by the holder of a retired slot's last pin, with the slot {@link Slot#LOCKED}: closes the
   * descriptor and empties the slot (dead if the cache is closed). A close error has no caller to go to:
   * the descriptor's file no longer wants it, and durability never rests on close; it is logged.
   */
  void reclaim(Slot<C> slot) {
    Slot.Held<C> held = slot.empty();
    slot.referenced = false;
    open.decrementAndGet();
    // Read after our lock was taken: either close() sees LOCKED and waits for us, or we see `closed`.
    slot.unlock(closed ? Slot.DEAD : 0);
    closeEvicted(held.channel());
    held.tellLost();
  }

  /**
   * Closes every idle descriptor now; one in use is closed when its last operation finishes. Later pins
   * and installs fail with {@link ClosedChannelException}. Does not wait for operations in flight
   * (only, for a moment, for a slot lock, which is held for a bounded amount of work). Idempotent.
   *
   * @throws UncheckedIOException if closing a descriptor failed; every idle descriptor is still closed
   */
  public void close() {
    if (!closeOnce.compareAndSet(false, true)) {
      return;
    }
    closed = true;
    IOException failure = null;
    for (Slot<C> s : slots) {
      int spins = 0;
      for (;;) {
        int st = s.state();
        if (st == Slot.DEAD || st == Slot.LENT || (st > 0 && (st & Slot.RETIRED) != 0)) {
          break; // dead; lent (giveBack kills it); or its last unpin will close it and leave it dead
        }
        if (st == 0) {
          if (s.compareAndSetState(0, Slot.LOCKED)) {
            Slot.Held<C> held = s.empty();
            C c = held.channel();
            s.unlock(Slot.DEAD);
            held.tellLost();
            if (c != null) {
              open.decrementAndGet();
              try {
                c.close();
              } catch (IOException e) {
                if (failure == null) {
                  failure = e;
                } else {
                  failure.addSuppressed(e);
                }
              }
            }
            break;
          }
        } else if (st > 0) {
          if (s.compareAndSetState(st, st | Slot.RETIRED)) {
            break;
          }
        } else if (++spins > 100) { // LOCKED: a binder or a reclaimer is at work; both end soon
          LockSupport.parkNanos(10_000);
        } else {
          Thread.onSpinWait();
        }
      }
    }
    if (failure != null) {
      throw new UncheckedIOException("closing cached descriptors failed", failure);
    }
  }

  private static FileClosedException closedException() {
    return new FileClosedException("the open-file cache is closed");
  }

  /**
   * An evicted descriptor's close error has no caller to go to: the file's owner is not part of this
   * miss, and durability never rests on close (only {@code sync} makes data durable). It is logged.
   */
  private static IOException closeEvicted(Closeable c) {
    try {
      c.close();
      return null;
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "closing an evicted descriptor failed", e);
      return e;
    }
  }

  private static void closeReporting(Closeable c, Throwable primary) {
    try {
      c.close();
    } catch (IOException e) {
      primary.addSuppressed(e);
    }
  }
}
