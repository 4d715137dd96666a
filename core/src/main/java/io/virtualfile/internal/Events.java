package io.virtualfile.internal;

import io.virtualfile.CrashSafeOverwriteException.Step;
import io.virtualfile.FileIoListener;
import io.virtualfile.FileIoListener.Operation;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The listeners of one cache (core's or a reactive engine's), and the emission of their events.
 *
 * <h2>Cost when nobody listens</h2>
 * {@link #listener()} is {@link #NONE} until a listener is added. Every emitting site reads it once and
 * compares it with {@link #NONE} before it reads a clock or makes a call, so an unobserved operation pays
 * one field read and one comparison: <pre>{@code
 * FileIoListener l = events.listener();
 * long t0 = Events.start(l);          // 0 without a clock read when l is NONE
 * ... the operation ...
 * Events.operation(l, READ, t0, n, null);  // returns at once when l is NONE
 * }</pre>
 * An emitting site uses the listener it read at the start for the whole operation, so a listener added
 * meanwhile never sees an end without a start time.
 *
 * <h2>Concurrency</h2>
 * {@link #listener} is volatile and replaced whole (copy on write) under this object's monitor by {@link
 * #add} and {@link #remove}: readers take no lock. Invariant: it is {@link #NONE} when nothing is
 * registered, the one listener when one is, and a {@link Composite} of all of them, in the order they
 * were added, when more are.
 */
public final class Events {
  private static final System.Logger LOG = System.getLogger(Events.class.getName());

  /** The listener of a cache nobody listens to; compared by identity. */
  public static final FileIoListener NONE = new FileIoListener() {};

  /** A cache's events that nobody will ever listen to, for code paths without a cache. */
  public static final Events UNOBSERVED = new Events();

  /** Makes a throwing listener logged once per process. */
  private static final AtomicBoolean LOGGED = new AtomicBoolean();

  private volatile FileIoListener listener = NONE;

  /** What is registered; guarded by this. */
  private FileIoListener[] registered = new FileIoListener[0];

  /** The listener to tell: {@link #NONE} when nobody listens. */
  public FileIoListener listener() {
    return listener;
  }

  /** Registers {@code l} (once more if it is already registered: it is then told twice). */
  public synchronized void add(FileIoListener l) {
    Objects.requireNonNull(l, "listener");
    if (this == UNOBSERVED) {
      throw new IllegalStateException("unobserved events take no listener");
    }
    registered = Arrays.copyOf(registered, registered.length + 1);
    registered[registered.length - 1] = l;
    publish();
  }

  /** Unregisters one registration of {@code l}; false if it was not registered. */
  public synchronized boolean remove(FileIoListener l) {
    for (int i = 0; i < registered.length; i++) {
      if (registered[i] == l) {
        FileIoListener[] rest = new FileIoListener[registered.length - 1];
        System.arraycopy(registered, 0, rest, 0, i);
        System.arraycopy(registered, i + 1, rest, i, rest.length - i);
        registered = rest;
        publish();
        return true;
      }
    }
    return false;
  }

  /** Holds the monitor. */
  private void publish() {
    switch (registered.length) {
      case 0:
        listener = NONE;
        break;
      case 1:
        listener = registered[0];
        break;
      default:
        listener = new Composite(registered.clone());
    }
  }

  /** The start time of an event for {@code l}: {@link System#nanoTime()}, or 0 if nobody listens. */
  public static long start(FileIoListener l) {
    return l == NONE ? 0 : System.nanoTime();
  }

  /** Tells {@code l} that {@code op}, started at {@code start}, finished. */
  public static void operation(
      FileIoListener l, Operation op, long start, long bytes, Throwable failure) {
    if (l == NONE) {
      return;
    }
    long nanos = System.nanoTime() - start;
    try {
      l.operation(op, nanos, Math.max(0, bytes), failure);
    } catch (RuntimeException | Error e) {
      thrown(e);
    }
  }

  /** Tells {@code l} that the overwrite step {@code step}, started at {@code start}, finished. */
  public static void overwriteStep(
      FileIoListener l, Step step, long start, long bytes, Throwable failure) {
    if (l == NONE) {
      return;
    }
    long nanos = System.nanoTime() - start;
    try {
      l.overwriteStep(step, nanos, bytes, failure);
    } catch (RuntimeException | Error e) {
      thrown(e);
    }
  }

  /** Tells {@code l} that a wait for a slot that began at {@code start} ended. */
  public static void pinWait(FileIoListener l, long start, boolean acquired) {
    if (l == NONE) {
      return;
    }
    long nanos = System.nanoTime() - start;
    try {
      l.pinWait(nanos, acquired);
    } catch (RuntimeException | Error e) {
      thrown(e);
    }
  }

  /** Tells {@code l} that one directory fsync starts for {@code overwrites} overwrites. */
  public static void directorySyncBatch(FileIoListener l, int overwrites) {
    if (l == NONE) {
      return;
    }
    try {
      l.directorySyncBatch(overwrites);
    } catch (RuntimeException | Error e) {
      thrown(e);
    }
  }

  /**
   * What a listener threw is never rethrown, not even a {@link VirtualMachineError} (a listener's own
   * {@code StackOverflowError}, say): the events are emitted on the paths that complete operations, and
   * an exception escaping there would leave a subscriber without its signal.
   */
  private static void thrown(Throwable e) {
    if (LOGGED.compareAndSet(false, true)) {
      LOG.log(System.Logger.Level.WARNING,
          "a FileIoListener threw; its exceptions are ignored (logged once per process)", e);
    }
  }

  /** Several listeners, told in order; one that throws does not keep the others from being told. */
  private static final class Composite implements FileIoListener {
    private final FileIoListener[] all;

    Composite(FileIoListener[] all) {
      this.all = all;
    }

    @Override
    public void operation(Operation op, long nanos, long bytes, Throwable failure) {
      for (FileIoListener l : all) {
        try {
          l.operation(op, nanos, bytes, failure);
        } catch (RuntimeException | Error e) {
          thrown(e);
        }
      }
    }

    @Override
    public void overwriteStep(Step step, long nanos, long bytes, Throwable failure) {
      for (FileIoListener l : all) {
        try {
          l.overwriteStep(step, nanos, bytes, failure);
        } catch (RuntimeException | Error e) {
          thrown(e);
        }
      }
    }

    @Override
    public void pinWait(long nanos, boolean acquired) {
      for (FileIoListener l : all) {
        try {
          l.pinWait(nanos, acquired);
        } catch (RuntimeException | Error e) {
          thrown(e);
        }
      }
    }

    @Override
    public void directorySyncBatch(int overwrites) {
      for (FileIoListener l : all) {
        try {
          l.directorySyncBatch(overwrites);
        } catch (RuntimeException | Error e) {
          thrown(e);
        }
      }
    }
  }
}
