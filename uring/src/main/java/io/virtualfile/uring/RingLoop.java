package io.virtualfile.uring;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;

/**
 * A thread that owns one {@link Ring}: it creates the ring, turns requests ({@link Op}s) into SQEs,
 * enters the kernel once per turn to submit them all and wait, and completes each request with its CQE
 * (between two completions of one batch it may also enter to submit only: {@link #reap}).
 * Completions therefore run on this thread; a request submitted from inside one (the next read of a
 * chain) is queued locally, with no wake-up and no hand-off, and goes to the kernel before the next
 * completion of the batch runs ({@link #reap}).
 *
 * <p><b>Thread safety.</b> {@link #submit} may be called from any thread. Other threads' requests go
 * through a lock-free queue; if the loop is asleep in {@code io_uring_enter}, the submitter wakes it by
 * adding to an eventfd on which the loop keeps an {@code IORING_OP_READ} armed, so the wait ends with
 * that read's completion. Everything else is touched by the loop's thread only.
 *
 * <p><b>Memory.</b> The ring, the bounce buffers and the wake-up read's buffer are freed only after
 * every request that the kernel took has completed: shut down, the loop rejects new requests, waits for
 * the ones in flight, completes the wake-up read by adding to the eventfd itself, and only then closes
 * the ring and frees the memory. A request that never completes keeps the loop (and its memory) alive.
 */
final class RingLoop implements Runnable {
  /** SQ entries; the CQ has twice as many, which bounds the requests in flight. */
  static final int ENTRIES = 256;

  /**
   * Requests that a turn may complete without the ring ({@link Op#completedInline}) before the rest go
   * to the kernel: each may run a chain of inline reads, and meanwhile no CQE is reaped.
   */
  static final int INLINE_PER_TURN = 4;

  /** user_data of the wake-up read; requests use their slot index, which is never negative. */
  private static final long WAKE = -1;
  /** user_data of an SQE that was taken but not filled (a NOP): its CQE is dropped. */
  private static final long IGNORED = -2;

  private static final int RUNNING = 0;
  private static final int CLOSING = 1;
  private static final int TERMINATED = 2;

  private static final VarHandle SLEEPING;
  private static final VarHandle RUN_STATE;

  static {
    try {
      MethodHandles.Lookup l = MethodHandles.lookup();
      SLEEPING = l.findVarHandle(RingLoop.class, "sleeping", boolean.class);
      RUN_STATE = l.findVarHandle(RingLoop.class, "runState", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private static final System.Logger LOG = System.getLogger(RingLoop.class.getName());

  private final Thread thread;
  private final int setupFlags;
  private final Ring.Setup setup;
  private final CompletableFuture<Ring> started = new CompletableFuture<>();

  /** Requests from other threads. */
  private final ConcurrentLinkedQueue<Op> remote = new ConcurrentLinkedQueue<>();

  /*
   * Wake-up invariant: a request offered to `remote` is either seen by the loop before it next waits,
   * or answered by an eventfd signal. Both sides write before they read: the loop sets `sleeping`, then
   * looks at `remote` (and does not wait if it is not empty); a submitter offers, then reads `sleeping`
   * and, if set, clears it with one compareAndSet and signals. Volatile accesses are totally ordered, so
   * at least one side sees the other; the compareAndSet makes it one signal per sleep.
   */
  private volatile boolean sleeping;

  /*
   * RUNNING -> CLOSING (shutdown) -> TERMINATED (the loop's last act before freeing memory). A submitter
   * that offered a request and then reads TERMINATED takes it back (remove); the loop, after writing
   * TERMINATED, drains `remote`. remove and poll cannot both get one request, so it is rejected once.
   */
  private volatile int runState = RUNNING;

  // Loop thread only, below.
  private Ring ring;
  private Arena arena;
  private BouncePool bounce;
  private final ArrayDeque<Op> local = new ArrayDeque<>();
  private Op[] slots;
  private int[] freeSlots;
  private int freeTop;
  private int inFlight;
  /** The next queued request is a chain that needs more free slots than there are. */
  private boolean waitsForSlots;
  /** Guards {@link #eventFd} between other threads' signals and the loop's close. */
  private final Object eventFdLock = new Object();
  /** The wake-up eventfd; -1 before it is made and after it is closed. Written under the lock. */
  private int eventFd = -1;
  private MemorySegment wakeBuffer;
  private boolean wakeArmed;

  private RingLoop(String name, int setupFlags, Ring.Setup setup) {
    this.setupFlags = setupFlags;
    this.setup = setup;
    this.thread = new Thread(this, name);
    thread.setDaemon(true);
  }

  /**
   * Starts a loop thread and waits until it has set up its ring.
   *
   * @throws Ring.SetupException if the kernel refused the ring or the eventfd
   */
  static RingLoop start(String name, int setupFlags, Ring.Setup setup) throws Ring.SetupException {
    RingLoop loop = new RingLoop(name, setupFlags, setup);
    loop.thread.start();
    try {
      loop.started.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Ring.SetupException s) {
        throw s;
      }
      throw new IllegalStateException("io_uring loop failed to start", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      loop.shutdown();
      throw new IllegalStateException("interrupted while an io_uring loop started", e);
    }
    return loop;
  }

  /** Whether {@code t} is this loop's thread. */
  boolean isOwner(Thread t) {
    return t == thread;
  }

  /** The setup flags the kernel accepted. Only after {@link #start} returned. */
  int ringFlags() {
    return started.join().flags;
  }

  /** The loop's bounce buffers. Loop thread only. */
  BouncePool bounce() {
    return bounce;
  }

  /**
   * Runs {@code op} on this ring: queued locally if called on the loop's thread, else handed over (and
   * the loop woken if it sleeps). Rejected ({@link Op#reject}) once the loop is shut down.
   */
  void submit(Op op) {
    if (Thread.currentThread() == thread) {
      if (runState == RUNNING) {
        local.add(op);
      } else {
        op.reject(shutDown());
      }
      return;
    }
    if (runState != RUNNING) {
      op.reject(shutDown());
      return;
    }
    remote.offer(op);
    if (runState == TERMINATED && remote.remove(op)) {
      op.reject(shutDown());
      return;
    }
    if (sleeping && SLEEPING.compareAndSet(this, true, false)) {
      signal();
    }
  }

  /**
   * Adds to the eventfd, unless the loop has closed it: a submitter that won the wake-up may signal
   * late, after the loop woke for another reason and ended, and the descriptor's number may by then
   * belong to another file. {@link #eventFdLock} orders the signal before the close.
   */
  private void signal() {
    synchronized (eventFdLock) {
      if (eventFd >= 0) {
        Native.eventfdSignal(eventFd);
      }
    }
  }

  /**
   * Stops taking requests; the loop ends once the requests in flight completed, and then frees its ring.
   * Idempotent; does not wait.
   */
  void shutdown() {
    if (RUN_STATE.compareAndSet(this, RUNNING, CLOSING) && Thread.currentThread() != thread) {
      SLEEPING.setVolatile(this, false);
      signal();
    }
  }

  /** Whether {@link #shutdown} was called. */
  boolean isShutdown() {
    return runState != RUNNING;
  }

  /** Whether the loop waits in the kernel with nothing queued (for tests). */
  boolean isSleeping() {
    return sleeping;
  }

  /** Waits until the loop has ended (for tests). */
  void awaitTermination() throws InterruptedException {
    thread.join();
  }

  private static RejectedExecutionException shutDown() {
    return new RejectedExecutionException("the io_uring engine is shut down");
  }

  @Override
  public void run() {
    try {
      ring = Ring.open(ENTRIES, setupFlags, setup);
    } catch (Ring.SetupException | RuntimeException e) {
      runState = TERMINATED;
      started.completeExceptionally(e);
      return;
    }
    int efd = Native.eventfd();
    if (efd < 0) {
      ring.close();
      runState = TERMINATED;
      started.completeExceptionally(new Ring.SetupException("eventfd", -efd));
      return;
    }
    synchronized (eventFdLock) {
      eventFd = efd;
    }
    arena = Arena.ofConfined();
    bounce = new BouncePool(arena);
    wakeBuffer = arena.allocate(8, 8);
    int capacity = ring.cqEntries - 1; // one CQE stays free for the wake-up read
    slots = new Op[capacity];
    freeSlots = new int[capacity];
    for (int i = 0; i < capacity; i++) {
      freeSlots[i] = capacity - 1 - i;
    }
    freeTop = capacity;
    started.complete(ring);
    boolean clean = false;
    try {
      clean = loop();
    } catch (Throwable t) {
      LOG.log(System.Logger.Level.ERROR, "io_uring loop " + thread.getName() + " failed", t);
    } finally {
      terminate(clean);
    }
  }

  /** The turns; returns whether every request the kernel took has completed. */
  private boolean loop() {
    armWake();
    while (true) {
      fill();
      if (runState != RUNNING && inFlight == 0 && local.isEmpty() && remote.isEmpty()) {
        return drainWake();
      }
      boolean wait = local.isEmpty() && freeTop > 0 ? idle() : freeTop == 0 || waitsForSlots;
      int r = ring.submit(wait);
      sleeping = false;
      if (r < 0 && r != -Native.EAGAIN && r != -Native.EBUSY) {
        LOG.log(System.Logger.Level.ERROR, "io_uring_enter failed on " + thread.getName() + ": "
            + Errors.describe(-r) + "; its requests in flight are abandoned and their memory leaked");
        return false;
      }
      reap();
    }
  }

  /** Nothing queued locally: announce the sleep, then wait unless a request or a shutdown came. */
  private boolean idle() {
    sleeping = true;
    if (!remote.isEmpty() || runState != RUNNING) {
      sleeping = false;
      return false;
    }
    return true;
  }

  /**
   * Turns queued requests into SQEs while slots are free; submits early when the SQ fills up. Up to
   * {@link #INLINE_PER_TURN} of them may complete without the ring instead. A chain of linked requests
   * ({@link Op#linked}) goes into consecutive SQEs of one submission, or waits whole.
   */
  private void fill() {
    fill(INLINE_PER_TURN);
  }

  /** {@link #fill()}, letting at most {@code inline} requests complete without the ring. */
  private void fill(int inline) {
    waitsForSlots = false;
    while (freeTop > 0) {
      Op op = local.poll();
      if (op == null && (op = remote.poll()) == null) {
        return;
      }
      if (runState != RUNNING) {
        op.reject(shutDown());
        continue;
      }
      if (inline > 0 && op.completedInline()) {
        inline--;
        continue;
      }
      int length = chainLength(op);
      if (freeTop < length) { // a chain waits until completions free enough slots
        local.addFirst(op);
        waitsForSlots = true;
        return;
      }
      if (ring.sqFree() < length) { // hand the SQEs to the kernel, then go on (reaping only frees slots)
        ring.submit(false);
        reap();
        if (ring.sqFree() < length) {
          local.addFirst(op);
          return;
        }
      }
      if (length == 1) {
        prepare(op);
      } else {
        prepareChain(op, length);
      }
    }
  }

  private static int chainLength(Op op) {
    int length = 1;
    for (Op next = op.linked(); next != null; next = next.linked()) {
      length++;
    }
    return length;
  }

  private void prepare(Op op) {
    int slot = freeSlots[--freeTop];
    MemorySegment sqe = ring.nextSqe(slot);
    slots[slot] = op;
    inFlight++;
    try {
      op.prepare(sqe, this);
    } catch (Throwable t) { // a bug: the SQE stays a NOP whose completion is ignored
      ignore(sqe, slot);
      op.reject(t);
    }
  }

  /**
   * Prepares {@code op} and the requests linked after it into consecutive SQEs, each with a slot. If one
   * of them throws (a bug), none of the chain runs: each SQE taken becomes a NOP whose completion is
   * ignored (unlinked), and the chain is rejected through its first request.
   */
  private void prepareChain(Op op, int length) {
    MemorySegment[] sqes = new MemorySegment[length];
    int[] taken = new int[length];
    int i = 0;
    try {
      for (Op o = op; o != null; o = o.linked(), i++) {
        taken[i] = freeSlots[--freeTop];
        sqes[i] = ring.nextSqe(taken[i]);
        slots[taken[i]] = o;
        inFlight++;
        o.prepare(sqes[i], this);
      }
    } catch (Throwable t) {
      for (int j = 0; j <= i; j++) {
        ignore(sqes[j], taken[j]);
      }
      op.reject(t);
    }
  }

  /** Makes a taken SQE a NOP whose completion is dropped, and frees its slot. */
  private void ignore(MemorySegment sqe, int slot) {
    sqe.fill((byte) 0);
    sqe.set(java.lang.foreign.ValueLayout.JAVA_LONG, Ring.SQE_USER_DATA, IGNORED);
    release(slot);
  }

  private Op release(int slot) {
    Op op = slots[slot];
    slots[slot] = null;
    freeSlots[freeTop++] = slot;
    inFlight--;
    return op;
  }

  /** A {@link #reap} is on the stack (a nested one, from {@link #fill}, submits nothing early). */
  private boolean reaping;

  /**
   * Completes the CQEs that are ready, each given back to the kernel before its request completes (so
   * that a nested reap, from a fill that found the SQ full, never completes one twice). A request queued
   * by a completion while more CQEs wait goes to the kernel at once, not after the whole batch: a read
   * that goes to the device then starts one batch earlier (the block layer sends each submission to
   * the device as one burst). Once a request submitted so completes inside its own submission (the page
   * cache: nothing waits for the device), the rest of this batch is submitted with the next turn, in
   * one system call.
   */
  private void reap() {
    boolean outer = !reaping;
    reaping = true;
    boolean early = outer;
    try {
      // At most the CQEs ready now (those posted meanwhile wait for the next turn, which also takes
      // remote requests); fewer if a nested reap took some.
      for (int budget = ring.cqReady(); budget > 0 && ring.cqReady() > 0; budget--) {
        long userData = ring.cqeUserData(0);
        int res = ring.cqeRes(0);
        ring.advanceCq(1);
        if (userData == WAKE) {
          wakeArmed = false;
          if (runState == RUNNING) {
            armWake();
          }
        } else if (userData >= 0) {
          Op op = release((int) userData);
          try {
            op.complete(res, this);
          } catch (Throwable t) {
            Thread.UncaughtExceptionHandler h = thread.getUncaughtExceptionHandler();
            h.uncaughtException(thread, t);
          }
          if (early && !local.isEmpty() && ring.cqReady() > 0) {
            early = submitEarly();
          }
        }
      }
    } finally {
      reaping = !outer;
    }
  }

  /**
   * Submits what completions queued, without inline reads and without waiting; returns whether it is
   * worth doing again in this batch: not if a request completed inside the submission. If the kernel
   * refused the call, the SQEs stay published and the turn's own enter submits them (or reports its
   * failure).
   */
  private boolean submitEarly() {
    fill(0);
    int ready = ring.cqReady();
    int r = ring.submitOnly();
    return r >= 0 && ring.cqReady() == ready;
  }

  /** Keeps a read of the eventfd in the ring, so a signal ends the loop's wait. */
  private void armWake() {
    MemorySegment sqe = ring.nextSqe(WAKE);
    if (sqe == null) {
      ring.submit(false);
      sqe = ring.nextSqe(WAKE);
    }
    Ring.prep(sqe, Op.READ, eventFd, wakeBuffer.address(), 8, -1);
    wakeArmed = true;
  }

  /** Completes the wake-up read (it must not outlive its buffer). Returns true once it has. */
  private boolean drainWake() {
    if (wakeArmed) {
      signal();
    }
    while (wakeArmed) {
      int r = ring.submit(true);
      if (r < 0 && r != -Native.EAGAIN && r != -Native.EBUSY) {
        return false;
      }
      reap();
    }
    return true;
  }

  /**
   * Rejects what was never submitted; frees the ring and memory if nothing the kernel took is still
   * running ({@code clean}), else leaks them rather than let the kernel write freed memory.
   */
  private void terminate(boolean clean) {
    runState = TERMINATED;
    for (Op op; (op = local.poll()) != null || (op = remote.poll()) != null; ) {
      op.reject(shutDown());
    }
    if (!clean) {
      return;
    }
    ring.close();
    synchronized (eventFdLock) {
      Native.close(eventFd);
      eventFd = -1;
    }
    arena.close();
  }
}
