package io.virtualfile.benchmarks;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Turns JMH's JSON into the comparison: each row a candidate against its baseline from the same run, as
 * a ratio, with the goal of the issue that asked for it where there is one.
 */
final class Report {
  /** What "better" means for a row's goal. */
  enum GoalKind {
    /** candidate time / baseline time must be at most the bound */
    TIME_RATIO_AT_MOST,
    /** baseline time / candidate time (speed-up) must be at least the bound */
    SPEEDUP_AT_LEAST,
    /** no goal: shown for information */
    NONE
  }

  /**
   * One row of the comparison.
   *
   * @param note what the row measures, for the table's "case" column
   * @param label what is compared, for the chart (param included)
   */
  record Comparison(
      String suite, String candidate, String baseline, String param, GoalKind goal, double bound,
      String note, String label) {
    /** The question the row answers, which places it in the chart. */
    Chart.Group group() {
      return suite.contains("Overwrite") ? Chart.Group.OVERWRITE : Chart.Group.PAGE_CACHED;
    }
  }

  static final String PKG = "io.virtualfile.benchmarks.";

  static final List<Comparison> COMPARISONS = new ArrayList<>();

  static {
    add("CacheBenchmark", "hitVirtualFile", "hitRawFileChannel", null, GoalKind.TIME_RATIO_AT_MOST, 1.15,
        "cache hit, 4 KiB read", "cache hit vs raw FileChannel.read");
    add("CacheBenchmark", "missVirtualFile", "missOpenReadClose", null, GoalKind.TIME_RATIO_AT_MOST, 1.2,
        "10,000 files on 64 slots", "cache miss vs open-read-close");
    for (String inFlight : List.of("1", "32")) {
      boolean deep = inFlight.equals("32");
      String p = "inFlight=" + inFlight;
      String n = ", " + inFlight + " in flight";
      add("RandomReadBenchmark", "asyncVirtualFile", "rawAsyncChannelSameExecutor", p,
          GoalKind.TIME_RATIO_AT_MOST, deep ? 1.1 : 1.2, "4 KiB random reads", "random read vs raw channel" + n);
      add("RandomReadBenchmark", "asyncVirtualFile", "rawAsyncChannelJdkDefaultPool", p,
          deep ? GoalKind.SPEEDUP_AT_LEAST : GoalKind.NONE, deep ? 5.0 : 0, "vs the JDK's default pool",
          "vs the JDK's default pool" + n);
      add("RandomReadBenchmark", "asyncVirtualFile", "fileChannelOnBoundedElastic", p, GoalKind.NONE, 0,
          "vs FileChannel on boundedElastic", "vs FileChannel on boundedElastic" + n);
      add("RandomReadBenchmark", "asyncVirtualFile", "vertxAsyncFile", p, GoalKind.NONE, 0,
          "vs Vert.x AsyncFile", "vs Vert.x AsyncFile" + n);
      add("RandomReadBenchmark", "asyncVirtualFile", "blockingFileChannel", p, GoalKind.NONE, 0,
          "vs blocking FileChannel.read, one thread", "vs blocking FileChannel.read, 1 thread" + n);
      add("RandomReadBenchmark", "asyncVirtualFile", "blockingFileChannelOnAllCores", p,
          deep ? GoalKind.TIME_RATIO_AT_MOST : GoalKind.NONE, deep ? 1.2 : 0,
          "vs blocking FileChannel.read on as many threads as cores (the limit)",
          "vs the blocking limit (threads = cores)" + n);
      add("RandomReadBenchmark", "rawAsyncChannelSameExecutor", "rawAsyncChannelThreadPoolExecutor", p,
          GoalKind.NONE, 0, "the executor alone: raw channel on IoThreadPool vs on a ThreadPoolExecutor",
          "IoThreadPool vs ThreadPoolExecutor" + n);
    }
    add("StreamingBenchmark", "readAsyncVirtualFile", "readSpringDataBufferUtils", null, GoalKind.NONE, 0,
        "256 MiB streaming read", "256 MiB read vs Spring DataBufferUtils");
    add("StreamingBenchmark", "readAsyncVirtualFile", "readBlockingFileChannel", null, GoalKind.NONE, 0,
        "256 MiB streaming read", "256 MiB read vs blocking FileChannel");
    add("StreamingBenchmark", "writeAsyncVirtualFile", "writeSpringDataBufferUtils", null, GoalKind.NONE, 0,
        "256 MiB streaming write", "256 MiB write vs Spring DataBufferUtils");
    add("StreamingBenchmark", "writeAsyncVirtualFile", "writeBlockingFileChannel", null, GoalKind.NONE, 0,
        "256 MiB streaming write", "256 MiB write vs blocking FileChannel");
    for (String size : List.of("4096", "1048576")) {
      String p = "size=" + size;
      String of = size.equals("4096") ? ", 4 KiB" : ", 1 MiB";
      add("OverwriteBenchmark", "virtualFileCrashSafeOverwrite", "handWrittenCrashSafe", p,
          size.equals("4096") ? GoalKind.TIME_RATIO_AT_MOST : GoalKind.NONE, 1.05, "one overwrite",
          "VirtualFile vs hand-written" + of);
      add("OverwriteBenchmark", "asyncVirtualFileOverwrite", "handWrittenCrashSafe", p, GoalKind.NONE, 0,
          "one overwrite, reactive", "reactive vs hand-written" + of);
      add("OverwriteBenchmark", "kafkaStyleNoDirectoryFsync", "handWrittenCrashSafe", p, GoalKind.NONE, 0,
          "no directory fsync: the rename may be lost", "unsafe, no directory fsync, vs hand-written" + of);
      add("OverwriteBenchmark", "truncateThenWriteNotCrashSafe", "handWrittenCrashSafe", p, GoalKind.NONE,
          0, "not crash-safe: what safety costs", "unsafe truncate-then-write vs hand-written" + of);
      add("ConcurrentOverwriteBenchmark", "asyncVirtualFileGroupCommit", "handWrittenOnSixteenThreads", p,
          size.equals("4096") ? GoalKind.SPEEDUP_AT_LEAST : GoalKind.NONE, 1.3,
          "16 at once in one directory", "16 at once: group commit vs 16 threads" + of);
      add("ConcurrentOverwriteBenchmark", "virtualFileOnSixteenThreads", "handWrittenOnSixteenThreads", p,
          GoalKind.NONE, 0, "16 at once in one directory", "16 at once: VirtualFile vs hand-written" + of);
    }
  }

  private static void add(String suite, String candidate, String baseline, String param, GoalKind goal,
      double bound, String note, String label) {
    COMPARISONS.add(new Comparison(suite, candidate, baseline, param, goal, bound, note, label));
  }

  /** A measured score. */
  record Score(double score, double error, String unit) {}

  private final Map<String, Score> scores;
  private final String jdk;

  private Report(Map<String, Score> scores, String jdk) {
    this.scores = scores;
    this.jdk = jdk;
  }

  static Report fromJson(Path json) throws IOException {
    JsonArray runs = JsonParser.parseString(Files.readString(json)).getAsJsonArray();
    Map<String, Score> scores = new LinkedHashMap<>();
    String jdk = "";
    for (JsonElement e : runs) {
      JsonObject run = e.getAsJsonObject();
      String name = run.get("benchmark").getAsString().substring(PKG.length());
      StringBuilder key = new StringBuilder(name);
      if (run.has("params")) {
        for (Map.Entry<String, JsonElement> p : run.getAsJsonObject("params").entrySet()) {
          key.append(' ').append(p.getKey()).append('=').append(p.getValue().getAsString());
        }
      }
      JsonObject m = run.getAsJsonObject("primaryMetric");
      double error = m.get("scoreError").isJsonPrimitive() && m.get("scoreError").getAsJsonPrimitive().isNumber()
          ? m.get("scoreError").getAsDouble() : Double.NaN;
      scores.put(key.toString(), new Score(m.get("score").getAsDouble(), error, m.get("scoreUnit").getAsString()));
      jdk = run.get("jdkVersion").getAsString() + " (" + run.get("vmName").getAsString() + ")";
    }
    return new Report(scores, jdk);
  }

  private Optional<Score> score(String suite, String bench, String param) {
    return Optional.ofNullable(scores.get(suite + "." + bench + (param == null ? "" : " " + param)));
  }

  /** A comparison with both of its scores measured. */
  record Row(Comparison c, Score candidate, Score baseline) {
    double timeRatio() {
      return candidate.score() / baseline.score();
    }

    double speedup() {
      return baseline.score() / candidate.score();
    }

    /**
     * The relative half-width of the time ratio's 99.9% interval, from the two scores' JMH errors
     * (relative errors add, to first order). NaN when JMH gave no error (a single iteration).
     */
    double relativeError() {
      return candidate.error() / candidate.score() + baseline.error() / baseline.score();
    }

    /** Whether the goal's bound lies inside the ratio's interval: this run cannot tell met from missed. */
    boolean withinNoise() {
      double ratio = c.goal() == GoalKind.SPEEDUP_AT_LEAST ? speedup() : timeRatio();
      double e = relativeError();
      return !Double.isNaN(e) && c.bound() >= ratio * (1 - e) && c.bound() <= ratio * (1 + e);
    }

    String verdict() {
      String noise = withinNoise() ? " (within noise)" : "";
      switch (c.goal()) {
        case TIME_RATIO_AT_MOST:
          return (timeRatio() <= c.bound()
              ? "met"
              : String.format(Locale.ROOT, "**missed** by %.0f%%", (timeRatio() / c.bound() - 1) * 100))
              + noise;
        case SPEEDUP_AT_LEAST:
          return (speedup() >= c.bound()
              ? "met"
              : String.format(Locale.ROOT, "**missed** (%.2f× of %.2f×)", speedup(), c.bound()))
              + noise;
        default:
          return "";
      }
    }

    Chart.Bar bar(String source) {
      Chart.Verdict verdict = c.goal() == GoalKind.NONE ? Chart.Verdict.NO_GOAL
          : verdict().contains("missed") ? Chart.Verdict.MISSED : Chart.Verdict.MET;
      String goal = c.goal() == GoalKind.NONE ? ""
          : String.format(Locale.ROOT, " (goal ≥ %.2f×)",
              c.goal() == GoalKind.SPEEDUP_AT_LEAST ? c.bound() : 1 / c.bound());
      return new Chart.Bar(c.group(), c.label() + goal, speedup(), verdict, source);
    }

    String goal() {
      switch (c.goal()) {
        case TIME_RATIO_AT_MOST:
          return String.format(Locale.ROOT, "time ≤ %.2f×", c.bound());
        case SPEEDUP_AT_LEAST:
          return String.format(Locale.ROOT, "≥ %.1f× faster", c.bound());
        default:
          return "—";
      }
    }
  }

  /** The comparison's row, if this run measured both of its benchmarks. */
  private Optional<Row> row(Comparison c) {
    Optional<Score> cand = score(c.suite(), c.candidate(), c.param());
    Optional<Score> base = score(c.suite(), c.baseline(), c.param());
    return cand.isPresent() && base.isPresent()
        ? Optional.of(new Row(c, cand.get(), base.get())) : Optional.empty();
  }

  List<Row> rows() {
    List<Row> rows = new ArrayList<>();
    for (Comparison c : COMPARISONS) {
      row(c).ifPresent(rows::add);
    }
    return rows;
  }

  /**
   * The chart's bars for every comparison, each from the first of {@code reports} that measured both
   * of its benchmarks (a ratio never mixes two runs). {@code sources} names each report in the chart.
   */
  static List<Chart.Bar> bars(List<Report> reports, List<String> sources) {
    List<Chart.Bar> bars = new ArrayList<>();
    for (Comparison c : COMPARISONS) {
      for (int i = 0; i < reports.size(); i++) {
        Optional<Row> r = reports.get(i).row(c);
        if (r.isPresent()) {
          bars.add(r.get().bar(sources.get(i)));
          break;
        }
      }
    }
    return bars;
  }

  /** How a score reads best: per read for batches, MiB/s for streams, as measured otherwise. */
  static String show(Comparison c, Score s) {
    if (c.suite().equals("RandomReadBenchmark")) {
      return String.format(Locale.ROOT, "%.2f µs/read", s.score());
    }
    if (c.suite().equals("StreamingBenchmark")) {
      return String.format(Locale.ROOT, "%.0f MiB/s", 256 / (s.score() / 1000));
    }
    if (c.suite().equals("ConcurrentOverwriteBenchmark")) {
      return String.format(Locale.ROOT, "%.0f overwrites/s", 16 / (s.score() / 1_000_000));
    }
    return String.format(Locale.ROOT, "%.2f %s", s.score(), s.unit().replace("us", "µs"));
  }

  static String machine() {
    String cpu = "unknown CPU";
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          cpu = line.substring(line.indexOf(':') + 1).trim();
          break;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: keep "unknown CPU"
    }
    String memory = "";
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          long kib = Long.parseLong(line.replaceAll("[^0-9]", ""));
          memory = ", " + Math.round(kib / 1024.0 / 1024.0) + " GiB RAM";
          break;
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: leave it out
    }
    return Runtime.getRuntime().availableProcessors() + " cores, " + cpu + memory + ", "
        + System.getProperty("os.name") + " " + System.getProperty("os.version");
  }

  String markdown() {
    StringBuilder sb = new StringBuilder();
    sb.append("Machine: ").append(machine()).append("  \n");
    sb.append("JDK: ").append(jdk).append("  \n");
    sb.append("Date: ").append(LocalDate.now()).append("  \n");
    sb.append("Each ratio compares two benchmarks of the same run. Time ratio < 1 and speed-up > 1 favour"
        + " virtualfile. ± is the ratio's relative 99.9% error from JMH's per-score errors; \"within"
        + " noise\" marks a verdict whose goal lies inside that error.\n\n");
    sb.append("| suite | candidate | baseline | case | candidate | baseline | time ratio | ± | speed-up | goal | verdict |\n");
    sb.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (Row r : rows()) {
      Comparison c = r.c();
      sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %.2f× | %s | %.2f× | %s | %s |%n",
          c.suite().replace("Benchmark", ""), c.candidate(), c.baseline(),
          (c.param() == null ? "" : c.param() + ", ") + c.note(),
          show(c, r.candidate()), show(c, r.baseline()), r.timeRatio(),
          Double.isNaN(r.relativeError()) ? "?" : String.format(Locale.ROOT, "%.0f%%", r.relativeError() * 100),
          r.speedup(), r.goal(), r.verdict()));
    }
    return sb.toString();
  }
}
