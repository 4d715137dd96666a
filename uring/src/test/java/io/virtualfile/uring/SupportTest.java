package io.virtualfile.uring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.virtualfile.reactive.AsyncFileIo;
import io.virtualfile.reactive.spi.EngineSettings;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** When io_uring is refused, the provider says why (and never crashes); when it is not, it runs. */
class SupportTest {
  static final EngineSettings SETTINGS =
      new EngineSettings(1, 1, Duration.ofSeconds(1), "support-test-");
  static final Path DISABLED = Path.of("/proc/sys/kernel/io_uring_disabled");

  private static Ring.Setup refusing(int errno) {
    return (entries, params) -> -errno;
  }

  @ParameterizedTest(name = "{1}")
  @CsvSource({"1, EPERM", "38, ENOSYS", "95, EOPNOTSUPP", "12, ENOMEM", "22, EINVAL"})
  void aRefusedSetup_isUnsupported_withTheErrnoAsTheReason(int errno, String name) {
    UringEngineProvider provider = new UringEngineProvider(refusing(errno), UnaryOperator.identity());
    assertThatThrownBy(() -> provider.start(SETTINGS))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("io_uring_setup failed: " + name)
        .hasMessageContaining("errno " + errno);
  }

  @Test
  void aMissingOpcode_isUnsupported_naming_it() {
    UringEngineProvider provider = new UringEngineProvider(Ring.Setup.KERNEL, ops -> {
      ops[Op.STATX] = false;
      return ops;
    });
    assertThatThrownBy(() -> provider.start(SETTINGS))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("the kernel lacks IORING_OP_STATX");
  }

  @Test
  void aSetupFlagRefusedWithEinval_isDropped_andTheRingStillStarts() throws Exception {
    List<Integer> tried = new ArrayList<>();
    Ring.Setup noDeferTaskrun = (entries, params) -> {
      int flags = params.get(ValueLayout.JAVA_INT, 8);
      tried.add(flags);
      return (flags & Ring.SETUP_DEFER_TASKRUN) != 0 ? -Native.EINVAL
          : Ring.Setup.KERNEL.setup(entries, params);
    };
    try (Ring ring = Ring.open(8, UringEngineProvider.SETUP_FLAGS, noDeferTaskrun)) {
      assertThat(ring.flags & Ring.SETUP_DEFER_TASKRUN).isZero();
      assertThat(ring.flags & Ring.SETUP_SINGLE_ISSUER).isNotZero();
    }
    assertThat(tried).containsExactly(UringEngineProvider.SETUP_FLAGS,
        UringEngineProvider.SETUP_FLAGS & ~Ring.SETUP_DEFER_TASKRUN);
  }

  @Test
  void everySetupFlagRefused_leavesAPlainRing() throws Exception {
    Ring.Setup noFlags = (entries, params) -> params.get(ValueLayout.JAVA_INT, 8) != 0
        ? -Native.EINVAL : Ring.Setup.KERNEL.setup(entries, params);
    try (Ring ring = Ring.open(8, UringEngineProvider.SETUP_FLAGS, noFlags)) {
      assertThat(ring.flags).isZero();
    }
  }

  @Test
  void thisKernel_acceptsTheRequiredOpcodes_andEverySetupFlag() throws Exception {
    assertThat(Support.check(Ring.Setup.KERNEL, UnaryOperator.identity()).reason()).isNull();
    try (Ring ring = Ring.open(8, UringEngineProvider.SETUP_FLAGS, Ring.Setup.KERNEL)) {
      assertThat(ring.flags).isEqualTo(UringEngineProvider.SETUP_FLAGS);
      assertThat(ring.features & Ring.FEAT_NODROP).isNotZero();
    }
  }

  @Test
  void auto_runsOnIoUring_whereTheKernelAllowsIt() {
    try (AsyncFileIo io = AsyncFileIo.builder().build()) {
      assertThat(io.engine()).isEqualTo(AsyncFileIo.Engine.IO_URING);
    }
  }

  /**
   * The real refusal: {@code kernel.io_uring_disabled=2} makes io_uring_setup fail with EPERM for every
   * process. Needs root; restored whatever happens.
   */
  @Test
  void whenTheKernelDisablesIoUring_autoFallsBackToThreads_andIoUringByNameFailsWithTheReason()
      throws Exception {
    assumeTrue(Files.isWritable(DISABLED), "needs root and kernel.io_uring_disabled (Linux 6.6+)");
    String before = Files.readString(DISABLED).trim();
    try {
      Files.writeString(DISABLED, "2");
      try (AsyncFileIo io = AsyncFileIo.builder().build()) {
        assertThat(io.engine()).isEqualTo(AsyncFileIo.Engine.THREADS);
      }
      assertThatThrownBy(() -> AsyncFileIo.builder().engine(AsyncFileIo.Engine.IO_URING).build())
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessageContaining("EPERM")
          .hasMessageContaining("kernel.io_uring_disabled");
    } finally {
      Files.writeString(DISABLED, before);
    }
    try (AsyncFileIo io = AsyncFileIo.builder().build()) {
      assertThat(io.engine()).isEqualTo(AsyncFileIo.Engine.IO_URING);
    }
  }
}
