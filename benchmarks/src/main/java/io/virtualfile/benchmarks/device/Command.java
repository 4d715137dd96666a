package io.virtualfile.benchmarks.device;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Runs an external command to its end and keeps its exit code and output. */
record Command(int exitCode, String stdout, String stderr) {

  /** Runs {@code command}; one that cannot be started at all has exit code -1 and the error as stderr. */
  static Command run(List<String> command) throws InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(command).start();
      p.getOutputStream().close(); // no input
    } catch (IOException e) {
      return new Command(-1, "", e.toString());
    }
    CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
    String out = readAll(p.getInputStream());
    return new Command(p.waitFor(), out, err.join());
  }

  boolean succeeded() {
    return exitCode == 0;
  }

  /** The first non-empty line of stderr, else of stdout: what to quote when it failed. */
  String firstMessage() {
    return (stderr + "\n" + stdout).lines().map(String::strip).filter(l -> !l.isEmpty())
        .findFirst().orElse("(no output)");
  }

  private static String readAll(InputStream in) {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
