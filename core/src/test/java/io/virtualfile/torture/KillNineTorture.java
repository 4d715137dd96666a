package io.virtualfile.torture;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Kills a {@link TortureChild} with SIGKILL at random moments, over and over, and checks the file after
 * each kill: complete, checksum-valid, at a version no older than the last one the child reported done,
 * with at most one leftover temp file.
 */
public final class KillNineTorture {
  /** Raises the number of kills, e.g. {@code -Dvirtualfile.torture.kills=2000}. */
  public static final String KILLS_PROPERTY = "virtualfile.torture.kills";

  private KillNineTorture() {}

  /** The outcome, for the test to assert on. */
  public record Report(int kills, long lastVersion, int maxLeftoverTemps, int killsMidOverwrite) {}

  public static int kills(int defaultKills) {
    return Integer.getInteger(KILLS_PROPERTY, defaultKills);
  }

  /**
   * @param classpathOf classes whose code sources (directory or jar) make up the child's class path, in
   *     addition to this module's own; a small class path keeps the child's start-up short
   */
  public static Report run(Path dir, String writer, int kills, long seed, Class<?>... classpathOf)
      throws Exception {
    String classpath = classpath(classpathOf);
    Random random = new Random(seed);
    Path state = dir.resolve("state");
    long lastPrinted = 0;
    int maxLeftovers = 0;
    int midOverwrite = 0;
    for (int k = 0; k < kills; k++) {
      Process child = start(dir, writer, classpath);
      BufferedReader out =
          new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.US_ASCII));
      String first = out.readLine();
      if (!"ready".equals(first)) {
        child.destroyForcibly();
        throw new AssertionError("child did not start: " + first + "\n" + stderr(child));
      }
      // Let it run a random while: from right after start-up to several overwrites in.
      long delayMicros = (long) random.nextInt(60_000);
      TimeUnit.MICROSECONDS.sleep(delayMicros);
      if (!child.isAlive()) {
        throw new AssertionError("child exited by itself (" + child.exitValue() + "):\n" + stderr(child));
      }
      child.toHandle().destroyForcibly(); // SIGKILL on POSIX; unlike Process.destroyForcibly it keeps our end of the pipe open
      if (!child.waitFor(30, TimeUnit.SECONDS)) {
        throw new AssertionError("killed child did not die");
      }
      String line;
      long printedThisRun = 0;
      while ((line = out.readLine()) != null) {
        printedThisRun = Long.parseLong(line.trim());
      }
      lastPrinted = Math.max(lastPrinted, printedThisRun);
      if (Files.exists(state)) {
        long version = VersionedContent.decode(Files.readAllBytes(state));
        if (version < lastPrinted) {
          throw new AssertionError(
              "kill " + k + ": file at version " + version + " but " + lastPrinted + " was reported done");
        }
        if (version > printedThisRun && printedThisRun > 0) {
          midOverwrite++; // killed after the rename, before it printed: still a complete version
        }
      } else if (lastPrinted > 0) {
        throw new AssertionError("kill " + k + ": file missing after version " + lastPrinted);
      }
      List<String> temps = temps(dir);
      maxLeftovers = Math.max(maxLeftovers, temps.size());
      if (temps.size() > 1) {
        throw new AssertionError("kill " + k + ": more than one leftover temp file: " + temps);
      }
    }
    return new Report(kills, lastPrinted, maxLeftovers, midOverwrite);
  }

  static List<String> temps(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> !n.equals("state")).collect(Collectors.toList());
    }
  }

  static String classpath(Class<?>... extra) throws Exception {
    List<Class<?>> classes = new ArrayList<>(List.of(KillNineTorture.class, io.virtualfile.VirtualFile.class));
    classes.addAll(List.of(extra));
    Set<String> entries = new LinkedHashSet<>();
    for (Class<?> c : classes) {
      entries.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
    }
    return String.join(File.pathSeparator, entries);
  }

  static Process start(Path dir, String writer, String classpath) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-Xmx64m");
    cmd.add("-cp");
    cmd.add(classpath);
    cmd.add(TortureChild.class.getName());
    cmd.add(dir.toString());
    cmd.add(writer);
    return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.PIPE).start();
  }

  static String stderr(Process p) throws Exception {
    return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
  }
}
