package io.virtualfile.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the temp file of an overwrite is created. */
class CreateNewFileTest {
  @TempDir Path dir;

  /** Regression: the file was created, the permission step threw, and the file stayed behind. */
  @Test
  void createNewFile_whenSettingPermissionsFails_removesTheFileItCreated() {
    Assumptions.assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"));
    Path tmp = dir.resolve(".t.vftmp");
    assertThatThrownBy(() -> JdkFileOps.createNewFile(
            tmp, PosixFilePermissions.fromString("rw-r--r--"), FileChannel::open,
            (p, perms) -> {
              throw new IOException("injected: setting permissions failed");
            }))
        .hasMessageContaining("injected");
    assertThat(tmp).doesNotExist();
  }
}
