package io.virtualfile.faults;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * A fault test whose subject is (also) {@link io.virtualfile.reactive.AsyncFileIo}, so whose outcome
 * depends on the engine that runs it. On JDK 22 or later, faults/pom.xml runs the tests tagged so a
 * second time, with the io_uring engine on the class path; tests of core alone run once.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Tag(EngineSubject.TAG)
@interface EngineSubject {
  /** The JUnit tag, as faults/pom.xml selects it. */
  String TAG = "engine";
}
