package io.virtualfile.faults;

import io.virtualfile.faults.support.ExpectedEngine;
import io.virtualfile.faults.support.LoopFs;
import io.virtualfile.faults.support.Root;
import io.virtualfile.faults.support.Scratch;
import io.virtualfile.reactive.AsyncFileIo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/**
 * What the disk-fault tests share: a scratch area where loop-device file systems are made (skipped with
 * a message where that cannot be done), one engine for the reactive calls (checked to be the one this
 * run means to test, {@link ExpectedEngine}), and the file system of the
 * current test ({@link #fs}), unmounted after it. Tests of one class run one after another.
 */
abstract class OnLoopFileSystems {
  static Scratch scratch;
  static AsyncFileIo io;
  LoopFs fs;

  @BeforeAll
  static void scratchAndEngine() throws Exception {
    Root.assumeFileSystemsCanBeMade();
    scratch = Scratch.create("1g");
    io = AsyncFileIo.builder().ioThreads(2).build();
    ExpectedEngine.check("the reactive calls of the disk-fault tests", io.engine());
  }

  @AfterAll
  static void closeScratchAndEngine() throws Exception {
    if (io != null) {
      io.close();
      io = null;
    }
    if (scratch != null) {
      scratch.close();
      scratch = null;
    }
  }

  @AfterEach
  void unmount() {
    if (fs != null) {
      fs.close();
      fs = null;
    }
  }
}
