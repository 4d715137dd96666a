/**
 * virtualfile reactive: {@link io.virtualfile.reactive.AsyncVirtualFile}, Mono/Flux positional IO on a
 * bounded engine ({@link io.virtualfile.reactive.AsyncFileIo}).
 */
module io.virtualfile.reactive {
  requires transitive io.virtualfile;
  requires transitive reactor.core;
  requires transitive org.reactivestreams;
  // Optional: only for IoThreadsBlockHoundIntegration. No `provides` for it: a module providing a
  // service of an absent module fails to resolve; see the class for how it is installed.
  requires static reactor.blockhound;
  exports io.virtualfile.reactive;
  // The engine boundary: not API, for the engines this project ships.
  exports io.virtualfile.reactive.spi to io.virtualfile.uring;
  exports io.virtualfile.reactive.internal to io.virtualfile.uring;
  uses io.virtualfile.reactive.spi.EngineProvider;
}
