/**
 * virtualfile BlockHound integration: with {@link
 * io.virtualfile.reactive.AsyncFileIo.Builder#nonBlockingIoThreads(boolean)}, BlockHound reports user
 * code that blocks in a signal on the engine's IO threads, and allows the engine's own IO there.
 */
module io.virtualfile.blockhound {
  requires io.virtualfile.reactive;
  requires reactor.blockhound;
  exports io.virtualfile.blockhound;
  provides reactor.blockhound.integration.BlockHoundIntegration
      with io.virtualfile.blockhound.IoThreadsBlockHoundIntegration;
}
