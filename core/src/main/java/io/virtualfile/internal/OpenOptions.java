package io.virtualfile.internal;

import io.virtualfile.NotReadableException;
import io.virtualfile.NotWritableException;

import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.file.OpenOption;
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
 * <p>Immutable.
 */
public final class OpenOptions {
  private final Set<OpenOption> first;
  private final Set<OpenOption> reopen;
  private final boolean readable;
  private final boolean writable;
  private final boolean deleteOnClose;

  private OpenOptions(Set<OpenOption> first, Set<OpenOption> reopen, boolean deleteOnClose) {
    this.first = Collections.unmodifiableSet(first);
    this.reopen = Collections.unmodifiableSet(reopen);
    this.writable = first.contains(StandardOpenOption.WRITE);
    this.readable = first.contains(StandardOpenOption.READ) || !writable;
    this.deleteOnClose = deleteOnClose;
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
    return new OpenOptions(first, reopen, deleteOnClose);
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

  /** Checks the arguments of a positional read of {@code file}. */
  public void checkRead(Object file, ByteBuffer dst, long position) {
    Objects.requireNonNull(dst, "dst");
    checkPosition(position);
    requireReadable(file);
  }

  /** Checks the arguments of a positional write to {@code file}. */
  public void checkWrite(Object file, ByteBuffer src, long position) {
    Objects.requireNonNull(src, "src");
    checkPosition(position);
    requireWritable(file);
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
