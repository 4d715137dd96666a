package io.virtualfile.benchmarks.device;

import io.virtualfile.benchmarks.Chart;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The figures of every run, and the Markdown report: reads/s of each reader at each number of reads
 * in flight (median, then each run), and the library's ratios to the JDK baselines.
 */
public final class DeviceReport {
  private final List<String> readers;
  private final List<Integer> inFlight;
  private final int runs;
  /** reader → in flight → reads/s of run i at index i (NaN: not measured). */
  private final Map<String, Map<Integer, double[]>> figures = new LinkedHashMap<>();
  /** reader → in flight → the process's CPU µs per read, of run i at index i (NaN: not measured). */
  private final Map<String, Map<Integer, double[]>> cpu = new LinkedHashMap<>();
  /** reader → in flight → the process's context switches per read, as {@link #cpu}. */
  private final Map<String, Map<Integer, double[]>> switches = new LinkedHashMap<>();
  private final Set<String> notes = new LinkedHashSet<>();

  DeviceReport(List<String> readers, List<Integer> inFlight, int runs) {
    this.readers = readers;
    this.inFlight = inFlight;
    this.runs = runs;
    for (String r : readers) {
      for (Map<String, Map<Integer, double[]>> table : List.of(figures, cpu, switches)) {
        Map<Integer, double[]> byDepth = new LinkedHashMap<>();
        for (int n : inFlight) {
          double[] perRun = new double[runs];
          Arrays.fill(perRun, Double.NaN);
          byDepth.put(n, perRun);
        }
        table.put(r, byDepth);
      }
    }
  }

  void add(String reader, int inFlight, int run, TimedWindow.Figures measured) {
    figures.get(reader).get(inFlight)[run] = measured.readsPerSecond();
    cpu.get(reader).get(inFlight)[run] = measured.cpuMicrosPerRead();
    switches.get(reader).get(inFlight)[run] = measured.switchesPerRead();
  }

  /** A remark for the report; repeated remarks are kept once. */
  void note(String note) {
    notes.add(note);
  }

  /** {@code numerator / denominator} of {@code table} at {@code inFlight}, per run (null if either is absent). */
  private double[] ratios(Map<String, Map<Integer, double[]>> table, String numerator, String denominator,
      int inFlight) {
    if (!table.containsKey(numerator) || !table.containsKey(denominator)) {
      return null;
    }
    double[] r = new double[runs];
    for (int i = 0; i < runs; i++) {
      r[i] = table.get(numerator).get(inFlight)[i] / table.get(denominator).get(inFlight)[i];
    }
    return r;
  }

  private void table(StringBuilder s, String title, String first, Map<String, Map<Integer, double[]>> t,
      String format) {
    s.append("\n## ").append(title).append("\n\n").append(header(first));
    for (String r : readers) {
      for (int n : inFlight) {
        s.append(row(r + " | " + n, t.get(r).get(n), format));
      }
    }
  }

  /** Ratio rows {@code what: numerator / denominator} for each pair whose readers were both measured. */
  private void ratioRows(StringBuilder s, String what, Map<String, Map<Integer, double[]>> table,
      String numerator, List<String> denominators) {
    for (int n : inFlight) {
      for (String d : denominators) {
        double[] r = ratios(table, numerator, d, n);
        if (r != null) {
          s.append(row(what + numerator + " / " + d + " | " + n, r, "%.2f"));
        }
      }
    }
  }

  String markdown(List<String> machine, List<String> method, String library, String uring,
      List<String> baselines) {
    StringBuilder s = new StringBuilder("# Device-bound random reads\n\n");
    s.append("Random 4 KiB reads at 4 KiB-aligned offsets of a 2 GiB file of random bytes, with a fixed")
        .append(" number of reads in flight; completed reads per second.\n\n");
    machine.forEach(l -> s.append("- ").append(l).append('\n'));
    s.append('\n');
    method.forEach(l -> s.append("- ").append(l).append('\n'));
    table(s, "Reads per second", "reader | in flight | median", figures, "%.0f");
    table(s, "CPU time per read (µs)", "reader | in flight | median", cpu, "%.2f");
    s.append("\nThe process's CPU time (user and system, all its threads) over the window, divided by the")
        .append(" reads completed in it; for fio, fio's own usr_cpu + sys_cpu.\n");
    table(s, "Context switches per read", "reader | in flight | median", switches, "%.2f");
    s.append("\n## The library against the JDK baselines\n\n");
    s.append(header("ratio | in flight | median"));
    ratioRows(s, "", figures, library, baselines);
    if (figures.containsKey(uring)) {
      s.append("\n## The io_uring engine against fio and the thread engine\n\n");
      s.append(header("ratio | in flight | median"));
      ratioRows(s, "reads/s: ", figures, uring, List.of("fio", library));
      ratioRows(s, "CPU per read: ", cpu, uring, List.of(library, "fio"));
    }
    s.append("\nRatios are per run (both readers measured in the same run); the median is that of the")
        .append(" per-run ratios.\n");
    if (!notes.isEmpty()) {
      s.append("\n## Notes\n\n");
      notes.forEach(n -> s.append("- ").append(n).append('\n'));
    }
    return s.toString();
  }

  private String header(String first) {
    StringBuilder h = new StringBuilder("| " + first);
    StringBuilder line = new StringBuilder("|---|--:|--:");
    for (int i = 1; i <= runs; i++) {
      h.append(" | run ").append(i);
      line.append("|--:");
    }
    return h.append(" |\n").append(line).append("|\n").toString();
  }

  private static String row(String first, double[] perRun, String format) {
    StringBuilder s = new StringBuilder("| " + first + " | " + cell(median(perRun), format));
    for (double v : perRun) {
      s.append(" | ").append(cell(v, format));
    }
    return s.append(" |\n").toString();
  }

  private static String cell(double v, String format) {
    return Double.isNaN(v) ? "–" : String.format(format, v);
  }

  /**
   * The chart's bars from a report this class wrote: for each number of reads in flight, the library's
   * reads/s against each other reader's, as the median of the per-run ratios (as in the report).
   */
  public static List<Chart.Bar> chartBars(Path markdown, String source) throws IOException {
    Map<String, Map<Integer, double[]>> figures = new LinkedHashMap<>();
    boolean inTable = false;
    for (String line : Files.readAllLines(markdown)) {
      if (line.startsWith("## ")) {
        inTable = line.equals("## Reads per second");
      } else if (inTable && line.startsWith("| ") && !line.startsWith("| reader ")) {
        String[] cells = line.substring(2, line.length() - 2).split(" \\| ");
        double[] perRun = new double[cells.length - 3]; // reader, in flight, median, then each run
        for (int i = 0; i < perRun.length; i++) {
          perRun[i] = cells[i + 3].equals("–") ? Double.NaN : Double.parseDouble(cells[i + 3]);
        }
        figures.computeIfAbsent(cells[0], r -> new LinkedHashMap<>()).put(Integer.valueOf(cells[1]), perRun);
      }
    }
    String library = figures.keySet().stream().filter(r -> r.startsWith("virtualfile")).findFirst()
        .orElseThrow(() -> new IOException(markdown + ": no virtualfile rows under \"## Reads per second\""));
    List<Chart.Bar> bars = new ArrayList<>();
    for (Map.Entry<Integer, double[]> depth : figures.get(library).entrySet()) {
      int n = depth.getKey();
      for (Map.Entry<String, Map<Integer, double[]>> other : figures.entrySet()) {
        double[] theirs = other.getValue().get(n);
        if (other.getKey().equals(library) || theirs == null) {
          continue;
        }
        double[] ratios = new double[Math.min(theirs.length, depth.getValue().length)];
        for (int i = 0; i < ratios.length; i++) {
          ratios[i] = depth.getValue()[i] / theirs[i];
        }
        double median = median(ratios);
        if (!Double.isNaN(median)) {
          bars.add(new Chart.Bar(Chart.Group.DEVICE_BOUND, "vs " + readerName(other.getKey(), n) + ", " + n
              + " in flight", median, Chart.Verdict.NO_GOAL, source));
        }
      }
    }
    return bars;
  }

  private static String readerName(String reader, int inFlight) {
    switch (reader) {
      case "afcDefaultPool": return "the JDK's default pool";
      case "blockingThreads": return String.format(Locale.ROOT, "%d blocking thread%s", inFlight, inFlight == 1 ? "" : "s");
      case "fio": return "fio (io_uring)";
      default: return reader;
    }
  }

  /** The median of the measured values (NaN if none). */
  static double median(double[] values) {
    double[] v = Arrays.stream(values).filter(x -> !Double.isNaN(x)).sorted().toArray();
    if (v.length == 0) {
      return Double.NaN;
    }
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
}
