package io.virtualfile.benchmarks.device;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The figures of every run, and the Markdown report: reads/s of each reader at each number of reads
 * in flight (median, then each run), and the library's ratios to the JDK baselines.
 */
final class DeviceReport {
  private final List<String> readers;
  private final List<Integer> inFlight;
  private final int runs;
  /** reader → in flight → reads/s of run i at index i (NaN: not measured). */
  private final Map<String, Map<Integer, double[]>> figures = new LinkedHashMap<>();
  private final Set<String> notes = new LinkedHashSet<>();

  DeviceReport(List<String> readers, List<Integer> inFlight, int runs) {
    this.readers = readers;
    this.inFlight = inFlight;
    this.runs = runs;
    for (String r : readers) {
      Map<Integer, double[]> byDepth = new LinkedHashMap<>();
      for (int n : inFlight) {
        double[] perRun = new double[runs];
        Arrays.fill(perRun, Double.NaN);
        byDepth.put(n, perRun);
      }
      figures.put(r, byDepth);
    }
  }

  void add(String reader, int inFlight, int run, double readsPerSecond) {
    figures.get(reader).get(inFlight)[run] = readsPerSecond;
  }

  /** A remark for the report; repeated remarks are kept once. */
  void note(String note) {
    notes.add(note);
  }

  /** {@code numerator / denominator} at {@code inFlight}, per run. */
  private double[] ratios(String numerator, String denominator, int inFlight) {
    double[] r = new double[runs];
    for (int i = 0; i < runs; i++) {
      r[i] = figures.get(numerator).get(inFlight)[i] / figures.get(denominator).get(inFlight)[i];
    }
    return r;
  }

  String markdown(List<String> machine, List<String> method, String library, List<String> baselines) {
    StringBuilder s = new StringBuilder("# Device-bound random reads\n\n");
    s.append("Random 4 KiB reads at 4 KiB-aligned offsets of a 2 GiB file of random bytes, with a fixed")
        .append(" number of reads in flight; completed reads per second.\n\n");
    machine.forEach(l -> s.append("- ").append(l).append('\n'));
    s.append('\n');
    method.forEach(l -> s.append("- ").append(l).append('\n'));
    s.append("\n## Reads per second\n\n");
    s.append(header("reader | in flight | median"));
    for (String r : readers) {
      for (int n : inFlight) {
        s.append(row(r + " | " + n, figures.get(r).get(n), "%.0f"));
      }
    }
    s.append("\n## The library against the JDK baselines\n\n");
    s.append(header("ratio | in flight | median"));
    for (int n : inFlight) {
      for (String b : baselines) {
        s.append(row(library + " / " + b + " | " + n, ratios(library, b, n), "%.2f"));
      }
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

  /** The median of the measured values (NaN if none). */
  static double median(double[] values) {
    double[] v = Arrays.stream(values).filter(x -> !Double.isNaN(x)).sorted().toArray();
    if (v.length == 0) {
      return Double.NaN;
    }
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
}
