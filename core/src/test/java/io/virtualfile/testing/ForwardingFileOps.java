package io.virtualfile.testing;

import io.virtualfile.internal.FileOps;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/** Forwards every operation to a delegate; tests override the ones they observe, slow down or break. */
public class ForwardingFileOps implements FileOps {
  protected final FileOps delegate;

  public ForwardingFileOps(FileOps delegate) {
    this.delegate = delegate;
  }

  @Override
  public Kind kindOf(Path path) throws IOException {
    return delegate.kindOf(path);
  }

  @Override
  public Set<PosixFilePermission> permissionsOf(Path path) throws IOException {
    return delegate.permissionsOf(path);
  }

  @Override
  public Object fileKey(Path path) throws IOException {
    return delegate.fileKey(path);
  }

  @Override
  public void deleteIfExists(Path path) throws IOException {
    delegate.deleteIfExists(path);
  }

  @Override
  public Closeable holdReplaced(Path target) {
    return delegate.holdReplaced(target);
  }

  @Override
  public void atomicMove(Path source, Path target) throws IOException {
    delegate.atomicMove(source, target);
  }

  @Override
  public Directory openDirectory(Path dir) throws IOException {
    return delegate.openDirectory(dir);
  }
}
