package io.virtualfile.micrometer;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.virtualfile.CacheStats;
import io.virtualfile.OpenFileCache;
import io.virtualfile.VirtualFile;
import io.virtualfile.reactive.AsyncFileIo;
import io.virtualfile.reactive.AsyncVirtualFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link VirtualFileMetrics} in a {@link SimpleMeterRegistry}, after real operations. */
class VirtualFileMetricsTest {
  @TempDir Path dir;

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private static ByteBuffer utf8(String s) {
    return ByteBuffer.wrap(s.getBytes(UTF_8));
  }

  /** Count of {@value VirtualFileMetrics#OPERATIONS} by "op outcome", for the timers that exist. */
  private Map<String, Long> operationCounts() {
    Map<String, Long> counts = new TreeMap<>();
    for (Timer t : registry.find(VirtualFileMetrics.OPERATIONS).timers()) {
      counts.put(t.getId().getTag("op") + " " + t.getId().getTag("outcome"), t.count());
    }
    return counts;
  }

  private double counter(String name) {
    return registry.get(name).functionCounter().count();
  }

  @Test
  void operationsOfVirtualFilesAreTimedByOperationAndOutcome() throws IOException {
    try (OpenFileCache cache = OpenFileCache.create(1)) {
      new VirtualFileMetrics(cache).bindTo(registry);
      try (VirtualFile a = VirtualFile.open(dir.resolve("a"), cache, CREATE, READ, WRITE);
          VirtualFile b = VirtualFile.open(dir.resolve("b"), cache, CREATE, READ, WRITE)) {
        a.writeAt(utf8("hello"), 0); // reopens a, evicting b
        a.readAt(ByteBuffer.allocate(8), 0);
        a.sync();
        b.syncData(); // reopens b, evicting a
      }
      assertThat(operationCounts()).containsExactlyInAnyOrderEntriesOf(Map.of(
          "open success", 2L,
          "eviction success", 3L,
          "reopen success", 2L,
          "write success", 1L,
          "read success", 1L,
          "fsync success", 1L,
          "fdatasync success", 1L,
          "close success", 2L));
    }
  }

  @Test
  void aFailedOperationIsTimedWithOutcomeFailure() throws IOException {
    Path p = dir.resolve("a");
    try (OpenFileCache cache = OpenFileCache.create(1);
        VirtualFile a = VirtualFile.open(p, cache, CREATE, READ, WRITE);
        VirtualFile b = VirtualFile.open(dir.resolve("b"), cache, CREATE, READ, WRITE)) {
      new VirtualFileMetrics(cache).bindTo(registry);
      Files.delete(p); // a's descriptor was evicted by b's open: its reopen fails
      org.assertj.core.api.Assertions.assertThatThrownBy(a::size)
          .isInstanceOf(io.virtualfile.FileReplacedException.class);
      assertThat(operationCounts())
          // The reopen claims its slot (evicting b) before it finds the file gone.
          .containsExactlyInAnyOrderEntriesOf(
              Map.of("eviction success", 1L, "reopen failure", 1L, "size failure", 1L));
    }
  }

  @Test
  void cacheCountersAndGaugesFollowTheCacheStats() throws IOException {
    try (OpenFileCache cache = OpenFileCache.create(2)) {
      new VirtualFileMetrics(cache).bindTo(registry);
      try (VirtualFile a = VirtualFile.open(dir.resolve("a"), cache, CREATE, READ, WRITE);
          VirtualFile b = VirtualFile.open(dir.resolve("b"), cache, CREATE, READ, WRITE);
          VirtualFile c = VirtualFile.open(dir.resolve("c"), cache, CREATE, READ, WRITE)) {
        a.size();
        a.size();
        c.size();
        CacheStats stats = cache.stats();
        assertThat(stats.hits()).isPositive();
        assertThat(stats.evictions()).isPositive();
        assertThat(counter(VirtualFileMetrics.HITS)).isEqualTo(stats.hits());
        assertThat(counter(VirtualFileMetrics.MISSES)).isEqualTo(stats.misses());
        assertThat(counter(VirtualFileMetrics.EVICTIONS)).isEqualTo(stats.evictions());
        assertThat(registry.get(VirtualFileMetrics.DESCRIPTORS).gauge().value()).isEqualTo(2);
        assertThat(registry.get(VirtualFileMetrics.CAPACITY).gauge().value()).isEqualTo(2);
      }
    }
  }

  @Test
  void bytesReadAndWrittenAreCountedInBytes() throws IOException {
    try (OpenFileCache cache = OpenFileCache.create(4)) {
      new VirtualFileMetrics(cache).bindTo(registry);
      try (VirtualFile a = VirtualFile.open(dir.resolve("a"), cache, CREATE, READ, WRITE)) {
        a.writeAllAt(utf8("0123456789"), 0);
        a.readExactAt(ByteBuffer.allocate(4), 2);
        a.readAt(ByteBuffer.allocate(4), 10); // end of file: nothing read
      }
    }
    assertThat(registry.get(VirtualFileMetrics.BYTES_WRITTEN).counter().count()).isEqualTo(10);
    assertThat(registry.get(VirtualFileMetrics.BYTES_READ).counter().count()).isEqualTo(4);
    assertThat(registry.get(VirtualFileMetrics.BYTES_READ).counter().getId().getBaseUnit())
        .isEqualTo("bytes");
  }

  @Test
  void anAsyncEnginesOverwriteIsTimedStepByStepWithItsSharedDirectoryFsync() throws Exception {
    try (AsyncFileIo io = AsyncFileIo.builder().ioThreads(2).build()) {
      new VirtualFileMetrics(io).bindTo(registry);
      io.overwrite(dir.resolve("f"), utf8("abcd")).block();
      assertThat(operationCounts()).containsExactlyInAnyOrderEntriesOf(Map.of(
          "overwrite.remove_stale_temp success", 1L,
          "overwrite.create_temp success", 1L,
          "overwrite.write success", 1L,
          "overwrite.sync_temp success", 1L,
          "overwrite.close_temp success", 1L,
          "overwrite.rename success", 1L,
          "directory_fsync success", 1L,
          "overwrite success", 1L));
      assertThat(registry.get(VirtualFileMetrics.SYNC_BATCH).summary().count()).isEqualTo(1);
      assertThat(registry.get(VirtualFileMetrics.SYNC_BATCH).summary().totalAmount()).isEqualTo(1);
      assertThat(registry.get(VirtualFileMetrics.BYTES_WRITTEN).counter().count()).isEqualTo(4);
    }
  }

  @Test
  void anAsyncEnginesReadsWritesAndIoThreadsAreMeasured() throws Exception {
    try (AsyncFileIo io = AsyncFileIo.builder().ioThreads(2).build()) {
      new VirtualFileMetrics(io).bindTo(registry);
      AsyncVirtualFile f = AsyncVirtualFile.open(dir.resolve("a"), io, CREATE, READ, WRITE).block();
      f.writeAt(utf8("abc"), 0).block();
      f.readAt(ByteBuffer.allocate(8), 0).block();
      f.close().block();
      assertThat(operationCounts()).containsExactlyInAnyOrderEntriesOf(Map.of(
          "open success", 1L, "write success", 1L, "read success", 1L, "close success", 1L));
      assertThat(registry.get(VirtualFileMetrics.BYTES_READ).counter().count()).isEqualTo(3);
      // A racy snapshot: a task queued after the close was signalled may still be counted for a moment.
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
      while (registry.get(VirtualFileMetrics.QUEUED).gauge().value() != 0
          && System.nanoTime() < deadline) {
        Thread.sleep(1); // the condition, not the sleep, is the proof
      }
      assertThat(registry.get(VirtualFileMetrics.QUEUED).gauge().value()).isZero();
      assertThat(registry.get(VirtualFileMetrics.EXTRA_THREADS).gauge().value()).isZero();
      assertThat(counter(VirtualFileMetrics.MISSES)).isEqualTo(1);
    }
  }

  /** Whether each timer asked for a percentile histogram, as the registry's filters see it. */
  private Map<String, Boolean> histogramRequests() {
    Map<String, Boolean> requested = new java.util.concurrent.ConcurrentHashMap<>();
    registry.config().meterFilter(new MeterFilter() {
      @Override
      public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
        if (id.getType() == Meter.Type.TIMER) {
          requested.put(id.getName() + " " + id.getTag("op") + " " + id.getTag("outcome"),
              Boolean.TRUE.equals(config.isPercentileHistogram()));
        }
        return config;
      }
    });
    return requested;
  }

  @Test
  void percentileHistogramsArePublishedWhenAskedFor() throws IOException {
    Map<String, Boolean> requested = histogramRequests();
    try (OpenFileCache cache = OpenFileCache.create(4);
        VirtualFile a = VirtualFile.open(dir.resolve("a"), cache, CREATE, READ, WRITE)) {
      new VirtualFileMetrics(cache).withPercentileHistogram(true).bindTo(registry);
      a.size();
    }
    assertThat(requested).containsEntry(VirtualFileMetrics.OPERATIONS + " size success", true)
        .containsEntry(VirtualFileMetrics.PIN_WAITS + " null acquired", true);
  }

  @Test
  void withoutTheOptionNoHistogramIsPublished() throws IOException {
    Map<String, Boolean> requested = histogramRequests();
    try (OpenFileCache cache = OpenFileCache.create(4);
        VirtualFile a = VirtualFile.open(dir.resolve("a"), cache, CREATE, READ, WRITE)) {
      new VirtualFileMetrics(cache).bindTo(registry);
      a.size();
    }
    assertThat(requested).containsEntry(VirtualFileMetrics.OPERATIONS + " size success", false);
  }

  @Test
  void tagsTellTwoCachesApartInOneRegistry() throws IOException {
    try (OpenFileCache first = OpenFileCache.create(4);
        OpenFileCache second = OpenFileCache.create(8)) {
      new VirtualFileMetrics(first).withTags(Tags.of("cache", "first")).bindTo(registry);
      new VirtualFileMetrics(second).withTags(Tags.of("cache", "second")).bindTo(registry);
      try (VirtualFile a = VirtualFile.open(dir.resolve("a"), second, CREATE, READ, WRITE)) {
        a.size();
      }
      assertThat(registry.get(VirtualFileMetrics.CAPACITY).tag("cache", "second").gauge().value())
          .isEqualTo(8);
      assertThat(registry.find(VirtualFileMetrics.OPERATIONS).tag("cache", "first").timers())
          .isEmpty();
      assertThat(registry.get(VirtualFileMetrics.OPERATIONS).tags("cache", "second", "op", "size")
          .timer().count()).isEqualTo(1);
    }
  }

  @Test
  void aSecondBindingWithTheSameTags_isRefused_andCountsNothingTwice() throws IOException {
    try (OpenFileCache cache = OpenFileCache.create(4);
        VirtualFile a = VirtualFile.open(dir.resolve("a"), cache, CREATE, READ, WRITE)) {
      new VirtualFileMetrics(cache).bindTo(registry);
      assertThatThrownBy(() -> new VirtualFileMetrics(cache).bindTo(registry))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("bound to this registry already");
      new VirtualFileMetrics(cache).withTags(Tags.of("cache", "other")).bindTo(registry);
      a.size();
      assertThat(registry.get(VirtualFileMetrics.OPERATIONS).tag("op", "size").tags(Tags.empty())
          .timers()).extracting(Timer::count).contains(1L);
      assertThat(registry.find(VirtualFileMetrics.OPERATIONS).tags("op", "size").timers())
          .extracting(Timer::count).containsOnly(1L);
    }
  }

  @Test
  void aSecondBinding_isRefusedToo_underCommonTags_andThroughACompositeEitherWay() throws IOException {
    try (OpenFileCache cache = OpenFileCache.create(4)) {
      SimpleMeterRegistry tagged = new SimpleMeterRegistry();
      tagged.config().commonTags("app", "blobs");
      new VirtualFileMetrics(cache).bindTo(tagged);
      assertThatThrownBy(() -> new VirtualFileMetrics(cache).bindTo(tagged))
          .isInstanceOf(IllegalStateException.class);

      SimpleMeterRegistry child = new SimpleMeterRegistry();
      CompositeMeterRegistry composite = new CompositeMeterRegistry();
      composite.add(child);
      new VirtualFileMetrics(cache).bindTo(child);
      assertThatThrownBy(() -> new VirtualFileMetrics(cache).bindTo(composite))
          .isInstanceOf(IllegalStateException.class);

      SimpleMeterRegistry child2 = new SimpleMeterRegistry();
      CompositeMeterRegistry composite2 = new CompositeMeterRegistry();
      composite2.add(child2);
      new VirtualFileMetrics(cache).bindTo(composite2);
      assertThatThrownBy(() -> new VirtualFileMetrics(cache).bindTo(child2))
          .isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void ofBindingsOfTheSameTagsAtTheSameMoment_exactlyOneWins() throws Exception {
    try (OpenFileCache cache = OpenFileCache.create(4)) {
      for (int trial = 0; trial < 200; trial++) {
        SimpleMeterRegistry r = new SimpleMeterRegistry();
        java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(2);
        java.util.concurrent.atomic.AtomicInteger won = new java.util.concurrent.atomic.AtomicInteger();
        Runnable bind = () -> {
          try {
            start.await();
            new VirtualFileMetrics(cache).bindTo(r);
            won.incrementAndGet();
          } catch (IllegalStateException refused) {
            // the other one won
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        };
        Thread a = new Thread(bind);
        Thread b = new Thread(bind);
        a.start();
        b.start();
        a.join();
        b.join();
        assertThat(won.get()).as("trial %d", trial).isEqualTo(1);
      }
    }
  }

  @Test
  void closeStopsTheListenersButNotTheCacheCounters() throws IOException {
    try (OpenFileCache cache = OpenFileCache.create(4);
        VirtualFile a = VirtualFile.open(dir.resolve("a"), cache, CREATE, READ, WRITE)) {
      VirtualFileMetrics metrics = new VirtualFileMetrics(cache);
      metrics.bindTo(registry);
      a.size();
      metrics.close();
      a.size();
      assertThat(registry.get(VirtualFileMetrics.OPERATIONS).tag("op", "size").timer().count())
          .isEqualTo(1);
      assertThat(counter(VirtualFileMetrics.HITS)).isEqualTo(cache.stats().hits());
    }
  }

  @Test
  void meterNamesFollowMicrometersConventions() throws IOException {
    try (AsyncFileIo io = AsyncFileIo.builder().ioThreads(1).build()) {
      new VirtualFileMetrics(io).bindTo(registry);
      io.overwrite(dir.resolve("f"), utf8("x")).block();
    }
    List<String> names = registry.getMeters().stream().map(Meter::getId).map(Meter.Id::getName)
        .distinct().toList();
    assertThat(names).allMatch(n -> n.matches("virtualfile(\\.[a-z]+)+"), "dot-separated lower case");
    assertThat(registry.getMeters()).allSatisfy(m ->
        assertThat(m.getId().getTags()).extracting(Tag::getKey).isSubsetOf("op", "outcome"));
  }
}
