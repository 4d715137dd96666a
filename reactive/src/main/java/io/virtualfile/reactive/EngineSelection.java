package io.virtualfile.reactive;

import io.virtualfile.reactive.AsyncFileIo.Engine;
import io.virtualfile.reactive.internal.IoThreadPool;
import io.virtualfile.reactive.spi.EngineProvider;
import io.virtualfile.reactive.spi.EngineSettings;
import io.virtualfile.reactive.spi.IoEngine;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.function.UnaryOperator;

/**
 * Starts the engine an {@link AsyncFileIo} asked for. {@link Engine#THREADS} is built in; other kinds
 * come from an {@link EngineProvider} on the class or module path. Under {@link Engine#AUTO} an engine
 * that cannot run here is passed over for the thread engine, and the reason is logged once per process:
 * at {@code INFO} when its provider is present but refused (kernel, sandbox, JDK flags), at {@code
 * DEBUG} when no provider is installed. Asked for by name, it fails the build with that reason.
 */
final class EngineSelection {
  private static final System.Logger LOG = System.getLogger(AsyncFileIo.class.getName());

  /** The kinds {@link Engine#AUTO} tries before the thread engine, best first. */
  private static final Engine[] PREFERRED = {Engine.IO_URING};

  /** Fallback reasons already logged. */
  private static final Set<String> LOGGED = ConcurrentHashMap.newKeySet();

  /** An engine that runs, and its kind. */
  record Started(IoEngine engine, Engine kind) {}

  private EngineSelection() {}

  /**
   * @param decorator wraps the thread engine's executor (tests observe what runs on it)
   * @throws UnsupportedOperationException if the engine asked for by name cannot run here
   */
  static Started start(
      Engine requested, EngineSettings settings, UnaryOperator<ExecutorService> decorator) {
    if (requested == Engine.THREADS) {
      return threads(settings, decorator);
    }
    if (requested != Engine.AUTO) {
      return new Started(provider(requested).start(settings), requested);
    }
    for (Engine kind : PREFERRED) {
      EngineProvider provider;
      try {
        provider = provider(kind);
      } catch (UnsupportedOperationException absent) {
        // Not installed (or not loadable): the usual case on JDK 17, worth a DEBUG line, no more.
        logOnce(System.Logger.Level.DEBUG, kind, absent);
        continue;
      }
      try {
        return new Started(provider.start(settings), kind);
      } catch (UnsupportedOperationException refused) {
        logOnce(System.Logger.Level.INFO, kind, refused); // installed, but refused here: say why
      }
    }
    return threads(settings, decorator);
  }

  private static void logOnce(System.Logger.Level level, Engine kind, Exception why) {
    String reason = kind + " engine not used, the thread engine runs instead: " + why.getMessage();
    if (LOGGED.add(reason)) {
      LOG.log(level, reason);
    }
  }

  private static Started threads(EngineSettings s, UnaryOperator<ExecutorService> decorator) {
    IoThreadPool pool = new IoThreadPool(s.ioThreads(), s.maxIoThreads(),
        s.ioThreadKeepAlive().toNanos(), s.threadNamePrefix(), s.nonBlockingIoThreads());
    return new Started(new ThreadEngine(pool, decorator.apply(pool)), Engine.THREADS);
  }

  /**
   * The provider of {@code kind}, or an exception that says where to get one, or why the one present
   * cannot load (the io_uring engine's classes need JDK 22: on an older JDK loading them fails).
   */
  private static EngineProvider provider(Engine kind) {
    try {
      for (EngineProvider p
          : ServiceLoader.load(EngineProvider.class, EngineSelection.class.getClassLoader())) {
        if (p.kind() == kind) {
          return p;
        }
      }
    } catch (ServiceConfigurationError e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new UnsupportedOperationException("an engine provider could not be loaded"
          + (kind == Engine.IO_URING ? " (the io_uring engine needs JDK 22 or later; this is "
              + Runtime.version().feature() + ")" : "") + ": " + cause, e);
    }
    throw new UnsupportedOperationException("no " + kind + " engine on the class or module path"
        + (kind == Engine.IO_URING ? " (add io.virtualfile:virtualfile-uring; it needs JDK 22 or later)"
            : ""));
  }
}
