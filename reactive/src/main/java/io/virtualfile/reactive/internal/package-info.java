/**
 * Internals of the reactive engine; not exported by the module and not API. {@link
 * io.virtualfile.reactive.internal.IoThreadPool} is public only so that the benchmarks can run a raw
 * channel on the same kind of pool as the engine.
 */
package io.virtualfile.reactive.internal;
