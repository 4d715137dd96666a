/** Reactive, non-blocking file IO on a bounded engine ({@link io.virtualfile.reactive.AsyncFileIo}). */
package io.virtualfile.reactive;
