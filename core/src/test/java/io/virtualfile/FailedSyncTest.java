package io.virtualfile;

import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.virtualfile.internal.OpenOptions;
import io.virtualfile.testing.ForwardingFileChannel;
import java.io.IOException;
import java.io.SyncFailedException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Once an fsync of a file has failed, no later sync of it reports durability: the kernel reports a
 * writeback error once per open file description and may have dropped the dirty pages, so a second
 * fsync can succeed with the data gone. The real device failure is in the fault tests ({@code
 * FailingFsyncTest}); here a channel fails its first {@code force} the way the kernel does.
 */
class FailedSyncTest {
  @TempDir Path dir;
  Path path;
  OpenFileCache cache;
  final AtomicInteger forces = new AtomicInteger();

  /** Fails the first force of any of its channels with EIO, as a device error does; later ones pass. */
  final VirtualFile.ChannelOpener failingOnce = (p, options) ->
      new ForwardingFileChannel(FileChannel.open(p, options)) {
        @Override
        public void force(boolean metaData) throws IOException {
          if (forces.incrementAndGet() == 1) {
            throw new IOException("Input/output error");
          }
          super.force(metaData);
        }
      };

  @BeforeEach
  void setUp() throws IOException {
    path = Files.write(dir.resolve("f"), new byte[] {1, 2, 3});
    cache = OpenFileCache.create(1);
  }

  @AfterEach
  void tearDown() {
    cache.close();
  }

  VirtualFile open() throws IOException {
    return VirtualFile.open(path, cache, OpenOptions.of(READ, WRITE), failingOnce);
  }

  @Test
  void aSyncAfterAFailedSync_failsWithoutAnFsync() throws Exception {
    try (VirtualFile f = open()) {
      assertThatThrownBy(f::sync).hasMessage("Input/output error");
      assertThatThrownBy(f::sync).isInstanceOf(SyncFailedException.class)
          .hasMessageContaining("an earlier fsync of " + path + " failed")
          .hasMessageContaining("Input/output error");
      assertThatThrownBy(f::syncData).isInstanceOf(SyncFailedException.class);
    }
    assertThat(forces).as("fsyncs issued").hasValue(1);
  }

  @Test
  void aSyncThroughAnotherHandle_orAfterAReopen_failsToo() throws Exception {
    try (VirtualFile f = open()) {
      assertThatThrownBy(f::sync).hasMessage("Input/output error");
    }
    try (VirtualFile other = VirtualFile.open(path, OpenFileCache.shared(), READ, WRITE)) {
      assertThatThrownBy(other::sync).isInstanceOf(SyncFailedException.class);
    }
  }

  @Test
  void aFileInstalledByAnOverwriteSince_syncsAgain() throws Exception {
    try (VirtualFile f = open()) {
      assertThatThrownBy(f::sync).hasMessage("Input/output error");
      VirtualFile.crashSafeOverwrite(path, ByteBuffer.wrap(new byte[] {4}));
      f.sync(); // the handle now names the new file, which no failed fsync touched
    }
  }

  /**
   * Regression (found by a probe): ext4 gives a freed inode number to the next new file, so an
   * overwrite's new file could take the number of the file whose fsync failed, and was refused every
   * sync. A library rename now clears what it knows of the file it installs. Here the installed file
   * is given the failed file's identity directly.
   */
  @Test
  void aFileInstalledByALibraryRename_withTheFailedFilesInodeNumber_syncsAgain() throws Exception {
    try (VirtualFile f = open()) {
      assertThatThrownBy(f::sync).hasMessage("Input/output error");
    }
    Object failedKey = Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class)
        .fileKey();
    io.virtualfile.internal.OpenFileRegistry.rename(path, failedKey, () -> {}); // as if reused
    try (VirtualFile f = VirtualFile.open(path, OpenFileCache.shared(), READ, WRITE)) {
      f.sync();
    }
  }
}
