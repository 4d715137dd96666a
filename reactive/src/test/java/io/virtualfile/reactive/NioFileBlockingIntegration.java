package io.virtualfile.reactive;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * Teaches BlockHound that NIO file natives block. Its default list lacks them, so without this a
 * blocking {@code FileChannel.read} on a parallel thread would pass unnoticed. The dispatcher class is
 * {@code sun.nio.ch.FileDispatcherImpl} on JDK 17 and {@code sun.nio.ch.UnixFileDispatcherImpl} on later
 * JDKs; marking a method of a class that does not exist is harmless, so both are listed.
 */
public final class NioFileBlockingIntegration implements BlockHoundIntegration {
  private static final String[] DISPATCHERS = {
    "sun.nio.ch.FileDispatcherImpl", "sun.nio.ch.UnixFileDispatcherImpl"
  };

  @Override
  public void applyTo(BlockHound.Builder builder) {
    for (String d : DISPATCHERS) {
      builder.markAsBlocking(d, "read0", "(Ljava/io/FileDescriptor;JI)I");
      builder.markAsBlocking(d, "pread0", "(Ljava/io/FileDescriptor;JIJ)I");
      builder.markAsBlocking(d, "write0", "(Ljava/io/FileDescriptor;JI)I");
      builder.markAsBlocking(d, "pwrite0", "(Ljava/io/FileDescriptor;JIJ)I");
      builder.markAsBlocking(d, "force0", "(Ljava/io/FileDescriptor;Z)I");
      builder.markAsBlocking(d, "truncate0", "(Ljava/io/FileDescriptor;J)I");
      builder.markAsBlocking(d, "size0", "(Ljava/io/FileDescriptor;)J");
    }
    // Starting an engine is setup, not IO: it reads the service registry and may wait for an engine's
    // threads to start (the shared engine starts on its first use, which may be on any thread).
    builder.allowBlockingCallsInside("io.virtualfile.reactive.EngineSelection", "start");
    // The IO pool reads a worker's kernel state from /proc (any thread that submits may read it).
    builder.allowBlockingCallsInside("io.virtualfile.reactive.internal.KernelWait", "ofCurrentThread");
    builder.allowBlockingCallsInside("io.virtualfile.reactive.internal.KernelWait", "waiting");
    builder.allowBlockingCallsInside("io.virtualfile.reactive.internal.KernelWait", "busyNanos");
    String unix = "sun.nio.fs.UnixNativeDispatcher";
    builder.markAsBlocking(unix, "open0", "(JII)I");
    builder.markAsBlocking(unix, "openat0", "(IJII)I");
    builder.markAsBlocking(unix, "rename0", "(JJ)V");
    builder.markAsBlocking(unix, "unlink0", "(J)V");
  }
}
