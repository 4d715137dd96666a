package io.virtualfile.reactive;

import io.virtualfile.internal.OpenOptions;
import java.nio.file.Path;
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
  private final AsyncFileIo io;
  private final OpenOptions options;

  /** The open as a Mono, passed through {@link Mono#onAssembly} like Reactor's own operators. */
  static Mono<AsyncVirtualFile> of(Path path, AsyncFileIo io, OpenOptions options) {
    return onAssembly(new OpenCall(path, io, options));
  }

  private OpenCall(Path path, AsyncFileIo io, OpenOptions options) {
    this.path = path;
    this.io = io;
    this.options = options;
  }

  @Override
  public Object scanUnsafe(Attr key) {
    return key == Attr.RUN_STYLE ? Attr.RunStyle.ASYNC : null;
  }

  @Override
  public void subscribe(CoreSubscriber<? super AsyncVirtualFile> actual) {
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
          file = AsyncVirtualFile.openNow(path, io, options);
        } catch (Throwable t) {
          s.fail(t);
          return;
        }
        s.complete(file);
      });
    } catch (RuntimeException rejected) { // the engine was closed meanwhile
      s.fail(rejected);
    }
  }
}
