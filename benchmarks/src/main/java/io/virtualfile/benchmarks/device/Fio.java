package io.virtualfile.benchmarks.device;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * The device's own figure: {@code fio} random 4 KiB reads with {@code O_DIRECT}, one job, {@code
 * iodepth} reads in flight, on io_uring (libaio if io_uring is refused), with the same warm-up
 * ({@code --ramp_time}) and window ({@code --runtime}) as the Java readers.
 */
final class Fio {
  private static final List<String> ENGINES = List.of("io_uring", "libaio");

  private final Duration warmup;
  private final Duration window;
  private final Consumer<String> note;
  private final boolean installed;

  Fio(Duration warmup, Duration window, Consumer<String> note) throws InterruptedException {
    this.warmup = warmup;
    this.window = window;
    this.note = note;
    this.installed = Command.run(List.of("fio", "--version")).succeeded();
    if (!installed) {
      note.accept("fio is not installed: its rows are empty (benchmarks/device-benchmark.sh installs it).");
    }
  }

  /**
   * Reads per second, and fio's CPU time (user and system) and context switches per read, or NaNs
   * (with a note) if fio is not installed or no engine ran. fio reports CPU use and context switches
   * over its whole run, warm-up included: per read, they are divided by the reads of that same time at
   * the window's rate.
   */
  TimedWindow.Figures measure(TestFile file, int inFlight) throws InterruptedException {
    if (!installed) {
      return TimedWindow.Figures.NONE;
    }
    for (String engine : ENGINES) {
      Command fio = Command.run(command(file, inFlight, engine));
      String refusal = refusal(fio);
      if (refusal == null) {
        JsonObject job = json(fio).getAsJsonArray("jobs").get(0).getAsJsonObject();
        if (!engine.equals(ENGINES.get(0))) {
          note.accept("fio ran on " + engine + ", not " + ENGINES.get(0));
        }
        double iops = job.getAsJsonObject("read").get("iops").getAsDouble();
        double cpuShare = (job.get("usr_cpu").getAsDouble() + job.get("sys_cpu").getAsDouble()) / 100;
        double seconds = warmup.toSeconds() + window.toSeconds();
        return new TimedWindow.Figures(iops, cpuShare * 1e6 / iops,
            job.get("ctx").getAsDouble() / (iops * seconds));
      }
      note.accept("fio --ioengine=" + engine + " failed: " + refusal);
    }
    return TimedWindow.Figures.NONE;
  }

  List<String> command(TestFile file, int inFlight, String engine) {
    return List.of("fio", "--name=r", "--filename=" + file.path(), "--rw=randread", "--bs=4k",
        "--direct=1", "--ioengine=" + engine, "--iodepth=" + inFlight,
        "--ramp_time=" + warmup.toSeconds(), "--runtime=" + window.toSeconds(), "--time_based",
        "--numjobs=1", "--output-format=json");
  }

  /** Why this run gave no figure, or null if it did. */
  private static String refusal(Command fio) {
    if (!fio.succeeded()) {
      return "exit code " + fio.exitCode() + ": " + fio.firstMessage();
    }
    try {
      JsonObject job = json(fio).getAsJsonArray("jobs").get(0).getAsJsonObject();
      int error = job.get("error").getAsInt();
      return error == 0 ? null : "job error " + error + ": " + fio.firstMessage();
    } catch (RuntimeException e) {
      return "unreadable JSON output (" + e + "): " + fio.firstMessage();
    }
  }

  /** fio's JSON, skipping any warning lines it printed before it. */
  private static JsonObject json(Command fio) {
    String out = fio.stdout();
    return JsonParser.parseString(out.substring(Math.max(0, out.indexOf('{')))).getAsJsonObject();
  }
}
