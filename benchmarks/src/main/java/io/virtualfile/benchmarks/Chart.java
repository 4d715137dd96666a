package io.virtualfile.benchmarks;

import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.CategoryStyler;
import org.knowm.xchart.style.Styler;

/**
 * The comparison's chart, drawn with XChart: one panel per question the benchmarks answer, one bar per
 * comparison, its height the speed-up of the first named against its baseline (baseline time /
 * candidate time, or candidate throughput / baseline throughput), both measured in the same run.
 *
 * <p>The speed-up axis is logarithmic (base 2) and every bar starts at 1×: a bar up is faster, a bar
 * down slower, and 12× and 24× are told apart. All panels share one axis range, so bars compare across
 * panels. Colour gives the row's verdict against its goal.
 */
public final class Chart {
  private static final int PANEL_WIDTH = 900;
  private static final int PANEL_HEIGHT = 720;
  private static final int COLUMNS = 2;

  /** The question a row answers; the chart draws one panel per question, in this order. */
  public enum Group {
    PAGE_CACHED("Page-cached reads and writes (JMH)"),
    DEVICE_BOUND("Device-bound reads: 4 KiB O_DIRECT random reads, reads/s"),
    SERVICE("Service: HTTP blob store under wrk, req/s against the usual way"),
    OVERWRITE("Crash-safe overwrite (JMH)");

    final String title;

    Group(String title) {
      this.title = title;
    }
  }

  /** A row's standing against the goal of the issue that asked for it. */
  public enum Verdict {
    MET("goal met", new Color(0x4CAF50)),
    MISSED("goal missed", new Color(0xD9534F)),
    NO_GOAL("no goal (for information)", new Color(0x6F94C4));

    final String legend;
    final Color color;

    Verdict(String legend, Color color) {
      this.legend = legend;
      this.color = color;
    }
  }

  /**
   * One bar.
   *
   * @param group the panel it is drawn in
   * @param label what is compared, as the bar's axis label
   * @param speedup how many times faster the first named is than its baseline
   * @param verdict its standing against its goal
   * @param source the result file it was read from, named in its panel's title
   */
  public record Bar(Group group, String label, double speedup, Verdict verdict, String source) {}

  private Chart() {}

  /** Writes {@code bars} to {@code png}, grouped into one panel per {@link Group} that has bars. */
  public static void write(List<Bar> bars, Path png) throws IOException {
    double low = -1;
    double high = 1;
    for (Bar b : bars) {
      low = Math.min(low, Math.floor(log2(b.speedup())));
      high = Math.max(high, Math.ceil(log2(b.speedup())));
    }
    List<CategoryChart> panels = new ArrayList<>();
    for (Group g : Group.values()) {
      List<Bar> in = bars.stream().filter(b -> b.group() == g).collect(Collectors.toList());
      if (!in.isEmpty()) {
        panels.add(panel(g, in, low, high));
      }
    }
    if (panels.isEmpty()) {
      throw new IllegalArgumentException("no comparison has both of its figures in the sources given");
    }
    int columns = Math.min(COLUMNS, panels.size());
    int rows = (panels.size() + columns - 1) / columns;
    while (panels.size() < rows * columns) {
      panels.add(blank()); // the grid is filled row by row; an odd last cell stays white
    }
    String file = png.toString();
    BitmapEncoder.saveBitmap(panels, rows, columns,
        file.endsWith(".png") ? file.substring(0, file.length() - 4) : file, BitmapEncoder.BitmapFormat.PNG);
  }

  private static CategoryChart panel(Group g, List<Bar> bars, double low, double high) {
    Set<String> sources = bars.stream().map(Bar::source).collect(Collectors.toCollection(LinkedHashSet::new));
    CategoryChart chart = new CategoryChartBuilder().width(PANEL_WIDTH).height(PANEL_HEIGHT)
        .title(g.title)
        .xAxisTitle("from " + String.join(", ", sources))
        .yAxisTitle("speed-up (log scale; > 1× favours the first named)")
        .build();
    CategoryStyler s = chart.getStyler();
    style(s);
    s.setOverlapped(true); // one series per verdict; each bar is in exactly one of them
    s.setXAxisLabelRotation(90);
    s.setYAxisMin(low);
    s.setYAxisMax(high);
    s.setYAxisTickMarkSpacingHint(30);
    s.setAvailableSpaceFill(Math.min(0.8, 0.12 * bars.size()));
    chart.setCustomYAxisTickLabelsFormatter(Chart::tick);

    List<String> labels = bars.stream()
        .map(b -> String.format(Locale.ROOT, "%s: %.2f×", b.label(), b.speedup())).collect(Collectors.toList());
    List<Color> colors = new ArrayList<>();
    for (Verdict v : Verdict.values()) {
      if (bars.stream().noneMatch(b -> b.verdict() == v)) {
        continue;
      }
      List<Double> heights = new ArrayList<>();
      for (Bar b : bars) {
        heights.add(b.verdict() == v ? log2(b.speedup()) : null);
      }
      chart.addSeries(v.legend, labels, heights);
      colors.add(v.color);
    }
    s.setSeriesColors(colors.toArray(new Color[0]));
    return chart;
  }

  private static CategoryChart blank() {
    CategoryChart chart = new CategoryChartBuilder().width(PANEL_WIDTH).height(PANEL_HEIGHT).build();
    CategoryStyler s = chart.getStyler();
    style(s);
    s.setChartTitleVisible(false);
    s.setLegendVisible(false);
    s.setAxisTitlesVisible(false);
    s.setAxisTicksVisible(false);
    s.setPlotBorderVisible(false);
    s.setPlotGridLinesVisible(false);
    chart.addSeries(" ", List.of(" "), List.of(0));
    s.setSeriesColors(new Color[] {Color.WHITE});
    return chart;
  }

  private static void style(CategoryStyler s) {
    s.setChartBackgroundColor(Color.WHITE);
    s.setPlotBackgroundColor(Color.WHITE);
    s.setPlotGridLinesColor(new Color(0xDDDDDD));
    s.setChartTitleBoxVisible(false);
    s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
    s.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    s.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
    s.setLegendPosition(Styler.LegendPosition.OutsideS);
    s.setLegendLayout(Styler.LegendLayout.Horizontal);
    s.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }

  /** An axis tick, a log2 value, as the speed-up it stands for ("4×", "1/4×"); blank between powers of 2. */
  static String tick(double log2) {
    double rounded = Math.rint(log2);
    if (Math.abs(log2 - rounded) > 1e-9) {
      return "";
    }
    long power = 1L << (long) Math.abs(rounded);
    return rounded >= 0 ? power + "×" : "1/" + power + "×";
  }
}
