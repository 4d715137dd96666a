package io.virtualfile;

import static java.nio.charset.StandardCharsets.UTF_8;
import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Handles stay truthful when their file is replaced: by this library's overwrite, or from outside. */
class VirtualFileReplacementTest {
  @TempDir Path dir;
  OpenFileCache cache;
  Path path;

  @BeforeEach
  void setUp() throws Exception {
    cache = OpenFileCache.create(2);
    path = Files.writeString(dir.resolve("meta"), "old content");
  }

  @AfterEach
  void tearDown() {
    cache.close();
  }

  static String readAll(VirtualFile f) throws Exception {
    ByteBuffer b = ByteBuffer.allocate((int) f.size());
    f.readExactAt(b, 0);
    return new String(b.array(), UTF_8);
  }

  /** Fills every slot with other files, held open together, so that no earlier descriptor stays cached. */
  void evictAll() throws Exception {
    List<VirtualFile> others = new ArrayList<>();
    try {
      for (int i = 0; i < cache.capacity(); i++) {
        others.add(VirtualFile.open(dir.resolve("other" + i), cache, CREATE, WRITE));
      }
    } finally {
      for (VirtualFile o : others) {
        o.close();
      }
    }
  }

  @Test
  void libraryOverwrite_withTheDescriptorStillCached_readsTheNewContent() throws Exception {
    try (VirtualFile f = VirtualFile.open(path, cache, READ)) {
      assertThat(readAll(f)).isEqualTo("old content");
      VirtualFile.crashSafeOverwrite(path, ByteBuffer.wrap("new".getBytes(UTF_8)));
      assertThat(readAll(f)).isEqualTo("new");
    }
  }

  @Test
  void libraryOverwrite_afterTheDescriptorWasEvicted_readsTheNewContent() throws Exception {
    try (VirtualFile f = VirtualFile.open(path, cache, READ)) {
      evictAll();
      VirtualFile.crashSafeOverwrite(path, ByteBuffer.wrap("new".getBytes(UTF_8)));
      assertThat(readAll(f)).isEqualTo("new");
    }
  }

  @Test
  void writesAfterALibraryOverwrite_goToTheNewFile() throws Exception {
    try (VirtualFile f = VirtualFile.open(path, cache, READ, WRITE)) {
      VirtualFile.crashSafeOverwrite(path, dir.resolve("meta.tmp"), ByteBuffer.wrap("new!".getBytes(UTF_8)));
      f.writeAllAt(ByteBuffer.wrap("N".getBytes(UTF_8)), 0);
    }
    assertThat(Files.readString(path)).isEqualTo("New!");
  }

  @Test
  void outsideReplacement_isNoticedAtTheNextReopen() throws Exception {
    try (VirtualFile f = VirtualFile.open(path, cache, READ)) {
      Path other = Files.writeString(dir.resolve("elsewhere"), "someone else's file");
      Files.move(other, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      assertThat(readAll(f)).as("descriptor still cached: the file it opened").isEqualTo("old content");
      evictAll();
      assertThatThrownBy(() -> readAll(f))
          .isInstanceOfSatisfying(FileReplacedException.class, e -> assertThat(e.path()).isEqualTo(path))
          .hasMessageContaining(path.toString())
          .hasMessageContaining("replaced by another file");
    }
  }

  @Test
  void outsideDelete_isNoticedAtTheNextReopen() throws Exception {
    try (VirtualFile f = VirtualFile.open(path, cache, READ)) {
      Files.delete(path);
      evictAll();
      assertThatThrownBy(() -> readAll(f))
          .isInstanceOf(FileReplacedException.class)
          .hasMessageContaining("was deleted");
    }
  }

  @Test
  void overwriteThatFailsBeforeTheRename_keepsHandlesOnTheOldFile() throws Exception {
    try (VirtualFile f = VirtualFile.open(path, cache, READ)) {
      Path dirAsTemp = Files.createDirectory(dir.resolve("taken"));
      assertThatThrownBy(() -> VirtualFile.crashSafeOverwrite(path, dirAsTemp, ByteBuffer.allocate(1)))
          .isInstanceOf(IllegalArgumentException.class);
      evictAll();
      assertThat(readAll(f)).isEqualTo("old content");
    }
  }

  static final int SIZE = 4096;

  static ByteBuffer version(long v) {
    ByteBuffer b = ByteBuffer.allocate(SIZE);
    b.putLong(v);
    Random r = new Random(v);
    while (b.position() < SIZE - 8) {
      b.put((byte) r.nextInt());
    }
    CRC32 crc = new CRC32();
    crc.update(b.array(), 0, SIZE - 8);
    b.putLong(crc.getValue());
    return b.flip();
  }

  static long check(byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    long v = b.getLong();
    CRC32 crc = new CRC32();
    crc.update(bytes, 0, SIZE - 8);
    if (b.getLong(SIZE - 8) != crc.getValue() || !ByteBuffer.wrap(bytes).equals(version(v))) {
      throw new AssertionError("read a mix of versions (claims version " + v + ")");
    }
    return v;
  }

  @Test
  void readersDuringFiveHundredOverwrites_seeWholeVersions_neverGoingBack() throws Exception {
    VirtualFile.crashSafeOverwrite(path, version(0));
    int readers = 3;
    AtomicBoolean done = new AtomicBoolean();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> threads = new ArrayList<>();
    long[] reads = new long[readers];
    for (int r = 0; r < readers; r++) {
      int id = r;
      threads.add(new Thread(() -> {
        try (VirtualFile f = VirtualFile.open(path, cache, READ)) {
          long last = -1;
          ByteBuffer b = ByteBuffer.allocate(SIZE);
          while (!done.get()) {
            b.clear();
            f.readExactAt(b, 0);
            long v = check(b.array());
            if (v < last) {
              throw new AssertionError("reader " + id + " went back from version " + last + " to " + v);
            }
            last = v;
            reads[id]++;
          }
        } catch (Throwable t) {
          failure.compareAndSet(null, t);
        }
      }));
    }
    // Evictions, so that readers reopen as well as hit.
    threads.add(new Thread(() -> {
      try {
        while (!done.get()) {
          evictAll();
        }
      } catch (Throwable t) {
        failure.compareAndSet(null, t);
      }
    }));
    threads.forEach(Thread::start);
    for (long v = 1; v <= 500 && failure.get() == null; v++) {
      VirtualFile.crashSafeOverwrite(path, version(v));
    }
    done.set(true);
    for (Thread t : threads) {
      t.join();
    }
    assertThat(failure.get()).isNull();
    for (long n : reads) {
      assertThat(n).isPositive();
    }
    try (VirtualFile f = VirtualFile.open(path, cache, READ)) {
      ByteBuffer b = ByteBuffer.allocate(SIZE);
      f.readExactAt(b, 0);
      assertThat(check(b.array())).isEqualTo(500);
    }
  }

  /**
   * Regression: with two overwriters of one path, a handle adopted an older identity than the path held
   * (one pending key per handle, announcements out of order) and failed for good with
   * FileReplacedException.
   */
  @Test
  void concurrentOverwritersOfOnePath_leaveEveryOpenHandleReadingWholeCurrentVersions()
      throws Exception {
    VirtualFile.crashSafeOverwrite(path, version(0));
    int writers = 3;
    int perWriter = 150;
    AtomicBoolean done = new AtomicBoolean();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<VirtualFile> handles = new ArrayList<>();
    List<Thread> readers = new ArrayList<>();
    for (int r = 0; r < 3; r++) {
      VirtualFile f = VirtualFile.open(path, cache, READ);
      handles.add(f);
      readers.add(new Thread(() -> {
        ByteBuffer b = ByteBuffer.allocate(SIZE);
        try {
          while (!done.get()) {
            b.clear();
            f.readExactAt(b, 0);
            check(b.array());
          }
        } catch (Throwable t) {
          failure.compareAndSet(null, t);
        }
      }));
    }
    readers.add(new Thread(() -> {
      try {
        while (!done.get()) {
          evictAll();
        }
      } catch (Throwable t) {
        failure.compareAndSet(null, t);
      }
    }));
    List<Thread> writerThreads = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      int id = w;
      writerThreads.add(new Thread(() -> {
        try {
          for (int i = 1; i <= perWriter && failure.get() == null; i++) {
            VirtualFile.crashSafeOverwrite(path, version(id * 1_000_000L + i));
          }
        } catch (Throwable t) {
          failure.compareAndSet(null, t);
        }
      }));
    }
    readers.forEach(Thread::start);
    writerThreads.forEach(Thread::start);
    for (Thread t : writerThreads) {
      t.join();
    }
    done.set(true);
    for (Thread t : readers) {
      t.join();
    }
    assertThat(failure.get()).isNull();
    long onDisk = check(Files.readAllBytes(path));
    for (VirtualFile f : handles) { // hit or reopen, every handle reads what the path holds
      ByteBuffer b = ByteBuffer.allocate(SIZE);
      f.readExactAt(b, 0);
      assertThat(check(b.array())).isEqualTo(onDisk);
      evictAll();
      b.clear();
      f.readExactAt(b, 0);
      assertThat(check(b.array())).isEqualTo(onDisk);
      f.close();
    }
  }

  /** Regression: DELETE_ON_CLOSE deleted by path, so it deleted content an overwrite had installed. */
  @Test
  void deleteOnClose_afterAnOutsideReplacement_leavesTheNewFile() throws Exception {
    VirtualFile f = VirtualFile.open(path, cache, READ, java.nio.file.StandardOpenOption.DELETE_ON_CLOSE);
    Path other = Files.writeString(dir.resolve("other"), "someone else's");
    Files.move(other, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    f.close();
    assertThat(path).hasContent("someone else's");
  }

  /**
   * The file the handle opened is gone already (the rename unlinked it); what the path holds now is an
   * overwrite's acknowledged content, which must survive.
   */
  @Test
  void deleteOnClose_afterALibraryOverwrite_keepsTheOverwrittenContent() throws Exception {
    VirtualFile f = VirtualFile.open(path, cache, READ, java.nio.file.StandardOpenOption.DELETE_ON_CLOSE);
    VirtualFile.crashSafeOverwrite(path, ByteBuffer.wrap("new".getBytes(UTF_8)));
    assertThat(readAll(f)).isEqualTo("new");
    f.close();
    assertThat(path).hasContent("new");
  }

  @Test
  void deleteOnClose_ofTheFileItOpened_deletesIt() throws Exception {
    VirtualFile f = VirtualFile.open(path, cache, READ, java.nio.file.StandardOpenOption.DELETE_ON_CLOSE);
    evictAll();
    assertThat(readAll(f)).isEqualTo("old content");
    f.close();
    assertThat(path).doesNotExist();
  }

  /**
   * Regression (found by a helper's probe): a close on an interrupted thread threw while taking the
   * path's lock, after the handle was marked closed, so the file was never deleted.
   */
  @Test
  void deleteOnClose_closedOnAnInterruptedThread_stillDeletes() throws Exception {
    VirtualFile f = VirtualFile.open(path, cache, READ, java.nio.file.StandardOpenOption.DELETE_ON_CLOSE);
    Thread.currentThread().interrupt();
    try {
      f.close();
    } finally {
      assertThat(Thread.interrupted()).as("the interrupt status is kept").isTrue();
    }
    assertThat(path).doesNotExist();
  }
}
