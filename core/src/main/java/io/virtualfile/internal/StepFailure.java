package io.virtualfile.internal;

import io.virtualfile.CrashSafeOverwriteException.Step;
import java.io.IOException;

/**
 * A failure of one overwrite step that is shared by several overwrites (a coalesced directory fsync);
 * each overwrite turns it into its own {@link io.virtualfile.CrashSafeOverwriteException} with {@link
 * OverwriteProtocol#failed(Step, Throwable)}.
 */
public final class StepFailure extends IOException {
  private static final long serialVersionUID = 1L;

  private final Step step;

  public StepFailure(Step step, Throwable cause) {
    super(step + " failed: " + cause, cause);
    this.step = step;
  }

  public Step step() {
    return step;
  }
}
