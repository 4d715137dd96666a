/**
 * virtualfile reactive: {@link io.virtualfile.reactive.AsyncVirtualFile}, Mono/Flux positional IO over
 * {@link java.nio.channels.AsynchronousFileChannel} on a bounded engine.
 */
module io.virtualfile.reactive {
  requires transitive io.virtualfile;
  requires transitive reactor.core;
  requires transitive org.reactivestreams;
  exports io.virtualfile.reactive;
}
