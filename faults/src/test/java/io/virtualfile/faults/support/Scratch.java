package io.virtualfile.faults.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.stream.Stream;

/**
 * A private scratch area: a directory under /tmp with its own tmpfs ({@link #store()}) for image files,
 * and mount points for loop-device file systems. {@link #close()} unmounts and detaches everything it
 * made, in reverse order, even after a failure, and removes the directory.
 */
public final class Scratch implements AutoCloseable {
  private final Path root;
  private final Path store;
  private final Deque<AutoCloseable> owned = new ArrayDeque<>();
  private int counter;

  private Scratch(Path root, Path store) {
    this.root = root;
    this.store = store;
  }

  /** @param storeSize the tmpfs's size, as mount's {@code size=} option ("1g", "24m") */
  public static Scratch create(String storeSize) throws IOException {
    Path root = Files.createTempDirectory("vf-faults-");
    Path store = Files.createDirectory(root.resolve("store"));
    Sh.Result r = Sh.exec("mount", "-t", "tmpfs", "-o", "size=" + storeSize + ",mode=0700", "tmpfs", store.toString());
    if (!r.ok()) {
      Files.deleteIfExists(store);
      Files.deleteIfExists(root);
      r.orThrow();
    }
    return new Scratch(root, store);
  }

  /** The tmpfs for image files. */
  public Path store() {
    return store;
  }

  /**
   * Thin provisioning: shrinks the store's tmpfs so that only {@code bytesLeft} more bytes fit. Writes
   * to a loop device whose image needs more then fail, as on a thin pool that ran out of space.
   */
  public void limitStore(long bytesLeft) throws IOException {
    var s = Files.getFileStore(store);
    long used = s.getTotalSpace() - s.getUnallocatedSpace();
    Sh.run("mount", "-o", "remount,size=" + (used + bytesLeft), store.toString());
  }

  /** Gives the store its space back (see {@link #limitStore}). */
  public void unlimitStore(String size) {
    Sh.run("mount", "-o", "remount,size=" + size, store.toString());
  }

  /** A new, empty directory on the host file system (not on the tmpfs). */
  public Path newDirectory(String prefix) throws IOException {
    return Files.createDirectory(root.resolve(prefix + "-" + (++counter)));
  }

  /** A sparse image of {@code size} bytes on the store, formatted and mounted on a fresh loop device. */
  public LoopFs newFileSystem(FsKind kind, long size, String mountOptions) throws IOException {
    Path image = store.resolve(kind.type() + "-" + (++counter) + ".img");
    return newFileSystem(kind, image, size, mountOptions);
  }

  /** As {@link #newFileSystem(FsKind, long, String)}, with the image at {@code image}. */
  public LoopFs newFileSystem(FsKind kind, Path image, long size, String mountOptions)
      throws IOException {
    LoopFs fs = LoopFs.format(kind, image, size, newDirectory("mnt-" + kind.type()), mountOptions);
    owned.push(fs);
    return fs;
  }

  /** Closes {@code resource} with the rest, before what was registered earlier. */
  public <T extends AutoCloseable> T own(T resource) {
    owned.push(resource);
    return resource;
  }

  @Override
  public void close() throws Exception {
    Exception failure = null;
    while (!owned.isEmpty()) {
      try {
        owned.pop().close();
      } catch (Exception e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    Sh.Result r = Sh.exec("umount", store.toString());
    if (!r.ok() && failure == null) {
      failure = new IllegalStateException("umount " + store + ": " + r.err());
    }
    if (r.ok()) {
      try (Stream<Path> s = Files.walk(root)) {
        s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
