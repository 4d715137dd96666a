package io.virtualfile.uring;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;

/**
 * Whether io_uring can run here, found by trying it: a small ring is set up on the calling thread and
 * asked which opcodes the kernel supports ({@code IORING_REGISTER_PROBE}), then closed.
 *
 * @param reason why the engine cannot run, or null if it can
 */
record Support(String reason) {
  /** The opcodes the engine cannot do without. */
  private static final int[] REQUIRED = {Op.READ, Op.WRITE, Op.FSYNC, Op.OPENAT, Op.CLOSE, Op.STATX};
  private static final String[] REQUIRED_NAMES = {
    "IORING_OP_READ", "IORING_OP_WRITE", "IORING_OP_FSYNC", "IORING_OP_OPENAT", "IORING_OP_CLOSE",
    "IORING_OP_STATX"
  };

  /**
   * @param setup the setup system call (tests make it fail)
   * @param probed what the kernel's probe said, as the engine sees it (tests remove opcodes)
   */
  static Support check(Ring.Setup setup, UnaryOperator<boolean[]> probed) {
    String os = System.getProperty("os.name", "");
    if (!os.toLowerCase(Locale.ROOT).startsWith("linux")) {
      return refused("io_uring needs Linux; this is " + os);
    }
    if (!OpenFlags.ARCH_KNOWN) {
      return refused("the io_uring engine knows the open flags of x86_64 and aarch64 only; this is "
          + System.getProperty("os.arch"));
    }
    boolean[] supported;
    try (Ring ring = Ring.open(8, 0, setup)) {
      supported = ring.probe();
    } catch (Ring.SetupException e) {
      return refused(e.getMessage() + hint(e.errno));
    } catch (IllegalCallerException | LinkageError e) { // the FFM linker refused, in Native's init
      return refused("native access is denied (" + e + "): run with"
          + " --enable-native-access=io.virtualfile.uring (ALL-UNNAMED on the class path)");
    }
    if (supported == null) {
      return refused("the kernel has no IORING_REGISTER_PROBE (Linux 5.6 or later is needed)");
    }
    supported = probed.apply(supported);
    List<String> missing = new ArrayList<>();
    for (int i = 0; i < REQUIRED.length; i++) {
      if (!supported[REQUIRED[i]]) {
        missing.add(REQUIRED_NAMES[i]);
      }
    }
    if (!missing.isEmpty()) {
      return refused("the kernel lacks " + String.join(", ", missing));
    }
    return new Support(null);
  }

  private static Support refused(String reason) {
    return new Support(reason);
  }

  private static String hint(int errno) {
    return switch (errno) {
      case Native.EPERM -> " (io_uring is disabled: sysctl kernel.io_uring_disabled, or a seccomp"
          + " filter such as Docker's default profile)";
      case Native.ENOSYS -> " (the kernel has no io_uring, or a seccomp filter hides it)";
      case Native.ENOMEM -> " (out of memory, or RLIMIT_MEMLOCK too low for the rings)";
      case Native.EINVAL, Native.EOPNOTSUPP -> " (the kernel does not support these ring parameters)";
      default -> "";
    };
  }
}
