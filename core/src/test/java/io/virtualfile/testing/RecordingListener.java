package io.virtualfile.testing;

import io.virtualfile.CrashSafeOverwriteException.Step;
import io.virtualfile.FileIoListener;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/** A {@link FileIoListener} that records every event, for tests (core's and reactive's). Thread-safe. */
public final class RecordingListener implements FileIoListener {
  /**
   * One event: {@code name} is the operation, {@code overwrite.STEP} for a step, {@code pinWait} or
   * {@code directorySyncBatch}; {@code bytes} holds the batch size of the last.
   */
  public record Event(String name, long nanos, long bytes, Throwable failure) {
    public boolean ok() {
      return failure == null;
    }

    /** {@code NAME} for a success, {@code NAME!} for a failure, and {@code :bytes} if there are any. */
    public String brief() {
      return name + (ok() ? "" : "!") + (bytes > 0 ? ":" + bytes : "");
    }
  }

  private final List<Event> events = new ArrayList<>();

  @Override
  public synchronized void operation(Operation op, long nanos, long bytes, Throwable failure) {
    events.add(new Event(op.name(), nanos, bytes, failure));
  }

  @Override
  public synchronized void overwriteStep(Step step, long nanos, long bytes, Throwable failure) {
    events.add(new Event("overwrite." + step.name(), nanos, bytes, failure));
  }

  @Override
  public synchronized void pinWait(long nanos, boolean acquired) {
    events.add(new Event("pinWait", nanos, 0, acquired ? null : new Exception("not acquired")));
  }

  @Override
  public synchronized void directorySyncBatch(int overwrites) {
    events.add(new Event("directorySyncBatch", 0, overwrites, null));
  }

  public synchronized List<Event> events() {
    return new ArrayList<>(events);
  }

  /** The events' {@link Event#brief()}s, in order. */
  public synchronized List<String> briefs() {
    return events.stream().map(Event::brief).collect(Collectors.toList());
  }

  /** The briefs of the events that {@code filter} accepts. */
  public synchronized List<String> briefs(Predicate<Event> filter) {
    return events.stream().filter(filter).map(Event::brief).collect(Collectors.toList());
  }

  public synchronized void clear() {
    events.clear();
  }
}
