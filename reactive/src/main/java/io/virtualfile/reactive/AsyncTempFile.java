package io.virtualfile.reactive;

import io.virtualfile.internal.FileOps;
import java.nio.ByteBuffer;
import reactor.core.publisher.Mono;

/** A temp file of the reactive overwrite: written asynchronously; synced and closed when blocking is allowed. */
interface AsyncTempFile extends FileOps.TempFile {
  /** Writes all of {@code src} at {@code position}, without blocking the caller. */
  Mono<Void> write(ByteBuffer src, long position);

  /**
   * Whether {@link #writeThenSync} is offered: the engine runs a write and the fsync after it as one
   * request ({@link io.virtualfile.reactive.spi.WriteThenForce}).
   */
  default boolean writesThenSyncs() {
    return false;
  }

  /**
   * Writes all of {@code src} at {@code position}, then fsyncs the file, without blocking the caller: the
   * steps {@code WRITE} and {@code SYNC_TEMP} together. Fails with a {@link
   * io.virtualfile.internal.StepFailure} naming the step that failed. Once subscribed, it completes only
   * when the engine is done with the file's descriptor, even if cancelled: the file may be closed then.
   *
   * @throws UnsupportedOperationException unless {@link #writesThenSyncs}
   */
  default Mono<Void> writeThenSync(ByteBuffer src, long position) {
    throw new UnsupportedOperationException("writeThenSync");
  }
}
