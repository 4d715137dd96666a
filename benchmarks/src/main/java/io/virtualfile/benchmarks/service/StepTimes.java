package io.virtualfile.benchmarks.service;

import io.virtualfile.CrashSafeOverwriteException.Step;
import io.virtualfile.FileIoListener;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * A diagnostic listener ({@code -Dsteps=true}): the mean time of each overwrite step, directory fsync
 * and whole overwrite, and the mean directory fsync batch, printed with the server's summary. The
 * overwrite's time not spent in its steps or a directory fsync is time spent waiting for a thread.
 */
final class StepTimes implements FileIoListener {
  private final Map<Step, LongAdder[]> steps = new EnumMap<>(Step.class);
  private final Map<Operation, LongAdder[]> operations = new EnumMap<>(Operation.class);
  private final LongAdder batches = new LongAdder();
  private final LongAdder batched = new LongAdder();

  StepTimes() {
    for (Step s : Step.values()) {
      steps.put(s, new LongAdder[] {new LongAdder(), new LongAdder()});
    }
    for (Operation o : Operation.values()) {
      operations.put(o, new LongAdder[] {new LongAdder(), new LongAdder()});
    }
  }

  @Override
  public void operation(Operation op, long nanos, long bytes, Throwable failure) {
    add(operations.get(op), nanos);
  }

  @Override
  public void overwriteStep(Step step, long nanos, long bytes, Throwable failure) {
    add(steps.get(step), nanos);
  }

  @Override
  public void directorySyncBatch(int overwrites) {
    batches.increment();
    batched.add(overwrites);
  }

  private static void add(LongAdder[] sumAndCount, long nanos) {
    sumAndCount[0].add(nanos);
    sumAndCount[1].increment();
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("mean µs:");
    steps.forEach((s, a) -> append(b, s.name(), a));
    operations.forEach((o, a) -> append(b, o.name(), a));
    if (batches.sum() > 0) {
      b.append(String.format(" batch=%.1f", (double) batched.sum() / batches.sum()));
    }
    return b.toString();
  }

  private static void append(StringBuilder b, String name, LongAdder[] a) {
    long n = a[1].sum();
    if (n > 0) {
      b.append(String.format(" %s=%.0f(n=%d)", name, a[0].sum() / 1e3 / n, n));
    }
  }
}
