package io.virtualfile.faults.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the system's tools (losetup, mkfs, mount) and says exactly what failed. */
public final class Sh {
  private Sh() {}

  /** What a command printed and returned. */
  public record Result(List<String> command, int exitCode, String out, String err) {
    public boolean ok() {
      return exitCode == 0;
    }

    public Result orThrow() {
      if (!ok()) {
        throw new IllegalStateException(
            String.join(" ", command) + " exited with " + exitCode + ": " + err.strip() + " " + out.strip());
      }
      return this;
    }
  }

  /** Runs {@code command} and fails unless it exits with 0; returns its standard output, trimmed. */
  public static String run(String... command) {
    return exec(command).orThrow().out().strip();
  }

  /** Runs {@code command}, whatever it returns. */
  public static Result exec(String... command) {
    List<String> cmd = List.of(command);
    try {
      Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
      // the outputs are small; read err on another thread so that neither pipe can fill up
      var err = new java.util.concurrent.CompletableFuture<String>();
      Thread t = new Thread(() -> {
        try {
          err.complete(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
          err.complete("(stderr unreadable: " + e + ")");
        }
      }, "sh-stderr");
      t.setDaemon(true);
      t.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(String.join(" ", cmd) + " did not finish in 120 s");
      }
      return new Result(cmd, p.exitValue(), out, err.get(30, TimeUnit.SECONDS));
    } catch (IOException e) {
      return new Result(cmd, 127, "", e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running " + cmd, e);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException(cmd + ": " + e, e);
    }
  }

  /** Whether {@code tool} is on the PATH (or an absolute executable). */
  public static boolean has(String tool) {
    if (tool.startsWith("/")) {
      return new java.io.File(tool).canExecute();
    }
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
      if (new java.io.File(dir, tool).canExecute()) {
        return true;
      }
    }
    for (String dir : List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin")) {
      if (new java.io.File(dir, tool).canExecute()) {
        return true;
      }
    }
    return false;
  }
}
