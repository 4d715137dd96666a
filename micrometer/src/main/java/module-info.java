/**
 * virtualfile micrometer: {@link io.virtualfile.micrometer.VirtualFileMetrics}, the metrics of an {@link
 * io.virtualfile.OpenFileCache} or an {@link io.virtualfile.reactive.AsyncFileIo} in a Micrometer
 * registry.
 */
module io.virtualfile.micrometer {
  requires transitive io.virtualfile;
  requires transitive io.virtualfile.reactive;
  requires transitive micrometer.core;
  exports io.virtualfile.micrometer;
}
