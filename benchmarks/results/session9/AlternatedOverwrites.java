// Run: java --enable-native-access=ALL-UNNAMED AlternatedOverwrites.java name=<dir with benchmarks.jar and the uring jar>:IO_URING|THREADS ...
// (single-file source launch; not part of the Maven build). Used for uring-overwrite.md.
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.*;
import java.util.*;

/**
 * Old and new builds side by side in one JVM (a class loader each), in short alternated batches, so that
 * the machine's background load falls on every variant alike. Per batch: µs per single overwrite (4 KiB,
 * one at a time) and µs per round of 16 concurrent overwrites of 16 files in one directory.
 */
public class AlternatedOverwrites {
  interface Runner { void single() throws Exception; void sixteen() throws Exception; void close() throws Exception; }

  static Path dir;
  static final int N = 16;
  static Path[] targets = new Path[N], temps = new Path[N];
  static ByteBuffer content = ByteBuffer.allocate(Integer.getInteger("size", 4096));

  static Runner engine(String jarDir, String engine) throws Exception {
    ClassLoader cl = new URLClassLoader(new URL[] {
        Path.of(jarDir, "benchmarks.jar").toUri().toURL(),
        Path.of(jarDir, "virtualfile-uring-0.1.0-SNAPSHOT.jar").toUri().toURL()},
        ClassLoader.getPlatformClassLoader());
    Class<?> io = cl.loadClass("io.virtualfile.reactive.AsyncFileIo");
    Class<?> kind = cl.loadClass("io.virtualfile.reactive.AsyncFileIo$Engine");
    Object b = io.getMethod("builder").invoke(null);
    b.getClass().getMethod("engine", kind).invoke(b, kind.getMethod("valueOf", String.class).invoke(null, engine));
    Object fio = b.getClass().getMethod("build").invoke(b);
    if (!String.valueOf(io.getMethod("engine").invoke(fio)).equals(engine)) throw new AssertionError(engine);
    Method overwrite = io.getMethod("overwrite", Path.class, Path.class, ByteBuffer.class);
    Class<?> mono = cl.loadClass("reactor.core.publisher.Mono");
    Method block = mono.getMethod("block");
    Method when = mono.getMethod("when", Iterable.class);
    return new Runner() {
      public void single() throws Exception { block.invoke(overwrite.invoke(fio, targets[0], temps[0], content)); }
      public void sixteen() throws Exception {
        List<Object> all = new ArrayList<>();
        for (int i = 0; i < N; i++) all.add(overwrite.invoke(fio, targets[i], temps[i], content));
        block.invoke(when.invoke(null, all));
      }
      public void close() throws Exception { io.getMethod("close").invoke(fio); }
    };
  }

  static void handWritten(Path target, Path tmp) throws Exception {
    ByteBuffer c = content.duplicate();
    Files.deleteIfExists(tmp);
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      while (c.hasRemaining()) ch.write(c);
      ch.force(true);
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    try (FileChannel d = FileChannel.open(target.getParent(), StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  static Runner handWritten() {
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(N);
    return new Runner() {
      public void single() throws Exception { handWritten(targets[0], temps[0]); }
      public void sixteen() throws Exception {
        List<java.util.concurrent.Future<?>> fs = new ArrayList<>();
        for (int i = 0; i < N; i++) { int k = i; fs.add(pool.submit(() -> { handWritten(targets[k], temps[k]); return null; })); }
        for (var f : fs) f.get();
      }
      public void close() { pool.shutdown(); }
    };
  }

  public static void main(String[] a) throws Exception {
    dir = Files.createTempDirectory("alternate");
    for (int i = 0; i < N; i++) {
      targets[i] = Files.write(dir.resolve("f" + i), new byte[content.capacity()]);
      temps[i] = dir.resolve("f" + i + ".tmp");
    }
    LinkedHashMap<String, Runner> variants = new LinkedHashMap<>();
    variants.put("handWritten", handWritten());
    for (String v : a) { // name=jarDir:ENGINE
      String[] p = v.split("[=:]");
      variants.put(p[0], engine(p[1], p[2]));
    }
    int rotations = Integer.getInteger("rotations", 12), singles = Integer.getInteger("singles", 200),
        rounds = Integer.getInteger("rounds", 20);
    Map<String, List<Double>> single = new LinkedHashMap<>(), sixteen = new LinkedHashMap<>();
    for (String k : variants.keySet()) { single.put(k, new ArrayList<>()); sixteen.put(k, new ArrayList<>()); }
    for (Runner r : variants.values()) { for (int i = 0; i < 100; i++) r.single(); for (int i = 0; i < 10; i++) r.sixteen(); }
    List<String> order = new ArrayList<>(variants.keySet());
    for (int rot = 0; rot < rotations; rot++) {
      if (rot % 2 == 1) Collections.reverse(order);
      for (String k : order) {
        Runner r = variants.get(k);
        long t0 = System.nanoTime();
        for (int i = 0; i < singles; i++) r.single();
        long t1 = System.nanoTime();
        for (int i = 0; i < rounds; i++) r.sixteen();
        long t2 = System.nanoTime();
        single.get(k).add((t1 - t0) / 1e3 / singles);
        sixteen.get(k).add((t2 - t1) / 1e3 / rounds);
      }
      System.err.printf("rotation %d done, load %s%n", rot + 1, Files.readString(Path.of("/proc/loadavg")).trim());
    }
    System.out.println("| variant | single, median µs | ratio to handWritten (median of per-rotation ratios) | 16 at once, median µs per round | ratio |");
    System.out.println("|---|--:|--:|--:|--:|");
    for (String k : variants.keySet()) {
      System.out.printf("| %s | %.0f | %.2f | %.0f | %.2f |%n", k, median(single.get(k)), medianRatio(single.get(k), single.get("handWritten")),
          median(sixteen.get(k)), medianRatio(sixteen.get(k), sixteen.get("handWritten")));
    }
    System.out.println("raw single: " + single);
    System.out.println("raw sixteen: " + sixteen);
    for (Runner r : variants.values()) r.close();
  }

  static double median(List<Double> x) { List<Double> s = new ArrayList<>(x); Collections.sort(s); int n = s.size(); return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2; }
  static double medianRatio(List<Double> x, List<Double> base) { List<Double> r = new ArrayList<>(); for (int i = 0; i < x.size(); i++) r.add(x.get(i) / base.get(i)); return median(r); }
}
