package io.virtualfile.faults.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A file system on a loop device whose backing file is an image on a tmpfs. Writes that reach the loop
 * device land in the image's pages on the tmpfs; what the mounted file system still holds in its own
 * page cache (data and metadata not yet written to the device) is not in the image. So the image is
 * what a disk would have, and a copy of it is the disk after a power cut (see {@link #copyImage}).
 */
public final class LoopFs implements AutoCloseable {
  private final FsKind kind;
  private final Path image;
  private final Path mountPoint;
  private String device; // /dev/loopN while attached
  private boolean mounted;

  private LoopFs(FsKind kind, Path image, Path mountPoint) {
    this.kind = kind;
    this.image = image;
    this.mountPoint = mountPoint;
  }

  static LoopFs format(FsKind kind, Path image, long size, Path mountPoint, String mountOptions)
      throws IOException {
    LoopFs fs = new LoopFs(kind, image, mountPoint);
    try (var ch = java.nio.channels.FileChannel.open(image,
        java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
      ch.truncate(0);
      ch.write(java.nio.ByteBuffer.allocate(1), size - 1); // sparse: only what mkfs writes is allocated
    }
    try {
      fs.attach();
      Sh.run(kind.mkfsCommand(fs.device));
      fs.mount(mountOptions);
    } catch (RuntimeException e) {
      try {
        fs.close();
      } catch (Exception c) {
        e.addSuppressed(c);
      }
      throw e;
    }
    return fs;
  }

  /** Wraps an image that already holds a file system (a copy); {@link #mount} attaches it. */
  public static LoopFs existing(FsKind kind, Path image, Path mountPoint) {
    return new LoopFs(kind, image, mountPoint);
  }

  private void attach() {
    device = Sh.run("losetup", "--find", "--show", image.toString());
  }

  public FsKind kind() {
    return kind;
  }

  public Path image() {
    return image;
  }

  public Path mountPoint() {
    return mountPoint;
  }

  public String device() {
    return device;
  }

  /** Mounts (attaching the loop device first if needed); {@code options} may be empty. */
  public void mount(String options) {
    if (device == null) {
      attach();
    }
    Sh.Result r = options.isEmpty()
        ? Sh.exec("mount", "-t", kind.type(), device, mountPoint.toString())
        : Sh.exec("mount", "-t", kind.type(), "-o", options, device, mountPoint.toString());
    r.orThrow();
    mounted = true;
  }

  /** {@code mount -o remount,<options>}. */
  public void remount(String options) {
    Sh.run("mount", "-o", "remount," + options, mountPoint.toString());
  }

  public void unmount() {
    if (mounted) {
      Sh.run("umount", mountPoint.toString());
      mounted = false;
    }
  }

  /**
   * Unmounts once nothing holds the file system any more: waits while umount says it is busy, for at
   * most {@code timeout}, then fails as {@link #unmount} does. For after killing a process that used
   * io_uring: it is reaped before the kernel has let go of the files its requests held, which the ring's
   * teardown does afterwards on a kernel worker; until then the file system is busy.
   */
  public void unmountOnceReleased(java.time.Duration timeout) throws InterruptedException {
    long start = System.nanoTime();
    int busy = 0;
    while (mounted) {
      Sh.Result r = Sh.exec("umount", mountPoint.toString());
      if (r.ok()) {
        mounted = false;
      } else if (r.err().contains("busy") && System.nanoTime() - start < timeout.toNanos()) {
        busy++;
        Thread.sleep(1);
      } else {
        r.orThrow();
      }
    }
    if (busy > 0) {
      System.out.printf("%s was busy for %.1f ms before it could be unmounted%n", this,
          (System.nanoTime() - start) / 1e6);
    }
  }

  /**
   * The loop device's counters: write requests completed, requests in flight, discards completed
   * (fields 5, 9 and 12 of /sys/block/loopN/stat). Equal counts with nothing in flight before and
   * after a copy prove that no write touched the image while it was copied.
   */
  private String writeCounters() throws IOException {
    String[] f = Files.readString(Path.of("/sys/block", device.substring("/dev/".length()), "stat"))
        .trim().split("\\s+");
    return f[4] + "/" + f[8] + "/" + (f.length > 11 ? f[11] : "-");
  }

  private boolean idle(String counters) {
    return counters.split("/")[1].equals("0");
  }

  /**
   * Copies the image as the device holds it now: the blocks written to the loop device and nothing that
   * is only in the mounted file system's page cache. Freeze the writers first; the kernel's own threads
   * (journal commits, writeback) may still write, so the copy is retried until no write request started
   * or completed while it ran, which makes it the device's content at one instant.
   *
   * @return how many copies were needed
   */
  public int copyImage(Path copy) throws IOException, InterruptedException {
    for (int attempt = 1; attempt <= 200; attempt++) {
      String before = writeCounters();
      if (idle(before)) {
        Files.deleteIfExists(copy);
        Sh.run("cp", "--sparse=always", image.toString(), copy.toString());
        if (before.equals(writeCounters())) {
          return attempt;
        }
      }
      Thread.sleep(attempt < 10 ? 1 : 10);
    }
    throw new IllegalStateException(device + " never stayed idle during a copy of " + image);
  }

  /**
   * Freezes and thaws the mounted file system ({@code fsfreeze}): everything is written back and the
   * journal is checkpointed, so the next copy's replay covers only what was logged since. Without it,
   * xfs (whose log is at least 64 MiB) took seconds per copy to replay a log that kept growing.
   */
  public void checkpoint() {
    Sh.run("fsfreeze", "--freeze", mountPoint.toString());
    Sh.run("fsfreeze", "--unfreeze", mountPoint.toString());
  }

  @Override
  public void close() {
    RuntimeException failure = null;
    try {
      unmount();
    } catch (RuntimeException e) {
      failure = e;
      // something still holds the mount point: detach it lazily so the loop device can go
      Sh.exec("umount", "-l", mountPoint.toString());
      mounted = false;
    }
    if (device != null) {
      Sh.Result r = Sh.exec("losetup", "-d", device);
      if (!r.ok() && failure == null) {
        failure = new IllegalStateException("losetup -d " + device + ": " + r.err());
      }
      device = null;
    }
    try {
      Files.deleteIfExists(image);
    } catch (IOException e) {
      // the scratch tmpfs goes with it
    }
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public String toString() {
    return kind.type() + " on " + device + " at " + mountPoint;
  }
}
