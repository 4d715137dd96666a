package io.virtualfile.uring;

import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.reactive.AsyncFileIo;
import io.virtualfile.reactive.AsyncVirtualFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A relative path means what it means to Java: relative to {@code user.dir}, which may differ from the
 * working directory the kernel resolves relative names against. Found by an outside probe: the
 * io_uring engine opened the working directory's file of that name.
 */
class RelativePathsTest {
  @TempDir Path dir;

  @Test
  void aRelativePath_isResolvedAgainstUserDir_notTheProcesssWorkingDirectory() throws Exception {
    Path userDir = Files.createDirectory(dir.resolve("user-dir"));
    Path workingDir = Files.createDirectory(dir.resolve("working-dir"));
    Files.writeString(userDir.resolve("f"), "U");
    Files.writeString(workingDir.resolve("f"), "W");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
        "-Duser.dir=" + userDir, "-cp", System.getProperty("java.class.path"), Child.class.getName())
        .directory(workingDir.toFile())
        .redirectErrorStream(true)
        .start();
    assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("the child ended").isTrue();
    String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(List.of(out.split("\n"))).as("the child's output").last().isEqualTo("read U");
  }

  /** Reads "f", relative, on the io_uring engine, and prints what it read. */
  public static final class Child {
    public static void main(String[] args) {
      try (AsyncFileIo io = AsyncFileIo.builder().engine(AsyncFileIo.Engine.IO_URING).build()) {
        AsyncVirtualFile f = AsyncVirtualFile.open(Path.of("f"), io, StandardOpenOption.READ)
            .block(Duration.ofSeconds(10));
        ByteBuffer b = ByteBuffer.allocate(1);
        f.readAt(b, 0).block(Duration.ofSeconds(10));
        f.close().block(Duration.ofSeconds(10));
        System.out.println("read " + (char) b.get(0));
      }
    }
  }
}
