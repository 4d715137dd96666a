/**
 * virtualfile reactive: {@link io.virtualfile.reactive.AsyncVirtualFile}, Mono/Flux positional IO on a
 * bounded engine ({@link io.virtualfile.reactive.AsyncFileIo}).
 */
module io.virtualfile.reactive {
  requires transitive io.virtualfile;
  requires transitive reactor.core;
  requires transitive org.reactivestreams;
  // An IO thread measures its own CPU time (IoThreadPool), to tell waiting in the kernel from running.
  requires java.management;
  exports io.virtualfile.reactive;
  // The engine boundary: not API, for the engines this project ships.
  exports io.virtualfile.reactive.spi to io.virtualfile.uring;
  exports io.virtualfile.reactive.internal to io.virtualfile.uring;
  uses io.virtualfile.reactive.spi.EngineProvider;
}
