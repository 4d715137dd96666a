package io.virtualfile.reactive;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.CrashSafeOverwriteException;
import io.virtualfile.CrashSafeOverwriteException.Step;
import io.virtualfile.internal.JdkFileOps;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/** {@link AsyncFileIo#overwrite}: the crash-safe overwrite as a pipeline, subscribed from parallel threads. */
class AsyncOverwriteTest {
  @TempDir Path dir;
  ObservedFileOps ops;
  AsyncFileIo io;

  @BeforeEach
  void setUp() {
    ops = new ObservedFileOps(JdkFileOps.INSTANCE);
    io = AsyncFileIo.builder().ioThreads(2).fileOps(ops).build();
  }

  @AfterEach
  void tearDown() {
    io.close();
  }

  static ByteBuffer utf8(String s) {
    return ByteBuffer.wrap(s.getBytes(UTF_8));
  }

  static <T> Mono<T> onParallel(Mono<T> m) {
    return m.subscribeOn(Schedulers.parallel());
  }

  Set<String> entries() throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
    }
  }

  @Test
  void oldToNew_derivedTemp_tempGone() throws Exception {
    Path f = Files.writeString(dir.resolve("meta"), "old");
    StepVerifier.create(onParallel(io.overwrite(f, utf8("new")))).verifyComplete();
    assertThat(Files.readString(f)).isEqualTo("new");
    assertThat(entries()).containsExactly("meta");
    assertThat(ops.directorySyncs.get()).isEqualTo(1);
  }

  @Test
  void staleExplicitTemp_isRemoved() throws Exception {
    Path f = Files.writeString(dir.resolve("meta"), "old");
    Path tmp = Files.writeString(dir.resolve("meta.tmp"), "stale");
    StepVerifier.create(onParallel(io.overwrite(f, tmp, utf8("new")))).verifyComplete();
    assertThat(Files.readString(f)).isEqualTo("new");
    assertThat(entries()).containsExactly("meta");
  }

  @Test
  void newFile_isCreated() throws Exception {
    Path f = dir.resolve("fresh");
    StepVerifier.create(onParallel(io.overwrite(f, utf8("first")))).verifyComplete();
    assertThat(Files.readString(f)).isEqualTo("first");
  }

  @Test
  void streamedContent_isWrittenInOrder() throws Exception {
    Path f = Files.writeString(dir.resolve("meta"), "old");
    Flux<ByteBuffer> chunks = Flux.range(0, 100).map(i -> utf8(i + ","));
    StepVerifier.create(onParallel(io.overwrite(f, chunks))).verifyComplete();
    String expected = Flux.range(0, 100).map(i -> i + ",").collect(Collectors.joining()).block();
    assertThat(Files.readString(f)).isEqualTo(expected);
  }

  @Test
  void theStaticOverload_runsOnTheSharedEngine() throws Exception {
    Path f = Files.writeString(dir.resolve("meta"), "old");
    StepVerifier.create(onParallel(AsyncVirtualFile.overwrite(f, utf8("new")))).verifyComplete();
    assertThat(Files.readString(f)).isEqualTo("new");
  }

  @Test
  void eachSubscription_overwritesAgain_withTheWholeBuffer() throws Exception {
    Path f = Files.writeString(dir.resolve("meta"), "old");
    ByteBuffer content = utf8("again");
    Mono<Void> m = io.overwrite(f, content);
    // Assembly is synchronous: had it started the pipeline, validation would have looked at the path.
    assertThat(ops.lookups.get()).as("cold: nothing before subscription").isZero();
    assertThat(Files.readString(f)).isEqualTo("old");
    StepVerifier.create(onParallel(m)).verifyComplete();
    Files.writeString(f, "changed");
    StepVerifier.create(onParallel(m)).verifyComplete();
    assertThat(Files.readString(f)).isEqualTo("again");
    assertThat(content.position()).isZero();
  }

  @Test
  void noParent_isAnIllegalArgument_nothingTouched() {
    StepVerifier.create(onParallel(io.overwrite(Path.of("orphan"), utf8("x"))))
        .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("no parent directory"))
        .verify();
    assertThat(Path.of("orphan")).doesNotExist();
  }

  @Test
  void finalIsADirectory_isRefused() throws Exception {
    Path d = Files.createDirectory(dir.resolve("d"));
    StepVerifier.create(onParallel(io.overwrite(d, utf8("x"))))
        .expectError(IllegalArgumentException.class).verify();
    assertThat(d).isDirectory();
  }

  @Test
  void failingContentPublisher_failsAtWrite_finalUntouched_tempRemoved() throws Exception {
    Path f = Files.writeString(dir.resolve("meta"), "old");
    Flux<ByteBuffer> broken = Flux.concat(Flux.just(utf8("half")), Flux.error(new IllegalStateException("source failed")));
    StepVerifier.create(onParallel(io.overwrite(f, broken)))
        .expectErrorSatisfies(e -> {
          assertThat(e).isInstanceOf(CrashSafeOverwriteException.class);
          assertThat(((CrashSafeOverwriteException) e).step()).isEqualTo(Step.WRITE);
          assertThat(e.getCause()).hasMessage("source failed");
        })
        .verify();
    assertThat(Files.readString(f)).isEqualTo("old");
    assertThat(entries()).containsExactly("meta");
  }

  @ParameterizedTest
  @EnumSource(value = Step.class, names = {"REMOVE_STALE_TEMP", "RENAME", "OPEN_PARENT", "SYNC_PARENT"})
  void failureAtAStep_carriesTheStep_andTheCoreOutcome(Step step) throws Exception {
    Path f = Files.writeString(dir.resolve("meta"), "old");
    ops.failAt = step;
    StepVerifier.create(onParallel(io.overwrite(f, dir.resolve("meta.tmp"), utf8("new"))))
        .expectErrorSatisfies(e -> {
          assertThat(e).isInstanceOf(CrashSafeOverwriteException.class);
          CrashSafeOverwriteException c = (CrashSafeOverwriteException) e;
          assertThat(c.step()).isEqualTo(step);
          assertThat(c.newContentVisible()).isEqualTo(step.afterRename());
        })
        .verify();
    assertThat(Files.readString(f)).isEqualTo(step.afterRename() ? "new" : "old");
    assertThat(entries()).containsExactly("meta");
  }

  @Test
  void concurrentOverwritesOfOnePath_leaveOneCompleteContent_theLastToComplete() throws Exception {
    Path f = Files.writeString(dir.resolve("meta"), "old");
    List<String> completed = Collections.synchronizedList(new ArrayList<>());
    Flux.range(0, 64)
        .flatMap(i -> {
          String content = ("writer " + i + ";").repeat(100 + i);
          return io.overwrite(f, utf8(content)).doOnSuccess(v -> completed.add(content))
              .subscribeOn(Schedulers.parallel());
        }, 64)
        .blockLast(Duration.ofSeconds(30));
    assertThat(completed).hasSize(64);
    assertThat(Files.readString(f)).isEqualTo(completed.get(completed.size() - 1));
    assertThat(entries()).containsExactly("meta");
  }

  @Test
  void concurrentOverwritesInOneDirectory_shareDirectoryFsyncs() throws Exception {
    int n = 32;
    Flux.range(0, n)
        .flatMap(i -> io.overwrite(dir.resolve("f" + i), utf8("content " + i))
            .subscribeOn(Schedulers.parallel()), n)
        .blockLast(Duration.ofSeconds(30));
    for (int i = 0; i < n; i++) {
      assertThat(Files.readString(dir.resolve("f" + i))).isEqualTo("content " + i);
    }
    assertThat(ops.directorySyncs.get()).as("directory fsyncs for %d overwrites", n).isLessThan(n);
  }

  /**
   * Regression (found by a program written from the README: 200 tenants, 20 overwrites each, 16 at a
   * time): a finished batch left the directory's group idle before it signalled, so a later batch's
   * signal could overtake, and the file held a version whose overwrite had completed before another's.
   */
  @Test
  void manyTenantsOverwrittenConcurrently_eachFileHoldsTheLastVersionToComplete() throws Exception {
    int tenants = 200;
    int versions = 20;
    java.util.Map<Integer, Integer> lastCompleted = new java.util.concurrent.ConcurrentHashMap<>();
    java.util.List<Integer> order = new ArrayList<>();
    for (int t = 0; t < tenants; t++) {
      for (int v = 0; v < versions; v++) {
        order.add(t * versions + v);
      }
    }
    Collections.shuffle(order, new java.util.Random(11));
    try (StreamingReadOrderTest.CpuHogs hogs = new StreamingReadOrderTest.CpuHogs(2)) {
      Flux.fromIterable(order)
        .flatMap(k -> {
          int tenant = k / versions;
          int version = k % versions;
          return io.overwrite(dir.resolve("tenant" + tenant), utf8("v" + version))
              .doOnSuccess(x -> lastCompleted.put(tenant, version)) // on the completing thread, in order
              .subscribeOn(Schedulers.parallel());
        }, 16)
        .blockLast(Duration.ofSeconds(60));
    }
    for (int t = 0; t < tenants; t++) {
      assertThat(Files.readString(dir.resolve("tenant" + t))).as("tenant %d", t)
          .isEqualTo("v" + lastCompleted.get(t));
    }
  }

  /**
   * Regression: when scheduling the next batch's fsync threw, the group stayed "running" and every later
   * overwrite in the directory hung.
   */
  @Test
  void nextBatchRefusedByTheScheduler_failsThatBatchAfterItsRename_andLaterOverwritesComplete()
      throws Exception {
    java.util.concurrent.atomic.AtomicBoolean refuse = new java.util.concurrent.atomic.AtomicBoolean();
    reactor.core.scheduler.Scheduler base = Schedulers.boundedElastic();
    reactor.core.scheduler.Scheduler refusing = new reactor.core.scheduler.Scheduler() {
      @Override
      public reactor.core.Disposable schedule(Runnable task) {
        if (refuse.getAndSet(false)) {
          throw new java.util.concurrent.RejectedExecutionException("injected: scheduler refused");
        }
        return base.schedule(task);
      }

      @Override
      public Worker createWorker() {
        return base.createWorker();
      }
    };
    reactor.core.publisher.Sinks.Empty<Void> firstSync = reactor.core.publisher.Sinks.empty();
    java.util.concurrent.atomic.AtomicInteger syncs = new java.util.concurrent.atomic.AtomicInteger();
    try (AsyncFileIo gated = AsyncFileIo.builder().ioThreads(2).blockingScheduler(refusing)
        .syncGate(d -> syncs.getAndIncrement() == 0 ? firstSync.asMono() : Mono.empty())
        .build()) {
      Path a = dir.resolve("a");
      Path b = dir.resolve("b");
      java.util.concurrent.CompletableFuture<Throwable> second = new java.util.concurrent.CompletableFuture<>();
      reactor.core.Disposable firstRun = gated.overwrite(a, utf8("A")).subscribe();
      while (syncs.get() == 0) { // the first batch's fsync is paused at its gate
        Thread.onSpinWait();
      }
      gated.overwrite(b, utf8("B")).subscribe(null, second::complete, () -> second.complete(null));
      while (!Files.exists(b)) { // renamed: its request is pending behind the paused fsync
        Thread.onSpinWait();
      }
      refuse.set(true);
      firstSync.tryEmitEmpty();
      Throwable t = second.get(10, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(t).isInstanceOf(CrashSafeOverwriteException.class);
      assertThat(((CrashSafeOverwriteException) t).step()).isEqualTo(Step.OPEN_PARENT);
      assertThat(((CrashSafeOverwriteException) t).newContentVisible()).isTrue();
      assertThat(Files.readString(b)).isEqualTo("B");
      StepVerifier.create(gated.overwrite(b, utf8("B2"))).expectComplete().verify(Duration.ofSeconds(10));
      assertThat(Files.readString(b)).isEqualTo("B2");
      firstRun.dispose();
    }
  }

  /**
   * The interleaving behind the tenant-ordering defect, forced: a batch's signals are delivered slowly
   * (a subscriber of an earlier overwrite in the batch blocks), and meanwhile another overwrite of the
   * same path renames and finishes its own directory fsync. Its completion must still come after the
   * earlier one's: before the fix, the idle directory group was dropped before the batch was signalled,
   * so the later overwrite started a group of its own and completed first.
   */
  @Test
  void laterOverwriteOfAPath_neverCompletesBeforeAnEarlierOneWhoseSignalIsSlow() throws Exception {
    Sinks.Empty<Void> firstSync = Sinks.empty();
    java.util.concurrent.atomic.AtomicInteger gates = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    List<String> completions = Collections.synchronizedList(new ArrayList<>());
    Path p = dir.resolve("p");
    try (AsyncFileIo gated = AsyncFileIo.builder().ioThreads(2).fileOps(ops)
        .syncGate(d -> gates.getAndIncrement() == 0 ? firstSync.asMono() : Mono.empty())
        .build()) {
      java.util.function.BiFunction<String, String, Mono<Void>> overwrite = (name, content) ->
          gated.overwrite(dir.resolve(name), utf8(content))
              .doOnSuccess(v -> completions.add(name + "=" + content));
      overwrite.apply("w", "W").subscribe(); // batch 0: its fsync waits at the gate
      awaitCondition(() -> gates.get() == 1);
      overwrite.apply("x", "X")
          .doOnSuccess(v -> awaitLatch(release)) // a slow subscriber, on the signalling thread
          .subscribe();
      awaitCondition(() -> Files.exists(dir.resolve("x")));
      Mono<Void> a = overwrite.apply("p", "A").cache();
      a.subscribe();
      awaitCondition(() -> readsAs(p, "A")); // x and p renamed: batch 1 = [x, p]
      // Not on this thread, which must go on: the thread that opens the gate delivers batch 0, and
      // goes on to deliver batch 1 if that finished meanwhile, blocking in x's subscriber.
      Thread opener = new Thread(firstSync::tryEmitEmpty, "gate-opener");
      opener.setDaemon(true);
      opener.start();
      awaitCondition(() -> ops.directorySyncs.get() == 2); // batch 1 synced; x's signal is stuck
      Mono<Void> c = overwrite.apply("p", "C").cache();
      c.subscribe();
      awaitCondition(() -> ops.directorySyncs.get() == 3); // C renamed and its own fsync is done
      release.countDown();
      a.block(Duration.ofSeconds(10));
      c.block(Duration.ofSeconds(10));
    }
    assertThat(Files.readString(p)).isEqualTo("C");
    assertThat(completions).containsSubsequence("p=A", "p=C");
  }

  static void awaitCondition(java.util.function.BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not reached in 10 s");
      }
      Thread.sleep(1);
    }
  }

  static void awaitLatch(java.util.concurrent.CountDownLatch latch) {
    try {
      if (!latch.await(10, java.util.concurrent.TimeUnit.SECONDS)) {
        throw new AssertionError("latch not released");
      }
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  static boolean readsAs(Path f, String content) {
    try {
      return Files.exists(f) && Files.readString(f).equals(content);
    } catch (java.io.IOException e) {
      return false;
    }
  }
}
