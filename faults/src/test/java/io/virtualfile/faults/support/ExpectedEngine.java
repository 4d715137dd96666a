package io.virtualfile.faults.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.virtualfile.reactive.AsyncFileIo;

/**
 * The engine this run of the fault tests is meant to test, as the surefire execution of faults/pom.xml
 * declares it in the system property {@value #PROPERTY}. An engine that turns out to be another fails
 * the test: under {@link AsyncFileIo.Engine#AUTO} an io_uring engine that cannot run falls back to the
 * thread engine, and the io_uring run would then pass having tested the thread engine again.
 */
public final class ExpectedEngine {
  public static final String PROPERTY = "virtualfile.faults.engine";

  private ExpectedEngine() {}

  /**
   * Prints which engine {@code who} runs, and fails unless it is the expected one (not checked where
   * the property is unset: a run from an IDE).
   *
   * @param actual the engine, null if {@code who} did not say
   */
  public static void check(String who, AsyncFileIo.Engine actual) {
    String expected = System.getProperty(PROPERTY);
    System.out.println(who + " runs the " + actual + " engine"
        + (expected == null ? " (not checked: " + PROPERTY + " is unset)" : ""));
    if (expected != null) {
      assertThat(actual).as("the engine %s runs (expected by -D%s)", who, PROPERTY)
          .isEqualTo(AsyncFileIo.Engine.valueOf(expected));
    }
  }
}
