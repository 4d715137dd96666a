package io.virtualfile.reactive;

import static java.nio.file.StandardOpenOption.CREATE;
import static java.nio.file.StandardOpenOption.READ;
import static java.nio.file.StandardOpenOption.WRITE;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.Scannable;
import reactor.core.Scannable.Attr;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Mono;

/**
 * The hand-written operators behave like Reactor's own: assembly hooks see them, and they and their
 * subscriptions answer {@link Scannable} queries.
 */
class ReactorOperatorConventionsTest {
  private static final String HOOK = ReactorOperatorConventionsTest.class.getName();

  @TempDir Path dir;
  AsyncFileIo io;
  Path path;
  AsyncVirtualFile file;

  @BeforeEach
  void setUp() throws Exception {
    io = AsyncFileIo.builder().ioThreads(2).cacheCapacity(4).build();
    path = Files.writeString(dir.resolve("f"), "data");
    file = AsyncVirtualFile.open(path, io, CREATE, READ, WRITE).block();
  }

  @AfterEach
  void tearDown() {
    Hooks.resetOnEachOperator(HOOK);
    file.close().block();
    io.close();
  }

  @Test
  void positionalCalls_areScannableAsAsyncSources() {
    assertThat(Scannable.from(file.readAt(ByteBuffer.allocate(4), 0)).scan(Attr.RUN_STYLE))
        .isEqualTo(Attr.RunStyle.ASYNC);
    assertThat(Scannable.from(file.writeAt(ByteBuffer.allocate(4), 0)).scan(Attr.RUN_STYLE))
        .isEqualTo(Attr.RunStyle.ASYNC);
  }

  @Test
  void opensAndWholeFileReads_areTheOperatorsAssembled_notADeferHidingThem() {
    assertThat(AsyncVirtualFile.open(path, io, READ).getClass().getSimpleName()).isEqualTo("OpenCall");
    assertThat(AsyncVirtualFile.open(path, READ).getClass().getSimpleName()).isEqualTo("OpenCall");
    assertThat(AsyncVirtualFile.readAll(path, io).getClass().getSimpleName())
        .isEqualTo("ReadWholeFileCall");
    assertThat(Scannable.from(AsyncVirtualFile.readAll(path, io)).scan(Attr.RUN_STYLE))
        .isEqualTo(Attr.RunStyle.ASYNC);
  }

  @Test
  void assemblyHooks_seeOpenPositionalCallsAndWholeFileReads() {
    List<Publisher<?>> assembled = new CopyOnWriteArrayList<>();
    Hooks.onEachOperator(HOOK, p -> {
      assembled.add(p);
      return p;
    });

    AsyncVirtualFile.open(path, io, READ).flatMap(f -> f.close()).block();
    file.readExactAt(ByteBuffer.allocate(4), 0).block(); // PinnedChannelCall inside flatMap
    AsyncVirtualFile.readAll(path, io).block();

    assertThat(assembled).map(p -> p.getClass().getSimpleName())
        .contains("OpenCall", "PinnedChannelCall", "ReadWholeFileCall");
    assertThat(assembled).filteredOn(p -> p.getClass().getSimpleName().endsWith("Call"))
        .allSatisfy(p -> assertThat(Scannable.from(p).scan(Attr.RUN_STYLE))
            .isEqualTo(Attr.RunStyle.ASYNC));
  }

  @Test
  void subscription_beforeRequest_isNeitherCancelledNorTerminated() {
    Recorder<Integer> r = subscribe(file.readAt(ByteBuffer.allocate(4), 0));
    Scannable s = Scannable.from(r.subscription);
    assertThat(s.scanUnsafe(Attr.ACTUAL)).isSameAs(r); // scan() would wrap it as a Scannable
    assertThat(s.scan(Attr.RUN_STYLE)).isEqualTo(Attr.RunStyle.ASYNC);
    assertThat(s.scan(Attr.PREFETCH)).isEqualTo(Integer.MAX_VALUE);
    assertThat(s.scan(Attr.CANCELLED)).isFalse();
    assertThat(s.scan(Attr.TERMINATED)).isFalse();
    r.cancel();
  }

  @Test
  void subscription_afterCancel_isCancelledNotTerminated() {
    Recorder<Integer> r = subscribe(file.readAt(ByteBuffer.allocate(4), 0));
    r.cancel();
    assertThat(Scannable.from(r.subscription).scan(Attr.CANCELLED)).isTrue();
    assertThat(Scannable.from(r.subscription).scan(Attr.TERMINATED)).isFalse();
  }

  @Test
  void subscription_afterCompletion_isTerminatedNotCancelled() throws Exception {
    Recorder<ByteBuffer> r = subscribe(AsyncVirtualFile.readAll(path, io));
    r.request(1);
    assertThat(r.done.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(Scannable.from(r.subscription).scan(Attr.TERMINATED)).isTrue();
    assertThat(Scannable.from(r.subscription).scan(Attr.CANCELLED)).isFalse();
  }

  static <T> Recorder<T> subscribe(Mono<T> mono) {
    Recorder<T> r = new Recorder<>();
    mono.subscribe(r);
    return r;
  }

  /** Keeps the subscription and requests nothing by itself. */
  static final class Recorder<T> extends BaseSubscriber<T> {
    final CountDownLatch done = new CountDownLatch(1);
    Subscription subscription;

    @Override
    protected void hookOnSubscribe(Subscription s) {
      subscription = s;
    }

    @Override
    protected void hookFinally(reactor.core.publisher.SignalType type) {
      done.countDown();
    }
  }
}
