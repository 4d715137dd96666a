/**
 * virtualfile io_uring: an engine for {@link io.virtualfile.reactive.AsyncFileIo} on Linux io_uring,
 * through the FFM API (JDK 22 or later). Needs native access: {@code
 * --enable-native-access=io.virtualfile.uring}. See {@link io.virtualfile.uring.UringEngineProvider}.
 */
module io.virtualfile.uring {
  requires io.virtualfile.reactive;
  exports io.virtualfile.uring;
  provides io.virtualfile.reactive.spi.EngineProvider with io.virtualfile.uring.UringEngineProvider;
}
