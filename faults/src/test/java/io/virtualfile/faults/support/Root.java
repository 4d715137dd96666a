package io.virtualfile.faults.support;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The precondition of every test here: Linux, root, and a kernel that lets us mount tmpfs and attach
 * loop devices. Elsewhere the tests are skipped with a message saying why (JUnit assumptions).
 */
public final class Root {
  private Root() {}

  private static final Set<String> PRINTED = ConcurrentHashMap.newKeySet();
  private static String whyNot; // null: usable
  private static boolean probed;

  /** Skips the calling test unless real file systems can be made here. */
  public static synchronized void assumeFileSystemsCanBeMade() {
    if (!probed) {
      probed = true;
      whyNot = probe();
    }
    skipIf(whyNot != null, () -> "skipped: real power cuts and disk faults need " + whyNot);
  }

  /** Skips the calling test unless {@code kind}'s mkfs is installed (.ci/run installs xfsprogs). */
  public static void assumeAvailable(FsKind kind) {
    assumeFileSystemsCanBeMade();
    skipIf(!kind.available(), () -> "skipped: " + kind.mkfs() + " is not installed");
  }

  /**
   * A JUnit assumption that also prints its reason, once per reason: surefire's console shows no
   * reason for a skip, and none at all for a class skipped in its {@code @BeforeAll}.
   */
  private static void skipIf(boolean skip, Supplier<String> why) {
    if (skip) {
      String reason = why.get();
      if (PRINTED.add(reason)) {
        System.out.println("virtualfile-faults " + reason);
      }
      assumeTrue(false, reason);
    }
  }

  private static String probe() {
    if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
      return "Linux (this is " + System.getProperty("os.name") + ")";
    }
    try {
      String uid = Files.readAllLines(Path.of("/proc/self/status")).stream()
          .filter(l -> l.startsWith("Uid:")).findFirst().orElse("Uid: ?");
      if (!uid.split("\\s+")[1].equals("0")) {
        return "root (running as uid " + uid.split("\\s+")[1] + ")";
      }
    } catch (Exception e) {
      return "root (cannot read /proc/self/status: " + e + ")";
    }
    for (String tool : new String[] {"losetup", "mount", "umount", "mkfs.ext4", "cp", "fsfreeze", "kill"}) {
      if (!Sh.has(tool)) {
        return "the tool " + tool;
      }
    }
    if (!Files.exists(Path.of("/dev/loop-control"))) {
      return "loop devices (/dev/loop-control is missing)";
    }
    // Root in a container may still lack CAP_SYS_ADMIN: try the cheapest mount.
    Path dir = null;
    try {
      dir = Files.createTempDirectory("vf-faults-probe-");
      Sh.Result r = Sh.exec("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir.toString());
      if (!r.ok()) {
        return "permission to mount (mount -t tmpfs failed: " + r.err().strip() + ")";
      }
      Sh.exec("umount", dir.toString());
    } catch (Exception e) {
      return "a scratch directory (" + e + ")";
    } finally {
      if (dir != null) {
        try {
          Files.deleteIfExists(dir);
        } catch (Exception ignored) {
          // a probe directory left in /tmp harms nothing
        }
      }
    }
    return null;
  }
}
