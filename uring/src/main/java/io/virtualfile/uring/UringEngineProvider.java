package io.virtualfile.uring;

import io.virtualfile.reactive.AsyncFileIo;
import io.virtualfile.reactive.spi.EngineProvider;
import io.virtualfile.reactive.spi.EngineSettings;
import io.virtualfile.reactive.spi.IoEngine;
import java.util.function.UnaryOperator;

/**
 * The io_uring engine of {@link AsyncFileIo}, found with {@link java.util.ServiceLoader}: with this
 * artifact ({@code io.virtualfile:virtualfile-uring}) on the class or module path, {@link
 * AsyncFileIo.Engine#AUTO} runs on io_uring where the kernel allows it, and {@link
 * AsyncFileIo.Engine#IO_URING} asks for it by name. Not for direct use.
 *
 * <p><b>Requirements.</b> Linux (x86_64 or aarch64) with io_uring allowed (not disabled by {@code
 * kernel.io_uring_disabled} or a seccomp filter) and its read, write, fsync, openat, close and statx
 * requests (Linux 5.6 or later); JDK 22 or later; and native access for this module: run with {@code
 * --enable-native-access=io.virtualfile.uring} on the module path, or {@code
 * --enable-native-access=ALL-UNNAMED} on the class path (without it the JDK warns, and a JDK run with
 * {@code --illegal-native-access=deny} refuses: the engine then reports that as the reason). Where any
 * is missing, {@link #start} says which, and {@code AUTO} falls back to the thread engine.
 *
 * <p><b>Threads.</b> Each of the {@code ioThreads} IO threads owns a ring; reads and writes complete on
 * the thread of the ring they went to, and a read or write started inside a completion goes to that
 * same ring with no hand-off. A read whose bytes the page cache holds is the exception: it is made on
 * the thread that starts it, with {@code preadv2(RWF_NOWAIT)}, and completes there at once (see {@link
 * UringEngine}). Signals of {@link io.virtualfile.reactive.AsyncVirtualFile} reads and writes therefore
 * arrive on the ring threads, which must not be blocked, or, for such a read, on the thread that
 * subscribed (or requested). Opens and the blocking calls
 * (size, truncate, sync, close) and the overwrite's steps run on a separate pool of IO threads, as
 * plain system calls; it starts with {@code ioThreads} threads and grows up to {@code maxIoThreads}
 * while its threads block (fsyncs), as the thread engine's pool does.
 *
 * <p>Thread-safe.
 */
public final class UringEngineProvider implements EngineProvider {
  /** Flags the rings ask for; each one the kernel refuses is dropped. */
  static final int SETUP_FLAGS =
      Ring.SETUP_SINGLE_ISSUER | Ring.SETUP_DEFER_TASKRUN | Ring.SETUP_COOP_TASKRUN;

  private final Ring.Setup setup;
  private final UnaryOperator<boolean[]> probed;
  private final boolean inlineReads;

  /** The provider {@link java.util.ServiceLoader} makes. */
  public UringEngineProvider() {
    this(Ring.Setup.KERNEL, UnaryOperator.identity());
  }

  /** For tests: a setup call and a view of the kernel's probe that may refuse. */
  UringEngineProvider(Ring.Setup setup, UnaryOperator<boolean[]> probed) {
    this(setup, probed, true);
  }

  /** For tests: also whether reads are tried on the calling thread first (else every read is a ring's). */
  UringEngineProvider(Ring.Setup setup, UnaryOperator<boolean[]> probed, boolean inlineReads) {
    this.setup = setup;
    this.probed = probed;
    this.inlineReads = inlineReads;
  }

  @Override
  public AsyncFileIo.Engine kind() {
    return AsyncFileIo.Engine.IO_URING;
  }

  /**
   * Starts the engine.
   *
   * @throws UnsupportedOperationException if io_uring cannot run here; the message says why
   */
  @Override
  public IoEngine start(EngineSettings settings) {
    Support support = Support.check(setup, probed);
    if (support.reason() != null) {
      throw new UnsupportedOperationException(support.reason());
    }
    try {
      return UringEngine.start(settings, SETUP_FLAGS, setup, inlineReads);
    } catch (Ring.SetupException e) {
      throw new UnsupportedOperationException("io_uring rings could not be set up: " + e.getMessage(), e);
    }
  }
}
