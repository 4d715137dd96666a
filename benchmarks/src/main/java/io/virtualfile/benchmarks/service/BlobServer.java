package io.virtualfile.benchmarks.service;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.HttpServerRoutes;

/**
 * An HTTP blob store on loopback, in one of three versions that differ only in their {@link BlobStore}:
 *
 * <ul>
 *   <li>{@code GET /blob/{id}}: the blob's bytes (200), or 404 for an unknown id;</li>
 *   <li>{@code PUT /blob/{id}}: replaces the blob with the request body, crash-safely; the response
 *       (204) is sent after the overwrite completed.</li>
 * </ul>
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.virtualfile.benchmarks.service.BlobServer \
 *     virtualfile|usual|memory PORT DIR
 * </pre>
 *
 * It prints one line when it listens and one when it stops, and nothing per request (failed requests
 * are counted; the first failure is printed at the stop).
 */
public final class BlobServer {
  private final BlobStore store;
  private final int count;
  private final AtomicLong failures = new AtomicLong();
  private final AtomicReference<Throwable> firstFailure = new AtomicReference<>();

  private BlobServer(BlobStore store, int count) {
    this.store = store;
    this.count = count;
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: BlobServer virtualfile[-uring|-threads]|usual|memory[-jdk25] PORT DIR");
      System.exit(2);
    }
    String version = args[0];
    int port = Integer.parseInt(args[1]);
    BlobSet blobs = BlobSet.openOrCreate(Path.of(args[2]));
    BlobStore store = switch (version) {
      // The -uring and -threads versions differ only in -Dengine, which the benchmark's script sets.
      case "virtualfile", "virtualfile-uring", "virtualfile-threads" -> new VirtualFileBlobStore(blobs);
      case "usual" -> new UsualBlobStore(blobs);
      case "memory", "memory-jdk25" -> new MemoryBlobStore(blobs); // -jdk25: the script's JDK
      default -> throw new IllegalArgumentException("version must be virtualfile, virtualfile-uring,"
          + " virtualfile-threads, usual, memory or memory-jdk25: " + version);
    };
    BlobServer server = new BlobServer(store, blobs.count());
    DisposableServer http = HttpServer.create().host("127.0.0.1").port(port).route(server::routes).bindNow();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("stopped: " + server.summary())));
    System.out.println("listening on port " + http.port() + ": " + version + ", "
        + blobs.count() + " blobs in " + blobs.dir());
    http.onDispose().block();
  }

  private void routes(HttpServerRoutes routes) {
    routes.get("/blob/{id}", this::get).put("/blob/{id}", this::put);
  }

  private Publisher<Void> get(HttpServerRequest req, HttpServerResponse res) {
    int id = id(req);
    if (id < 0) {
      return res.status(HttpResponseStatus.NOT_FOUND).send();
    }
    return res.header(HttpHeaderNames.CONTENT_TYPE, "application/octet-stream")
        .send(store.get(id))
        .then()
        .doOnError(this::failed);
  }

  private Publisher<Void> put(HttpServerRequest req, HttpServerResponse res) {
    int id = id(req);
    if (id < 0) {
      return res.status(HttpResponseStatus.NOT_FOUND).send();
    }
    return req.receive().aggregate().asByteArray()
        .defaultIfEmpty(new byte[0])
        .flatMap(body -> store.put(id, body))
        .then(Mono.defer(() -> res.status(HttpResponseStatus.NO_CONTENT).send().then()))
        .doOnError(this::failed);
  }

  /** The blob id of the request's path, or -1 if it names no blob. */
  private int id(HttpServerRequest req) {
    try {
      int id = Integer.parseInt(req.param("id"));
      return id < count ? id : -1;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private void failed(Throwable t) {
    failures.incrementAndGet();
    firstFailure.compareAndSet(null, t);
  }

  private String summary() {
    String s = "failed requests " + failures.get();
    Throwable first = firstFailure.get();
    if (first != null) {
      s += " (first: " + first + ")";
    }
    String storeSummary = store.summary();
    return storeSummary.isEmpty() ? s : s + "; " + storeSummary;
  }
}
