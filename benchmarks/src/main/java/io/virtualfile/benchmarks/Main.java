package io.virtualfile.benchmarks;

import io.virtualfile.benchmarks.device.DeviceReport;
import io.virtualfile.benchmarks.service.ServiceReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * The benchmark comparison, start to end: runs the JMH suites, writes the JSON, then the report (a
 * Markdown table and a PNG chart of ratios against baselines measured in the same run).
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar            # quick profile
 * java -jar benchmarks/target/benchmarks.jar full       # more forks and iterations
 * java -jar benchmarks/target/benchmarks.jar quick REGEX  # only the benchmarks matching REGEX
 * java -jar benchmarks/target/benchmarks.jar report     # redo the report from the last JSON
 * java -jar benchmarks/target/benchmarks.jar chart OUT.png SOURCE...  # a chart from result files
 * </pre>
 *
 * Output goes to {@code benchmarks/results/} (or {@code -Dresults=DIR}).
 *
 * <p>{@code chart} draws the chart of the given result files alone, runs nothing and writes no table.
 * A SOURCE is a JMH result ({@code .json}), a device benchmark report ({@code device.md}) or the
 * service benchmark's figures ({@code service.tsv}). Each JMH row comes from the first JSON that has
 * both of its benchmarks, so list the newest first. The README's headline chart is made this way (see
 * {@code benchmarks/RESULTS.md}).
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    String profile = args.length > 0 ? args[0] : "quick";
    if (profile.equals("chart")) {
      chart(args);
      return;
    }
    Path results = Path.of(System.getProperty("results", "benchmarks/results"));
    Files.createDirectories(results);
    Path json = results.resolve("jmh-result.json");
    if (!profile.equals("report")) {
      ChainedOptionsBuilder options = new OptionsBuilder()
          .include(args.length > 1 ? args[1] : "io\\.virtualfile\\.benchmarks\\..*")
          .resultFormat(ResultFormatType.JSON)
          .result(json.toString())
          .jvmArgsAppend("-Xmx2g")
          .shouldFailOnError(true);
      switch (profile) {
        case "quick":
          options.forks(1).warmupIterations(2).warmupTime(TimeValue.seconds(1))
              .measurementIterations(5).measurementTime(TimeValue.seconds(1));
          break;
        case "full":
          options.forks(2).warmupIterations(5).warmupTime(TimeValue.seconds(2))
              .measurementIterations(5).measurementTime(TimeValue.seconds(2));
          break;
        default:
          throw new IllegalArgumentException("profile must be quick, full, report or chart: " + profile);
      }
      new Runner(options.build()).run();
    }
    Report report = Report.fromJson(json);
    Files.writeString(results.resolve("results.md"), report.markdown());
    Chart.write(Report.bars(List.of(report), List.of(json.getFileName().toString())),
        results.resolve("results.png"));
    System.out.println();
    System.out.println(report.markdown());
    System.out.println("Written: " + results.resolve("results.md") + ", " + results.resolve("results.png"));
  }

  /** {@code chart OUT.png SOURCE...}: the chart of the given result files. */
  private static void chart(String[] args) throws IOException {
    if (args.length < 3) {
      throw new IllegalArgumentException("usage: chart OUT.png SOURCE... (JMH .json, device.md, service.tsv)");
    }
    Path png = Path.of(args[1]).toAbsolutePath().normalize();
    List<Report> reports = new ArrayList<>();
    List<String> jsonNames = new ArrayList<>();
    List<Chart.Bar> others = new ArrayList<>();
    for (int i = 2; i < args.length; i++) {
      Path source = Path.of(args[i]).toAbsolutePath().normalize();
      String name = png.getParent().relativize(source).toString(); // as seen from the chart's directory
      String file = source.getFileName().toString();
      if (file.endsWith(".json")) {
        reports.add(Report.fromJson(source));
        jsonNames.add(name);
      } else if (file.endsWith(".md")) {
        others.addAll(DeviceReport.chartBars(source, name));
      } else if (file.endsWith(".tsv")) {
        others.addAll(ServiceReport.chartBars(source, name));
      } else {
        throw new IllegalArgumentException("not a JMH .json, device .md or service .tsv: " + source);
      }
    }
    List<Chart.Bar> bars = new ArrayList<>(Report.bars(reports, jsonNames));
    bars.addAll(others);
    Chart.write(bars, png);
    System.out.println("Written: " + png);
  }
}
