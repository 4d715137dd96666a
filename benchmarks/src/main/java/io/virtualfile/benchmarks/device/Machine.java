package io.virtualfile.benchmarks.device;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/** What the figures were measured on, as "key: value" lines for the report. */
final class Machine {
  private Machine() {}

  static List<String> describe(Path dir) throws IOException, InterruptedException {
    List<String> lines = new ArrayList<>();
    lines.add("Date: " + OffsetDateTime.now().truncatedTo(ChronoUnit.SECONDS));
    lines.add("nproc: " + Runtime.getRuntime().availableProcessors());
    lines.add("CPU: " + procLine("/proc/cpuinfo", "model name"));
    lines.add("Memory: " + procLine("/proc/meminfo", "MemTotal"));
    lines.add("Kernel: " + System.getProperty("os.name") + " " + System.getProperty("os.version")
        + " " + System.getProperty("os.arch"));
    lines.add("JDK: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
    Command df = Command.run(List.of("df", "-T", dir.toString()));
    String device = df.stdout().lines().reduce((a, b) -> b).orElse(df.firstMessage()).trim()
        .replaceAll("\\s+", " ");
    lines.add("Device (`df -T " + dir + "`): `" + device + "`");
    String name = Path.of(device.split(" ")[0]).getFileName().toString();
    Path queue = Path.of("/sys/block", name, "queue");
    if (Files.isDirectory(queue)) {
      lines.add("Block queue of " + name + ": scheduler `" + read(queue.resolve("scheduler"))
          + "`, nr_requests " + read(queue.resolve("nr_requests"))
          + ", rotational " + read(queue.resolve("rotational")));
    }
    return lines;
  }

  private static String procLine(String file, String key) throws IOException {
    return Files.readAllLines(Path.of(file)).stream()
        .filter(l -> l.startsWith(key))
        .map(l -> l.substring(l.indexOf(':') + 1).strip())
        .findFirst().orElse("unknown");
  }

  private static String read(Path p) throws IOException {
    return Files.readString(p).strip();
  }
}
