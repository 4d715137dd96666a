#!/bin/bash
# #12 page-cached goals, thread engine, JDK 17: R rounds
cd /work/main
for r in $(seq 1 ${R:-5}); do
  java -cp benchmarks/target/benchmarks.jar org.openjdk.jmh.Main \
    'RandomReadBenchmark\.(asyncVirtualFile|rawAsyncChannelSameExecutor|blockingFileChannelOnAllCores|blockingFileChannel)$' \
    -p inFlight=1,32 -f 1 -wi 2 -w 1 -i 5 -r 1 -rf json -rff /tmp/s11/jmh12-rr-r$r.json > /tmp/s11/jmh12-rr-r$r.log 2>&1
  java -cp benchmarks/target/benchmarks.jar org.openjdk.jmh.Main \
    'CacheBenchmark\.hit' -f 1 -wi 2 -w 1 -i 5 -r 1 -rf json -rff /tmp/s11/jmh12-c-r$r.json > /tmp/s11/jmh12-c-r$r.log 2>&1
  echo "round $r done $(date -u +%H:%M) load $(cut -d' ' -f1 /proc/loadavg)"
done
