package io.virtualfile.faults.powercut;

import io.virtualfile.VirtualFile;
import io.virtualfile.torture.VersionedContent;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * The process whose disk loses power: {@code PowerCutChild <dir> <overwriter>} overwrites {@code
 * <dir>/state} with version 1, 2, 3, ... and prints each version on stdout, flushed, only after the
 * overwrite call returned: a printed version is an acknowledged one. It prints "ready" first, followed
 * by the reactive engine its overwrites run on ("ready IO_URING"), or by "-" if they use none.
 */
public final class PowerCutChild {
  private PowerCutChild() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    Overwriters.Overwriter writer = Overwriters.valueOf(args[1]).open();
    Path state = dir.resolve("state");
    VirtualFile.removeStaleTempFiles(dir);
    long version = 1;
    try {
      version = VersionedContent.decode(Files.readAllBytes(state)) + 1;
    } catch (NoSuchFileException e) {
      // first run
    }
    System.out.println("ready " + (writer.engine() == null ? "-" : writer.engine()));
    System.out.flush();
    for (; ; version++) {
      writer.overwrite(state, VersionedContent.encode(version));
      System.out.println(version);
      System.out.flush();
    }
  }
}
