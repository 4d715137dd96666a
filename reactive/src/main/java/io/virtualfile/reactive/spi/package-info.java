/**
 * The boundary between {@link io.virtualfile.reactive.AsyncFileIo} and the IO engine under it. <b>Not
 * API</b>: it is exported only to the engines this project ships (the io_uring engine), and may change
 * in any release. Users choose an engine with {@link
 * io.virtualfile.reactive.AsyncFileIo.Builder#engine(io.virtualfile.reactive.AsyncFileIo.Engine)}.
 *
 * <p>What stays above the boundary, the same for every engine: the bounded descriptor cache (a {@link
 * EngineChannel} is what it caches), identity checks and reopen, argument checks, exactly-once delivery,
 * cancellation, and the overwrite's steps. What an engine supplies: its IO threads, opening a file, the
 * reads and writes themselves, and where a read or write of a cached file takes its pin ({@link
 * io.virtualfile.reactive.spi.IoEngine#start}, {@link io.virtualfile.reactive.spi.CachedIo}); and,
 * optionally, a write and an fsync as one request ({@link io.virtualfile.reactive.spi.WriteThenForce}),
 * which the overwrite then uses for its temp file's last write and fsync.
 */
package io.virtualfile.reactive.spi;
