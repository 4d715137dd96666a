package io.virtualfile.reactive.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import reactor.core.scheduler.NonBlocking;

/**
 * A fixed pool of IO threads for {@link java.nio.channels.AsynchronousFileChannel}, built so that a
 * chain of asynchronous operations costs no thread hand-off.
 *
 * <p>On Linux the channel runs each read or write as a task on its executor, and the completion
 * handler runs at the end of that task. Reactive code issues the next operation from that handler, so
 * most tasks are submitted <em>by an IO thread</em>. A {@link java.util.concurrent.ThreadPoolExecutor}
 * hands such a task to whichever worker is parked in its queue: one futex wake and one context switch
 * per operation, several times what a page-cached read itself costs (benchmarks/RESULTS.md). Here
 * a task submitted by a worker goes to that worker's <em>next slot</em> and runs on the same thread as
 * soon as the current task returns, with no wake; only a second task submitted from the same task, or
 * a task submitted by any other thread, goes to the shared queue and wakes a parked worker.
 *
 * <p>Two rules keep the slot from starving anyone:
 *
 * <ul>
 *   <li><b>Fairness.</b> A worker that has run {@value #FAIRNESS_INTERVAL} slot tasks in a row puts its
 *       slot task at the back of the shared queue and serves the head instead, so a busy chain does
 *       not hold back tasks that other threads submitted.
 *   <li><b>Stalls.</b> A slot task waits for its worker's current task to return. If that task blocks
 *       (a subscriber that blocks inside a signal, against the rules), an idle worker <em>watches</em>:
 *       it parks with a timeout of {@value #WATCH_INTERVAL_MILLIS} ms and steals the slot task of a worker
 *       that has run the same task for a whole interval. A stall therefore delays a slot task by at
 *       most about two intervals while another worker is idle, and never deadlocks the pool.
 * </ul>
 *
 * <h2>Threads that follow the device</h2>
 * An IO task blocks its thread in the kernel for as long as the device takes, so a fixed number of
 * threads caps how many reads the device sees at once. A worker counts as <em>blocked</em> while its
 * current task has run longer than {@value #BLOCKED_MICROS} µs (far longer than a page-cached 4 KiB read
 * or an open, about one read from the device) <em>and</em> the kernel says the thread waits (on Linux:
 * {@link KernelWait}; elsewhere the time alone decides). A worker that has merely lost its core to
 * another thread is not blocked: on a busy machine, page-cached work would otherwise look blocked all
 * the time, and extra threads would only take turns on the same cores. (A thread stopped for a garbage
 * collection waits in the kernel too, so long tasks that allocate may still start an extra thread now
 * and then.) Rule: when tasks wait in the
 * shared queue, no worker is parked and a worker is blocked, an <em>extra</em> IO thread starts, up to
 * {@code maxThreads} in all, and at most one on account of each blocked task. A worker that returns
 * from a long task judges itself by the account of its own time (see {@code waitedDuringTask}), not
 * by the time alone. It is checked when a task is queued, and by a worker after a long task or
 * every {@value #LOOK_EVERY} tasks. The extra thread is made and started by the pool's <em>starter</em>
 * thread, never by the thread that found it needed: {@link Thread#start()} returns only once the new
 * thread has begun to run, which on a busy machine takes as long as the new thread waits for a core,
 * and meanwhile the caller (a submitter such as an event loop, or an IO thread between two tasks) would
 * serve nobody. So every IO thread inherits (inheritable thread locals, context class loader) from the
 * thread that built the pool, never from a submitter. A pool that cannot grow has no starter. An extra
 * thread retires once it has found no task for {@code keepAlive}, or once
 * it has run {@value #RETIRE_AFTER_SHORT_TASKS} short tasks in a row while another worker is parked
 * (its chain goes back to the shared queue, where that worker takes it). The {@code threads} core threads never retire.
 * Short tasks start nothing, however many wait: page-cached work stays on the core threads.
 *
 * <p>Thread-safe. {@link #shutdown()} rejects new tasks and lets the workers finish the queued ones;
 * {@link #shutdownNow()} also interrupts them and returns the tasks that never ran. A task that throws
 * is reported to the worker's {@link Thread.UncaughtExceptionHandler}, and the worker carries on.
 */
public final class IoThreadPool extends AbstractExecutorService {
  /** Slot tasks a worker runs in a row before it serves the shared queue. */
  static final int FAIRNESS_INTERVAL = 16;

  /** A task that has run longer than this most likely waits in the kernel; see the class comment. */
  static final long BLOCKED_MICROS = 50;

  private static final long BLOCKED_NANOS = TimeUnit.MICROSECONDS.toNanos(BLOCKED_MICROS);

  /**
   * How long a reading of a worker's kernel state is trusted, whatever task the worker runs: it bounds
   * the reads of {@code /proc} to one per interval and worker (on a busy machine, preempted workers look
   * blocked by time all the time), at the price of a verdict up to an interval old.
   */
  static final long STATE_RECHECK_MICROS = 1000;

  private static final long STATE_RECHECK_NANOS = TimeUnit.MICROSECONDS.toNanos(STATE_RECHECK_MICROS);

  /** A worker looks for blocked workers after every this many tasks while work waits (see runTask). */
  static final int LOOK_EVERY = 8;

  /** An extra worker that ran this many short tasks in a row is not needed; see the class comment. */
  static final int RETIRE_AFTER_SHORT_TASKS = 64;

  /** How long a watcher sleeps between looks at the other workers' slots. */
  static final long WATCH_INTERVAL_MILLIS = 10;

  /** Returned by {@code awaitTask} to an extra worker whose keep-alive ran out. */
  private static final Runnable RETIRED = () -> {};

  private static final int RUNNING = 0;
  private static final int SHUTDOWN = 1;
  private static final int STOP = 2;

  private static final VarHandle NEXT;
  private static final VarHandle PARKED;
  private static final VarHandle RUN_STATE;
  private static final VarHandle NEXT_LOOK;
  private static final VarHandle STARTED;
  private static final VarHandle TASK_START;
  private static final VarHandle COMPENSATED;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      NEXT = lookup.findVarHandle(Worker.class, "next", Runnable.class);
      PARKED = lookup.findVarHandle(Worker.class, "parked", boolean.class);
      RUN_STATE = lookup.findVarHandle(IoThreadPool.class, "runState", int.class);
      NEXT_LOOK = lookup.findVarHandle(IoThreadPool.class, "nextBlockedLook", long.class);
      STARTED = lookup.findVarHandle(Worker.class, "started", long.class);
      TASK_START = lookup.findVarHandle(Worker.class, "taskStart", long.class);
      COMPENSATED = lookup.findVarHandle(Worker.class, "compensated", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final ConcurrentLinkedQueue<Runnable> shared = new ConcurrentLinkedQueue<>();

  /**
   * Index {@code i < threads} holds a core worker for good; the others hold an extra worker or null.
   * Entries change only under {@link #spawnLock}; readers scan racily and skip nulls.
   */
  private final AtomicReferenceArray<Worker> workers;

  private final int coreThreads;
  private final long keepAliveNanos;
  private final String namePrefix;

  /** Whether the workers are {@link NonBlocking} threads. */
  private final boolean nonBlocking;

  /** Guards adding and retiring extra workers (rare: a burst, or a keep-alive ending). */
  private final Object spawnLock = new Object();

  /** Workers alive (core and extra); written under {@link #spawnLock}. */
  private final AtomicInteger live = new AtomicInteger();

  /*
   * Invariant: idle == the number of workers whose `parked` flag is true, and a task offered to
   * `shared` is always either polled by a worker or answered by a wake. Both sides write before they
   * read: a submitter offers, then reads idle (and wakes a parked worker if there is one); a worker sets
   * parked, increments idle, then polls `shared` before it parks. So either the submitter sees the
   * worker parked, or the worker sees the task. The flag is cleared by exactly one compareAndSet, by a
   * waker or by the worker itself, and whoever clears it decrements idle.
   */
  private final AtomicInteger idle = new AtomicInteger();

  /**
   * Workers woken by another thread ({@link #signal}) that have not yet resumed: they are about to take
   * the waiting work, so work that waits while some are on their way is no reason for another thread.
   * Invariant: incremented once by whoever clears a parked worker's flag on its behalf, and decremented
   * once by that worker when it resumes and finds its flag cleared by someone else.
   */
  private final AtomicInteger waking = new AtomicInteger();

  /*
   * Invariant: whenever a slot holds a task and some worker is parked, a watcher exists or is being
   * woken to become one. A worker that fills its slot (a volatile write) then reads `watcher`, and wakes
   * a parked worker if it is null; a watcher that resigns (compareAndSet to null) then looks for a
   * worker that is not parked and takes the role back if there is one. Both sides write before they
   * read, so either the filler sees no watcher or the resigning watcher sees the busy filler.
   */
  private final AtomicReference<Worker> watcher = new AtomicReference<>();

  private volatile int runState = RUNNING;

  /**
   * Starts the extra workers ({@link #startLoop}); null if the pool cannot grow. Its own thread, so that
   * whoever finds an extra worker needed never waits for one to start (see the class comment).
   */
  private final Thread starter;

  /** How the starter starts an extra worker: {@link Thread#start()}, or a test's slower version. */
  private final Consumer<Thread> startExtra;

  /*
   * Invariant: startsWanted counts the requests for an extra worker (wantWorker) that the starter has
   * not yet served; each is served after it was made, by a start or by finding the start no longer
   * needed (no work waits, a worker is idle, or addWorker's bound and state checks). The requester
   * increments it, and unparks the starter when it was 0; the starter decrements it once per request
   * it serves, and parks only when it reads 0. A request made while a start is in flight is served by
   * a later turn of the loop, never merged into the one in flight: the pool grows by one thread per
   * request, as when the requester started the thread itself.
   */
  private final AtomicInteger startsWanted = new AtomicInteger();

  /** When {@link #anyBlocked} may look next (nanoTime); advanced by one compareAndSet per look. */
  @SuppressWarnings("unused") // accessed through NEXT_LOOK
  private volatile long nextBlockedLook = System.nanoTime();

  private final long watchIntervalNanos;

  /**
   * Starts {@code threads} daemon worker threads named {@code namePrefix + N}.
   *
   * @throws IllegalArgumentException if {@code threads < 1}
   */
  public IoThreadPool(int threads, String namePrefix) {
    this(threads, threads, 0, namePrefix, TimeUnit.MILLISECONDS.toNanos(WATCH_INTERVAL_MILLIS));
  }

  /**
   * Starts {@code threads} core threads, and extra ones up to {@code maxThreads} in all when work
   * waits (see the class comment), each retired after {@code keepAliveNanos} without a task.
   *
   * @throws IllegalArgumentException if {@code threads < 1}, {@code maxThreads < threads} or {@code
   *     keepAliveNanos < 0}
   */
  public IoThreadPool(int threads, int maxThreads, long keepAliveNanos, String namePrefix) {
    this(threads, maxThreads, keepAliveNanos, namePrefix, false);
  }

  /**
   * As {@link #IoThreadPool(int, int, long, String)}; with {@code nonBlocking}, the IO threads
   * implement Reactor's {@link NonBlocking} marker, so that BlockHound reports blocking calls on them
   * other than the engine's own (see {@code AsyncFileIo.Builder.nonBlockingIoThreads}), and {@code
   * Mono.block()} refuses to run on them.
   */
  public IoThreadPool(
      int threads, int maxThreads, long keepAliveNanos, String namePrefix, boolean nonBlocking) {
    this(threads, maxThreads, keepAliveNanos, namePrefix,
        TimeUnit.MILLISECONDS.toNanos(WATCH_INTERVAL_MILLIS), nonBlocking, Thread::start);
  }

  /** With another watch interval: tests that must not see a take-over, or want a quick one. */
  IoThreadPool(int threads, String namePrefix, long watchIntervalNanos) {
    this(threads, threads, 0, namePrefix, watchIntervalNanos, false, Thread::start);
  }

  IoThreadPool(
      int threads, int maxThreads, long keepAliveNanos, String namePrefix, long watchIntervalNanos) {
    this(threads, maxThreads, keepAliveNanos, namePrefix, watchIntervalNanos, false, Thread::start);
  }

  /** With {@code startExtra} in place of {@link Thread#start()} for extra threads: tests that slow it. */
  IoThreadPool(
      int threads, int maxThreads, long keepAliveNanos, String namePrefix, Consumer<Thread> startExtra) {
    this(threads, maxThreads, keepAliveNanos, namePrefix,
        TimeUnit.MILLISECONDS.toNanos(WATCH_INTERVAL_MILLIS), false, startExtra);
  }

  private IoThreadPool(
      int threads, int maxThreads, long keepAliveNanos, String namePrefix, long watchIntervalNanos,
      boolean nonBlocking, Consumer<Thread> startExtra) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1: " + threads);
    }
    if (maxThreads < threads) {
      throw new IllegalArgumentException(
          "maxThreads < threads: " + maxThreads + " < " + threads);
    }
    if (keepAliveNanos < 0) {
      throw new IllegalArgumentException("keepAlive < 0: " + keepAliveNanos + " ns");
    }
    this.watchIntervalNanos = watchIntervalNanos;
    this.coreThreads = threads;
    this.keepAliveNanos = keepAliveNanos;
    this.namePrefix = namePrefix;
    this.nonBlocking = nonBlocking;
    this.startExtra = startExtra;
    workers = new AtomicReferenceArray<>(maxThreads);
    synchronized (spawnLock) {
      for (int i = 0; i < threads; i++) {
        workers.set(i, newWorker(i));
      }
      live.set(threads);
    }
    for (int i = 0; i < threads; i++) {
      workers.get(i).start();
    }
    if (maxThreads > threads) {
      starter = new Thread(this::startLoop, namePrefix + "starter");
      starter.setDaemon(true);
      starter.start();
    } else {
      starter = null;
    }
  }

  /** IO threads alive now, core and extra: a racy snapshot, for monitoring and tests. */
  public int threads() {
    return live.get();
  }

  /** Extra IO threads alive now (beyond the core ones): a racy snapshot, for monitoring. */
  public int extraThreads() {
    return Math.max(0, live.get() - coreThreads);
  }

  /**
   * Tasks submitted and not yet started: in the shared queue and in the workers' next slots. A racy
   * snapshot for monitoring, which walks the queue: call it at a scrape's pace, not per task.
   */
  public int queuedTasks() {
    int n = shared.size();
    for (int i = 0; i < workers.length(); i++) {
      Worker w = workers.get(i);
      if (w != null && w.next != null) {
        n++;
      }
    }
    return n;
  }

  private Worker newWorker(int index) {
    String name = namePrefix + (index + 1);
    return nonBlocking ? new NonBlockingWorker(name, index) : new Worker(name, index);
  }

  /** Has the starter start an extra worker; returns at once. Only where the pool may grow. */
  private void wantWorker() {
    if (startsWanted.getAndIncrement() == 0) {
      LockSupport.unpark(starter);
    }
  }

  /** The starter's loop: an extra worker per request, until the pool shuts down. */
  private void startLoop() {
    while (runState == RUNNING) {
      if (startsWanted.get() == 0) {
        LockSupport.park(this);
        continue;
      }
      startsWanted.decrementAndGet();
      if (shared.isEmpty() || idle.get() > 0 || waking.get() > 0) {
        continue; // the work that asked for a thread has one meanwhile
      }
      try {
        addWorker();
      } catch (Throwable t) { // no thread could be made: reported; the next request tries again
        Thread me = Thread.currentThread();
        me.getUncaughtExceptionHandler().uncaughtException(me, t);
      }
    }
  }

  /**
   * Starts an extra worker unless {@code maxThreads} are alive or the pool is shutting down. Called by
   * the starter only. If the thread cannot start, its place is freed and the failure thrown.
   */
  private void addWorker() {
    Worker w = null;
    synchronized (spawnLock) {
      if (runState != RUNNING || live.get() >= workers.length()) {
        return;
      }
      for (int i = coreThreads; i < workers.length(); i++) {
        if (workers.get(i) == null) {
          w = newWorker(i);
          workers.set(i, w);
          live.incrementAndGet();
          break;
        }
      }
    }
    if (w != null) {
      try {
        startExtra.accept(w);
      } catch (Throwable t) {
        w.retire();
        throw t;
      }
    }
  }

  @Override
  public void execute(Runnable task) {
    if (task == null) {
      throw new NullPointerException("task");
    }
    if (runState != RUNNING) {
      throw new RejectedExecutionException("the IO thread pool is shut down");
    }
    if (Thread.currentThread() instanceof Worker) {
      Worker w = (Worker) Thread.currentThread();
      if (w.pool() == this && w.next == null) {
        // Only the owner fills its slot, and thieves only empty it: seeing null, the owner may fill.
        NEXT.setVolatile(w, task);
        if (runState == STOP && NEXT.compareAndSet(w, task, null)) {
          // shutdownNow() came between the check and the fill, and may have emptied the slots before
          // it: take the task back (unless shutdownNow or this worker has taken it), so that every
          // accepted task runs or is returned, and none is left in a slot that no worker reads again.
          throw new RejectedExecutionException("the IO thread pool is shut down");
        }
        if (watcher.get() == null && idle.get() > 0) {
          wakeOne();
        }
        return;
      }
    }
    boolean othersWaiting = !shared.isEmpty();
    shared.offer(task);
    if (runState != RUNNING && shared.remove(task)) {
      // shutdown() came between the check and the offer, and the workers may have left already
      throw new RejectedExecutionException("the IO thread pool is shut down");
    }
    if (!wakeOne() && othersWaiting && waking.get() == 0 && live.get() < workers.length()
        && anyBlocked(null)) {
      wantWorker(); // threads are blocked in the kernel and work piles up
    }
  }

  /**
   * Whether some worker is blocked (see the class comment): worth another thread. Looks at most once
   * per {@link #BLOCKED_MICROS} µs (a worker must be blocked that long to count anyway), so that a
   * saturated pool, which asks on every submission, does not scan its workers each time.
   *
   * @param self the worker asking, whose long task has just returned (its kernel state now says it
   *     runs; see {@link Worker#waitedDuringTask}), or null
   */
  private boolean anyBlocked(Worker self) {
    long now = System.nanoTime();
    long next = nextBlockedLook;
    if (now - next < 0 || !NEXT_LOOK.compareAndSet(this, next, now + BLOCKED_NANOS)) {
      return false;
    }
    for (int i = 0; i < workers.length(); i++) {
      Worker w = workers.get(i);
      if (w != null) {
        long since = w.taskStart;
        if (since != 0 && now - since > BLOCKED_NANOS
            && (w == self ? w.waitedDuringTask(since) : w.waitsInKernel(now))
            && w.compensate(since)) { // once per blocked task, whether others or itself judged it
          return true;
        }
      }
    }
    return false;
  }

  /** Wakes one parked worker, if there is one; true if it did. */
  private boolean wakeOne() {
    if (idle.get() == 0) {
      return false;
    }
    for (int i = 0; i < workers.length(); i++) {
      Worker w = workers.get(i);
      if (w != null && w.parked && signal(w)) {
        return true;
      }
    }
    return false;
  }

  /** Clears {@code w}'s parked flag on its behalf and unparks it; true if this call cleared it. */
  private boolean signal(Worker w) {
    if (!w.clearParked()) {
      return false;
    }
    waking.incrementAndGet();
    LockSupport.unpark(w);
    return true;
  }

  @Override
  public void shutdown() {
    // A compareAndSet, so that a shutdown() racing shutdownNow() cannot turn STOP back into SHUTDOWN.
    RUN_STATE.compareAndSet(this, RUNNING, SHUTDOWN);
    wakeAll();
  }

  @Override
  public List<Runnable> shutdownNow() {
    runState = STOP;
    List<Runnable> neverRan = new ArrayList<>();
    for (Runnable t; (t = shared.poll()) != null; ) {
      neverRan.add(t);
    }
    for (Worker w : snapshot()) {
      Runnable t = w.takeNext();
      if (t != null) {
        neverRan.add(t);
      }
      w.interrupt();
    }
    wakeAll();
    return neverRan;
  }

  private void wakeAll() {
    if (starter != null) {
      LockSupport.unpark(starter); // it sees the pool shutting down and ends
    }
    for (Worker w : snapshot()) {
      if (!signal(w)) {
        LockSupport.unpark(w);
      }
    }
  }

  /** The workers alive now (retired ones may still be finishing their exit). */
  private List<Worker> snapshot() {
    List<Worker> all = new ArrayList<>();
    for (int i = 0; i < workers.length(); i++) {
      Worker w = workers.get(i);
      if (w != null) {
        all.add(w);
      }
    }
    return all;
  }

  @Override
  public boolean isShutdown() {
    return runState != RUNNING;
  }

  @Override
  public boolean isTerminated() {
    if (starter != null && starter.isAlive()) {
      return false;
    }
    for (Worker w : snapshot()) {
      if (w.isAlive()) {
        return false;
      }
    }
    return true;
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    long deadline = System.nanoTime() + unit.toNanos(timeout);
    if (starter != null) {
      TimeUnit.NANOSECONDS.timedJoin(starter, Math.max(1, deadline - System.nanoTime()));
    }
    for (Worker w : snapshot()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return isTerminated();
      }
      TimeUnit.NANOSECONDS.timedJoin(w, left);
    }
    return isTerminated();
  }

  @Override
  public String toString() {
    return "IoThreadPool{threads=" + live.get() + " of " + coreThreads + ".." + workers.length()
        + ", idle=" + idle.get() + ", queued="
        + shared.size() + (isShutdown() ? ", shut down" : "") + "}";
  }

  /** One IO thread. */
  private class Worker extends Thread {
    /** The next task; filled only by this worker, emptied by it or by a thief (see NEXT). */
    @SuppressWarnings("unused") // accessed through NEXT
    private volatile Runnable next;

    /** Set by this worker, cleared by one compareAndSet (see PARKED and IoThreadPool#idle). */
    private volatile boolean parked;

    /**
     * When the current task started ({@code System.nanoTime()}), or 0 between tasks or when fixed.
     * Written by this worker only, with release stores (no fence on the task path); others read it.
     */
    private volatile long taskStart;

    /**
     * The {@link #taskStart} of the task for which an extra thread was last asked on this worker's
     * account (0: none). One extra per blocked task, as {@code ForkJoinPool.managedBlock} compensates
     * once per blocking call: the looks of many threads within one reading of its state (they are
     * trusted for {@value #STATE_RECHECK_MICROS} µs) must not each ask for another thread.
     */
    private volatile long compensated;

    /** Tasks this worker has started; a watcher that sees it unchanged over an interval steals. */
    private volatile long started;

    /** This thread's kernel state, or null where the kernel gives none; set when the thread starts. */
    private volatile KernelWait kernel;

    /** The last reading of {@link #kernel} (any thread writes it). */
    private volatile StateReading reading;

    /** Owner-only: nanoseconds spent in {@code awaitTask} (idle, or about to be), in all. */
    private long idleNanos;

    /**
     * Owner-only: when this worker last judged whether it waited in the kernel during its tasks
     * ({@link #waitedDuringTask}), and its CPU time, {@link KernelWait#runQueueNanos} (-1: no account
     * of its time can be had) and {@link #idleNanos} then.
     */
    private long judgedAt;
    private long judgedCpu;
    private long judgedRunQueue;
    private long judgedIdle;

    /** Owner-only: tasks since this worker last looked for blocked workers after a task. */
    private int tasksSinceLook;

    /** Owner-only: short tasks this extra worker ran in a row. */
    private int shortStreak;

    /** Owner-only: slot tasks run in a row. */
    private int streak;

    /** Watcher-only: the other workers' {@link #started} at the previous look, by index. */
    private final long[] lastSeen = new long[workers.length()];

    /** This worker's index in {@link #workers}; below {@link #coreThreads} it never retires. */
    private final int index;

    Worker(String name, int index) {
      super(name);
      this.index = index;
      setDaemon(true);
    }

    private boolean isExtra() {
      return index >= coreThreads;
    }

    /**
     * An extra worker that found no task for a keep-alive leaves the table. It has already cleared its
     * own parked flag, so no waker counts on it; a task offered meanwhile that found no parked worker
     * is not stranded, because core workers never leave: the busy ones poll the shared queue when
     * their task returns, and a parked one is woken.
     */
    private void retire() {
      synchronized (spawnLock) {
        workers.set(index, null);
        live.decrementAndGet();
      }
    }

    IoThreadPool pool() {
      return IoThreadPool.this;
    }

    Runnable takeNext() {
      return (Runnable) NEXT.getAndSet(this, null);
    }

    /**
     * The worker leaves its wait: clears its own parked flag, or, if a waker cleared it first, counts
     * itself out of {@link #waking}. Returns whether it cleared the flag itself (false: it was woken).
     */
    private boolean leaveWait() {
      if (clearParked()) {
        return true;
      }
      waking.decrementAndGet(); // on our way to the work we were woken for
      return false;
    }

    /** Clears the parked flag; true if this call cleared it (and so counted the worker out of idle). */
    boolean clearParked() {
      if (parked && PARKED.compareAndSet(this, true, false)) {
        idle.decrementAndGet();
        return true;
      }
      return false;
    }

    /**
     * Whether this worker waits in the kernel, as read at most {@link #STATE_RECHECK_MICROS} µs ago;
     * true where the kernel cannot tell.
     */
    boolean waitsInKernel(long now) {
      KernelWait k = kernel;
      if (k == null) {
        return true;
      }
      StateReading r = reading;
      if (r != null && now - r.at < STATE_RECHECK_NANOS) {
        return r.waiting;
      }
      boolean waiting = k.waiting();
      reading = new StateReading(now, waiting);
      return waiting;
    }

    /** Claims the one extra thread that its task started at {@code since} may ask for; true if won. */
    boolean compensate(long since) {
      long c = compensated;
      return c != since && COMPENSATED.compareAndSet(this, c, since);
    }

    /**
     * Whether this worker, whose task that started at {@code since} has just returned, waited in the
     * kernel during it. Its state now says nothing (it runs), and the other workers may have finished
     * their long tasks at the same moment, so their looks cannot decide for it either. A look during
     * the task decides if there was one. Else this thread's account of its own time decides: of the
     * time since it last judged itself, less its idle waits, what it spent neither on a core (its CPU
     * time) nor waiting for one ({@link KernelWait#runQueueNanos}) it spent waiting in the kernel.
     * Blocked if that is over {@value #BLOCKED_MICROS} µs and over half of that working time: a task that
     * was preempted, or computed, is not blocked however long it ran (on a busy machine page-cached
     * tasks run long all the time, and extras would only take turns on the same cores), nor one that a
     * safepoint stopped for a moment. Judged at most once per {@value #STATE_RECHECK_MICROS} µs, since a
     * judgement reads /proc; a task that returns sooner is not blocked now, and its time counts in the
     * next judgement. By the time alone where the kernel or the JVM gives no account.
     */
    boolean waitedDuringTask(long since) {
      StateReading r = reading;
      if (r != null && r.at - since >= 0) {
        return r.waiting;
      }
      if (judgedRunQueue < 0) {
        return true;
      }
      long now = System.nanoTime();
      if (now - judgedAt < STATE_RECHECK_NANOS) {
        return false;
      }
      long runQueue = kernel.runQueueNanos();
      long cpu = CpuTime.ofCurrentThread();
      if (runQueue < 0 || cpu < 0) {
        judgedRunQueue = -1;
        return true;
      }
      long working = (now - judgedAt) - (idleNanos - judgedIdle);
      long waited = working - (cpu - judgedCpu) - (runQueue - judgedRunQueue);
      judgedAt = now;
      judgedCpu = cpu;
      judgedRunQueue = runQueue;
      judgedIdle = idleNanos;
      return waited > BLOCKED_NANOS && waited * 2 > working;
    }

    @Override
    public void run() {
      KernelWait k = KernelWait.ofCurrentThread();
      kernel = k;
      judgedAt = System.nanoTime();
      judgedRunQueue = k == null ? -1 : k.runQueueNanos();
      judgedCpu = CpuTime.ofCurrentThread();
      if (judgedCpu < 0) {
        judgedRunQueue = -1;
      }
      while (runState != STOP) {
        // An interrupt left by a task must not reach the next one: the channel would close itself.
        Thread.interrupted();
        Runnable task = nextTask();
        if (task == null) {
          task = awaitTask();
          if (task == null) {
            return;
          }
          if (task == RETIRED) {
            retire();
            return;
          }
        }
        if (runTask(task)) {
          // An extra that ran only short tasks for a while: hand our chain back and leave.
          Runnable mine = takeNext();
          retire();
          if (mine != null) {
            shared.offer(mine);
            wakeOne();
          }
          return;
        }
      }
    }

    /** Runs {@code task}; true if this extra worker should retire now (see the class comment). */
    private boolean runTask(Runnable task) {
      STARTED.setRelease(this, started + 1);
      // Timed only where it matters: while the pool may grow, and on extras (which may retire).
      boolean timed = isExtra() || live.get() < workers.length();
      long start = timed ? System.nanoTime() : 0;
      TASK_START.setRelease(this, start);
      try {
        task.run();
      } catch (Throwable t) {
        getUncaughtExceptionHandler().uncaughtException(this, t);
      }
      if (!timed) {
        TASK_START.setRelease(this, 0L);
        return false;
      }
      long end = 0;
      if (idle.get() == 0 && waking.get() == 0 && !shared.isEmpty()
          && live.get() < workers.length()) {
        // Work waits for a thread. After a long task, look now (this worker may have been the one
        // blocked); else every LOOK_EVERY-th task, since a look costs more than a page-cached read.
        end = System.nanoTime();
        boolean ranLong = end - start > BLOCKED_NANOS;
        if (ranLong || ++tasksSinceLook >= LOOK_EVERY) {
          tasksSinceLook = 0;
          if (anyBlocked(ranLong ? this : null)) {
            wantWorker(); // work still waits while a worker is blocked: follow the device
          }
        }
      }
      TASK_START.setRelease(this, 0L);
      if (!isExtra()) {
        return false;
      }
      boolean blocked = (end != 0 ? end : System.nanoTime()) - start > BLOCKED_NANOS;
      shortStreak = blocked ? 0 : shortStreak + 1;
      // Only with a parked worker to take our chain over: else the chain would wait for a blocked one.
      return shortStreak >= RETIRE_AFTER_SHORT_TASKS && idle.get() > 0;
    }

    private Runnable nextTask() {
      Runnable task = takeNext();
      if (task == null) {
        streak = 0;
        return shared.poll();
      }
      if (++streak >= FAIRNESS_INTERVAL) {
        streak = 0;
        Runnable head = shared.poll();
        if (head != null) {
          shared.offer(task);
          wakeOne();
          return head;
        }
      }
      return task;
    }

    /** Parks until there is a task; null when the pool is shutting down and nothing is left. */
    private Runnable awaitTask() {
      long from = System.nanoTime();
      try {
        return waitForTask();
      } finally {
        idleNanos += System.nanoTime() - from;
      }
    }

    private Runnable waitForTask() {
      while (true) {
        parked = true;
        idle.incrementAndGet();
        Runnable task = shared.poll();
        if (task != null || runState != RUNNING) {
          leaveWait(); // a task, or nothing left to wait for (null)
          return task;
        }
        boolean watching = othersBusy() && watcher.compareAndSet(null, this);
        boolean timedOut = false;
        if (watching) {
          LockSupport.parkNanos(this, watchIntervalNanos);
        } else if (isExtra()) {
          long deadline = System.nanoTime() + keepAliveNanos;
          while (parked && runState == RUNNING) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
              timedOut = true;
              break;
            }
              LockSupport.parkNanos(this, left);
          }
        } else {
          while (parked && runState == RUNNING) {
              LockSupport.park(this);
          }
        }
        boolean signalled = !leaveWait();
        if (timedOut && !signalled) {
          return RETIRED; // nobody counted on us: leave
        }
        if (watching) {
          // Only a full interval says a task has stalled; a wake-up may come a microsecond after a look.
          task = signalled ? null : stealStalled();
          resign();
          if (task != null) {
            return task;
          }
        }
      }
    }

    private boolean othersBusy() {
      for (int i = 0; i < workers.length(); i++) {
        Worker w = workers.get(i);
        if (w != null && w != this && !w.parked) {
          return true;
        }
      }
      return false;
    }

    /** Steals the slot task of a worker that has run the same task since the previous look. */
    private Runnable stealStalled() {
      Runnable stolen = null;
      for (int i = 0; i < workers.length(); i++) {
        Worker w = workers.get(i);
        if (w == null) {
          continue;
        }
        long seen = w.started;
        if (stolen == null && w != this && seen == lastSeen[i]) {
          Runnable t = w.next;
          if (t != null && NEXT.compareAndSet(w, t, null)) {
            stolen = t;
          }
        }
        lastSeen[i] = seen;
      }
      return stolen;
    }

    private void resign() {
      watcher.compareAndSet(this, null);
    }
  }

  /** A worker's kernel state as read at {@code at} (nanoTime). */
  private record StateReading(long at, boolean waiting) {}

  /**
   * An IO thread that Reactor and BlockHound count as non-blocking. Its idle wait ({@code awaitTask})
   * parks; BlockHound is told that this is allowed.
   */
  private final class NonBlockingWorker extends Worker implements NonBlocking {
    NonBlockingWorker(String name, int index) {
      super(name, index);
    }
  }
}
