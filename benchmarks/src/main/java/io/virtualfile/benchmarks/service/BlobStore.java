package io.virtualfile.benchmarks.service;

import io.netty.buffer.ByteBuf;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

/** What the blob service stores blobs in: one implementation per compared version. */
interface BlobStore {
  /** The bytes of blob {@code id}. A Mono is sent with a Content-Length, a Flux chunked. */
  Publisher<ByteBuf> get(int id);

  /** Replaces blob {@code id} with {@code body}; completes once the replacement is done (durable, on disk). */
  Mono<Void> put(int id, byte[] body);

  /** One line printed when the server stops (never per request). */
  default String summary() {
    return "";
  }
}
