package io.virtualfile.benchmarks;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
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
import javax.imageio.ImageIO;

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

  /** One row of the comparison. */
  record Comparison(
      String suite, String candidate, String baseline, String param, GoalKind goal, double bound,
      String note) {}

  static final String PKG = "io.virtualfile.benchmarks.";

  static final List<Comparison> COMPARISONS = new ArrayList<>();

  static {
    add("CacheBenchmark", "hitVirtualFile", "hitRawFileChannel", null, GoalKind.TIME_RATIO_AT_MOST, 1.15,
        "cache hit, 4 KiB read");
    add("CacheBenchmark", "missVirtualFile", "missOpenReadClose", null, GoalKind.TIME_RATIO_AT_MOST, 1.2,
        "10,000 files on 64 slots");
    for (String inFlight : List.of("1", "32")) {
      boolean deep = inFlight.equals("32");
      add("RandomReadBenchmark", "asyncVirtualFile", "rawAsyncChannelSameExecutor", "inFlight=" + inFlight,
          GoalKind.TIME_RATIO_AT_MOST, deep ? 1.1 : 1.2, "4 KiB random reads");
      add("RandomReadBenchmark", "asyncVirtualFile", "rawAsyncChannelJdkDefaultPool", "inFlight=" + inFlight,
          deep ? GoalKind.SPEEDUP_AT_LEAST : GoalKind.NONE, deep ? 5.0 : 0, "vs the JDK's default pool");
      add("RandomReadBenchmark", "asyncVirtualFile", "fileChannelOnBoundedElastic", "inFlight=" + inFlight,
          GoalKind.NONE, 0, "vs FileChannel on boundedElastic");
      add("RandomReadBenchmark", "asyncVirtualFile", "vertxAsyncFile", "inFlight=" + inFlight,
          GoalKind.NONE, 0, "vs Vert.x AsyncFile");
      add("RandomReadBenchmark", "asyncVirtualFile", "blockingFileChannel", "inFlight=" + inFlight,
          GoalKind.NONE, 0, "vs blocking FileChannel.read, one thread");
      add("RandomReadBenchmark", "rawAsyncChannelSameExecutor", "rawAsyncChannelThreadPoolExecutor",
          "inFlight=" + inFlight, GoalKind.NONE, 0,
          "the executor alone: raw channel on IoThreadPool vs on a ThreadPoolExecutor");
    }
    add("StreamingBenchmark", "readAsyncVirtualFile", "readSpringDataBufferUtils", null, GoalKind.NONE, 0,
        "256 MiB streaming read");
    add("StreamingBenchmark", "readAsyncVirtualFile", "readBlockingFileChannel", null, GoalKind.NONE, 0,
        "256 MiB streaming read");
    add("StreamingBenchmark", "writeAsyncVirtualFile", "writeSpringDataBufferUtils", null, GoalKind.NONE, 0,
        "256 MiB streaming write");
    add("StreamingBenchmark", "writeAsyncVirtualFile", "writeBlockingFileChannel", null, GoalKind.NONE, 0,
        "256 MiB streaming write");
    for (String size : List.of("4096", "1048576")) {
      String p = "size=" + size;
      add("OverwriteBenchmark", "virtualFileCrashSafeOverwrite", "handWrittenCrashSafe", p,
          size.equals("4096") ? GoalKind.TIME_RATIO_AT_MOST : GoalKind.NONE, 1.05, "one overwrite");
      add("OverwriteBenchmark", "asyncVirtualFileOverwrite", "handWrittenCrashSafe", p, GoalKind.NONE, 0,
          "one overwrite, reactive");
      add("OverwriteBenchmark", "kafkaStyleNoDirectoryFsync", "handWrittenCrashSafe", p, GoalKind.NONE, 0,
          "no directory fsync: the rename may be lost");
      add("OverwriteBenchmark", "truncateThenWriteNotCrashSafe", "handWrittenCrashSafe", p, GoalKind.NONE,
          0, "not crash-safe: what safety costs");
      add("ConcurrentOverwriteBenchmark", "asyncVirtualFileGroupCommit", "handWrittenOnSixteenThreads", p,
          size.equals("4096") ? GoalKind.SPEEDUP_AT_LEAST : GoalKind.NONE, 1.3,
          "16 at once in one directory");
      add("ConcurrentOverwriteBenchmark", "virtualFileOnSixteenThreads", "handWrittenOnSixteenThreads", p,
          GoalKind.NONE, 0, "16 at once in one directory");
    }
  }

  private static void add(String suite, String candidate, String baseline, String param, GoalKind goal,
      double bound, String note) {
    COMPARISONS.add(new Comparison(suite, candidate, baseline, param, goal, bound, note));
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

  List<Row> rows() {
    List<Row> rows = new ArrayList<>();
    for (Comparison c : COMPARISONS) {
      Optional<Score> cand = score(c.suite(), c.candidate(), c.param());
      Optional<Score> base = score(c.suite(), c.baseline(), c.param());
      if (cand.isPresent() && base.isPresent()) {
        rows.add(new Row(c, cand.get(), base.get()));
      }
    }
    return rows;
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

  /** A horizontal bar per row: the speed-up against the baseline, with 1× and the goal marked. */
  void chart(Path png) throws IOException {
    List<Row> rows = rows();
    int rowHeight = 22;
    int left = 560;
    int width = 1100;
    int top = 50;
    int height = top + rows.size() * rowHeight + 40;
    double max = 1.5;
    for (Row r : rows) {
      max = Math.max(max, Math.min(r.speedup(), 12));
      if (r.c().goal() == GoalKind.SPEEDUP_AT_LEAST) {
        max = Math.max(max, r.c().bound());
      }
    }
    double scale = (width - left - 60) / max;
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, width, height);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
    g.drawString("virtualfile vs baseline, same run: speed-up (baseline time / candidate time)", 10, 22);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    g.drawString(machine() + "; " + jdk + "; " + LocalDate.now(), 10, 40);
    int x1 = left + (int) (1.0 * scale);
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      int y = top + i * rowHeight;
      Comparison c = r.c();
      String label = c.candidate() + " vs " + c.baseline() + (c.param() == null ? "" : " [" + c.param() + "]");
      g.setColor(Color.BLACK);
      g.drawString(label, 10, y + 15);
      double s = Math.min(r.speedup(), 12);
      boolean missed = r.verdict().contains("missed");
      g.setColor(missed ? new Color(0xD9534F) : c.goal() == GoalKind.NONE ? new Color(0x7A9CC6) : new Color(0x5CB85C));
      g.fillRect(left, y + 4, (int) (s * scale), rowHeight - 8);
      g.setColor(Color.BLACK);
      g.drawString(String.format(Locale.ROOT, "%.2f×", r.speedup()), left + (int) (s * scale) + 4, y + 15);
      if (c.goal() != GoalKind.NONE) {
        double goalSpeed = c.goal() == GoalKind.SPEEDUP_AT_LEAST ? c.bound() : 1 / c.bound();
        int gx = left + (int) (goalSpeed * scale);
        g.setColor(new Color(0x333333));
        g.setStroke(new BasicStroke(2));
        g.drawLine(gx, y + 1, gx, y + rowHeight - 1);
      }
    }
    g.setColor(Color.GRAY);
    g.setStroke(new BasicStroke(1, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 1, new float[] {4, 4}, 0));
    g.drawLine(x1, top - 4, x1, top + rows.size() * rowHeight);
    g.drawString("1× (same speed)", x1 - 40, top + rows.size() * rowHeight + 16);
    g.drawString("green: goal met; red: goal missed; blue: no goal; black tick: the goal", 10,
        top + rows.size() * rowHeight + 32);
    g.dispose();
    ImageIO.write(img, "png", png.toFile());
  }
}
