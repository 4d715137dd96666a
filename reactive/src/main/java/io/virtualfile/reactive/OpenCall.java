package io.virtualfile.reactive;

import io.virtualfile.internal.OpenOptions;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Supplier;
import reactor.core.CoreSubscriber;
import reactor.core.Scannable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/**
 * {@link AsyncVirtualFile#open} as a Mono: the open runs on an IO thread, always to its end; a handle
 * its subscriber will never see (it cancelled first) is closed, never dropped. Made by {@link #of},
 * through Reactor's assembly hooks; {@link Scannable} as an asynchronous source.
 */
final class OpenCall extends Mono<AsyncVirtualFile> implements Scannable {
  private final Path path;
  private final Supplier<AsyncFileIo> engine;
  private final OpenOption[] options;

  /**
   * The open as a Mono, passed through {@link Mono#onAssembly} like Reactor's own operators. The
   * arguments are checked on subscription (a bad one is signalled, and nothing touches the disk);
   * {@code engine} is asked for the engine then (the shared one starts on first use).
   */
  static Mono<AsyncVirtualFile> of(Path path, Supplier<AsyncFileIo> engine, OpenOption[] options) {
    return onAssembly(new OpenCall(path, engine, options == null ? null : options.clone()));
  }

  private OpenCall(Path path, Supplier<AsyncFileIo> engine, OpenOption[] options) {
    this.path = path;
    this.engine = engine;
    this.options = options;
  }

  @Override
  public Object scanUnsafe(Attr key) {
    return key == Attr.RUN_STYLE ? Attr.RunStyle.ASYNC : null;
  }

  @Override
  public void subscribe(CoreSubscriber<? super AsyncVirtualFile> actual) {
    AsyncFileIo io;
    OpenOptions opts;
    try {
      Objects.requireNonNull(path, "path");
      io = Objects.requireNonNull(engine.get(), "io");
      opts = OpenOptions.of(options);
    } catch (RuntimeException e) {
      Operators.error(actual, e);
      return;
    }
    if (io.isClosed()) { // refused before anything touches the disk
      Operators.error(actual, io.closedError());
      return;
    }
    OneValueSubscription<AsyncVirtualFile> s = new OneValueSubscription<>(actual) {
      @Override
      void released(AsyncVirtualFile file) {
        Context callers = Context.of(actual.currentContext());
        file.close().subscribe(null, e -> Operators.onErrorDropped(e, callers), null, callers);
      }
    };
    actual.onSubscribe(s);
    try {
      io.ioThreads().execute(() -> {
        AsyncVirtualFile file;
        try {
          file = AsyncVirtualFile.openNow(path, io, opts);
        } catch (Throwable t) {
          s.fail(t);
          return;
        }
        s.complete(file);
      });
    } catch (RuntimeException rejected) { // the engine was closed meanwhile
      s.fail(io.refusal(rejected));
    }
  }
}
