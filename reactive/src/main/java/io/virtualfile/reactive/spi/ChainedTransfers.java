package io.virtualfile.reactive.spi;

/**
 * The transfers of one {@link CachedIo} on its pinned channel, for {@link IoEngine#start}'s default:
 * each started with the channel's asynchronous call, the next from the completion of the one before.
 */
final class ChainedTransfers implements IoCompletion {
  private final EngineChannel channel;
  private final CachedIo io;

  private ChainedTransfers(EngineChannel channel, CachedIo io) {
    this.channel = channel;
    this.io = io;
  }

  /** Starts the first transfer of {@code io} on {@code channel}, pinned for it. */
  static void start(EngineChannel channel, CachedIo io) {
    new ChainedTransfers(channel, io).next();
  }

  private void next() {
    try {
      if (io.isWrite()) {
        channel.write(io.buffer(), io.position(), this);
      } else {
        channel.read(io.buffer(), io.position(), this);
      }
    } catch (Throwable t) { // a channel that threw instead of reporting to the completion
      io.failed(t);
    }
  }

  @Override
  public void completed(int bytes) {
    if (io.transferred(bytes)) {
      next();
    }
  }

  @Override
  public void failed(Throwable error) {
    io.failed(error);
  }
}
