package io.virtualfile;

import static io.virtualfile.ModelSupport.show;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.TRUNCATE_EXISTING;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.state.Action;
import net.jqwik.api.state.ActionChain;
import net.jqwik.api.state.ActionChainArbitrary;
import net.jqwik.api.state.Transformer;

/**
 * Model-based (stateful) property test of {@link VirtualFile} on a one- or two-slot {@link
 * OpenFileCache}, where nearly every operation evicts another file's descriptor.
 *
 * <p>jqwik generates chains of up to {@value #MAX_ACTIONS} actions over {@value #FILES} files and any
 * number of handles (several per file; a chain starts with one handle open on {@code f0}): open (READ,
 * WRITE, CREATE, sometimes TRUNCATE_EXISTING), {@code writeAllAt}/{@code writeAt} (also past the end,
 * leaving a hole), {@code readAt}/{@code readExactAt} (also at and past the end), {@code size}, {@code
 * truncate} (smaller and larger), {@code crashSafeOverwrite}, forced evictions, {@code sync} and close.
 * Each action runs on the real library and on a plain model: the expected bytes of each file, and which
 * handles are open. Operations on a closed handle must fail with {@link ClosedChannelException}.
 *
 * <p>After every action, invariants: the bytes on disk (read with {@link Files}, not through the library)
 * are the model's; the cache holds at most its capacity in descriptors, and the process has exactly that
 * many descriptors open under the test's directory (no leak, no descriptor outside the cache); no temp
 * file of an overwrite is left. At the end every handle reads the model's bytes, and closing them all
 * leaves no descriptor open.
 *
 * <p>Handles are named by small numbers ({@code h3}) resolved against the handles that exist when the
 * action runs (see {@link Sut#handle(int)}), so that jqwik's shrinking (dropping actions, lowering
 * numbers) keeps every chain runnable. A failure message carries the trace of the actions as they
 * resolved ({@code h3} is which handle, on which file, open or closed). Library calls run one at a time
 * on a thread of their own, each bounded by {@link #STEP_LIMIT}, so that a hang fails the property
 * instead of blocking the build.
 */
class VirtualFileModelTest {
  static final int FILES = 3;
  static final int EVICTORS = 3;
  static final int MAX_ACTIONS = 40;
  static final int MAX_POSITION = 24;
  /** Handle numbers from here on name a closed handle; see {@link Sut#handle(int)}. */
  static final int CLOSED_HANDLE = 8;
  /** A hang detector, thousands of times what an action takes. */
  static final Duration STEP_LIMIT = Duration.ofSeconds(30);

  /** Every system under test created in the current try: cleaned up however the try ended. */
  private final List<Sut> created = Collections.synchronizedList(new ArrayList<>());

  @Property(tries = 200)
  void randomActions_oneSlotCache_matchTheModel(@ForAll("oneSlot") ActionChain<Sut> chain) {
    runAndCleanUp(chain);
  }

  @Property(tries = 200)
  void randomActions_twoSlotCache_matchTheModel(@ForAll("twoSlots") ActionChain<Sut> chain) {
    runAndCleanUp(chain);
  }

  /**
   * As above, with empty buffers too for {@code writeAllAt} and {@code readExactAt}.
   *
   * <p>Found a bug, now fixed: {@code writeAllAt} and {@code readExactAt} looped while the buffer had
   * bytes left, so with an empty buffer they returned normally on a closed handle, where {@link
   * VirtualFile#close()} promises that later operations fail with {@link ClosedChannelException}. jqwik
   * shrank every failure to {@code ["h0.close()", "h0.readExactAt(0 bytes, 0)"]} or {@code ["h0.close()",
   * "h0.writeAllAt([], 0)"]}.
   */
  @Property(tries = 200)
  void randomActions_emptyBuffersToo_matchTheModel(@ForAll("emptyBuffersToo") ActionChain<Sut> chain) {
    runAndCleanUp(chain);
  }

  @Provide
  Arbitrary<ActionChain<Sut>> emptyBuffersToo() {
    return chains(1, true);
  }

  @Provide
  Arbitrary<ActionChain<Sut>> oneSlot() {
    return chains(1, false);
  }

  @Provide
  Arbitrary<ActionChain<Sut>> twoSlots() {
    return chains(2, false);
  }

  private void runAndCleanUp(ActionChain<Sut> chain) {
    try {
      Sut end = chain
          .withInvariant("disk holds the model's bytes", Sut::checkDisk)
          .withInvariant("descriptors: at most capacity, all in the cache", Sut::checkDescriptors)
          .run();
      end.finish();
    } finally {
      synchronized (created) {
        created.forEach(Sut::dispose);
        created.clear();
      }
    }
  }

  private ActionChainArbitrary<Sut> chains(int capacity, boolean emptyBuffers) {
    int minBuffer = emptyBuffers ? 0 : 1;
    return ActionChain.<Sut>startWith(() -> {
          Sut s = new Sut(capacity);
          created.add(s);
          s.step("open f0 (the chain's start)", () -> s.open(0, false)); // handle actions have a handle
          return s;
        })
        .withAction(3, act(Combinators.combine(file(), Arbitraries.of(false, false, true)).as((f, t) ->
            action("open f" + f + (t ? " with TRUNCATE_EXISTING" : ""), s -> s.open(f, t)))))
        .withAction(4, act(Combinators.combine(handle(), position(), data(minBuffer)).as((h, p, d) ->
            action("h" + h + ".writeAllAt(" + show(d) + ", " + p + ")", s -> s.writeAll(h, p, d)))))
        .withAction(2, act(Combinators.combine(handle(), position(), data(minBuffer)).as((h, p, d) ->
            action("h" + h + ".writeAt(" + show(d) + ", " + p + ")", s -> s.writeAt(h, p, d)))))
        .withAction(3, act(Combinators.combine(handle(), position(), readLength(1)).as((h, p, n) ->
            action("h" + h + ".readAt(" + n + " bytes, " + p + ")", s -> s.readAt(h, p, n)))))
        .withAction(3, act(Combinators.combine(handle(), position(), readLength(minBuffer)).as((h, p, n) ->
            action("h" + h + ".readExactAt(" + n + " bytes, " + p + ")", s -> s.readExact(h, p, n)))))
        .withAction(1, act(handle().map(h ->
            action("h" + h + ".size()", s -> s.size(h)))))
        .withAction(2, act(Combinators.combine(handle(), position()).as((h, size) ->
            action("h" + h + ".truncate(" + size + ")", s -> s.truncate(h, size)))))
        .withAction(2, act(Combinators.combine(file(), overwriteData()).as((f, d) ->
            action("crashSafeOverwrite(f" + f + ", " + show(d) + ")", s -> s.overwrite(f, d)))))
        .withAction(2, act(Arbitraries.integers().between(1, EVICTORS).map(k ->
            action("evict(touch " + k + " other files)", s -> s.evict(k)))))
        .withAction(1, act(handle().map(h ->
            action("h" + h + ".close()", s -> s.close(h)))))
        .withAction(1, act(handle().map(h ->
            action("h" + h + ".sync()", s -> s.sync(h)))))
        .withAction(1, act(file().map(f ->
            action("verify every handle of f" + f, s -> s.verifyFile(f)))))
        .withMaxTransformations(MAX_ACTIONS);
  }

  @FunctionalInterface
  interface SutOp {
    /** Runs one action on the library and the model; returns what it resolved to, for the trace. */
    String run(Sut s) throws Exception;
  }

  /** A transformer described as {@code description} in jqwik's report, running {@code op} as a step. */
  private static Transformer<Sut> action(String description, SutOp op) {
    return Transformer.mutate(description, s -> s.step(description, () -> op.run(s)));
  }

  private static Action.Independent<Sut> act(Arbitrary<Transformer<Sut>> transformers) {
    return () -> transformers;
  }

  static Arbitrary<Integer> file() {
    return Arbitraries.integers().between(0, FILES - 1);
  }

  /** A handle number: see {@link Sut#handle(int)}. */
  static Arbitrary<Integer> handle() {
    return Arbitraries.integers().between(0, CLOSED_HANDLE + 2);
  }

  static Arbitrary<Long> position() {
    return Arbitraries.longs().between(0, MAX_POSITION);
  }

  static Arbitrary<Integer> readLength(int min) {
    return Arbitraries.integers().between(min, 10);
  }

  /** Never zero bytes, so that a hole (zeros) cannot pass for written data. */
  static Arbitrary<byte[]> data(int minSize) {
    return Arbitraries.bytes().between((byte) 1, (byte) 127).array(byte[].class)
        .ofMinSize(minSize).ofMaxSize(8);
  }

  static Arbitrary<byte[]> overwriteData() {
    return Arbitraries.bytes().between((byte) 1, (byte) 127).array(byte[].class)
        .ofMinSize(0).ofMaxSize(20);
  }

  /** One virtual file handle, and whether the model has it open. */
  static final class Handle {
    final int id;
    final int file;
    final VirtualFile vf;
    boolean open = true;

    Handle(int id, int file, VirtualFile vf) {
      this.id = id;
      this.file = file;
      this.vf = vf;
    }

    @Override
    public String toString() {
      return "h" + id + "[f" + file + (open ? "" : ",closed") + "]";
    }
  }

  @FunctionalInterface
  interface Op {
    /** Runs one action on the library and the model; returns what it resolved to, for the trace. */
    String run() throws Exception;
  }

  /** The system under test (a temp dir, a cache, handles) and its model. */
  static final class Sut {
    final int capacity;
    final Path dir;
    final OpenFileCache cache;
    final Path[] paths = new Path[FILES];
    /** Expected content of each file that exists; a file not in the map must not exist. */
    final Map<Integer, byte[]> model = new HashMap<>();
    final List<Handle> handles = new ArrayList<>();
    final List<String> trace = new ArrayList<>();
    /** Where every library call of this chain runs; see {@link ModelSupport.LibraryThread}. */
    final ModelSupport.LibraryThread library = new ModelSupport.LibraryThread("vf-model-library");
    /** Descriptors the process has open outside the test dir, as of the last exact count. */
    long othersOpen = -1;

    Sut(int capacity) {
      this.capacity = capacity;
      this.dir = ModelSupport.newTempDir("vf-model-");
      this.cache = OpenFileCache.create(capacity);
      for (int i = 0; i < FILES; i++) {
        paths[i] = dir.resolve("f" + i);
      }
    }

    /**
     * Runs {@code op} (on the library thread, bounded by {@link #STEP_LIMIT}), records it in the trace,
     * and turns any failure into one that shows the trace.
     */
    void step(String name, Op op) {
      String resolved;
      try {
        resolved = library.call(STEP_LIMIT, op::run);
      } catch (Throwable t) {
        throw new AssertionError(
            name + " failed: " + t + "\n  trace (actions as resolved):\n" + traceString()
                + "    -> FAILED HERE: " + name + "\n  model before it: " + modelString(), t);
      }
      trace.add(resolved);
    }

    String traceString() {
      StringBuilder s = new StringBuilder();
      for (int i = 0; i < trace.size(); i++) {
        s.append("    ").append(i + 1).append(". ").append(trace.get(i)).append('\n');
      }
      return s.toString();
    }

    String modelString() {
      return "capacity=" + capacity + ", files="
          + model.entrySet().stream()
              .map(e -> "f" + e.getKey() + "=" + show(e.getValue()))
              .collect(Collectors.joining(", ", "{", "}"))
          + ", handles=" + handles;
    }

    /**
     * The handle that number {@code ref} names: numbers below {@value #CLOSED_HANDLE} name an open handle
     * (modulo the open ones), the others a closed one (modulo the closed ones); when there is none of
     * the kind asked for, any handle. So most actions hit an open handle, and shrinking, which lowers
     * numbers, keeps an action on the same kind of handle while it drops other actions.
     */
    Handle handle(int ref) {
      boolean wantOpen = ref < CLOSED_HANDLE;
      List<Handle> kind = handles.stream().filter(h -> h.open == wantOpen).collect(Collectors.toList());
      List<Handle> among = kind.isEmpty() ? handles : kind;
      return among.get(ref % among.size()); // never empty: the chain starts with a handle open
    }

    byte[] content(Handle h) {
      return model.get(h.file);
    }

    // ---- actions ----

    /**
     * Opens a handle with READ, WRITE, CREATE, and sometimes TRUNCATE_EXISTING, which must empty the file
     * at this open only (never again when an eviction makes the handle reopen).
     */
    String open(int f, boolean truncateExisting) throws IOException {
      VirtualFile vf = truncateExisting
          ? VirtualFile.open(paths[f], cache, READ, WRITE, CREATE, TRUNCATE_EXISTING)
          : VirtualFile.open(paths[f], cache, READ, WRITE, CREATE);
      Handle h = new Handle(handles.size(), f, vf);
      handles.add(h);
      if (truncateExisting || !model.containsKey(f)) {
        model.put(f, new byte[0]);
      }
      return "open f" + f + (truncateExisting ? " with TRUNCATE_EXISTING" : "") + " -> " + h
          + " (f" + f + " holds " + show(model.get(f)) + ")";
    }

    String writeAll(int ref, long pos, byte[] data) throws Exception {
      Handle h = handle(ref);
      String what = h + ".writeAllAt(" + show(data) + ", " + pos + ")";
      ByteBuffer src = ByteBuffer.wrap(data);
      if (!h.open) {
        assertThatThrownBy(() -> h.vf.writeAllAt(src, pos)).isInstanceOf(ClosedChannelException.class);
        return what + " -> ClosedChannelException";
      }
      h.vf.writeAllAt(src, pos);
      assertThat(src.hasRemaining()).as("writeAllAt consumed the whole buffer").isFalse();
      model.put(h.file, ModelSupport.written(content(h), pos, data, data.length));
      return what + " -> f" + h.file + " = " + show(content(h));
    }

    String writeAt(int ref, long pos, byte[] data) throws Exception {
      Handle h = handle(ref);
      String what = h + ".writeAt(" + show(data) + ", " + pos + ")";
      ByteBuffer src = ByteBuffer.wrap(data);
      if (!h.open) {
        assertThatThrownBy(() -> h.vf.writeAt(src, pos)).isInstanceOf(ClosedChannelException.class);
        return what + " -> ClosedChannelException";
      }
      int n = h.vf.writeAt(src, pos);
      assertThat(n).as("bytes written").isBetween(Math.min(1, data.length), data.length);
      assertThat(src.position()).as("buffer position after the write").isEqualTo(n);
      model.put(h.file, ModelSupport.written(content(h), pos, data, n));
      return what + " -> " + n + ", f" + h.file + " = " + show(content(h));
    }

    String readAt(int ref, long pos, int len) throws Exception {
      Handle h = handle(ref);
      String what = h + ".readAt(" + len + " bytes, " + pos + ")";
      ByteBuffer dst = ByteBuffer.allocate(len);
      if (!h.open) {
        assertThatThrownBy(() -> h.vf.readAt(dst, pos)).isInstanceOf(ClosedChannelException.class);
        return what + " -> ClosedChannelException";
      }
      byte[] expected = content(h);
      int n = h.vf.readAt(dst, pos);
      if (pos >= expected.length) {
        assertThat(n).as("readAt at or past the end (size " + expected.length + ")").isEqualTo(-1);
        return what + " -> -1";
      }
      int available = (int) Math.min(len, expected.length - pos);
      assertThat(n).as("bytes read").isBetween(1, available);
      assertThat(dst.position()).as("buffer position after the read").isEqualTo(n);
      assertThat(Arrays.copyOf(dst.array(), n))
          .as("bytes read at " + pos + " from f" + h.file + " " + show(expected))
          .isEqualTo(Arrays.copyOfRange(expected, (int) pos, (int) pos + n));
      return what + " -> " + n + " " + show(Arrays.copyOf(dst.array(), n));
    }

    String readExact(int ref, long pos, int len) throws Exception {
      Handle h = handle(ref);
      String what = h + ".readExactAt(" + len + " bytes, " + pos + ")";
      ByteBuffer dst = ByteBuffer.allocate(len);
      if (!h.open) {
        assertThatThrownBy(() -> h.vf.readExactAt(dst, pos)).isInstanceOf(ClosedChannelException.class);
        return what + " -> ClosedChannelException";
      }
      byte[] expected = content(h);
      int there = (int) Math.max(0, Math.min(len, expected.length - pos));
      if (len > 0 && pos + len > expected.length) {
        assertThatThrownBy(() -> h.vf.readExactAt(dst, pos))
            .as("readExactAt past the end (size " + expected.length + ")")
            .isInstanceOf(EOFException.class);
        assertThat(dst.position()).as("bytes that were there before the end").isEqualTo(there);
      } else {
        h.vf.readExactAt(dst, pos);
        assertThat(dst.hasRemaining()).isFalse();
      }
      if (there > 0) {
        assertThat(Arrays.copyOf(dst.array(), there))
            .as("bytes read at " + pos + " from f" + h.file + " " + show(expected))
            .isEqualTo(Arrays.copyOfRange(expected, (int) pos, (int) pos + there));
      }
      return what + (there < len ? " -> EOFException after " : " -> ")
          + show(Arrays.copyOf(dst.array(), there));
    }

    String size(int ref) throws Exception {
      Handle h = handle(ref);
      String what = h + ".size()";
      if (!h.open) {
        assertThatThrownBy(h.vf::size).isInstanceOf(ClosedChannelException.class);
        return what + " -> ClosedChannelException";
      }
      long size = h.vf.size();
      assertThat(size).as("size of f" + h.file).isEqualTo(content(h).length);
      return what + " -> " + size;
    }

    String truncate(int ref, long size) throws Exception {
      Handle h = handle(ref);
      String what = h + ".truncate(" + size + ")";
      if (!h.open) {
        assertThatThrownBy(() -> h.vf.truncate(size)).isInstanceOf(ClosedChannelException.class);
        return what + " -> ClosedChannelException";
      }
      h.vf.truncate(size);
      model.put(h.file, ModelSupport.truncated(content(h), size));
      return what + " -> f" + h.file + " = " + show(content(h));
    }

    String overwrite(int f, byte[] data) throws Exception {
      VirtualFile.crashSafeOverwrite(paths[f], ByteBuffer.wrap(data));
      model.put(f, data.clone());
      return "crashSafeOverwrite(f" + f + ", " + show(data) + ")";
    }

    /** Opens, writes and closes other files, each taking a slot: the cache evicts whatever it held. */
    String evict(int k) throws Exception {
      for (int i = 0; i < k; i++) {
        Path p = dir.resolve("evictor" + i);
        try (VirtualFile other = VirtualFile.open(p, cache, CREATE, READ, WRITE)) {
          other.writeAllAt(ByteBuffer.wrap(new byte[] {1}), 0);
        }
      }
      return "evict(touch " + k + " other files) -> " + cache.stats();
    }

    String close(int ref) throws Exception {
      Handle h = handle(ref);
      String what = h + ".close()";
      h.vf.close(); // idempotent: closing a closed handle is not an error
      h.open = false;
      return what;
    }

    String sync(int ref) throws Exception {
      Handle h = handle(ref);
      String what = h + ".sync()";
      if (!h.open) {
        assertThatThrownBy(h.vf::sync).isInstanceOf(ClosedChannelException.class);
        return what + " -> ClosedChannelException";
      }
      h.vf.sync();
      return what;
    }

    String verifyFile(int f) throws Exception {
      int checked = 0;
      for (Handle h : handles) {
        if (h.file == f) {
          verify(h);
          checked++;
        }
      }
      return "verify every handle of f" + f + " (" + checked + " handles) against " + show(model.get(f));
    }

    /** An open handle reads exactly the model's bytes; a closed one fails with ClosedChannelException. */
    void verify(Handle h) throws Exception {
      if (!h.open) {
        assertThatThrownBy(() -> h.vf.readAt(ByteBuffer.allocate(1), 0))
            .as(h + " is closed").isInstanceOf(ClosedChannelException.class);
        return;
      }
      byte[] expected = content(h);
      assertThat(h.vf.size()).as("size through " + h).isEqualTo(expected.length);
      ByteBuffer all = ByteBuffer.allocate(expected.length);
      h.vf.readExactAt(all, 0);
      assertThat(all.array()).as("content through " + h).isEqualTo(expected);
      assertThat(h.vf.readAt(ByteBuffer.allocate(1), expected.length)).as("read at the end through " + h)
          .isEqualTo(-1);
    }

    // ---- invariants ----

    void checkDisk() {
      try {
        for (int f = 0; f < FILES; f++) {
          byte[] expected = model.get(f);
          if (expected == null) {
            assertThat(paths[f]).as("f" + f + " was never created").doesNotExist();
          } else {
            assertThat(Files.readAllBytes(paths[f])).as("bytes of f" + f + " on disk")
                .isEqualTo(expected);
          }
        }
        Set<String> names;
        try (Stream<Path> list = Files.list(dir)) {
          names = list.map(p -> p.getFileName().toString())
              .collect(Collectors.toCollection(TreeSet::new));
        }
        assertThat(names).as("directory entries (no overwrite temp file left behind)")
            .allMatch(n -> n.matches("f\\d|evictor\\d"));
      } catch (IOException e) {
        throw new AssertionError(e);
      }
    }

    /**
     * The cache holds at most its capacity, and the process has exactly the cached descriptors open under
     * the test dir. Reading where every descriptor points after every action would be most of the test's
     * time, so the exact count is taken only when the process's total number of descriptors is not the
     * one expected: the others' number (taken at the last exact count) plus the cached ones.
     */
    void checkDescriptors() {
      int cached = cache.stats().openHandles();
      assertThat(cached).as("descriptors cached").isBetween(0, capacity);
      long total = ModelSupport.descriptorsOpen();
      if (total < 0 || total == othersOpen + cached) {
        return;
      }
      long underDir = ModelSupport.descriptorsUnder(dir);
      assertThat(underDir).as("descriptors the process has open under the test dir (all must be cached)")
          .isEqualTo(cached);
      othersOpen = total - underDir; // the JVM's own descriptors (jars, sockets) change now and then
    }

    /**
     * After the chain: every handle reads the model; once all are closed, only the cache holds
     * descriptors, and closing it leaves none open.
     */
    void finish() {
      step("final check", () -> {
        for (Handle h : handles) {
          verify(h);
        }
        for (Handle h : handles) {
          h.vf.close();
          h.open = false;
        }
        ModelSupport.checkClosedHandlesLeaveOnlyCachedDescriptors(cache, dir);
        return "final check: every handle read the model, all closed, no descriptor left";
      });
    }

    void dispose() {
      try {
        if (!library.hung()) {
          library.call(STEP_LIMIT, () -> {
            for (Handle h : handles) {
              try {
                h.vf.close();
              } catch (IOException | RuntimeException ignored) {
                // cleanup after a failure: the failure itself is what the report shows
              }
            }
            cache.close();
            return null;
          });
        }
      } catch (Throwable ignored) {
        // as above
      } finally {
        library.close();
        ModelSupport.deleteRecursively(dir);
      }
    }

    /** What jqwik shows as the chain's final state when an invariant fails: the model and the trace. */
    @Override
    public String toString() {
      return "Sut{" + modelString() + "}\n  trace (actions as resolved):\n" + traceString();
    }
  }
}
