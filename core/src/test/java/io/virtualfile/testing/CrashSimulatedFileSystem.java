package io.virtualfile.testing;

import io.virtualfile.internal.FileOps;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * An in-memory file system that records every operation and can tell every state a power cut could
 * leave, following the crash model of ALICE and CrashMonkey:
 *
 * <ul>
 *   <li>file data is durable only after an fsync of that file;</li>
 *   <li>directory entries (create, rename, unlink) are durable only after an fsync of their
 *       directory;</li>
 *   <li>a crash keeps the durable state plus any dependency-respecting subset of the operations not yet
 *       durable: a directory operation needs the earlier ones on the same names; a data write may
 *       persist fully, not at all, or as zeros of the right size (the size reached the disk, the data
 *       did not — seen on ext4 for a renamed, never-fsynced file).</li>
 * </ul>
 *
 * <p>Operations are recorded in {@link #log()}; {@link #crashStates(int, Consumer)} enumerates the
 * states of a crash after the first {@code k} of them. Thread-safe (one lock), so several overwrites may
 * run on it concurrently.
 */
public final class CrashSimulatedFileSystem
    implements FileOps, FileOps.TempFiles<CrashSimulatedFileSystem.SimTempFile> {

  /** One recorded operation. */
  public sealed interface Op {}

  public record Create(Path dir, String name, int inode) implements Op {}

  public record Unlink(Path dir, String name) implements Op {}

  public record Rename(Path dir, String from, String to) implements Op {}

  public record Write(int inode, long offset, byte[] bytes) implements Op {}

  public record SyncFile(int inode) implements Op {}

  public record SyncDir(Path dir) implements Op {}

  /** A file system state: directories of name to inode, and inode contents. */
  public static final class State {
    final Map<Path, Map<String, Integer>> dirs = new HashMap<>();
    final Map<Integer, byte[]> inodes = new HashMap<>();

    State copy() {
      State s = new State();
      dirs.forEach((d, m) -> s.dirs.put(d, new LinkedHashMap<>(m)));
      inodes.forEach((i, b) -> s.inodes.put(i, b.clone()));
      return s;
    }

    /** The content at {@code path}, or {@code null} if there is no such entry. */
    public byte[] read(Path path) {
      Map<String, Integer> d = dirs.get(path.getParent());
      Integer ino = d == null ? null : d.get(path.getFileName().toString());
      return ino == null ? null : inodes.get(ino);
    }

    /** The names in {@code dir}. */
    public Set<String> names(Path dir) {
      return dirs.getOrDefault(dir, Map.of()).keySet();
    }

    void apply(Op op, boolean zeros) {
      if (op instanceof Create c) {
        dirs.computeIfAbsent(c.dir(), k -> new LinkedHashMap<>()).put(c.name(), c.inode());
        inodes.putIfAbsent(c.inode(), new byte[0]);
      } else if (op instanceof Unlink u) {
        dirs.get(u.dir()).remove(u.name());
      } else if (op instanceof Rename r) {
        Map<String, Integer> d = dirs.get(r.dir());
        Integer ino = d.remove(r.from());
        if (ino != null) {
          d.put(r.to(), ino);
        }
      } else if (op instanceof Write w) {
        byte[] old = inodes.getOrDefault(w.inode(), new byte[0]);
        int end = (int) w.offset() + w.bytes().length;
        byte[] next = Arrays.copyOf(old, Math.max(old.length, end));
        if (!zeros) {
          System.arraycopy(w.bytes(), 0, next, (int) w.offset(), w.bytes().length);
        }
        inodes.put(w.inode(), next);
      }
    }
  }

  private final State current = new State();
  private final State initial;
  private final List<Op> log = new ArrayList<>();
  private int nextInode = 1;

  /** A file system whose {@code files} exist and are durable. */
  public CrashSimulatedFileSystem(Path dir, Map<String, byte[]> files) {
    current.dirs.put(dir, new LinkedHashMap<>());
    files.forEach((name, content) -> {
      int ino = nextInode++;
      current.dirs.get(dir).put(name, ino);
      current.inodes.put(ino, content.clone());
    });
    initial = current.copy();
  }

  public synchronized List<Op> log() {
    return List.copyOf(log);
  }

  /** How many logged operations are of {@code kind}. */
  public synchronized long count(Class<? extends Op> kind) {
    return log.stream().filter(kind::isInstance).count();
  }

  /** The live (not crashed) state. */
  public synchronized State current() {
    return current.copy();
  }

  private void record(Op op) {
    log.add(op);
    current.apply(op, false);
  }

  private Integer lookup(Path path) {
    Map<String, Integer> d = current.dirs.get(path.getParent());
    return d == null ? null : d.get(path.getFileName().toString());
  }

  // ---- FileOps ----

  @Override
  public synchronized Kind kindOf(Path path) {
    if (current.dirs.containsKey(path)) {
      return Kind.DIRECTORY;
    }
    return lookup(path) == null ? Kind.ABSENT : Kind.REGULAR_FILE;
  }

  @Override
  public synchronized Object fileKey(Path path) {
    return lookup(path);
  }

  @Override
  public Set<PosixFilePermission> permissionsOf(Path path) {
    return PosixFilePermissions.fromString("rw-------");
  }

  @Override
  public synchronized void deleteIfExists(Path path) {
    if (lookup(path) != null) {
      record(new Unlink(path.getParent(), path.getFileName().toString()));
    }
  }

  @Override
  public synchronized void atomicMove(Path source, Path target) throws IOException {
    if (lookup(source) == null) {
      throw new NoSuchFileException(source.toString());
    }
    if (!source.getParent().equals(target.getParent())) {
      throw new IOException("simulated rename stays in one directory");
    }
    record(new Rename(source.getParent(), source.getFileName().toString(),
        target.getFileName().toString()));
  }

  @Override
  public Directory openDirectory(Path dir) {
    return new Directory() {
      @Override
      public void sync() {
        synchronized (CrashSimulatedFileSystem.this) {
          record(new SyncDir(dir));
        }
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public synchronized SimTempFile createNew(Path path, Set<PosixFilePermission> permissions)
      throws IOException {
    if (lookup(path) != null) {
      throw new FileAlreadyExistsException(path.toString());
    }
    int ino = nextInode++;
    record(new Create(path.getParent(), path.getFileName().toString(), ino));
    return new SimTempFile(ino);
  }

  /** A temp file of the simulation: appends, syncs, closes. */
  public final class SimTempFile implements FileOps.TempFile {
    final int inode;
    long position;

    SimTempFile(int inode) {
      this.inode = inode;
    }

    @Override
    public void writeAll(ByteBuffer src) {
      // Appends: the simulated temp file is written sequentially from its start.
      byte[] bytes = new byte[src.remaining()];
      src.get(bytes);
      synchronized (CrashSimulatedFileSystem.this) {
        record(new Write(inode, position, bytes));
      }
      position += bytes.length;
    }

    @Override
    public void sync() {
      synchronized (CrashSimulatedFileSystem.this) {
        record(new SyncFile(inode));
      }
    }

    @Override
    public void close() {}
  }

  // ---- crash states ----

  /**
   * Calls {@code each} with every state a crash after the first {@code k} logged operations may leave.
   *
   * @return how many states were enumerated
   */
  public synchronized long crashStates(int k, Consumer<State> each) {
    State durable = initial.copy();
    List<Op> pendingDir = new ArrayList<>();
    List<Write> pendingWrites = new ArrayList<>();
    for (Op op : log.subList(0, k)) {
      if (op instanceof SyncFile s) {
        pendingWrites.removeIf(w -> {
          if (w.inode() == s.inode()) {
            durable.apply(w, false);
            return true;
          }
          return false;
        });
      } else if (op instanceof SyncDir s) {
        pendingDir.removeIf(o -> {
          if (dirOf(o).equals(s.dir())) {
            durable.apply(o, false);
            return true;
          }
          return false;
        });
      } else if (op instanceof Write w) {
        pendingWrites.add(w);
      } else {
        pendingDir.add(op);
      }
    }
    long[] count = {0};
    boolean[] chosen = new boolean[pendingDir.size()];
    enumerateDirSubsets(pendingDir, chosen, 0, durable, pendingWrites, each, count);
    return count[0];
  }

  private static Path dirOf(Op op) {
    if (op instanceof Create c) {
      return c.dir();
    }
    if (op instanceof Unlink u) {
      return u.dir();
    }
    return ((Rename) op).dir();
  }

  private static Set<String> namesOf(Op op) {
    if (op instanceof Create c) {
      return Set.of(c.name());
    }
    if (op instanceof Unlink u) {
      return Set.of(u.name());
    }
    Rename r = (Rename) op;
    return Set.of(r.from(), r.to());
  }

  /** Op {@code j} may persist only if every earlier op on one of its names (same directory) did. */
  private static boolean dependenciesChosen(List<Op> ops, boolean[] chosen, int j) {
    for (int i = 0; i < j; i++) {
      if (!chosen[i] && dirOf(ops.get(i)).equals(dirOf(ops.get(j)))) {
        for (String n : namesOf(ops.get(j))) {
          if (namesOf(ops.get(i)).contains(n)) {
            return false;
          }
        }
      }
    }
    return true;
  }

  private static void enumerateDirSubsets(
      List<Op> dirOps, boolean[] chosen, int i, State durable, List<Write> writes,
      Consumer<State> each, long[] count) {
    if (i == dirOps.size()) {
      State s = durable.copy();
      for (int j = 0; j < dirOps.size(); j++) {
        if (chosen[j]) {
          s.apply(dirOps.get(j), false);
        }
      }
      enumerateWrites(writes, 0, s, each, count);
      return;
    }
    chosen[i] = false;
    enumerateDirSubsets(dirOps, chosen, i + 1, durable, writes, each, count);
    if (dependenciesChosen(dirOps, chosen, i)) {
      chosen[i] = true;
      enumerateDirSubsets(dirOps, chosen, i + 1, durable, writes, each, count);
      chosen[i] = false;
    }
  }

  /** Each pending write: lost, persisted as zeros, or persisted. */
  private static void enumerateWrites(
      List<Write> writes, int i, State s, Consumer<State> each, long[] count) {
    if (i == writes.size()) {
      count[0]++;
      each.accept(s);
      return;
    }
    enumerateWrites(writes, i + 1, s, each, count);
    State zeros = s.copy();
    zeros.apply(writes.get(i), true);
    enumerateWrites(writes, i + 1, zeros, each, count);
    State full = s.copy();
    full.apply(writes.get(i), false);
    enumerateWrites(writes, i + 1, full, each, count);
  }
}
