#!/bin/bash
# page-cached thread engine rounds: $1 = tag, rounds R (default 3)
cd /work/main
for r in $(seq 1 ${R:-3}); do
  for n in 32; do
    java -cp ${JAR:-benchmarks/target/benchmarks.jar} org.openjdk.jmh.Main \
      'RandomReadBenchmark\.(asyncVirtualFile|rawAsyncChannelSameExecutor|rawAsyncChannelEngineLikeExecutor|blockingFileChannelOnAllCores)$' \
      -p inFlight=$n -f 1 -wi 2 -w 1 -i 5 -r 1 > /tmp/s11/pc-$1-r$r-n$n.log 2>&1
    grep -E "^RandomRead" /tmp/s11/pc-$1-r$r-n$n.log | sed "s/^/$1 r$r load $(cut -d' ' -f1 /proc/loadavg) /"
  done
done
