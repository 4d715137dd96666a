package io.virtualfile.internal;

import io.virtualfile.NotReadableException;
import io.virtualfile.NotWritableException;

import java.io.EOFException;
import java.nio.ByteBuffer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

/**
 * The options of a virtual file, split into what applies on the first open and what may apply again
 * on every reopen after eviction.
 *
 * <ul>
 *   <li>{@code CREATE}, {@code CREATE_NEW}, {@code TRUNCATE_EXISTING}, {@code SPARSE}: first open
 *       only. A reopen must neither create a file that vanished, nor fail because the file exists,
 *       nor wipe data written since.</li>
 *   <li>{@code DELETE_ON_CLOSE}: never passed to the descriptor, which is closed on every eviction;
 *       the handle deletes the file when the handle itself is closed.</li>
 *   <li>{@code APPEND}: refused. Virtual file IO is positional, and a positional write on an append
 *       descriptor is unspecified in the JDK (it appends on Linux).</li>
 * </ul>
 *
 * <p>With {@code com.sun.nio.file.ExtendedOpenOption.DIRECT} (O_DIRECT), every positional call must use
 * a direct buffer whose address at its position, and whose remaining length, are multiples of the file
 * store's block size, at a file position that is one too; {@link #checkRead}/{@link #checkWrite} refuse
 * anything else with an {@link IllegalArgumentException} naming the alignment, before any IO (the
 * kernel would fail with a bare EINVAL).
 *
 * <p>Immutable.
 */
public final class OpenOptions {
  private final Set<OpenOption> first;
  private final Set<OpenOption> reopen;
  private final boolean readable;
  private final boolean writable;
  private final boolean deleteOnClose;

  /** 1 without O_DIRECT; with it, the block size once known ({@link #aligned}), 0 before. */
  private final int alignment;

  private OpenOptions(
      Set<OpenOption> first, Set<OpenOption> reopen, boolean deleteOnClose, int alignment) {
    this.first = Collections.unmodifiableSet(first);
    this.reopen = Collections.unmodifiableSet(reopen);
    this.writable = first.contains(StandardOpenOption.WRITE);
    this.readable = first.contains(StandardOpenOption.READ) || !writable;
    this.deleteOnClose = deleteOnClose;
    this.alignment = alignment;
  }

  /** Whether the options ask for O_DIRECT ({@code ExtendedOpenOption.DIRECT}, named to avoid its module). */
  public boolean direct() {
    return alignment != 1;
  }

  private static boolean isDirect(OpenOption o) {
    return o.toString().equals("DIRECT")
        && o.getClass().getName().equals("com.sun.nio.file.ExtendedOpenOption");
  }

  /**
   * These options with the alignment O_DIRECT needs on {@code path}'s file store (its block size); the
   * same options without O_DIRECT.
   */
  public OpenOptions aligned(Path path) throws IOException {
    if (!direct()) {
      return this;
    }
    long blockSize = Files.getFileStore(path).getBlockSize();
    if (blockSize < 1 || blockSize > (1 << 20) || Long.bitCount(blockSize) != 1) {
      throw new IOException("the file store's block size is not usable for O_DIRECT (" + blockSize
          + " bytes): " + path);
    }
    return new OpenOptions(first, reopen, deleteOnClose, (int) blockSize);
  }

  /** The alignment of buffers, lengths and positions: 1 without O_DIRECT. */
  public int alignment() {
    return alignment;
  }

  /**
   * @throws NullPointerException if {@code options} or one of them is null
   * @throws IllegalArgumentException for {@code APPEND}
   */
  public static OpenOptions of(OpenOption... options) {
    Objects.requireNonNull(options, "options");
    Set<OpenOption> first = new HashSet<>();
    boolean deleteOnClose = false;
    for (OpenOption o : options) {
      Objects.requireNonNull(o, "options contains null");
      if (o == StandardOpenOption.APPEND) {
        throw new IllegalArgumentException(
            "APPEND is not supported: virtual file writes are positional (use writeAt at size())");
      }
      if (o == StandardOpenOption.DELETE_ON_CLOSE) {
        deleteOnClose = true;
      } else {
        first.add(o);
      }
    }
    Set<OpenOption> reopen = new HashSet<>(first);
    reopen.remove(StandardOpenOption.CREATE);
    reopen.remove(StandardOpenOption.CREATE_NEW);
    reopen.remove(StandardOpenOption.TRUNCATE_EXISTING);
    reopen.remove(StandardOpenOption.SPARSE);
    boolean direct = false;
    for (OpenOption o : first) {
      direct |= isDirect(o);
    }
    return new OpenOptions(first, reopen, deleteOnClose, direct ? 0 : 1);
  }

  /** The options for the first open (never {@code DELETE_ON_CLOSE}). */
  public Set<OpenOption> firstOpen() {
    return first;
  }

  /** The options for a reopen after eviction. */
  public Set<OpenOption> reopen() {
    return reopen;
  }

  public boolean deleteOnClose() {
    return deleteOnClose;
  }

  /**
   * Whether a handle with these options may share a descriptor opened earlier for the same path and
   * reopen options, skipping its own first open: when that open could do nothing but open the existing
   * file ({@code CREATE} does nothing to a file that exists), and the handle needs no file of its own
   * ({@code DELETE_ON_CLOSE}).
   */
  public boolean shareable() {
    return !deleteOnClose && !first.contains(StandardOpenOption.CREATE_NEW)
        && !first.contains(StandardOpenOption.TRUNCATE_EXISTING);
  }

  /** Checks the arguments of a positional read of {@code file}. */
  public void checkRead(Object file, ByteBuffer dst, long position) {
    Objects.requireNonNull(dst, "dst");
    checkPosition(position);
    requireReadable(file);
    checkAligned(file, dst, position);
  }

  /** Checks the arguments of a positional write to {@code file}. */
  public void checkWrite(Object file, ByteBuffer src, long position) {
    Objects.requireNonNull(src, "src");
    checkPosition(position);
    requireWritable(file);
    checkAligned(file, src, position);
  }

  private void checkAligned(Object file, ByteBuffer buf, long position) {
    if (alignment == 1) {
      return;
    }
    int a = alignment;
    String why = " (O_DIRECT on " + file + " needs " + a + "-byte alignment, the file store's block"
        + " size; allocate buffers with VirtualFile.allocateAligned)";
    if (!buf.isDirect()) {
      throw new IllegalArgumentException("a heap buffer cannot be used" + why);
    }
    if (buf.alignmentOffset(buf.position(), a) != 0) {
      throw new IllegalArgumentException(
          "buffer address at position " + buf.position() + " is not aligned" + why);
    }
    if (buf.remaining() % a != 0) {
      throw new IllegalArgumentException(
          "length " + buf.remaining() + " is not a multiple of " + a + why);
    }
    if (position % a != 0) {
      throw new IllegalArgumentException(
          "file position " + position + " is not a multiple of " + a + why);
    }
  }

  public void requireReadable(Object file) {
    if (!readable) {
      throw new NotReadableException(file);
    }
  }

  public void requireWritable(Object file) {
    if (!writable) {
      throw new NotWritableException(file);
    }
  }

  public static void checkPosition(long position) {
    if (position < 0) {
      throw new IllegalArgumentException("position < 0: " + position);
    }
  }

  /** The error of a read that had to fill a buffer and met the end of {@code file} first. */
  public static EOFException endOfFile(Object file, long start, long position, int remaining) {
    return new EOFException("end of file at " + position + " with " + remaining
        + " bytes still to read from " + file + " (read started at " + start + ")");
  }
}
