package io.virtualfile.reactive;

import io.virtualfile.internal.FileOps;
import java.nio.ByteBuffer;
import reactor.core.publisher.Mono;

/** A temp file of the reactive overwrite: written asynchronously; synced and closed when blocking is allowed. */
interface AsyncTempFile extends FileOps.TempFile {
  /** Writes all of {@code src} at {@code position}, without blocking the caller. */
  Mono<Void> write(ByteBuffer src, long position);
}
