package io.virtualfile.reactive;

import io.virtualfile.CrashSafeOverwriteException.Step;
import io.virtualfile.internal.FileOps;
import io.virtualfile.testing.ForwardingFileOps;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/** The real file operations, counting directory fsyncs, and failing at one chosen step if asked. */
final class ObservedFileOps extends ForwardingFileOps {
  final AtomicInteger directorySyncs = new AtomicInteger();
  final AtomicInteger deletes = new AtomicInteger();

  /** Every overwrite starts by looking at what is at its final path. */
  final AtomicInteger lookups = new AtomicInteger();
  volatile Step failAt;

  ObservedFileOps(FileOps real) {
    super(real);
  }

  private void maybeFail(Step step) throws IOException {
    if (failAt == step) {
      throw new IOException("injected failure at " + step);
    }
  }

  @Override
  public Kind kindOf(Path path) throws IOException {
    lookups.incrementAndGet();
    return delegate.kindOf(path);
  }

  @Override
  public void deleteIfExists(Path path) throws IOException {
    if (deletes.getAndIncrement() == 0) {
      maybeFail(Step.REMOVE_STALE_TEMP); // the first delete of an overwrite is the stale-temp step
    }
    delegate.deleteIfExists(path);
  }

  @Override
  public void atomicMove(Path source, Path target) throws IOException {
    maybeFail(Step.RENAME);
    delegate.atomicMove(source, target);
  }

  @Override
  public Directory openDirectory(Path dir) throws IOException {
    maybeFail(Step.OPEN_PARENT);
    Directory d = delegate.openDirectory(dir);
    return new Directory() {
      @Override
      public void sync() throws IOException {
        maybeFail(Step.SYNC_PARENT);
        d.sync();
        directorySyncs.incrementAndGet();
      }

      @Override
      public void close() throws IOException {
        d.close();
      }
    };
  }
}
