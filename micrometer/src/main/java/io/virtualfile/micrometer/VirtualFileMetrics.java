package io.virtualfile.micrometer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.BaseUnits;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.virtualfile.CacheStats;
import io.virtualfile.CrashSafeOverwriteException.Step;
import io.virtualfile.FileIoListener;
import io.virtualfile.FileIoListener.Operation;
import io.virtualfile.OpenFileCache;
import io.virtualfile.reactive.AsyncFileIo;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The metrics of an {@link OpenFileCache} (and the {@link io.virtualfile.VirtualFile}s on it) or of an
 * {@link AsyncFileIo} (and its {@link io.virtualfile.reactive.AsyncVirtualFile}s), bound to a Micrometer
 * registry:
 *
 * <pre>{@code
 * OpenFileCache cache = OpenFileCache.create(1024);
 * new VirtualFileMetrics(cache).bindTo(registry);
 * }</pre>
 *
 * <table>
 *   <caption>Meters (each also carries the tags given to {@link #withTags(Iterable)})</caption>
 *   <tr><th>name</th><th>type</th><th>tags</th><th>what</th></tr>
 *   <tr><td>{@value #OPERATIONS}</td><td>timer</td><td>{@code op}, {@code outcome}</td>
 *       <td>every operation: {@code op} is a {@link Operation} in lower case ({@code open}, {@code
 *       reopen}, {@code close}, {@code eviction}, {@code read}, {@code write}, {@code fsync}, {@code
 *       fdatasync}, {@code size}, {@code truncate}, {@code directory_fsync}, {@code overwrite}) or an
 *       overwrite step, {@code overwrite.} and the {@link Step} in lower case ({@code
 *       overwrite.create_temp}, {@code overwrite.sync_temp}, ...); {@code outcome} is {@code success}
 *       or {@code failure}</td></tr>
 *   <tr><td>{@value #HITS}, {@value #MISSES}, {@value #EVICTIONS}</td><td>counters</td><td></td>
 *       <td>the cache's {@link CacheStats} counters</td></tr>
 *   <tr><td>{@value #DESCRIPTORS}</td><td>gauge</td><td></td><td>descriptors the cache holds open
 *       now</td></tr>
 *   <tr><td>{@value #CAPACITY}</td><td>gauge</td><td></td><td>the cache's capacity</td></tr>
 *   <tr><td>{@value #PIN_WAITS}</td><td>timer</td><td>{@code outcome}: {@code acquired} or
 *       {@code failed}</td><td>reopens that waited because every slot was pinned</td></tr>
 *   <tr><td>{@value #BYTES_READ}, {@value #BYTES_WRITTEN}</td><td>counters (bytes)</td><td></td>
 *       <td>bytes read and written by the virtual files; written includes overwrites' temp
 *       files</td></tr>
 *   <tr><td>{@value #SYNC_BATCH}</td><td>distribution summary</td><td></td><td>overwrites that shared
 *       one directory fsync (reactive group commit)</td></tr>
 *   <tr><td>{@value #QUEUED}, {@value #EXTRA_THREADS}</td><td>gauges</td><td></td><td>IO tasks waiting
 *       for a thread, and IO threads beyond the core ones ({@link AsyncFileIo} only)</td></tr>
 * </table>
 *
 * <p>The operation timers are created when their first event comes, so only operations that happened
 * appear. {@link #withPercentileHistogram(boolean)} makes them publish percentile histograms (for
 * Prometheus' {@code histogram_quantile}, say).
 *
 * <p>{@link #bindTo(MeterRegistry)} adds a {@link FileIoListener} to the cache or engine (one per
 * registry), which may already be in use; {@link #close()} removes them. Binding two caches to one
 * registry needs a tag that tells them apart ({@link #withTags(Iterable)}); a second binding with the
 * same tags is refused, since its events would be counted twice. Immutable and thread-safe;
 * the listener's work per event is a timer record and, for reads and writes, a counter increment.
 */
public final class VirtualFileMetrics implements MeterBinder, AutoCloseable {
  /** The operation timer's name. */
  public static final String OPERATIONS = "virtualfile.operations";

  public static final String HITS = "virtualfile.cache.hits";
  public static final String MISSES = "virtualfile.cache.misses";
  public static final String EVICTIONS = "virtualfile.cache.evictions";
  public static final String DESCRIPTORS = "virtualfile.cache.descriptors";
  public static final String CAPACITY = "virtualfile.cache.capacity";
  public static final String PIN_WAITS = "virtualfile.cache.pin.waits";
  public static final String BYTES_READ = "virtualfile.bytes.read";
  public static final String BYTES_WRITTEN = "virtualfile.bytes.written";
  public static final String SYNC_BATCH = "virtualfile.directory.sync.batch";
  public static final String QUEUED = "virtualfile.io.queued";
  public static final String EXTRA_THREADS = "virtualfile.io.threads.extra";

  /**
   * What is measured: a core cache or a reactive engine, by its counters, capacity and listener
   * registration; {@code engine} is null for a core cache (it has no IO threads).
   */
  private record Source(
      Supplier<CacheStats> stats, IntSupplier capacity, Consumer<FileIoListener> add,
      Predicate<FileIoListener> remove, AsyncFileIo engine) {}

  private final Source source;
  private final Tags tags;
  private final boolean percentileHistogram;

  /**
   * The tags bound to each registry (and, for a composite, to the registries it holds) by bindings not
   * closed yet, over all instances: checked and extended at once under its own lock, so that of two
   * bindings of the same tags at the same moment one is refused. Weak keys: a registry that is gone
   * takes its entries with it.
   */
  private static final Map<MeterRegistry, List<Tags>> BOUND = new WeakHashMap<>();

  /** The listeners bound so far, for {@link #close()}; guarded by itself. Shared by the copies. */
  private final List<FileIoListener> bound;

  /** The metrics of {@code cache} and of the virtual files on it. */
  public VirtualFileMetrics(OpenFileCache cache) {
    this(source(Objects.requireNonNull(cache, "cache")), Tags.empty(), false, new ArrayList<>());
  }

  /** The metrics of {@code io}: its cache, its files, its overwrites and its IO threads. */
  public VirtualFileMetrics(AsyncFileIo io) {
    this(source(Objects.requireNonNull(io, "io")), Tags.empty(), false, new ArrayList<>());
  }

  private VirtualFileMetrics(
      Source source, Tags tags, boolean percentileHistogram, List<FileIoListener> bound) {
    this.source = source;
    this.tags = tags;
    this.percentileHistogram = percentileHistogram;
    this.bound = bound;
  }

  /** These metrics with {@code tags} added to every meter (to tell two caches apart, say). */
  public VirtualFileMetrics withTags(Iterable<Tag> tags) {
    return new VirtualFileMetrics(source, this.tags.and(tags), percentileHistogram, bound);
  }

  /**
   * These metrics with the operation and pin-wait timers publishing percentile histograms ({@code
   * Timer.Builder.publishPercentileHistogram}), or not (the default).
   */
  public VirtualFileMetrics withPercentileHistogram(boolean enabled) {
    return new VirtualFileMetrics(source, tags, enabled, bound);
  }

  private static Source source(OpenFileCache cache) {
    return new Source(cache::stats, cache::capacity, cache::addListener, cache::removeListener, null);
  }

  private static Source source(AsyncFileIo io) {
    return new Source(io::stats, io::cacheCapacity, io::addListener, io::removeListener, io);
  }

  /**
   * Registers the meters in {@code registry} and adds a listener that feeds them.
   *
   * @throws IllegalStateException if meters of these names and tags are in {@code registry} already (a
   *     second binding, of this cache or another, whose events would add to the same meters or whose
   *     gauges would never be read): bind each cache or engine once per registry, tell two apart with
   *     {@link #withTags(Iterable)}, and remove the meters of a closed binding before binding the same
   *     tags again
   */
  @Override
  public void bindTo(MeterRegistry registry) {
    Objects.requireNonNull(registry, "registry");
    List<MeterRegistry> reached = reached(registry);
    synchronized (BOUND) {
      boolean taken = reached.stream().anyMatch(r -> BOUND.getOrDefault(r, List.of()).contains(tags))
          || registry.find(CAPACITY).tags(tags).gauges().stream()
              .anyMatch(g -> g.getId().getTags().size() == tags.stream().count());
      if (taken) {
        throw new IllegalStateException("virtualfile metrics with tags " + tags
            + " are bound to this registry already (or to a composite registry that holds it, or one"
            + " it holds): bind each cache or engine once, and tell two apart with withTags");
      }
      for (MeterRegistry r : reached) {
        BOUND.computeIfAbsent(r, k -> new ArrayList<>()).add(tags);
      }
    }
    Source s = source;
    FunctionCounter.builder(HITS, s, src -> src.stats().get().hits())
        .tags(tags).description("operations that found their file's descriptor cached")
        .register(registry);
    FunctionCounter.builder(MISSES, s, src -> src.stats().get().misses())
        .tags(tags).description("descriptors opened: first opens and reopens after eviction")
        .register(registry);
    FunctionCounter.builder(EVICTIONS, s, src -> src.stats().get().evictions())
        .tags(tags).description("cached descriptors closed to make room for another file")
        .register(registry);
    Gauge.builder(DESCRIPTORS, s, src -> src.stats().get().openHandles())
        .tags(tags).baseUnit("descriptors").description("descriptors the cache holds open now")
        .register(registry);
    Gauge.builder(CAPACITY, s, src -> src.capacity().getAsInt())
        .tags(tags).baseUnit("descriptors").description("descriptors the cache holds at most")
        .register(registry);
    AsyncFileIo engine = s.engine();
    if (engine != null) {
      Gauge.builder(QUEUED, engine, AsyncFileIo::queuedTasks)
          .tags(tags).baseUnit("tasks").description("IO tasks waiting for an IO thread")
          .register(registry);
      Gauge.builder(EXTRA_THREADS, engine, AsyncFileIo::extraIoThreads)
          .tags(tags).baseUnit(BaseUnits.THREADS)
          .description("IO threads started beyond the core ones while threads blocked in the kernel")
          .register(registry);
    }
    Listener listener = new Listener(registry, reached);
    synchronized (bound) {
      bound.add(listener);
    }
    s.add().accept(listener);
  }

  /**
   * Removes the listeners that {@link #bindTo} added (by this object or the copies made from it by
   * {@code with...}); the meters stay in their registries, and stop moving but for the gauges and cache
   * counters, which read the cache. Idempotent.
   */
  @Override
  public void close() {
    List<FileIoListener> toRemove;
    synchronized (bound) {
      toRemove = new ArrayList<>(bound);
      bound.clear();
    }
    for (FileIoListener l : toRemove) {
      source.remove().test(l);
      synchronized (BOUND) {
        for (MeterRegistry r : ((Listener) l).reached) {
          List<Tags> bound = BOUND.get(r);
          if (bound != null) {
            bound.remove(tags);
          }
        }
      }
    }
  }

  /** {@code registry}, and the registries a composite holds, recursively: where its meters land. */
  private static List<MeterRegistry> reached(MeterRegistry registry) {
    List<MeterRegistry> all = new ArrayList<>();
    all.add(registry);
    if (registry instanceof CompositeMeterRegistry composite) {
      for (MeterRegistry child : composite.getRegistries()) {
        all.addAll(reached(child));
      }
    }
    return all;
  }

  private static String tagValue(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT);
  }

  /** The events of one registry. */
  private final class Listener implements FileIoListener {
    private static final int OPS = Operation.values().length;
    private static final int STEPS = Step.values().length;

    private final MeterRegistry registry;
    /** The registries this listener's binding reached (see {@link #reached}). */
    private final List<MeterRegistry> reached;
    private final Counter bytesRead;
    private final Counter bytesWritten;
    private final DistributionSummary syncBatch;
    private final Timer pinAcquired;
    private final Timer pinFailed;

    /**
     * Operation timers by {@code (operation or step) * 2 + failed}, operations first, created on first
     * use. A race creates one twice: the registry returns the same timer both times.
     */
    private final AtomicReferenceArray<Timer> timers = new AtomicReferenceArray<>(2 * (OPS + STEPS));

    Listener(MeterRegistry registry, List<MeterRegistry> reached) {
      this.registry = registry;
      this.reached = reached;
      bytesRead = Counter.builder(BYTES_READ).tags(tags).baseUnit(BaseUnits.BYTES)
          .description("bytes read by virtual files").register(registry);
      bytesWritten = Counter.builder(BYTES_WRITTEN).tags(tags).baseUnit(BaseUnits.BYTES)
          .description("bytes written by virtual files and to overwrites' temp files")
          .register(registry);
      syncBatch = DistributionSummary.builder(SYNC_BATCH).tags(tags).baseUnit("overwrites")
          .description("overwrites of one directory that shared one directory fsync")
          .register(registry);
      pinAcquired = pinWaitTimer("acquired");
      pinFailed = pinWaitTimer("failed");
    }

    private Timer pinWaitTimer(String outcome) {
      return Timer.builder(PIN_WAITS).tags(tags).tag("outcome", outcome)
          .description("waits of a reopen for a descriptor slot while every slot was pinned")
          .publishPercentileHistogram(percentileHistogram)
          .register(registry);
    }

    @Override
    public void operation(Operation op, long nanos, long bytes, Throwable failure) {
      timer(op.ordinal(), failure != null, "", op).record(nanos, TimeUnit.NANOSECONDS);
      if (bytes > 0) {
        if (op == Operation.READ) {
          bytesRead.increment(bytes);
        } else if (op == Operation.WRITE) {
          bytesWritten.increment(bytes);
        } // an OVERWRITE's bytes were counted at its WRITE step
      }
    }

    @Override
    public void overwriteStep(Step step, long nanos, long bytes, Throwable failure) {
      timer(OPS + step.ordinal(), failure != null, "overwrite.", step)
          .record(nanos, TimeUnit.NANOSECONDS);
      if (bytes > 0) {
        bytesWritten.increment(bytes);
      }
    }

    @Override
    public void pinWait(long nanos, boolean acquired) {
      (acquired ? pinAcquired : pinFailed).record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void directorySyncBatch(int overwrites) {
      syncBatch.record(overwrites);
    }

    private Timer timer(int index, boolean failed, String prefix, Enum<?> op) {
      int i = 2 * index + (failed ? 1 : 0);
      Timer t = timers.get(i);
      if (t == null) {
        t = Timer.builder(OPERATIONS).tags(tags)
            .tag("op", prefix + tagValue(op))
            .tag("outcome", failed ? "failure" : "success")
            .description("virtual file operations, overwrite steps included")
            .publishPercentileHistogram(percentileHistogram)
            .register(registry);
        timers.set(i, t);
      }
      return t;
    }
  }
}
