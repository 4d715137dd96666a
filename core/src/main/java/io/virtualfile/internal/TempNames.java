package io.virtualfile.internal;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Names of the temp files that a derived-name overwrite writes beside its final file:
 * {@code .<final name>.<16 random hex digits>.vftmp}. Hidden, unpredictable (64 random bits from a
 * {@link SecureRandom}, so another process cannot pre-create or guess one), and recognisable by
 * {@link #isTemp(String)} so that start-up cleanup removes only this library's files.
 */
public final class TempNames {
  static final String SUFFIX = ".vftmp";

  /** The final name is shortened so that the temp name stays well within a 255-byte name limit. */
  private static final int MAX_STEM_CHARS = 60;

  private static final Pattern TEMP = Pattern.compile("\\..*\\.[0-9a-f]{16}" + Pattern.quote(SUFFIX));

  private static final SecureRandom RANDOM = new SecureRandom();

  private TempNames() {}

  /** A fresh temp path in {@code finalPath}'s directory. */
  public static Path derive(Path finalPath) {
    String name = finalPath.getFileName().toString();
    String stem = name.length() > MAX_STEM_CHARS ? name.substring(0, MAX_STEM_CHARS) : name;
    byte[] random = new byte[8];
    RANDOM.nextBytes(random);
    return finalPath.resolveSibling("." + stem + "." + HexFormat.of().formatHex(random) + SUFFIX);
  }

  /** Whether {@code fileName} has the shape of a name from {@link #derive(Path)}. */
  public static boolean isTemp(String fileName) {
    return TEMP.matcher(fileName).matches();
  }
}
