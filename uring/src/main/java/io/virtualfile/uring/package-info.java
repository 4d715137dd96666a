/**
 * The io_uring engine of {@link io.virtualfile.reactive.AsyncFileIo}, on the FFM API: see {@link
 * io.virtualfile.uring.UringEngineProvider} for what it needs and on which threads it signals.
 */
package io.virtualfile.uring;
