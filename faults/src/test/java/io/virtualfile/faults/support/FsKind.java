package io.virtualfile.faults.support;

import java.util.ArrayList;
import java.util.List;

/** The file systems the fault tests make on loop devices. */
public enum FsKind {
  /**
   * Inode tables and the journal are initialised by mkfs, not lazily after mount: a background
   * initialiser would write to the device while a power-cut image is being copied.
   */
  EXT4("mkfs.ext4", 64L << 20, List.of("-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0"), ""),
  /**
   * 320 MiB: mkfs.xfs refuses file systems under 300 MB. The image is sparse, so only what xfs writes
   * takes memory. A copy is mounted beside the original, whose UUID it shares: {@code nouuid}.
   */
  XFS("mkfs.xfs", 320L << 20, List.of("-q", "-f"), "nouuid");

  private final String mkfs;
  private final long defaultSize;
  private final List<String> mkfsOptions;
  private final String copyMountOptions;

  FsKind(String mkfs, long defaultSize, List<String> mkfsOptions, String copyMountOptions) {
    this.mkfs = mkfs;
    this.defaultSize = defaultSize;
    this.mkfsOptions = mkfsOptions;
    this.copyMountOptions = copyMountOptions;
  }

  public String mkfs() {
    return mkfs;
  }

  public String type() {
    return name().toLowerCase();
  }

  public long defaultSize() {
    return defaultSize;
  }

  /** Mount options for a second mount of a copy of a mounted image. */
  public String copyMountOptions() {
    return copyMountOptions;
  }

  public boolean available() {
    return Sh.has(mkfs);
  }

  String[] mkfsCommand(String target) {
    List<String> cmd = new ArrayList<>();
    cmd.add(mkfs);
    cmd.addAll(mkfsOptions);
    cmd.add(target);
    return cmd.toArray(String[]::new);
  }
}
