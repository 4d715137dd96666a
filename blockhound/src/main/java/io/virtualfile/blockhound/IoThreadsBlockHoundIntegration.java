package io.virtualfile.blockhound;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;
import reactor.core.scheduler.NonBlocking;

/**
 * Tells BlockHound which blocking calls of the engine itself are allowed on its IO threads. Its own
 * module ({@code io.virtualfile:virtualfile-blockhound}), so that the reactive module depends on
 * nothing but core and reactor-core: add it next to BlockHound. BlockHound finds it by itself ({@code
 * META-INF/services} on the class path, {@code provides} on the module path), or pass it to {@code
 * BlockHound.install(new IoThreadsBlockHoundIntegration())}.
 *
 * <p>It matters only for engines built with {@link io.virtualfile.reactive.AsyncFileIo.Builder#nonBlockingIoThreads(boolean)},
 * whose IO threads are {@link NonBlocking}: there BlockHound reports every blocking call but those made
 * inside the methods listed here. Each of them blocks in the kernel or parks the idle pool, and none
 * runs a subscriber's code (a {@link io.virtualfile.FileIoListener} excepted, which must not block
 * anyway). Signals are delivered outside them, so a subscriber that blocks in a signal is reported.
 * Plain IO threads are not non-blocking, so nothing here changes what BlockHound reports for them. One
 * allowance applies on every thread: the IO pool's read of a worker's kernel state from {@code /proc},
 * which a thread that submits work (an event loop, say) may make; BlockHound's default list does not
 * count it as blocking, but an integration that marks NIO file reads would.
 */
public final class IoThreadsBlockHoundIntegration implements BlockHoundIntegration {
  private static final String REACTIVE = "io.virtualfile.reactive.";
  private static final String CORE = "io.virtualfile.internal.";

  /** For BlockHound's {@link java.util.ServiceLoader}, or {@code BlockHound.install}. */
  public IoThreadsBlockHoundIntegration() {}

  @Override
  public void applyTo(BlockHound.Builder builder) {
    builder.nonBlockingThreadPredicate(current -> current.or(NonBlocking.class::isInstance));
    // The idle pool parks.
    allow(builder, REACTIVE + "internal.IoThreadPool$Worker", "awaitTask");
    // The pool reads a worker's kernel state from /proc when it considers another thread; any thread
    // that submits work may do that read.
    allow(builder, REACTIVE + "internal.KernelWait", "ofCurrentThread", "waiting", "runQueueNanos");
    // The thread engine's channel calls and opens.
    allow(builder, REACTIVE + "ThreadEngine", "open");
    allow(builder, REACTIVE + "ThreadEngine$Channel",
        "readNow", "writeNow", "size", "truncate", "force", "close");
    // Opening, reopening after an eviction (and waiting for a slot), fsync bookkeeping, closing.
    allow(builder, CORE + "CachedFile", "open", "pin", "fsync", "close");
    allow(builder, REACTIVE + "AsyncVirtualFile", "openNow");
    // The overwrite: its blocking steps, its rename, the shared directory fsync, and the close of the
    // replaced file it held across the rename (when the overwrite finishes, on the thread that ends it).
    allow(builder, REACTIVE + "OverwritePipeline", "runStep");
    allow(builder, CORE + "OverwriteProtocol", "rename", "syncDirectory", "releaseReplaced");
  }

  private static void allow(BlockHound.Builder builder, String className, String... methods) {
    for (String m : methods) {
      builder.allowBlockingCallsInside(className, m);
    }
  }
}
