package io.virtualfile.benchmarks.device;

/**
 * One way of reading the test file: keeps {@link Lanes#count()} random block reads in flight, each
 * lane starting its next read when its read completes, until the lanes stop. Closing it releases
 * what it opened (called after the lanes have stopped).
 */
interface Load extends AutoCloseable {
  void start(Lanes lanes) throws Exception;
}
