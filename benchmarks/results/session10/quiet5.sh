#!/usr/bin/env bash
for r in 1 2 3; do
  for spec in "v1:virtualfile -Dhack.v1=true" "main:virtualfile" "main:usual"; do
    jar=${spec%%:*}; v=${spec#*:}
    echo "r$r warm=${WARM} [$jar] $v: $(JAR=/tmp/s10/$jar.jar /tmp/s10/put.sh $v 2>&1 | grep -E "rps|mean µs" | sed 's/machine_busy.*idle/idle/; s/server_cpu_ticks=[0-9]* //; s/.*mean µs/  steps/; s/REMOVE_STALE_TEMP=0(n=[0-9]*) //' | cut -c1-330 | tr '\n' ' ') load $(cut -d' ' -f1 /proc/loadavg)"
  done
done
