#!/usr/bin/env bash
for r in 1 2 3; do
  for spec in "main:virtualfile" "admit:virtualfile" "main:usual"; do
    jar=${spec%%:*}; v=${spec#*:}
    echo "r$r [$jar] $v: $(JAR=/tmp/s10/$jar.jar /tmp/s10/put.sh $v 2>&1 | grep -E "rps|threads" | sed 's/machine_busy.*idle/idle/; s/server_cpu_ticks=[0-9]* //' | tr '\n' ' ') load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
