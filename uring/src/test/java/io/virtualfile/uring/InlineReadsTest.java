package io.virtualfile.uring;

import static java.nio.file.StandardOpenOption.READ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.virtualfile.reactive.spi.EngineChannel;
import io.virtualfile.reactive.spi.IoCompletion;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Reads tried on the calling thread ({@link InlineReads}): a read the page cache answers completes on
 * the thread that starts it, inside the call; any other goes to a ring and completes there with the
 * file's bytes. Also runs every test of {@link UringEngineTest} with such reads.
 */
class InlineReadsTest extends UringEngineTest {
  private static final int POSIX_FADV_DONTNEED = 4;
  private static final MethodHandle FADVISE = Linker.nativeLinker().downcallHandle(
      Linker.nativeLinker().defaultLookup().find("posix_fadvise").orElseThrow(),
      FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
          ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));

  @Override
  boolean inlineReads() {
    return true;
  }

  /** How a read completed: its result, on which thread, and whether before the call returned. */
  record Completed(int bytes, Thread thread, boolean insideTheCall) {}

  /** Reads on the calling thread and waits for the completion. */
  static Completed readHere(EngineChannel ch, ByteBuffer b, long position) throws Exception {
    CompletableFuture<Completed> done = new CompletableFuture<>();
    AtomicInteger returned = new AtomicInteger();
    ch.read(b, position, new IoCompletion() {
      @Override
      public void completed(int bytes) {
        done.complete(new Completed(bytes, Thread.currentThread(), returned.get() == 0));
      }

      @Override
      public void failed(Throwable error) {
        done.completeExceptionally(error);
      }
    });
    returned.set(1);
    return done.get(10, TimeUnit.SECONDS);
  }

  /** {@link #readHere} on a new platform thread of its own (one that owns no ring). */
  static Completed readOnAPlainThread(EngineChannel ch, ByteBuffer b, long position) throws Exception {
    return onAPlainThread(() -> readHere(ch, b, position));
  }

  /** Runs {@code body} on a new platform thread named "plain" (one that owns no ring); its result. */
  static <T> T onAPlainThread(java.util.concurrent.Callable<T> body) throws Exception {
    CompletableFuture<T> done = new CompletableFuture<>();
    Thread.ofPlatform().name("plain").start(() -> {
      try {
        done.complete(body.call());
      } catch (Throwable t) {
        done.completeExceptionally(t);
      }
    });
    return done.get(20, TimeUnit.SECONDS);
  }

  private static boolean isRingThread(Thread t) {
    return t.getName().startsWith("engine-test-uring-");
  }

  /** Drops the file's clean pages in {@code [offset, offset + length)} from the page cache. */
  private static void evict(Path p, long offset, long length) throws Throwable {
    try (FileChannel c = FileChannel.open(p, READ)) {
      c.force(true); // DONTNEED drops clean pages only
    }
    int fd = DirectCalls.openat(p.toString(), OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC, 0);
    try {
      assertThat((int) FADVISE.invokeExact(fd, offset, length, POSIX_FADV_DONTNEED)).isZero();
    } finally {
      Native.close(fd);
    }
    // The kernel may keep a page (mapped, or busy): then this test cannot run here.
    assumeTrue(cachedPages(p, offset, length) == 0, "the page cache kept evicted pages");
  }

  private static final MethodHandle MMAP = libc("mmap", FunctionDescriptor.of(ValueLayout.ADDRESS,
      ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
      ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
  private static final MethodHandle MINCORE = libc("mincore", FunctionDescriptor.of(ValueLayout.JAVA_INT,
      ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
  private static final MethodHandle MUNMAP = libc("munmap", FunctionDescriptor.of(ValueLayout.JAVA_INT,
      ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));

  private static MethodHandle libc(String name, FunctionDescriptor f) {
    return Linker.nativeLinker().downcallHandle(
        Linker.nativeLinker().defaultLookup().find(name).orElseThrow(), f);
  }

  /**
   * How many pages of {@code [offset, offset + length)} the page cache holds, by {@code mincore} of a
   * mapping that is never touched (asking with a read would start the IO that brings them in).
   */
  private static int cachedPages(Path p, long offset, long length) throws Throwable {
    int fd = DirectCalls.openat(p.toString(), OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC, 0);
    try (Arena arena = Arena.ofConfined()) {
      int pages = (int) ((length + 4095) / 4096);
      MemorySegment map = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, length,
          Native.PROT_READ, Native.MAP_SHARED, fd, offset);
      assertThat(map.address()).isNotEqualTo(-1L);
      try {
        MemorySegment vec = arena.allocate(pages);
        assertThat((int) MINCORE.invokeExact(map, length, vec)).isZero();
        int cached = 0;
        for (int i = 0; i < pages; i++) {
          cached += vec.get(ValueLayout.JAVA_BYTE, i) & 1;
        }
        return cached;
      } finally {
        int unmapped = (int) MUNMAP.invokeExact(map, length);
        assertThat(unmapped).isZero();
      }
    } finally {
      Native.close(fd);
    }
  }

  private static byte[] numbered(int size) {
    byte[] content = new byte[size];
    for (int i = 0; i < size; i++) {
      content[i] = (byte) (i * 31 + i / 4096);
    }
    return content;
  }

  @Test
  void theKernelTakesRwfNowait_andARefusalTurnsTheInlineReadsOff() {
    assertThat(InlineReads.probe()).isTrue();
    assertThat(InlineReads.accepted(-Native.EAGAIN)).isTrue();
    assertThat(InlineReads.accepted(-Native.EOPNOTSUPP)).isFalse();
    assertThat(InlineReads.accepted(-Native.EINVAL)).isFalse();
    assertThat(InlineReads.accepted(-Native.ENOSYS)).isFalse();
    assertThat(InlineReads.accepted(8)).isFalse(); // an eventfd that had something to read
  }

  @Test
  void aCachedRead_fromAPlainThread_completesOnThatThreadInsideTheCall() throws Exception {
    byte[] content = numbered(3 * 4096 + 100);
    Path p = Files.write(dir.resolve("f"), content);
    try (EngineChannel ch = open(p, READ)) {
      ByteBuffer direct = ByteBuffer.allocateDirect(10_000).position(7).limit(4007);
      Completed c = readOnAPlainThread(ch, direct, 1000);
      assertThat(c.thread().getName()).isEqualTo("plain");
      assertThat(c.insideTheCall()).isTrue();
      assertThat(c.bytes()).isEqualTo(4000);
      assertThat(direct.position()).isEqualTo(4007);
      for (int i = 0; i < 4000; i++) {
        assertThat(direct.get(7 + i)).isEqualTo(content[1000 + i]);
      }

      // A heap buffer: through the thread's own native memory, into the buffer's region only.
      ByteBuffer heap = ByteBuffer.allocate(9000).position(5);
      c = readOnAPlainThread(ch, heap, 4096);
      assertThat(c.thread().getName()).isEqualTo("plain");
      assertThat(c.bytes()).isEqualTo(content.length - 4096); // up to the end of the file
      assertThat(heap.position()).isEqualTo(5 + content.length - 4096);
      assertThat(heap.get(4)).isZero();
      assertThat(java.util.Arrays.copyOfRange(heap.array(), 5, heap.position()))
          .isEqualTo(java.util.Arrays.copyOfRange(content, 4096, content.length));

      c = readOnAPlainThread(ch, ByteBuffer.allocate(10), content.length);
      assertThat(c.thread().getName()).isEqualTo("plain");
      assertThat(c.bytes()).isEqualTo(-1); // at the end of the file
    }
  }

  /**
   * The position reaches the kernel whole (a sparse file, bytes past 4 GiB), for a short read and a long
   * one.
   */
  @Test
  void cachedReadsPastFourGiB_areMadeInlineWithTheRightBytes() throws Exception {
    byte[] content = numbered(128 * 1024 + 100);
    long far = (5L << 30) + 3;
    Path p = dir.resolve("sparse");
    try (FileChannel w = FileChannel.open(p, java.nio.file.StandardOpenOption.CREATE_NEW,
        java.nio.file.StandardOpenOption.WRITE)) {
      ByteBuffer src = ByteBuffer.wrap(content);
      while (src.hasRemaining()) {
        w.write(src, far + src.position());
      }
    }
    try (EngineChannel ch = open(p, READ)) {
      ByteBuffer small = ByteBuffer.allocateDirect(4000);
      Completed c = readOnAPlainThread(ch, small, far + 1000);
      assertThat(c.thread().getName()).isEqualTo("plain");
      assertThat(c.insideTheCall()).isTrue();
      assertThat(c.bytes()).isEqualTo(4000);
      byte[] got = new byte[4000];
      small.flip().get(got);
      assertThat(java.util.Arrays.mismatch(got, java.util.Arrays.copyOfRange(content, 1000, 5000)))
          .as("the first byte that differs").isEqualTo(-1);

      ByteBuffer large = ByteBuffer.allocateDirect(content.length);
      c = readOnAPlainThread(ch, large, far);
      assertThat(c.thread().getName()).isEqualTo("plain");
      assertThat(c.insideTheCall()).isTrue();
      assertThat(c.bytes()).isEqualTo(content.length);
      got = new byte[content.length];
      large.flip().get(got);
      assertThat(java.util.Arrays.mismatch(got, content)).as("the first byte that differs").isEqualTo(-1);
    }
  }

  @Test
  void aReadOfBytesNotInThePageCache_goesToARing() throws Throwable {
    byte[] content = numbered(256 * 1024);
    Path p = Files.write(dir.resolve("f"), content);
    evict(p, 0, content.length);
    try (EngineChannel ch = open(p, READ)) {
      ByteBuffer b = ByteBuffer.allocateDirect(content.length);
      Completed c = readOnAPlainThread(ch, b, 0);
      assertThat(isRingThread(c.thread())).as(c.thread().getName()).isTrue();
      assertThat(c.bytes()).isEqualTo(content.length);
      byte[] got = new byte[content.length];
      b.flip().get(got);
      assertThat(got).isEqualTo(content);
    }
  }

  /** Writes {@code content} to a file and drops the file's second half from the page cache. */
  private Path withSecondHalfEvicted(byte[] content) throws Throwable {
    Path p = Files.write(dir.resolve("f"), content);
    evict(p, content.length / 2, content.length / 2);
    return p;
  }

  /**
   * The first half is cached, the second not: the read is whole, not a short one. (The first try reads
   * the first half and starts the IO of the second; whether the try that follows finds it done, or the
   * read goes to a ring, depends on the device's speed.)
   */
  @Test
  void aReadWhoseLaterBytesAreNotCached_isWhole() throws Throwable {
    byte[] content = numbered(512 * 1024);
    Path p = withSecondHalfEvicted(content);
    try (EngineChannel ch = open(p, READ)) {
      assertThat(cachedPages(p, 0, 256 * 1024)).isEqualTo(64);
      ByteBuffer heap = ByteBuffer.allocate(content.length);
      Completed c = readOnAPlainThread(ch, heap, 0);
      assertThat(c.bytes()).isEqualTo(content.length);
      assertThat(heap.array()).isEqualTo(content);
    }
  }

  @Test
  void heapReadsTooLargeForTheThreadsMemory_andOnVirtualThreads_goToARing() throws Exception {
    byte[] content = numbered(InlineReads.MAX_BOUNCE + 1);
    Path p = Files.write(dir.resolve("f"), content);
    try (EngineChannel ch = open(p, READ)) {
      ByteBuffer large = ByteBuffer.allocate(content.length);
      Completed c = readOnAPlainThread(ch, large, 0);
      assertThat(isRingThread(c.thread())).as(c.thread().getName()).isTrue();
      assertThat(large.array()).isEqualTo(content);

      CompletableFuture<Completed> onVirtual = new CompletableFuture<>();
      Thread.ofVirtual().start(() -> {
        try {
          onVirtual.complete(readHere(ch, ByteBuffer.allocate(100), 0));
        } catch (Throwable t) {
          onVirtual.completeExceptionally(t);
        }
      });
      assertThat(isRingThread(onVirtual.get(10, TimeUnit.SECONDS).thread())).isTrue();
    }
  }

  /**
   * {@code O_DIRECT} reads are never tried inline: there {@code RWF_NOWAIT} only refuses to wait for
   * dirty pages and locks, and a read of a synced file waits for the device on the calling thread.
   */
  @Test
  void directIo_readsGoToARing() throws Exception {
    Path p = Path.of("/var/tmp").resolve("virtualfile-uring-inline-" + ProcessHandle.current().pid());
    try {
      Files.write(p, numbered(8192));
      try (FileChannel c = FileChannel.open(p, READ)) {
        c.force(true); // no dirty pages: RWF_NOWAIT would then read from the device
      }
      try (EngineChannel ch = UringEngineTest.openDirectOrSkip(engine, p)) {
        ByteBuffer b = ByteBuffer.allocateDirect(8192).alignedSlice(4096).limit(4096);
        Completed c = readOnAPlainThread(ch, b, 4096);
        assertThat(c.bytes()).isEqualTo(4096);
        assertThat(isRingThread(c.thread())).as(c.thread().getName()).isTrue();
      }
    } finally {
      Files.deleteIfExists(p);
    }
  }

  /** What a loop of reads saw: its failure, and the stack depths of its completions on its thread. */
  record Loop(Throwable failure, java.util.Set<Integer> depthsOnStarter, int onStarter) {
    /**
     * How much deeper the deepest completion ran than the shallowest: 1 on the trampoline (the first
     * read completes inside the call, the queued ones one frame deeper, in its loop).
     */
    int depthSpread() {
      return java.util.Collections.max(depthsOnStarter) - java.util.Collections.min(depthsOnStarter);
    }
  }

  /**
   * Runs a loop of {@code reads} cached reads, each started from the completion of the one before, on a
   * thread that {@code starter} makes, and waits for its end.
   */
  Loop readLoop(Thread.Builder starter, int reads) throws Exception {
    Path p = blocks(16);
    try (EngineChannel ch = open(p, READ)) {
      CountDownLatch done = new CountDownLatch(1);
      AtomicReference<Throwable> failure = new AtomicReference<>();
      java.util.Set<Integer> depths = java.util.concurrent.ConcurrentHashMap.newKeySet();
      AtomicInteger onStarter = new AtomicInteger();
      ByteBuffer b = ByteBuffer.allocateDirect(4096);
      Thread[] thread = new Thread[1];
      thread[0] = starter.uncaughtExceptionHandler((t, e) -> {
        failure.compareAndSet(null, e);
        done.countDown();
      }).unstarted(() -> new Object() {
        int left = reads;

        void next() {
          b.clear();
          ch.read(b, 4096L * (left % 16), new IoCompletion() {
            @Override
            public void completed(int bytes) {
              if (Thread.currentThread() == thread[0]) {
                onStarter.incrementAndGet();
                depths.add(StackWalker.getInstance().walk(frames -> (int) frames.count()));
              }
              if (bytes != 4096 || b.get(0) != (byte) (left % 16)) {
                failure.compareAndSet(null, new AssertionError(left + ": " + bytes));
                done.countDown();
              } else if (--left == 0) {
                done.countDown();
              } else {
                next();
              }
            }

            @Override
            public void failed(Throwable error) {
              failure.compareAndSet(null, error);
              done.countDown();
            }
          });
        }
      }.next());
      thread[0].start();
      assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
      return new Loop(failure.get(), depths, onStarter.get());
    }
  }

  /**
   * A long loop of cached reads, each started from the completion of the one before, on a small stack:
   * its reads on the starting thread are queued and made one after another (the trampoline), so the
   * stack does not deepen from one completion to the next; past the run's bound the loop goes on on a
   * ring.
   */
  @Test
  void aLongReadLoopDrivenFromCompletions_neverDeepensTheStack() throws Exception {
    Loop loop = readLoop(Thread.ofPlatform().name("starter").stackSize(256 * 1024), 100_000);
    assertThat(loop.failure()).isNull();
    assertThat(loop.onStarter()).isEqualTo(InlineReads.MAX_RUN);
    assertThat(loop.depthSpread()).as("stack depths of the completions").isEqualTo(1);
  }

  /** The same on a virtual thread: its queue is its own, and its reads are made on it. */
  @Test
  void aReadLoopOnAVirtualThread_runsOnItsTrampolineToo() throws Exception {
    Loop loop = readLoop(Thread.ofVirtual().name("virtual-starter"), 10_000);
    assertThat(loop.failure()).isNull();
    assertThat(loop.onStarter()).isEqualTo(InlineReads.MAX_RUN);
    assertThat(loop.depthSpread()).isEqualTo(1);
  }

  /** A completion that logs {@code name:<first byte read>} (or its failure), then runs {@code then}. */
  private static IoCompletion logging(List<String> log, String name, ByteBuffer b, Runnable then) {
    return new IoCompletion() {
      @Override
      public void completed(int bytes) {
        log.add(name + ":" + b.get(0));
        then.run();
      }

      @Override
      public void failed(Throwable error) {
        log.add(name + " failed: " + error);
      }
    };
  }

  private static ByteBuffer block() {
    return ByteBuffer.allocateDirect(4096);
  }

  /**
   * Reads asked for inside a completion, of two channels, are made on the same thread after it
   * returns, in the order asked for; a read asked for by one of them comes after those queued before.
   */
  @Test
  void readsAskedForInsideACompletion_completeAfterIt_inTheOrderAskedFor() throws Exception {
    Path p = blocks(8);
    Path q = Files.copy(p, dir.resolve("copy"));
    try (EngineChannel ch = open(p, READ); EngineChannel other = open(q, READ)) {
      List<String> log = new java.util.concurrent.CopyOnWriteArrayList<>();
      ByteBuffer outer = block();
      ByteBuffer a = block();
      ByteBuffer a2 = block();
      ByteBuffer bb = block();
      ByteBuffer c = block();
      onAPlainThread(() -> {
        ch.read(outer, 0, logging(log, "outer", outer, () -> {
          ch.read(a, 4096, logging(log, "A", a,
              () -> other.read(a2, 2 * 4096, logging(log, "A2", a2, () -> {}))));
          other.read(bb, 3 * 4096, logging(log, "B", bb, () -> {}));
          ch.read(c, 4 * 4096, logging(log, "C", c, () -> {}));
          log.add("outer returns");
        }));
        log.add("read returned on " + Thread.currentThread().getName());
        return null;
      });
      assertThat(log).containsExactly(
          "outer:0", "outer returns", "A:1", "B:3", "C:4", "A2:2", "read returned on plain");
    }
  }

  /**
   * Completions that throw lose none of the reads queued on their thread: each exception goes to the
   * thread's handler, in order, and every queued read is still made; the caller of read sees none.
   */
  @Test
  void aCompletionThatThrows_losesNoneOfTheReadsQueuedOnItsThread() throws Exception {
    try (EngineChannel ch = open(blocks(4), READ)) {
      List<String> log = new java.util.concurrent.CopyOnWriteArrayList<>();
      ByteBuffer outer = block();
      ByteBuffer a = block();
      ByteBuffer bb = block();
      onAPlainThread(() -> {
        List<String> handled = new java.util.ArrayList<>();
        Thread.currentThread().setUncaughtExceptionHandler((t, e) -> handled.add(e.getMessage()));
        ch.read(outer, 0, logging(log, "outer", outer, () -> {
          ch.read(a, 4096, logging(log, "A", a, () -> {
            throw new IllegalStateException("A's bug");
          }));
          ch.read(bb, 2 * 4096, logging(log, "B", bb, () -> {}));
          throw new IllegalStateException("outer's bug");
        }));
        log.add("read returned, handled " + handled);
        return null;
      });
      assertThat(log).containsExactly(
          "outer:0", "A:1", "B:2", "read returned, handled [outer's bug, A's bug]");
    }
  }

  /** A queued read whose bytes the page cache does not hold goes to a ring, and completes there. */
  @Test
  void aQueuedReadOfBytesNotCached_goesToARing() throws Throwable {
    byte[] content = numbered(128 * 1024);
    try (EngineChannel ch = open(withSecondHalfEvicted(content), READ)) {
      ByteBuffer first = block();
      ByteBuffer b = ByteBuffer.allocateDirect(64 * 1024);
      List<String> log = new java.util.concurrent.CopyOnWriteArrayList<>();
      CompletableFuture<Thread> queuedOn = new CompletableFuture<>();
      onAPlainThread(() -> {
        ch.read(first, 0, logging(log, "first", first, () -> ch.read(b, 64 * 1024,
            logging(log, "queued", b, () -> queuedOn.complete(Thread.currentThread())))));
        return null;
      });
      Thread t = queuedOn.get(10, TimeUnit.SECONDS);
      assertThat(isRingThread(t)).as(t.getName()).isTrue();
      assertThat(log).containsExactly("first:" + content[0], "queued:" + content[64 * 1024]);
      byte[] got = new byte[64 * 1024];
      b.flip().get(got);
      assertThat(got).isEqualTo(java.util.Arrays.copyOfRange(content, 64 * 1024, 128 * 1024));
    }
  }

  /**
   * A read loop that never ends, all cached, runs on the one ring's thread (its reads past the nesting
   * bound are retried inline there): the ring still takes other requests, a write here.
   */
  @Test
  void anEndlessLoopOfCachedReadsOnARing_doesNotStarveItsOtherRequests() throws Exception {
    UringEngine oneRing = (UringEngine) new UringEngineProvider(Ring.Setup.KERNEL,
        java.util.function.UnaryOperator.identity(), true)
        .start(new io.virtualfile.reactive.spi.EngineSettings(1, 1, java.time.Duration.ofSeconds(1),
            "one-ring-"));
    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
    AtomicInteger reads = new AtomicInteger();
    CountDownLatch stopped = new CountDownLatch(1);
    try (EngineChannel ch = oneRing.open(blocks(4), Set.of(READ));
        EngineChannel other = oneRing.open(dir.resolve("other"),
            Set.of(java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.CREATE))) {
      ByteBuffer b = ByteBuffer.allocateDirect(4096);
      new Object() {
        void next() {
          b.clear();
          ch.read(b, 0, new IoCompletion() {
            @Override
            public void completed(int bytes) {
              reads.incrementAndGet();
              if (stop.get()) {
                stopped.countDown();
              } else {
                next();
              }
            }

            @Override
            public void failed(Throwable error) {
              stopped.countDown();
            }
          });
        }
      }.next();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (reads.get() < 10 * InlineReads.MAX_RUN && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      assertThat(reads.get()).as("the loop has moved to the ring's thread and goes on there")
          .isGreaterThanOrEqualTo(10 * InlineReads.MAX_RUN);
      CompletableFuture<Integer> written = new CompletableFuture<>();
      other.write(ByteBuffer.wrap(new byte[] {1}), 0, RingCallsTest.completion(written));
      assertThat(written.get(10, TimeUnit.SECONDS)).isEqualTo(1);
      stop.set(true);
      assertThat(stopped.await(10, TimeUnit.SECONDS)).isTrue();
    } finally {
      stop.set(true);
      oneRing.shutdown();
    }
  }

  /** A completion that throws: as on a ring's thread, the thread's handler gets it, not the caller. */
  @Test
  void aCompletionThatThrows_goesToTheThreadsHandler_notToTheCaller() throws Exception {
    Path p = Files.write(dir.resolve("f"), new byte[100]);
    try (EngineChannel ch = open(p, READ)) {
      CompletableFuture<Throwable> handled = new CompletableFuture<>();
      CompletableFuture<Throwable> thrownToCaller = new CompletableFuture<>();
      Thread t = Thread.ofPlatform().unstarted(() -> {
        try {
          ch.read(ByteBuffer.allocate(10), 0, new IoCompletion() {
            @Override
            public void completed(int bytes) {
              throw new IllegalStateException("completion bug");
            }

            @Override
            public void failed(Throwable error) {}
          });
          thrownToCaller.complete(null);
        } catch (Throwable e) {
          thrownToCaller.complete(e);
        }
      });
      t.setUncaughtExceptionHandler((thread, e) -> handled.complete(e));
      t.start();
      assertThat(thrownToCaller.get(10, TimeUnit.SECONDS)).isNull();
      assertThat(handled.get(10, TimeUnit.SECONDS)).hasMessage("completion bug");
    }
  }

  /** A file that refuses {@code RWF_NOWAIT} ({@code EOPNOTSUPP}: procfs) is read on the rings. */
  @Test
  void aFileThatRefusesRwfNowait_isReadOnTheRings_andNotTriedInlineAgain() throws Exception {
    try (EngineChannel ch = open(Path.of("/proc/self/stat"), READ)) {
      assertThat(((UringChannel) ch).triesInline()).isTrue();
      Completed c = readOnAPlainThread(ch, ByteBuffer.allocateDirect(4096), 0);
      assertThat(c.bytes()).isPositive();
      assertThat(isRingThread(c.thread())).as(c.thread().getName()).isTrue();
      assertThat(((UringChannel) ch).triesInline()).isFalse();
    }
  }
}
