package io.virtualfile.benchmarks.service;

import io.virtualfile.benchmarks.Chart;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

/**
 * Writes the Markdown report of {@code service-benchmark.sh} from its tab-separated figures: the median
 * of each figure across runs, the ratios virtualfile/usual and usual/memory, and each run's figures.
 *
 * <pre>
 * java -cp benchmarks.jar io.virtualfile.benchmarks.service.ServiceReport FIGURES.tsv SERVERS.tsv SETUP
 * </pre>
 *
 * FIGURES.tsv has one line per run, workload and version (the columns of {@link Row}); SERVERS.tsv one
 * line per server started (run, version, its stop line); SETUP is a sentence on the load settings.
 * {@code -Dmeasured=} gives the time of the measurement for the report's date (default: now).
 */
public final class ServiceReport {
  static final List<String> WORKLOADS = List.of("get-uniform", "get-hot", "put");
  static final List<String> VERSIONS =
      List.of("virtualfile", "virtualfile-threads", "virtualfile-uring", "usual", "memory", "memory-jdk25");
  private static final int CACHE_CAPACITY = 128;

  /** One wrk run against one server version. */
  record Row(int run, String workload, String version, double rps, double p99Ms, long requests,
      long non2xx, long connect, long read, long write, long timeout, int peakFds, int idleFds,
      double load) {
    static Row parse(String line) {
      String[] f = line.split("\t");
      return new Row(Integer.parseInt(f[0]), f[1], f[2], Double.parseDouble(f[3]), Double.parseDouble(f[4]),
          Long.parseLong(f[5]), Long.parseLong(f[6]), Long.parseLong(f[7]), Long.parseLong(f[8]),
          Long.parseLong(f[9]), Long.parseLong(f[10]), Integer.parseInt(f[11]), Integer.parseInt(f[12]),
          Double.parseDouble(f[13]));
    }

    long errors() {
      return non2xx + connect + read + write + timeout;
    }
  }

  private ServiceReport() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 3) {
      System.err.println("usage: ServiceReport FIGURES.tsv SERVERS.tsv SETUP");
      System.exit(2);
    }
    List<Row> rows = readFigures(Path.of(args[0]));
    List<String> servers = Files.readAllLines(Path.of(args[1]));
    System.out.print(markdown(rows, servers, args[2]));
  }

  static String markdown(List<Row> rows, List<String> servers, String setup) throws IOException {
    int runs = (int) rows.stream().mapToInt(Row::run).distinct().count();
    StringBuilder md = new StringBuilder();
    md.append("# Service benchmark: an HTTP blob store on three storage versions\n\n");
    md.append("Reactor Netty HTTP/1.1 server on loopback; `GET /blob/{id}` returns a blob, `PUT /blob/{id}` "
        + "replaces it crash-safely (response after the overwrite completed). ")
        .append(BlobSet.COUNT).append(" blobs of ").append(BlobSet.MIN_SIZE / 1024).append("–")
        .append(BlobSet.MAX_SIZE / 1024).append(" KiB (seeded), all in the page cache.\n\n");
    md.append("- **virtualfile**: GET = `AsyncVirtualFile.readAll(path, io)` as a Netty buffer (sent with a "
        + "Content-Length); PUT = `io.overwrite(path, body)`. One `AsyncFileIo`, open-file cache "
        + CACHE_CAPACITY + ".\n");
    md.append("- **usual**: GET = `Files.readAllBytes` in `Mono.fromCallable` on `boundedElastic` (sent with a "
        + "Content-Length); PUT = temp write, `force(true)`, `ATOMIC_MOVE`, directory fsync, by hand, on "
        + "`boundedElastic`.\n");
    md.append("- **memory**: blobs in a `byte[][]` (the ceiling: no file IO; PUT replaces the entry, not "
        + "durable).\n");
    if (rows.stream().anyMatch(r -> r.version().startsWith("virtualfile-"))) {
      md.append("- **virtualfile-threads** and **virtualfile-uring**: virtualfile on JDK 25, with the "
          + "thread engine and the io_uring engine (`virtualfile-uring` on the class path); the other "
          + "versions run on the JDK named below.\n");
    }
    if (rows.stream().anyMatch(r -> r.version().equals("memory-jdk25"))) {
      md.append("- **memory-jdk25**: the ceiling on JDK 25, the engines' own JDK.\n");
    }
    md.append("\n");
    md.append("Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" cores (nproc), ")
        .append(cpuModel()).append(", ").append(memory()).append(", Linux ")
        .append(System.getProperty("os.version")).append("  \n");
    md.append("JDK: ").append(System.getProperty("java.version")).append(" (")
        .append(System.getProperty("java.vm.name")).append(")  \n");
    md.append("Date: ").append(System.getProperty("measured",
        ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm z")))).append("  \n");
    md.append("Setup: ").append(setup).append("\n\n");
    md.append("The load generator (wrk) and the server share the machine's cores: wrk's own CPU use is in "
        + "every figure, for every version alike. Peak fds: the most entries seen in the server's "
        + "`/proc/<pid>/fd`, sampled every 50 ms during the measured run (idle: at start, before any "
        + "load; it includes the JVM's own descriptors and the jar). Errors: wrk's non-2xx responses plus "
        + "socket errors (connect, read, write, timeout). Load: the machine's 1-minute load average as each "
        + "measured run ended. It counts the benchmark's own runnable threads too (wrk's and the "
        + "server's), so it exceeds the core count even when nothing else runs; figures taken at a much "
        + "higher load had other processes competing for the cores.\n\n");

    md.append("## Medians of ").append(runs).append(runs == 1 ? " run" : " runs").append("\n\n");
    md.append("| workload | version | req/s | p99 latency | errors | peak fds (idle) | load |\n");
    md.append("|---|---|---:|---:|---:|---:|---:|\n");
    for (String w : WORKLOADS) {
      for (String v : VERSIONS) {
        List<Row> rs = select(rows, w, v);
        if (rs.isEmpty()) {
          continue;
        }
        md.append("| ").append(label(w)).append(" | ").append(v).append(" | ")
            .append(rate(median(rs, Row::rps))).append(" | ").append(millis(median(rs, Row::p99Ms)))
            .append(" | ").append(count(median(rs, r -> r.errors()))).append(" | ")
            .append(count(median(rs, r -> r.peakFds()))).append(" (")
            .append(count(median(rs, r -> r.idleFds()))).append(") | ")
            .append(String.format(Locale.ROOT, "%.1f", median(rs, Row::load))).append(" |\n");
      }
    }
    md.append("\n## Ratios of the medians\n\n");
    md.append("req/s ratio > 1 and p99 ratio < 1 favour the first of the two. wrk is a closed loop (each "
        + "connection sends its next request when the last is answered) that saturates the server, so a "
        + "version's latency follows its throughput and the load on the cores; the p99 of versions with "
        + "very different throughput is not a like-for-like comparison.\n\n");
    ratioTable(md, rows,
        new RatioColumn("req/s virtualfile/usual", "virtualfile", "usual", Row::rps),
        new RatioColumn("p99 virtualfile/usual", "virtualfile", "usual", Row::p99Ms),
        new RatioColumn("req/s usual/memory", "usual", "memory", Row::rps),
        new RatioColumn("p99 usual/memory", "usual", "memory", Row::p99Ms));
    if (rows.stream().anyMatch(r -> r.version().equals("virtualfile-uring"))) {
      md.append("\n### The engines (JDK 25)\n\n");
      // The ceiling on the engines' own JDK where it was measured: the JDK alone moves the service.
      String ceiling = rows.stream().anyMatch(r -> r.version().equals("memory-jdk25")) ? "memory-jdk25" : "memory";
      ratioTable(md, rows,
          new RatioColumn("req/s uring/threads", "virtualfile-uring", "virtualfile-threads", Row::rps),
          new RatioColumn("p99 uring/threads", "virtualfile-uring", "virtualfile-threads", Row::p99Ms),
          new RatioColumn("req/s uring/" + ceiling, "virtualfile-uring", ceiling, Row::rps),
          new RatioColumn("req/s threads/" + ceiling, "virtualfile-threads", ceiling, Row::rps));
    }
    List<String> odd = new ArrayList<>();
    for (Row r : rows) {
      if (r.errors() > 0) {
        odd.add("run " + r.run() + ", " + label(r.workload()) + ", " + r.version() + ": " + r.errors() + " errors");
      }
      if (r.peakFds() > CACHE_CAPACITY + 100) {
        odd.add("run " + r.run() + ", " + label(r.workload()) + ", " + r.version() + ": peak " + r.peakFds()
            + " fds, above cache capacity + 100 = " + (CACHE_CAPACITY + 100));
      }
    }
    md.append("\nErrors, and descriptor peaks above cache capacity + 100 (")
        .append(CACHE_CAPACITY + 100).append("): ")
        .append(odd.isEmpty() ? "none.\n" : "\n\n- " + String.join("\n- ", odd) + "\n");

    md.append("\n## Each run\n\n");
    md.append("| run | workload | version | req/s | p99 latency | requests | non-2xx | socket errors c/r/w/t | peak fds | idle fds | load |\n");
    md.append("|---:|---|---|---:|---:|---:|---:|---|---:|---:|---:|\n");
    for (Row r : rows) {
      md.append("| ").append(r.run()).append(" | ").append(label(r.workload())).append(" | ")
          .append(r.version()).append(" | ").append(rate(r.rps())).append(" | ").append(millis(r.p99Ms()))
          .append(" | ").append(String.format(Locale.ROOT, "%,d", r.requests())).append(" | ")
          .append(r.non2xx()).append(" | ").append(r.connect()).append("/").append(r.read()).append("/")
          .append(r.write()).append("/").append(r.timeout()).append(" | ").append(r.peakFds()).append(" | ")
          .append(r.idleFds()).append(" | ").append(String.format(Locale.ROOT, "%.1f", r.load())).append(" |\n");
    }
    md.append("\n## Each server's stop line\n\n");
    md.append("Requests that ended in an error at the server, and for virtualfile its channel cache's "
        + "counters, over all three workloads and their warm-ups. A failure the server counts but wrk does "
        + "not is a request whose client had gone: at the end of each wrk run (warm-ups included) wrk "
        + "closes its connections with up to 64 requests in flight, and cancelling the usual version's "
        + "PUT interrupts its `boundedElastic` thread inside the file IO (`ClosedByInterruptException`; "
        + "the temp file is removed). A cancelled virtualfile overwrite ends without an error.\n\n");
    md.append("| run | version | at stop |\n|---:|---|---|\n");
    for (String s : servers) {
      String[] f = s.split("\t", 3);
      if (f.length == 3) {
        md.append("| ").append(f[0]).append(" | ").append(f[1]).append(" | ").append(f[2].replace("|", "\\|"))
            .append(" |\n");
      }
    }
    return md.toString();
  }

  private static List<Row> readFigures(Path figures) throws IOException {
    return Files.readAllLines(figures).stream()
        .filter(l -> !l.isBlank() && !l.startsWith("#")).map(Row::parse).collect(Collectors.toList());
  }

  /**
   * The chart's bars from the figures file the script keeps ({@code service.tsv}): for each workload,
   * virtualfile's req/s against the usual version's, as the ratio of the medians (as in the report).
   */
  public static List<Chart.Bar> chartBars(Path figures, String source) throws IOException {
    List<Row> rows = readFigures(figures);
    List<Chart.Bar> bars = new ArrayList<>();
    for (String w : WORKLOADS) {
      List<Row> ours = select(rows, w, "virtualfile");
      List<Row> usual = select(rows, w, "usual");
      if (!ours.isEmpty() && !usual.isEmpty()) {
        bars.add(new Chart.Bar(Chart.Group.SERVICE, label(w) + " vs the usual way",
            median(ours, Row::rps) / median(usual, Row::rps), Chart.Verdict.NO_GOAL, source));
      }
    }
    return bars;
  }

  private static List<Row> select(List<Row> rows, String workload, String version) {
    return rows.stream().filter(r -> r.workload().equals(workload) && r.version().equals(version))
        .collect(Collectors.toList());
  }

  static double median(List<Row> rows, ToDoubleFunction<Row> figure) {
    double[] v = rows.stream().mapToDouble(figure).sorted().toArray();
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  /** One column of a ratio table: version {@code a}'s figure over version {@code b}'s. */
  private record RatioColumn(String header, String a, String b, ToDoubleFunction<Row> figure) {}

  /** A table of ratios of the medians, one row per workload. */
  private static void ratioTable(StringBuilder md, List<Row> rows, RatioColumn... columns) {
    md.append("| workload |");
    for (RatioColumn c : columns) {
      md.append(' ').append(c.header()).append(" |");
    }
    md.append("\n|---|").append("---:|".repeat(columns.length)).append('\n');
    for (String w : WORKLOADS) {
      md.append("| ").append(label(w)).append(" |");
      for (RatioColumn c : columns) {
        md.append(' ').append(ratio(rows, w, c.a(), c.b(), c.figure())).append(" |");
      }
      md.append('\n');
    }
  }

  private static String ratio(List<Row> rows, String w, String a, String b, ToDoubleFunction<Row> figure) {
    List<Row> ra = select(rows, w, a);
    List<Row> rb = select(rows, w, b);
    if (ra.isEmpty() || rb.isEmpty()) {
      return "—";
    }
    return String.format(Locale.ROOT, "%.2f×", median(ra, figure) / median(rb, figure));
  }

  private static String label(String workload) {
    switch (workload) {
      case "get-uniform": return "GET uniform";
      case "get-hot": return "GET hot";
      case "put": return "PUT";
      default: return workload;
    }
  }

  private static String rate(double rps) {
    return String.format(Locale.ROOT, "%,.0f", rps);
  }

  private static String millis(double ms) {
    String pattern = ms < 10 ? "%.2f ms" : ms < 100 ? "%.1f ms" : "%,.0f ms";
    return String.format(Locale.ROOT, pattern, ms);
  }

  private static String count(double n) {
    return n == Math.rint(n) ? String.format(Locale.ROOT, "%,.0f", n) : String.format(Locale.ROOT, "%,.1f", n);
  }

  private static String cpuModel() throws IOException {
    return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
        .filter(l -> l.startsWith("model name")).map(l -> l.substring(l.indexOf(':') + 1).trim())
        .findFirst().orElse("unknown CPU");
  }

  private static String memory() throws IOException {
    return Files.readAllLines(Path.of("/proc/meminfo")).stream()
        .filter(l -> l.startsWith("MemTotal:"))
        .map(l -> Arrays.stream(l.split("\\s+")).skip(1).findFirst().orElse("0"))
        .map(kb -> String.format(Locale.ROOT, "%.0f GiB RAM", Long.parseLong(kb) / 1024.0 / 1024.0))
        .findFirst().orElse("unknown RAM");
  }
}
