package io.virtualfile.benchmarks.service;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * The blobs the service serves: {@value #COUNT} files named {@code 0} … {@code 19999} of random sizes
 * from 4 to 16 KiB and random content, from a fixed seed. Created once; a directory whose marker file
 * says it holds this set is reused as it is (PUTs since then have replaced some blobs, with bodies of
 * the same size range).
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.virtualfile.benchmarks.service.BlobSet [DIR]
 * </pre>
 *
 * DIR defaults to {@code -Ddir=} or {@value #DEFAULT_DIR}.
 */
public final class BlobSet {
  static final int COUNT = 20_000;
  static final int MIN_SIZE = 4 * 1024;
  static final int MAX_SIZE = 16 * 1024;
  static final String DEFAULT_DIR = "/tmp/virtualfile-service-blobs";
  private static final long SEED = 20_261_125L;
  private static final String MARKER = ".blobset";
  private static final String DESCRIPTION =
      "count=" + COUNT + " sizes=" + MIN_SIZE + "-" + MAX_SIZE + " seed=" + SEED + "\n";

  private final Path dir;

  private BlobSet(Path dir) {
    this.dir = dir;
  }

  /** The set in {@code dir}, created there first unless its marker says it is already complete. */
  static BlobSet openOrCreate(Path dir) throws IOException {
    Path marker = dir.resolve(MARKER);
    if (!Files.isRegularFile(marker) || !Files.readString(marker).equals(DESCRIPTION)) {
      Files.createDirectories(dir);
      SplittableRandom random = new SplittableRandom(SEED);
      for (int id = 0; id < COUNT; id++) {
        byte[] content = new byte[random.nextInt(MIN_SIZE, MAX_SIZE + 1)];
        random.nextBytes(content);
        Files.write(dir.resolve(Integer.toString(id)), content);
      }
      Files.writeString(marker, DESCRIPTION); // last: a set cut short is created again next time
    }
    return new BlobSet(dir);
  }

  int count() {
    return COUNT;
  }

  Path path(int id) {
    return dir.resolve(Integer.toString(id));
  }

  Path dir() {
    return dir;
  }

  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args.length > 0 ? args[0] : System.getProperty("dir", DEFAULT_DIR));
    long start = System.nanoTime();
    BlobSet set = openOrCreate(dir);
    System.out.printf("%d blobs of %d-%d bytes in %s (%d ms)%n",
        set.count(), MIN_SIZE, MAX_SIZE, dir, (System.nanoTime() - start) / 1_000_000);
  }
}
