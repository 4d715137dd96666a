package io.virtualfile.internal;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The real file system, through {@code java.nio.file}: the blocking operations of the overwrite
 * protocol. The temp file is a plain channel, never a cached descriptor, so an overwrite holds at most
 * one descriptor at a time (temp, then directory) and takes no cache slot.
 *
 * <p>Stateless and thread-safe.
 */
public final class JdkFileOps implements FileOps {
  public static final JdkFileOps INSTANCE = new JdkFileOps();

  /** System property: {@code false} stops overwrites from holding the file they replace. */
  public static final String HOLD_REPLACED_PROPERTY = "virtualfile.holdReplacedFiles";

  /** Windows cannot open a directory for fsync; there, as in Lucene and Kafka, it is skipped. */
  private static final boolean CAN_SYNC_DIRECTORIES =
      !System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).startsWith("windows");

  /**
   * Linux frees a file at the last close; there a replaced file can be held across its rename. Elsewhere
   * an open file may stop a rename over it (Windows without POSIX semantics), so nothing is held. The
   * system property {@value #HOLD_REPLACED_PROPERTY}{@code =false} turns the holding off.
   */
  private static final boolean HOLDS_REPLACED =
      System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).startsWith("linux")
          && !"false".equalsIgnoreCase(System.getProperty(HOLD_REPLACED_PROPERTY));

  /**
   * Replaced files held at once in this process, at most: each is a descriptor outside every cache, and
   * keeps the old file's blocks until it is closed, so their number must not grow with the overwrites
   * in flight. Fewer where the process may open few descriptors: a thirty-second of its soft limit. An
   * overwrite that finds them all taken holds nothing (its rename frees the file itself).
   */
  public static final int MAX_HELD_REPLACED = Math.min(64, openFilesLimit() / 32);

  /** Permits for {@link #MAX_HELD_REPLACED}; one taken by each held file until its close. */
  private static final Semaphore HELD = new Semaphore(MAX_HELD_REPLACED);

  /** The owner of this process's files (its effective user), or null where it cannot be told. */
  private static final UserPrincipal PROCESS_OWNER = processOwner();

  /** The soft limit on this process's descriptors, from /proc/self/limits; 0 if it cannot be read. */
  private static int openFilesLimit() {
    if (!HOLDS_REPLACED) {
      return 0;
    }
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
        if (line.startsWith("Max open files")) {
          String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
          return soft.equals("unlimited") ? Integer.MAX_VALUE : (int) Math.min(Integer.MAX_VALUE,
              Long.parseLong(soft));
        }
      }
    } catch (IOException | RuntimeException e) {
      // no limit to be read: hold nothing
    }
    return 0;
  }

  private static UserPrincipal processOwner() {
    try {
      return HOLDS_REPLACED ? Files.getOwner(Path.of("/proc/self")) : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * Whether only this process's user may change {@code dir}'s entries: owned by that user, with no write
   * permission for group or others (a POSIX ACL that grants write to others shows as group write). Only
   * there may the replaced file be opened: see {@link #holdReplaced}.
   */
  private static boolean privateDirectory(Path dir) {
    try {
      PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class);
      Set<PosixFilePermission> p = a.permissions();
      return a.owner().equals(PROCESS_OWNER)
          && !p.contains(PosixFilePermission.GROUP_WRITE) && !p.contains(PosixFilePermission.OTHERS_WRITE);
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** Temp files on blocking channels. */
  public static final TempFiles<ChannelTempFile> CHANNEL_TEMP_FILES =
      (path, permissions) ->
          new ChannelTempFile(createNewFile(path, permissions, FileChannel::open));

  private JdkFileOps() {}

  /** A temp file on a blocking channel. */
  public static final class ChannelTempFile implements FileOps.TempFile {
    private final FileChannel channel;

    ChannelTempFile(FileChannel channel) {
      this.channel = channel;
    }

    @Override
    public void writeAll(ByteBuffer src) throws IOException {
      while (src.hasRemaining()) {
        channel.write(src);
      }
    }

    @Override
    public void sync() throws IOException {
      channel.force(true);
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }

  @Override
  public Kind kindOf(Path path) throws IOException {
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return Kind.ABSENT;
    }
    if (a.isSymbolicLink()) {
      return Kind.SYMBOLIC_LINK;
    }
    if (a.isDirectory()) {
      return Kind.DIRECTORY;
    }
    return a.isRegularFile() ? Kind.REGULAR_FILE : Kind.OTHER;
  }

  @Override
  public Object fileKey(Path path) throws IOException {
    return Files.readAttributes(path, BasicFileAttributes.class).fileKey();
  }

  @Override
  public Set<PosixFilePermission> permissionsOf(Path path) throws IOException {
    PosixFileAttributeView view =
        Files.getFileAttributeView(path, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
    return view == null ? null : view.readAttributes().permissions();
  }

  @Override
  public void deleteIfExists(Path path) throws IOException {
    Files.deleteIfExists(path);
  }

  /** Opens a new file with the given creation attributes. */
  @FunctionalInterface
  public interface CreatingOpener<C extends Closeable> {
    C open(Path path, Set<StandardOpenOption> options, FileAttribute<?>[] attributes)
        throws IOException;
  }

  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rw-------");

  /** Sets a file's POSIX permissions; a seam for the test of a failure after the create. */
  @FunctionalInterface
  interface PermissionSetter {
    void set(Path path, Set<PosixFilePermission> permissions) throws IOException;
  }

  /**
   * Creates {@code path} with {@code CREATE_NEW}, opened for writing by {@code opener}. The file is
   * created owner-only and, when {@code permissions} differ, given them before any byte is written
   * (creating with them directly would let the umask narrow them). On failure nothing stays open, and a
   * file this call created is removed.
   */
  public static <C extends Closeable> C createNewFile(
      Path path, Set<PosixFilePermission> permissions, CreatingOpener<C> opener)
      throws IOException {
    return createNewFile(path, permissions, opener, Files::setPosixFilePermissions);
  }

  static <C extends Closeable> C createNewFile(
      Path path, Set<PosixFilePermission> permissions, CreatingOpener<C> opener,
      PermissionSetter setPermissions) throws IOException {
    // Asked of the file system, not the file store: Files.getFileStore reads the mount table, which
    // costs more than the rest of an overwrite's steps together, fsyncs aside.
    boolean posix = path.getFileSystem().supportedFileAttributeViews().contains("posix");
    FileAttribute<?>[] attrs =
        posix
            ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY)}
            : new FileAttribute<?>[0];
    C ch = opener.open(path, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), attrs);
    if (posix && permissions != null && !permissions.equals(OWNER_ONLY)) {
      try {
        setPermissions.set(path, permissions);
      } catch (IOException | RuntimeException e) {
        // CREATE_NEW succeeded, so the file is ours: remove it, or it would outlive the failure.
        try {
          ch.close();
        } catch (IOException closeError) {
          e.addSuppressed(closeError);
        }
        try {
          Files.deleteIfExists(path);
        } catch (IOException deleteError) {
          e.addSuppressed(deleteError);
        }
        throw e;
      }
    }
    return ch;
  }

  /**
   * Opened for reading only, never for writing: an open for writing would stop the old file from being
   * executed meanwhile ({@code ETXTBSY}), break other processes' read leases, and on overlayfs copy the
   * whole file up from a lower layer. Only a regular file is opened, checked just before, and only in a
   * directory that no other user may change ({@link #privateDirectory}): an open of a FIFO for reading
   * waits for a writer, and Java has no open that does not, so a FIFO renamed into the path between the
   * check and the open would keep the overwrite waiting for good. Only someone who may change the
   * directory can do that, which in such a directory is this process's own user (or root). Another
   * process's write lease on the file (Samba's exclusive oplocks) makes the open wait until it is given
   * up. At most {@link #MAX_HELD_REPLACED} at once.
   */
  @Override
  public Closeable holdReplaced(Path target) {
    if (!HOLDS_REPLACED) {
      return null;
    }
    Path dir = target.toAbsolutePath().getParent();
    if (dir == null || !privateDirectory(dir) || !HELD.tryAcquire()) {
      return null;
    }
    FileChannel held = null;
    try {
      if (Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
        held = FileChannel.open(target, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
      }
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      // absent (a first overwrite), unreadable...: see the contract
    }
    if (held == null) {
      HELD.release();
      return null;
    }
    FileChannel channel = held;
    AtomicBoolean closed = new AtomicBoolean();
    return () -> {
      if (closed.compareAndSet(false, true)) { // the permit goes back once, whatever the close does
        try {
          channel.close();
        } finally {
          HELD.release();
        }
      }
    };
  }

  @Override
  public void atomicMove(Path source, Path target) throws IOException {
    Files.move(source, target, StandardCopyOption.ATOMIC_MOVE);
  }

  @Override
  public Directory openDirectory(Path dir) throws IOException {
    if (!CAN_SYNC_DIRECTORIES) {
      return new Directory() {
        @Override
        public void sync() {}

        @Override
        public void close() {}
      };
    }
    FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ);
    return new Directory() {
      @Override
      public void sync() throws IOException {
        ch.force(true);
      }

      @Override
      public void close() throws IOException {
        ch.close();
      }
    };
  }
}
