package io.virtualfile.reactive;

import io.virtualfile.VirtualFile;
import io.virtualfile.torture.TortureChild;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/** The reactive overwrite, for the kill -9 torture's child process. */
public final class ReactiveTortureOverwriter implements TortureChild.Overwriter {
  @Override
  public String name() {
    return "reactive";
  }

  @Override
  public void startUp(Path dir) throws Exception {
    VirtualFile.removeStaleTempFiles(dir);
  }

  @Override
  public void overwrite(Path finalPath, ByteBuffer content) {
    AsyncVirtualFile.overwrite(finalPath, content).block();
  }
}
