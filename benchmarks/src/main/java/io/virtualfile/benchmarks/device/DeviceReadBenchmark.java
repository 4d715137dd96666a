package io.virtualfile.benchmarks.device;

import io.virtualfile.reactive.AsyncFileIo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Device-bound random reads: the library's {@code readAt} against the JDK's own channels and {@code
 * fio}, each keeping a fixed number of 4 KiB reads in flight on a 2 GiB file read with {@code
 * O_DIRECT}, so that every read goes to the device. A plain program, not JMH: the figure is completed
 * reads over a fixed window.
 *
 * <pre>
 * benchmarks/device-benchmark.sh                       # builds, installs fio, runs this
 * java -cp benchmarks/target/benchmarks.jar io.virtualfile.benchmarks.device.DeviceReadBenchmark
 * </pre>
 *
 * System properties: {@code dir} (default {@code /var/tmp/virtualfile-device}; not a tmpfs), {@code
 * runs} (3), {@code warmup} (3 s), {@code seconds} (10 s), {@code inFlight} (1,32), {@code out}
 * ({@code benchmarks/results/device.md}), {@code buffered} (true: read through the library without
 * DIRECT, evicting the file from the page cache first, as when DIRECT fails), {@code readers} (a
 * comma-separated subset of the readers, by their names in the report, e.g. {@code virtualfile
 * io_uring,fio}: to profile or compare a few), {@code ioThreads} (the library's IO threads, so its
 * io_uring engine's rings; default: the library's default).
 *
 * <p>Besides reads per second, each reader's CPU time and context switches per read are reported: the
 * whole process's (all its threads), for fio its own.
 */
public final class DeviceReadBenchmark {
  private static final long FILE_SIZE = 2L << 30;
  private static final String AFC = "afcDefaultPool";
  private static final String BLOCKING = "blockingThreads";
  private static final String FIO = "fio";
  private static final String URING = "virtualfile io_uring";

  private final TestFile file;
  private final TimedWindow window;
  private final DeviceReport report;
  private final Fio fio;
  private final boolean libraryDirect;
  private final String library;

  private DeviceReadBenchmark(TestFile file, TimedWindow window, DeviceReport report, Fio fio,
      boolean libraryDirect) {
    this.file = file;
    this.window = window;
    this.report = report;
    this.fio = fio;
    this.libraryDirect = libraryDirect;
    this.library = libraryName(libraryDirect);
  }

  private static String libraryName(boolean direct) {
    return direct ? "virtualfile" : "virtualfile (buffered)";
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(System.getProperty("dir", "/var/tmp/virtualfile-device"));
    int runs = Integer.getInteger("runs", 3);
    Duration warmup = Duration.ofSeconds(Integer.getInteger("warmup", 3));
    Duration seconds = Duration.ofSeconds(Integer.getInteger("seconds", 10));
    List<Integer> inFlight = Arrays.stream(System.getProperty("inFlight", "1,32").split(","))
        .map(String::strip).map(Integer::valueOf).toList();
    Path out = Path.of(System.getProperty("out", "benchmarks/results/device.md"));

    Files.createDirectories(dir);
    if (Files.getFileStore(dir).type().equals("tmpfs")) {
      throw new IllegalArgumentException(dir + " is on tmpfs (memory, not the device): pass -Ddir=");
    }
    TestFile file = TestFile.createOrReuse(dir.resolve("random-2GiB.bin"), FILE_SIZE);

    DirectProbe.Outcome direct = DirectProbe.run(file);
    System.out.println("DIRECT through the library: " + (direct.works() ? "works, " : "FAILS, ")
        + direct.detail());
    boolean libraryDirect = direct.works() && !Boolean.getBoolean("buffered");
    String library = libraryName(libraryDirect);
    List<String> readers = new ArrayList<>(List.of(library, AFC, BLOCKING, FIO));
    String uring = uringRefusal();
    if (uring == null && libraryDirect) {
      readers.add(1, URING);
    }
    String only = System.getProperty("readers");
    if (only != null) { // a subset, by name, for profiling one reader
      List<String> wanted = Arrays.stream(only.split(",")).map(String::strip).toList();
      readers.retainAll(wanted);
    }
    DeviceReport report = new DeviceReport(readers, inFlight, runs);
    report.note("DIRECT through the library: " + (direct.works() ? "works: " : "fails: ")
        + direct.detail());
    if (uring != null) {
      report.note("No " + URING + " row: " + uring);
    }
    if (!libraryDirect) {
      report.note(library + " reads without DIRECT; the page cache is dropped before each of its"
          + " measurements, so its first reads go to the device, but pages it reads stay cached"
          + " during the window (a growing share of later reads may hit the cache).");
    }
    Fio fio = new Fio(warmup, seconds, report::note);
    DeviceReadBenchmark b =
        new DeviceReadBenchmark(file, new TimedWindow(warmup, seconds), report, fio, libraryDirect);

    for (int run = 0; run < runs; run++) {
      List<String> order = new ArrayList<>(readers);
      Collections.rotate(order, -run); // each reader goes first once in four runs: no fixed position
      for (String reader : order) {
        for (int n : inFlight) {
          TimedWindow.Figures v = b.measure(reader, n);
          report.add(reader, n, run, v);
          System.out.printf("run %d/%d  %-24s %2d in flight: %,10.0f reads/s, %6.2f µs CPU/read,"
                  + " %5.2f context switches/read%n",
              run + 1, runs, reader, n, v.readsPerSecond(), v.cpuMicrosPerRead(), v.switchesPerRead());
        }
      }
    }

    List<String> method = List.of(
        "Each reader keeps N reads in flight (a read completes, the next starts) for " + warmup.toSeconds()
            + " s of warm-up, then counts completed reads for " + seconds.toSeconds() + " s; " + runs
            + " runs of the whole comparison in one process, readers in rotated order from run to run.",
        "`" + library + "`: `AsyncVirtualFile.readAt` on `AsyncFileIo.builder().engine(THREADS).build()` (defaults otherwise), file opened `"
            + (libraryDirect ? "READ, DIRECT" : "READ") + "`, 4096-aligned direct buffers.",
        "`" + URING + "`: the same on `engine(IO_URING)` (module `virtualfile-uring` on the class path, JDK 22+), when it can run.",
        "`" + AFC + "`: `AsynchronousFileChannel.open(path, READ, DIRECT)` on the JDK default pool, next read from the `CompletionHandler`.",
        "`" + BLOCKING + "`: N platform threads, each looping on `FileChannel.read(buf, pos)` of one channel opened `READ, DIRECT`.",
        "`" + FIO + "`: `" + String.join(" ", fio.command(file, 0, "io_uring")).replace("--iodepth=0", "--iodepth=N") + "`.");
    String markdown = report.markdown(Machine.describe(dir), method, library, URING, List.of(BLOCKING, AFC));
    Files.createDirectories(out.toAbsolutePath().getParent());
    Files.writeString(out, markdown);
    System.out.println();
    System.out.println(markdown);
    System.out.println("Written: " + out);
  }

  /** Why the io_uring engine cannot run here, or null if it can. */
  private static String uringRefusal() {
    try (AsyncFileIo io = AsyncFileIo.builder().engine(AsyncFileIo.Engine.IO_URING).build()) {
      return null;
    } catch (UnsupportedOperationException e) {
      return e.getMessage();
    }
  }

  private TimedWindow.Figures measure(String reader, int inFlight) throws Exception {
    if (reader.equals(library)) {
      if (!libraryDirect) {
        if (!PageCache.canEvict()) {
          report.note("Not root: cannot drop the page cache, so " + library + " was not measured.");
          return TimedWindow.Figures.NONE;
        }
        PageCache.evictAll();
      }
      return window.measure(
          VirtualFileLoad.open(file, libraryDirect, AsyncFileIo.Engine.THREADS), inFlight);
    }
    if (reader.equals(URING)) {
      return window.measure(
          VirtualFileLoad.open(file, true, AsyncFileIo.Engine.IO_URING), inFlight);
    }
    switch (reader) {
      case AFC:
        return window.measure(new AfcDefaultPoolLoad(file), inFlight);
      case BLOCKING:
        return window.measure(new BlockingThreadsLoad(file), inFlight);
      case FIO:
        return fio.measure(file, inFlight);
      default:
        throw new IllegalArgumentException(reader);
    }
  }
}
