// A rename over an existing file, with and without the replaced file held open across it.
// java RenameHold.java DIR hold|nohold COUNT (20,000 files of 8 KiB in DIR; temp written and fsynced each time)
import java.nio.*; import java.nio.channels.*; import java.nio.file.*; import java.util.*;
public class RenameHold {
  public static void main(String[] a) throws Exception {
    Path dir = Paths.get(a[0]); boolean hold = a[1].equals("hold"); int n = Integer.parseInt(a[2]);
    Files.createDirectories(dir);
    int files = 20000; byte[] data = new byte[8192]; new Random(1).nextBytes(data);
    for (int i = 0; i < files; i++) { Path p = dir.resolve("b" + i); if (!Files.exists(p)) Files.write(p, data); }
    Random r = new Random(); long renameNs = 0, closeNs = 0; long t0 = System.nanoTime();
    long[] lat = new long[n];
    for (int i = 0; i < n; i++) {
      Path target = dir.resolve("b" + r.nextInt(files)); Path tmp = dir.resolve("t" + i + ".tmp");
      try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        c.write(ByteBuffer.wrap(data)); c.force(true); }
      FileChannel old = hold ? FileChannel.open(target, StandardOpenOption.READ) : null;
      long s = System.nanoTime();
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      long e = System.nanoTime(); renameNs += e - s; lat[i] = e - s;
      if (old != null) { old.close(); closeNs += System.nanoTime() - e; }
    }
    Arrays.sort(lat);
    System.out.printf("%s: rename avg %.1f us p50 %.1f p99 %.1f, close avg %.1f us, total %.1f ms%n", a[1], renameNs / 1e3 / n, lat[n/2]/1e3, lat[n*99/100]/1e3, closeNs / 1e3 / n, (System.nanoTime() - t0) / 1e6);
  }
}
