package io.virtualfile;

import static io.virtualfile.ModelSupport.show;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;

/**
 * The multi-threaded variant of {@link VirtualFileModelTest}: 2 to 4 threads each run their own random
 * sequence of actions at once, on shared files, shared handles and one shared one- or two-slot cache.
 *
 * <p>What the model checks is only what is well defined whatever the interleaving:
 * <ul>
 *   <li>Two <em>shared files</em>: thread {@code t} writes only its own region {@code [t*R, t*R+R)} of
 *       each (through a handle all threads share, or through handles of its own), and every read of its
 *       region must match its own model of that region (a byte it never wrote reads as zero or is past the
 *       end, and the file is never shorter than the end of its own writes). Shared files are never
 *       truncated or overwritten, so their size only grows: a thread checks that too.</li>
 *   <li>One <em>dedicated file per thread</em>: only its owner writes, truncates and {@code
 *       crashSafeOverwrite}s it, and the owner's reads must match its model exactly. Other threads read
 *       it while it is being overwritten, through a handle opened before the threads started: they
 *       cannot know which bytes they get, but the operation must succeed (an overwrite through the
 *       library must never show up as {@link FileReplacedException} or any other error). Opening a
 *       handle on it while it is being overwritten is left to the disabled property, which found a bug
 *       there.</li>
 *   <li>Each thread's own handles, which it may close: operations on a closed one must fail with
 *       {@link ClosedChannelException}; and forced evictions through files of the thread's own.</li>
 * </ul>
 * After all threads finished: every file on disk holds what the models say, every open handle reads it,
 * the cache holds at most its capacity in descriptors and the process has exactly those open under the
 * test directory, no overwrite temp file is left, and closing every handle leaves no descriptor open.
 *
 * <p>No assertion depends on timing. Threads start together at a barrier; the only clock is a generous
 * bound on the join, which turns a hang (a deadlock) into a failure instead of a stuck build. The
 * interleaving is not reproducible, so shrinking may be less effective for a failure that needs a rare
 * interleaving; it still reports the smallest failing programs it found.
 */
class VirtualFileConcurrentModelTest {
  static final int SHARED_FILES = 2;
  /** Bytes of each shared file that each thread owns. */
  static final int REGION = 16;
  static final int MAX_DEDICATED_POSITION = 24;
  static final int MAX_ACTIONS_PER_THREAD = 40;
  /** Handle numbers name the shared handle (0) or the thread's own handles of a file (modulo). */
  static final int MAX_HANDLE = 4;
  /** Hang detectors, hundreds of times what a thread's program or a whole try takes. */
  static final Duration THREAD_LIMIT = Duration.ofSeconds(30);
  static final Duration TRY_LIMIT = Duration.ofSeconds(60);

  @Property(tries = 200)
  void threadsOnSharedFilesAndCache_eachSeesItsOwnModel(
      @ForAll @IntRange(min = 1, max = 2) int capacity,
      @ForAll("programs") List<List<Act>> programs)
      throws Exception {
    runAndCheck(capacity, programs);
  }

  /**
   * As above, but threads also open handles of their own on other threads' dedicated files, at any time,
   * so an open can race with the owner's {@code crashSafeOverwrite} of that file.
   *
   * <p>Found a bug, now fixed (seen at try 2,267 of one run and at try 594 of another): a virtual file
   * opened while a {@code crashSafeOverwrite} of its path renamed the new file in place could miss the
   * overwrite, because {@code CachedFile.open} registered the handle only after opening and binding.
   * The handle then kept reading (and writing) the old, unlinked file, or its next reopen failed with
   * {@link FileReplacedException}. The failure needs a rare interleaving, so jqwik's shrinking cannot
   * make the programs much smaller; {@code CachedFileOpenRacesOverwriteTest} reproduces it
   * deterministically.
   */
  @Property(tries = 200)
  void threadsAlsoOpeningFilesBeingOverwritten_eachSeesItsOwnModel(
      @ForAll @IntRange(min = 1, max = 2) int capacity,
      @ForAll("programsOpeningAnyFile") List<List<Act>> programs)
      throws Exception {
    runAndCheck(capacity, programs);
  }

  private static void runAndCheck(int capacity, List<List<Act>> programs) throws Exception {
    AtomicReference<Throwable> failure = new AtomicReference<>();
    AtomicReference<World> world = new AtomicReference<>();
    try {
      ModelSupport.bounded(TRY_LIMIT, "try", failure, () -> {
        World w = new World(capacity, programs.size());
        world.set(w);
        try {
          w.run(programs);
          w.checkAtEnd();
        } catch (Throwable t) {
          failure.set(t);
          throw t;
        } finally {
          w.dispose();
        }
      });
    } finally {
      if (world.get() != null) {
        try {
          ModelSupport.deleteRecursively(world.get().dir); // again: a hang in dispose() never got there
        } catch (UncheckedIOException e) {
          // do not hide the try's own failure behind a cleanup error
        }
      }
    }
  }

  /** Programs whose opens are of shared files and of the thread's own file only. */
  @Provide
  Arbitrary<List<List<Act>>> programs() {
    return programs(false);
  }

  @Provide
  Arbitrary<List<List<Act>>> programsOpeningAnyFile() {
    return programs(true);
  }

  private static Arbitrary<List<List<Act>>> programs(boolean opensOfOtherThreadsFiles) {
    return act(opensOfOtherThreadsFiles).list().ofMaxSize(MAX_ACTIONS_PER_THREAD)
        .withSizeDistribution(RandomDistribution.uniform())
        .list().ofMinSize(2).ofMaxSize(4);
  }

  // ---- actions: what one thread does ----

  /** One action of one thread's program. */
  interface Act {
    /** Runs on thread {@code me} of {@code w}; returns what it resolved to, for the thread's trace. */
    String run(World w, Worker me) throws Exception;
  }

  /** Writes {@code data} at {@code offset} in this thread's region of shared file {@code file}. */
  record RegionWrite(int file, int handle, int offset, byte[] data, boolean all) implements Act {
    public String run(World w, Worker me) throws Exception {
      H h = me.handle(file, handle);
      long pos = (long) me.index * REGION + offset;
      String what = h + (all ? ".writeAllAt(" : ".writeAt(") + show(data) + ", " + pos + ")";
      ByteBuffer src = ByteBuffer.wrap(data);
      if (!h.open) {
        assertThatThrownBy(() -> write(h, src, pos)).isInstanceOf(ClosedChannelException.class);
        return what + " -> ClosedChannelException";
      }
      int n = write(h, src, pos);
      assertThat(n).as("bytes written").isBetween(1, data.length);
      System.arraycopy(data, 0, me.region[file], offset, n);
      me.regionEnd[file] = Math.max(me.regionEnd[file], offset + n);
      return what + " -> " + n;
    }

    private int write(H h, ByteBuffer src, long pos) throws IOException {
      if (!all) {
        return h.vf.writeAt(src, pos);
      }
      h.vf.writeAllAt(src, pos);
      return src.position();
    }

    @Override
    public String toString() {
      return "region write s" + file + " h" + handle + " +" + offset + " " + show(data)
          + (all ? " (all)" : "");
    }
  }

  /** Reads {@code len} bytes at {@code offset} of this thread's region of shared file {@code file}. */
  record RegionRead(int file, int handle, int offset, int len, boolean exact) implements Act {
    public String run(World w, Worker me) throws Exception {
      H h = me.handle(file, handle);
      long pos = (long) me.index * REGION + offset;
      String what = h + (exact ? ".readExactAt(" : ".readAt(") + len + " bytes, " + pos + ")";
      ByteBuffer dst = ByteBuffer.allocate(len);
      if (!h.open) {
        assertThatThrownBy(() -> h.vf.readAt(dst, pos)).isInstanceOf(ClosedChannelException.class);
        return what + " -> ClosedChannelException";
      }
      int written = Math.max(0, me.regionEnd[file] - offset); // bytes here the file surely has
      int n;
      if (exact) {
        try {
          h.vf.readExactAt(dst, pos);
        } catch (EOFException e) {
          assertThat(len).as("EOFException although this thread wrote up to " + me.regionEnd[file])
              .isGreaterThan(written);
        }
        n = dst.position();
      } else {
        n = h.vf.readAt(dst, pos);
        if (n < 0) {
          assertThat(written).as("readAt returned -1 inside bytes this thread wrote").isZero();
          n = 0;
        } else {
          assertThat(n).as("bytes read").isBetween(written == 0 ? 0 : 1, len);
        }
      }
      assertThat(n).as("bytes read cover what this thread wrote")
          .isGreaterThanOrEqualTo(Math.min(len, written));
      byte[] expected = Arrays.copyOfRange(me.region[file], offset, offset + n);
      assertThat(Arrays.copyOf(dst.array(), n)).as("bytes of my region of s" + file + " at " + pos)
          .isEqualTo(expected);
      return what + " -> " + show(Arrays.copyOf(dst.array(), n));
    }

    @Override
    public String toString() {
      return "region read s" + file + " h" + handle + " +" + offset + " " + len
          + (exact ? " (exact)" : "");
    }
  }

  /** Size of shared file {@code file}: covers this thread's writes, and never shrinks. */
  record SharedSize(int file, int handle) implements Act {
    public String run(World w, Worker me) throws Exception {
      H h = me.handle(file, handle);
      if (!h.open) {
        assertThatThrownBy(h.vf::size).isInstanceOf(ClosedChannelException.class);
        return h + ".size() -> ClosedChannelException";
      }
      long size = h.vf.size();
      if (me.regionEnd[file] > 0) {
        assertThat(size).as("size of s" + file + " covers my writes")
            .isGreaterThanOrEqualTo((long) me.index * REGION + me.regionEnd[file]);
      }
      assertThat(size).as("size of s" + file + " never shrinks")
          .isGreaterThanOrEqualTo(me.lastSize[file]);
      me.lastSize[file] = size;
      return h + ".size() -> " + size;
    }

    @Override
    public String toString() {
      return "shared size s" + file + " h" + handle;
    }
  }

  /** An operation on this thread's dedicated file, checked exactly against its model. */
  record Own(Kind kind, int handle, int pos, byte[] data) implements Act {
    enum Kind { WRITE_ALL, WRITE, READ, READ_EXACT, SIZE, TRUNCATE, OVERWRITE }

    public String run(World w, Worker me) throws Exception {
      int file = w.dedicatedFile(me.index);
      if (kind == Kind.OVERWRITE) {
        VirtualFile.crashSafeOverwrite(w.paths[file], ByteBuffer.wrap(data));
        me.own = data.clone();
        return "crashSafeOverwrite(" + w.paths[file].getFileName() + ", " + show(data) + ")";
      }
      H h = me.handle(file, handle);
      String what = h + "." + kind + "(" + pos + (data.length > 0 ? ", " + show(data) : "") + ")";
      if (!h.open) {
        assertThatThrownBy(() -> {
          switch (kind) {
            case WRITE_ALL -> h.vf.writeAllAt(ByteBuffer.wrap(data), pos);
            case WRITE -> h.vf.writeAt(ByteBuffer.wrap(data), pos);
            case READ -> h.vf.readAt(ByteBuffer.allocate(data.length), pos);
            case READ_EXACT -> h.vf.readExactAt(ByteBuffer.allocate(data.length), pos);
            case SIZE -> h.vf.size();
            case TRUNCATE -> h.vf.truncate(pos);
            default -> throw new AssertionError(kind);
          }
        }).isInstanceOf(ClosedChannelException.class);
        return what + " -> ClosedChannelException";
      }
      byte[] expected = me.own;
      switch (kind) {
        case WRITE_ALL -> {
          h.vf.writeAllAt(ByteBuffer.wrap(data), pos);
          me.own = ModelSupport.written(expected, pos, data, data.length);
        }
        case WRITE -> {
          int n = h.vf.writeAt(ByteBuffer.wrap(data), pos);
          assertThat(n).as("bytes written").isBetween(1, data.length);
          me.own = ModelSupport.written(expected, pos, data, n);
        }
        case READ -> {
          ByteBuffer dst = ByteBuffer.allocate(data.length);
          int n = h.vf.readAt(dst, pos);
          if (pos >= expected.length) {
            assertThat(n).as("readAt at or past the end (size " + expected.length + ")").isEqualTo(-1);
          } else {
            assertThat(n).as("bytes read").isBetween(1, Math.min(data.length, expected.length - pos));
            assertThat(Arrays.copyOf(dst.array(), n)).as("bytes read from my file " + show(expected))
                .isEqualTo(Arrays.copyOfRange(expected, pos, pos + n));
          }
        }
        case READ_EXACT -> {
          ByteBuffer dst = ByteBuffer.allocate(data.length);
          int there = Math.max(0, Math.min(data.length, expected.length - pos));
          if (pos + data.length > expected.length) {
            assertThatThrownBy(() -> h.vf.readExactAt(dst, pos)).isInstanceOf(EOFException.class);
          } else {
            h.vf.readExactAt(dst, pos);
          }
          assertThat(dst.position()).isEqualTo(there);
          assertThat(Arrays.copyOf(dst.array(), there)).as("bytes read from my file " + show(expected))
              .isEqualTo(Arrays.copyOfRange(expected, Math.min(pos, expected.length),
                  Math.min(pos, expected.length) + there));
        }
        case SIZE -> assertThat(h.vf.size()).as("size of my file").isEqualTo(expected.length);
        case TRUNCATE -> {
          h.vf.truncate(pos);
          me.own = ModelSupport.truncated(expected, pos);
        }
        default -> throw new AssertionError(kind);
      }
      return what + " -> my file = " + show(me.own);
    }

    @Override
    public String toString() {
      return "own " + kind + " h" + handle + " @" + pos + " " + show(data);
    }
  }

  /** Reads another thread's dedicated file, which may be overwritten meanwhile: it must just work. */
  record PeekOther(int other, int handle, int pos, int len) implements Act {
    public String run(World w, Worker me) throws Exception {
      int owner = w.otherThan(me.index, other);
      H h = me.handle(w.dedicatedFile(owner), handle);
      String what = h + ".readAt(" + len + " bytes, " + pos + ") of thread " + owner + "'s file";
      ByteBuffer dst = ByteBuffer.allocate(len);
      if (!h.open) {
        assertThatThrownBy(() -> h.vf.readAt(dst, pos)).isInstanceOf(ClosedChannelException.class);
        return what + " -> ClosedChannelException";
      }
      int n = h.vf.readAt(dst, pos); // any content; but no exception, FileReplacedException least of all
      assertThat(n).as("bytes read").isBetween(-1, len).isNotZero();
      long size = h.vf.size();
      assertThat(size).isNotNegative();
      return what + " -> " + n + ", size " + size;
    }

    @Override
    public String toString() {
      return "peek at other thread's file o" + other + " h" + handle + " @" + pos + " " + len;
    }
  }

  /** Opens another handle of this thread's own on a file (a shared one, its own, or another's). */
  record Open(int target) implements Act {
    public String run(World w, Worker me) throws Exception {
      int file = me.target(w, target);
      VirtualFile vf = VirtualFile.open(w.paths[file], w.cache, READ, WRITE, CREATE);
      List<H> list = me.handles.get(file);
      H h = new H("t" + me.index + "h" + list.size() + "[" + w.paths[file].getFileName() + "]", vf);
      list.add(h);
      return "open " + h;
    }

    @Override
    public String toString() {
      return "open target " + target;
    }
  }

  /** Closes one of this thread's own handles of a file (the shared ones stay open). */
  record Close(int target, int handle) implements Act {
    public String run(World w, Worker me) throws Exception {
      int file = me.target(w, target);
      List<H> list = me.handles.get(file);
      if (list.size() == 1) {
        return "close on " + w.paths[file].getFileName() + ": no handle of my own, skipped";
      }
      H h = list.get(1 + handle % (list.size() - 1));
      h.vf.close();
      h.open = false;
      return h + ".close()";
    }

    @Override
    public String toString() {
      return "close target " + target + " h" + handle;
    }
  }

  /** Syncs through one of this thread's handles of a file. */
  record Sync(int target, int handle) implements Act {
    public String run(World w, Worker me) throws Exception {
      H h = me.handle(me.target(w, target), handle);
      if (!h.open) {
        assertThatThrownBy(h.vf::sync).isInstanceOf(ClosedChannelException.class);
        return h + ".sync() -> ClosedChannelException";
      }
      h.vf.sync();
      return h + ".sync()";
    }

    @Override
    public String toString() {
      return "sync target " + target + " h" + handle;
    }
  }

  /** Opens, writes and closes files of this thread's own, each taking a slot of the shared cache. */
  record Evict(int k) implements Act {
    public String run(World w, Worker me) throws Exception {
      for (int i = 0; i < k; i++) {
        Path p = w.dir.resolve("evictor-t" + me.index + "-" + i);
        try (VirtualFile other = VirtualFile.open(p, w.cache, CREATE, READ, WRITE)) {
          other.writeAllAt(ByteBuffer.wrap(new byte[] {1}), 0);
        }
      }
      return "evict(touch " + k + " files of my own)";
    }

    @Override
    public String toString() {
      return "evict " + k;
    }
  }

  /**
   * @param opensOfOtherThreadsFiles whether a thread may open handles of its own on other threads'
   *     dedicated files (which races with their overwrites); without, it reads them only through the
   *     handles opened before the threads started
   */
  static Arbitrary<Act> act(boolean opensOfOtherThreadsFiles) {
    Arbitrary<Integer> shared = Arbitraries.integers().between(0, SHARED_FILES - 1);
    Arbitrary<Integer> handle = Arbitraries.integers().between(0, MAX_HANDLE);
    Arbitrary<Integer> target = Arbitraries.integers().between(0, 4);
    Arbitrary<byte[]> data = bytes(1, 8);
    Arbitrary<Integer> offset = Arbitraries.integers().between(0, REGION - 1);
    Arbitrary<Integer> readLength = Arbitraries.integers().between(1, 10);
    Arbitrary<Boolean> flag = Arbitraries.of(true, false);
    Arbitrary<Act> regionWrite = Combinators.combine(shared, handle, offset, data, flag)
        .as((f, h, off, d, all) ->
            new RegionWrite(f, h, off, Arrays.copyOf(d, Math.min(d.length, REGION - off)), all));
    Arbitrary<Act> regionRead = Combinators.combine(shared, handle, offset, readLength, flag)
        .as((f, h, off, len, exact) -> new RegionRead(f, h, off, Math.min(len, REGION - off), exact));
    Arbitrary<Act> sharedSize = Combinators.combine(shared, handle).as(SharedSize::new);
    Arbitrary<Integer> ownPos = Arbitraries.integers().between(0, MAX_DEDICATED_POSITION);
    Arbitrary<Act> ownWrite = Combinators.combine(
            Arbitraries.of(Own.Kind.WRITE_ALL, Own.Kind.WRITE), handle, ownPos, data)
        .as(Own::new);
    Arbitrary<Act> ownRead = Combinators.combine(
            Arbitraries.of(Own.Kind.READ, Own.Kind.READ_EXACT), handle, ownPos, data)
        .as(Own::new); // data.length is the read length
    Arbitrary<Act> ownOther = Combinators.combine(
            Arbitraries.of(Own.Kind.SIZE, Own.Kind.TRUNCATE), handle, ownPos)
        .as((k, h, p) -> new Own(k, h, p, new byte[0]));
    Arbitrary<Act> ownOverwrite = bytes(0, 20).map(d -> new Own(Own.Kind.OVERWRITE, 0, 0, d));
    Arbitrary<Act> peek = Combinators.combine(Arbitraries.integers().between(0, 2), handle, ownPos, readLength)
        .as(PeekOther::new);
    Arbitrary<Act> open = Arbitraries.integers().between(0, opensOfOtherThreadsFiles ? 4 : SHARED_FILES)
        .map(Open::new);
    Arbitrary<Act> close = Combinators.combine(target, handle).as(Close::new);
    Arbitrary<Act> sync = Combinators.combine(target, handle).as(Sync::new);
    Arbitrary<Act> evict = Arbitraries.integers().between(1, 3).map(Evict::new);
    return Arbitraries.frequencyOf(
        Tuple.of(4, regionWrite),
        Tuple.of(4, regionRead),
        Tuple.of(1, sharedSize),
        Tuple.of(3, ownWrite),
        Tuple.of(3, ownRead),
        Tuple.of(2, ownOther),
        Tuple.of(2, ownOverwrite),
        Tuple.of(3, peek),
        Tuple.of(2, open),
        Tuple.of(1, close),
        Tuple.of(1, sync),
        Tuple.of(2, evict));
  }

  /** Never zero bytes, so that a hole (zeros) cannot pass for written data. */
  static Arbitrary<byte[]> bytes(int min, int max) {
    return Arbitraries.bytes().between((byte) 1, (byte) 127).array(byte[].class)
        .ofMinSize(min).ofMaxSize(max);
  }

  // ---- the system under test ----

  /** A handle and whether its thread has closed it. Shared handles are never closed during the run. */
  static final class H {
    final String name;
    final VirtualFile vf;
    volatile boolean open = true;

    H(String name, VirtualFile vf) {
      this.name = name;
      this.vf = vf;
    }

    @Override
    public String toString() {
      return name + (open ? "" : "(closed)");
    }
  }

  /** One thread: its program, its models and its handles (index 0 of each file's list is shared). */
  static final class Worker {
    final int index;
    final List<Act> program;
    final byte[][] region = new byte[SHARED_FILES][REGION];
    /** Per shared file: the end of this thread's writes within its region. */
    final int[] regionEnd = new int[SHARED_FILES];
    final long[] lastSize = new long[SHARED_FILES];
    /** The model of this thread's dedicated file. */
    byte[] own = new byte[0];
    final Map<Integer, List<H>> handles = new HashMap<>();
    final List<String> trace = new ArrayList<>();
    volatile Throwable failure;

    Worker(int index, List<Act> program) {
      this.index = index;
      this.program = program;
    }

    H handle(int file, int ref) {
      List<H> list = handles.get(file);
      return list.get(ref % list.size());
    }

    /** Target 0, 1: a shared file; 2: my dedicated file; 3, 4: another thread's dedicated file. */
    int target(World w, int target) {
      if (target < SHARED_FILES) {
        return target;
      }
      if (target == SHARED_FILES) {
        return w.dedicatedFile(index);
      }
      return w.dedicatedFile(w.otherThan(index, target));
    }

    void run(World w) {
      for (int i = 0; i < program.size(); i++) {
        Act a = program.get(i);
        try {
          trace.add(a.run(w, this));
        } catch (Throwable t) {
          failure = new AssertionError("thread " + index + ", action " + (i + 1) + " (" + a + ") failed: "
              + t + "\n  its trace (actions as resolved):\n" + traceString() + "    -> FAILED HERE: " + a, t);
          return;
        }
      }
    }

    String traceString() {
      StringBuilder s = new StringBuilder();
      for (int i = 0; i < trace.size(); i++) {
        s.append("    ").append(i + 1).append(". ").append(trace.get(i)).append('\n');
      }
      return s.toString();
    }
  }

  /** The shared world: a temp dir, the shared cache, the files and the shared handles. */
  static final class World {
    final int capacity;
    final int threads;
    final Path dir;
    final OpenFileCache cache;
    /** Shared files first, then one dedicated file per thread. */
    final Path[] paths;
    final List<H> sharedHandles = new ArrayList<>();
    final List<Worker> workers = new ArrayList<>();

    World(int capacity, int threads) throws IOException {
      this.capacity = capacity;
      this.threads = threads;
      this.dir = ModelSupport.newTempDir("vf-model-mt-");
      this.cache = OpenFileCache.create(capacity);
      this.paths = new Path[SHARED_FILES + threads];
      for (int i = 0; i < paths.length; i++) {
        paths[i] = dir.resolve(i < SHARED_FILES ? "s" + i : "d" + (i - SHARED_FILES));
        sharedHandles.add(new H("shared[" + paths[i].getFileName() + "]",
            VirtualFile.open(paths[i], cache, READ, WRITE, CREATE)));
      }
    }

    int dedicatedFile(int thread) {
      return SHARED_FILES + thread;
    }

    /** Another thread than {@code me}, chosen by {@code ref}. */
    int otherThan(int me, int ref) {
      return (me + 1 + ref % (threads - 1)) % threads;
    }

    void run(List<List<Act>> programs) throws Exception {
      CyclicBarrier start = new CyclicBarrier(programs.size());
      List<Thread> running = new ArrayList<>();
      for (int t = 0; t < programs.size(); t++) {
        Worker me = new Worker(t, programs.get(t));
        for (int f = 0; f < paths.length; f++) {
          me.handles.put(f, new ArrayList<>(List.of(sharedHandles.get(f))));
        }
        workers.add(me);
        Thread thread = new Thread(() -> {
          try {
            start.await();
          } catch (Exception e) {
            me.failure = e;
            return;
          }
          me.run(this);
        }, "vf-model-t" + t);
        running.add(thread);
      }
      running.forEach(Thread::start);
      for (Thread thread : running) {
        // Not a timing assumption: a bound on a hang, so that a deadlock fails instead of blocking the
        // build.
        thread.join(THREAD_LIMIT.toMillis());
        if (thread.isAlive()) {
          AssertionError hang = new AssertionError(thread.getName() + " still running after "
              + THREAD_LIMIT.toSeconds() + " s: a deadlock or a livelock (this error's stack trace is its "
              + "own)");
          hang.setStackTrace(thread.getStackTrace());
          throw hang;
        }
      }
      for (Worker me : workers) {
        if (me.failure != null) {
          throw new AssertionError(me.failure.getMessage() + "\n" + otherTraces(me), me.failure);
        }
      }
    }

    String otherTraces(Worker failed) {
      return workers.stream().filter(w -> w != failed)
          .map(w -> "  thread " + w.index + "'s trace (its interleaving with the others unknown):\n"
              + w.traceString())
          .collect(Collectors.joining());
    }

    void checkAtEnd() throws Exception {
      int cached = cache.stats().openHandles();
      assertThat(cached).as("descriptors cached").isBetween(0, capacity);
      long open = ModelSupport.descriptorsUnder(dir);
      if (open >= 0) {
        assertThat(open).as("descriptors open under the test dir (all must be cached)")
            .isEqualTo(cached);
      }
      byte[][] disk = new byte[paths.length][];
      for (int f = 0; f < paths.length; f++) {
        disk[f] = Files.readAllBytes(paths[f]);
      }
      for (Worker me : workers) {
        for (int f = 0; f < SHARED_FILES; f++) {
          int start = me.index * REGION;
          byte[] got = Arrays.copyOfRange(disk[f], Math.min(start, disk[f].length),
              Math.min(start + REGION, disk[f].length));
          assertThat(got.length).as("s" + f + " covers thread " + me.index + "'s writes")
              .isGreaterThanOrEqualTo(me.regionEnd[f]);
          assertThat(got).as("thread " + me.index + "'s region of s" + f + " on disk")
              .isEqualTo(Arrays.copyOf(me.region[f], got.length));
        }
        assertThat(disk[dedicatedFile(me.index)]).as("thread " + me.index + "'s file on disk")
            .isEqualTo(me.own);
      }
      try (Stream<Path> list = Files.list(dir)) {
        assertThat(list.map(p -> p.getFileName().toString()))
            .as("directory entries (no overwrite temp file left behind)")
            .allMatch(n -> n.matches("s\\d|d\\d|evictor-t\\d-\\d"));
      }
      Map<H, Integer> fileOf = new LinkedHashMap<>(); // every handle, the shared ones once
      for (int f = 0; f < paths.length; f++) {
        fileOf.put(sharedHandles.get(f), f);
      }
      for (Worker me : workers) {
        me.handles.forEach((f, list) -> list.forEach(h -> fileOf.putIfAbsent(h, f)));
      }
      for (Map.Entry<H, Integer> e : fileOf.entrySet()) {
        H h = e.getKey();
        byte[] expected = disk[e.getValue()];
        if (!h.open) {
          assertThatThrownBy(() -> h.vf.readAt(ByteBuffer.allocate(1), 0)).as(h + " is closed")
              .isInstanceOf(ClosedChannelException.class);
          continue;
        }
        assertThat(h.vf.size()).as("size through " + h).isEqualTo(expected.length);
        ByteBuffer b = ByteBuffer.allocate(expected.length);
        h.vf.readExactAt(b, 0);
        assertThat(b.array()).as("content through " + h).isEqualTo(expected);
      }
      for (H h : fileOf.keySet()) {
        h.vf.close();
        h.open = false;
      }
      ModelSupport.checkClosedHandlesLeaveOnlyCachedDescriptors(cache, dir);
    }

    void dispose() {
      for (H h : sharedHandles) {
        closeQuietly(h);
      }
      for (Worker me : workers) {
        me.handles.values().forEach(list -> list.forEach(World::closeQuietly));
      }
      try {
        cache.close();
      } catch (RuntimeException ignored) {
        // cleanup after a failure: the failure itself is what the report shows
      }
      ModelSupport.deleteRecursively(dir);
    }

    private static void closeQuietly(H h) {
      try {
        h.vf.close();
      } catch (IOException | RuntimeException ignored) {
        // as above
      }
    }
  }
}
