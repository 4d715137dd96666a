package io.virtualfile.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
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
 * java -jar benchmarks/target/benchmarks.jar            # quick profile (about 7 minutes on 2 cores)
 * java -jar benchmarks/target/benchmarks.jar full       # more forks and iterations
 * java -jar benchmarks/target/benchmarks.jar quick REGEX  # only the benchmarks matching REGEX
 * java -jar benchmarks/target/benchmarks.jar report     # redo the report from the last JSON
 * </pre>
 *
 * Output goes to {@code benchmarks/results/} (or {@code -Dresults=DIR}).
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    String profile = args.length > 0 ? args[0] : "quick";
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
          throw new IllegalArgumentException("profile must be quick, full or report: " + profile);
      }
      new Runner(options.build()).run();
    }
    Report report = Report.fromJson(json);
    Files.writeString(results.resolve("results.md"), report.markdown());
    report.chart(results.resolve("results.png"));
    System.out.println();
    System.out.println(report.markdown());
    System.out.println("Written: " + results.resolve("results.md") + ", " + results.resolve("results.png"));
  }
}
