package io.virtualfile.faults.powercut;

import io.virtualfile.faults.support.FsKind;
import io.virtualfile.faults.support.LoopFs;
import io.virtualfile.faults.support.Scratch;
import io.virtualfile.faults.support.Sh;
import io.virtualfile.reactive.AsyncFileIo;
import io.virtualfile.reactive.spi.EngineProvider;
import io.virtualfile.torture.VersionedContent;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Simulated power cuts on a real file system. A {@link PowerCutChild} overwrites a versioned,
 * checksummed file on a loop-device file system and prints every acknowledged version. At random
 * instants the harness freezes it (SIGSTOP, waiting until every thread has stopped), reads the versions
 * it acknowledged, and copies the loop device's image as the device holds it — without what is only in
 * the mounted file system's page cache ({@link LoopFs#copyImage}). Then the child runs on, and the copy
 * is mounted on its own loop device, which replays the journal as after a reboot, and checked: the file
 * must hold one complete version, no older than the last acknowledged one, with at most one temp file.
 * Before the child runs on, the original is checkpointed ({@link LoopFs#checkpoint}), which keeps each
 * replay short.
 *
 * <p>What a cut keeps is every write the device had completed, not a subset of them: it does not model
 * a disk whose volatile cache loses or reorders writes that were not flushed.
 */
public final class PowerCut {
  /** Raises the number of cuts per file system and call, e.g. {@code -Dvirtualfile.powercut.cuts=500}. */
  public static final String CUTS_PROPERTY = "virtualfile.powercut.cuts";

  private PowerCut() {}

  public static int cuts(int defaultCuts) {
    return Integer.getInteger(CUTS_PROPERTY, defaultCuts);
  }

  /** What one cut found in the copy. */
  public enum Outcome {
    /** A complete version, no older than the last acknowledged. */
    INTACT,
    /** The file is missing, or holds a version older than one that was acknowledged. */
    LOST,
    /** The file is there but not one complete version: torn, mixed, zero-filled or empty. */
    TORN,
    /** The copy does not mount. */
    UNMOUNTABLE,
    /** More than one temp file was left. */
    TOO_MANY_TEMPS
  }

  /**
   * The outcome of a run, for the test to assert on and the README to quote.
   *
   * @param engine the reactive engine the child's overwrites ran on, as the child said; null if none
   */
  public record Report(
      FsKind fs, Overwriters writer, AsyncFileIo.Engine engine, int cuts, int intact, int lost,
      int torn, int unmountable, int tooManyTemps, int maxTemps, int newerThanAcknowledged,
      long lastAcknowledged, int copyRetries, long millis, List<String> examples) {
    public int failures() {
      return lost + torn + unmountable + tooManyTemps;
    }

    @Override
    public String toString() {
      return String.format(
          "%s %s%s: %d cuts, %d intact, %d lost, %d torn, %d unmountable, %d with >1 temp (max temps %d);"
              + " %d cuts held a version newer than the last acknowledged; %d versions acknowledged;"
              + " %d image copies retried; %.1f s%s",
          fs.type(), writer, engine == null ? "" : " on " + engine, cuts, intact, lost, torn,
          unmountable, tooManyTemps, maxTemps, newerThanAcknowledged, lastAcknowledged, copyRetries,
          millis / 1000.0,
          examples.isEmpty() ? "" : "; e.g. " + examples);
    }
  }

  public static Report run(Scratch scratch, FsKind kind, Overwriters writer, int cuts, long seed)
      throws Exception {
    long start = System.nanoTime();
    LoopFs fs = scratch.newFileSystem(kind, kind.defaultSize(), "");
    Path dir = Files.createDirectory(fs.mountPoint().resolve("data"));
    io.virtualfile.VirtualFile.fsyncDirectory(fs.mountPoint()); // the directory itself survives every cut
    Path copy = scratch.store().resolve("cut.img");
    Path copyMount = scratch.newDirectory("cut");
    Path stderr = scratch.newDirectory("child").resolve("stderr");
    Random random = new Random(seed);
    Child child = Child.start(dir, writer, stderr);
    int[] counts = new int[Outcome.values().length];
    int maxTemps = 0;
    int newer = 0;
    int retries = 0;
    List<String> examples = new ArrayList<>();
    try {
      child.awaitReady();
      for (int k = 0; k < cuts; k++) {
        Thread.sleep(random.nextInt(25)); // a random instant: overwrites take about 1-3 ms here
        long t0 = System.nanoTime();
        child.freeze();
        long t1 = System.nanoTime();
        long acknowledged = child.lastAcknowledged();
        retries += fs.copyImage(copy) - 1;
        fs.checkpoint(); // while the child is still frozen: it changes nothing it could see
        long t2 = System.nanoTime();
        child.thaw();
        Found found = inspect(kind, copy, copyMount);
        long t3 = System.nanoTime();
        if (Boolean.getBoolean("virtualfile.powercut.trace")) {
          System.out.printf("cut %d: freeze %.1f ms, copy %.1f ms, inspect %.1f ms%n", k, (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6);
        }
        Outcome outcome = judge(found, acknowledged);
        counts[outcome.ordinal()]++;
        maxTemps = Math.max(maxTemps, found.temps);
        if (outcome == Outcome.INTACT && found.version > acknowledged) {
          newer++;
        }
        if (outcome != Outcome.INTACT && examples.size() < 3) {
          examples.add("cut " + k + ": " + outcome + " (acknowledged " + acknowledged + ", found "
              + found.describe() + ")");
        }
        child.checkAlive();
      }
      child.checkQuiet();
      return new Report(kind, writer, child.engine(), cuts, counts[0], counts[1], counts[2],
          counts[3], counts[4], maxTemps, newer, child.lastAcknowledged(), retries,
          (System.nanoTime() - start) / 1_000_000, examples);
    } finally {
      child.kill();
      fs.unmountOnceReleased(Duration.ofSeconds(30)); // an io_uring child's files outlive it briefly
      fs.close();
    }
  }

  /** What a mounted copy held. */
  private record Found(boolean mounted, boolean present, long version, String damage, int temps) {
    String describe() {
      if (!mounted) {
        return "no mountable file system: " + damage;
      }
      if (!present) {
        return "no file";
      }
      return damage != null ? damage : "version " + version + (temps > 0 ? " and " + temps + " temp file(s)" : "");
    }
  }

  private static Outcome judge(Found f, long acknowledged) {
    if (!f.mounted) {
      return Outcome.UNMOUNTABLE;
    }
    if (!f.present) {
      return acknowledged > 0 ? Outcome.LOST : Outcome.INTACT;
    }
    if (f.damage != null) {
      return Outcome.TORN;
    }
    if (f.version < acknowledged) {
      return Outcome.LOST;
    }
    if (f.temps > 1) {
      return Outcome.TOO_MANY_TEMPS;
    }
    return Outcome.INTACT;
  }

  private static Found inspect(FsKind kind, Path copy, Path mountPoint) {
    LoopFs fs = LoopFs.existing(kind, copy, mountPoint);
    try {
      try {
        fs.mount(kind.copyMountOptions()); // replays the journal, as the first mount after a reboot
      } catch (RuntimeException e) {
        return new Found(false, false, -1, e.getMessage(), 0);
      }
      Path dir = mountPoint.resolve("data");
      Path state = dir.resolve("state");
      int temps;
      try (Stream<Path> s = Files.list(dir)) {
        temps = (int) s.filter(p -> !p.getFileName().toString().equals("state")).count();
      }
      if (!Files.exists(state)) {
        return new Found(true, false, -1, null, temps);
      }
      byte[] bytes = Files.readAllBytes(state);
      try {
        return new Found(true, true, VersionedContent.decode(bytes), null, temps);
      } catch (IllegalStateException e) {
        return new Found(true, true, -1, e.getMessage() + " (" + bytes.length + " bytes, "
            + (isAllZero(bytes) ? "all zero" : "not all zero") + ")", temps);
      }
    } catch (IOException e) {
      return new Found(true, false, -1, "unreadable: " + e, 0);
    } finally {
      fs.close();
    }
  }

  private static boolean isAllZero(byte[] b) {
    for (byte x : b) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }

  /** The child JVM, its acknowledgements, and its freezing. */
  static final class Child {
    private final Process process;
    private final InputStream out;
    private final Path stderr;
    private final StringBuilder partial = new StringBuilder();
    private long lastAcknowledged;
    private boolean ready;
    private AsyncFileIo.Engine engine; // as the child said when ready; null if its writer uses none

    private Child(Process process, Path stderr) {
      this.process = process;
      this.out = process.getInputStream();
      this.stderr = stderr;
    }

    /**
     * Starts the child on this JVM's java, with the engines on this class path (their providers) and
     * this JVM's permission for native access, so that it runs the engine an {@link AsyncFileIo} built
     * here would run; {@link #engine()} says which it did.
     */
    static Child start(Path dir, Overwriters writer, Path stderr) throws Exception {
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.add("-XX:TieredStopAtLevel=1");
      cmd.add("-XX:+UseSerialGC");
      cmd.add("-Xmx64m");
      for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
        if (arg.startsWith("--enable-native-access")) {
          cmd.add(arg);
        }
      }
      cmd.add("-cp");
      cmd.add(classpath());
      cmd.add(PowerCutChild.class.getName());
      cmd.add(dir.toString());
      cmd.add(writer.name());
      Process p = new ProcessBuilder(cmd).redirectError(stderr.toFile()).start();
      return new Child(p, stderr);
    }

    private static String classpath() throws Exception {
      Set<String> entries = new LinkedHashSet<>();
      for (Class<?> c : List.of(PowerCutChild.class, io.virtualfile.VirtualFile.class,
          VersionedContent.class, io.virtualfile.reactive.AsyncFileIo.class,
          reactor.core.publisher.Mono.class, org.reactivestreams.Publisher.class)) {
        entries.add(location(c));
      }
      for (ServiceLoader.Provider<EngineProvider> p : (Iterable<ServiceLoader.Provider<EngineProvider>>)
          ServiceLoader.load(EngineProvider.class).stream()::iterator) {
        entries.add(location(p.type()));
      }
      return String.join(File.pathSeparator, entries);
    }

    private static String location(Class<?> c) throws Exception {
      return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }

    /** The reactive engine the child's overwrites run on, as it said; null if they use none. */
    AsyncFileIo.Engine engine() {
      return engine;
    }

    void awaitReady() throws Exception {
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (!ready) {
        checkAlive();
        if (System.nanoTime() > deadline) {
          throw new AssertionError("the child did not start in 60 s: " + stderrText());
        }
        if (!drain()) {
          Thread.sleep(5);
        }
      }
    }

    /** Reads what the child has printed so far; true if there was anything. */
    private boolean drain() throws IOException {
      int n = out.available();
      if (n <= 0) {
        return false;
      }
      byte[] b = out.readNBytes(n);
      for (char c : new String(b, StandardCharsets.US_ASCII).toCharArray()) {
        if (c == '\n') {
          String line = partial.toString().trim();
          partial.setLength(0);
          if (line.startsWith("ready ")) {
            String e = line.substring("ready ".length());
            engine = e.equals("-") ? null : AsyncFileIo.Engine.valueOf(e);
            ready = true;
          } else {
            lastAcknowledged = Long.parseLong(line);
          }
        } else {
          partial.append(c);
        }
      }
      return true;
    }

    /** The last version the child printed before it was frozen. */
    long lastAcknowledged() throws IOException {
      while (drain()) {
        // a frozen child prints nothing more: this empties the pipe
      }
      return lastAcknowledged;
    }

    /** SIGSTOP, then waits until no thread is still inside a system call (a stop waits for it). */
    void freeze() throws Exception {
      Sh.run("kill", "-STOP", Long.toString(process.pid()));
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (!allStopped()) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("the child's threads did not all stop in 30 s");
        }
        Thread.sleep(1);
      }
    }

    void thaw() {
      Sh.run("kill", "-CONT", Long.toString(process.pid()));
    }

    private boolean allStopped() throws IOException {
      try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(process.pid()), "task"))) {
        for (Path t : (Iterable<Path>) tasks::iterator) {
          String stat;
          try {
            stat = Files.readString(t.resolve("stat"));
          } catch (java.nio.file.NoSuchFileException e) {
            continue; // a thread that just exited
          }
          char state = stat.charAt(stat.lastIndexOf(')') + 2);
          if (state != 'T' && state != 't' && state != 'Z' && state != 'X') {
            return false;
          }
        }
      }
      return true;
    }

    void checkAlive() throws IOException {
      if (!process.isAlive()) {
        throw new AssertionError("the child exited (" + process.exitValue() + "): " + stderrText());
      }
    }

    /**
     * Fails if the child wrote to stderr: a JVM warning (such as one about native access without
     * permission, which a later JDK turns into a refusal) or a logged error means that it did not run
     * as the parent meant it to.
     */
    void checkQuiet() throws IOException {
      String text = stderrText();
      if (!text.isEmpty()) {
        throw new AssertionError("the child wrote to stderr: " + text);
      }
    }

    private String stderrText() throws IOException {
      return Files.exists(stderr) ? Files.readString(stderr) : "";
    }

    void kill() throws InterruptedException {
      process.destroyForcibly(); // SIGKILL ends a stopped process too
      process.waitFor();
    }
  }
}
