#!/bin/bash
set -u
cd /work/main
echo "start $(date -u +%H:%M) load $(cut -d' ' -f1 /proc/loadavg)"
for r in 1 2 3; do
  flock /work/s9/bench.lock java -cp benchmarks/target/benchmarks.jar org.openjdk.jmh.Main \
    'RandomReadBenchmark\.(asyncVirtualFile|rawAsyncChannelSameExecutor|blockingFileChannelOnAllCores)$' \
    -p inFlight=32 -f 1 -wi 2 -w 1 -i 5 -r 1 > /tmp/q9/re-jmh-r$r.log 2>&1
  grep -E "^RandomRead" /tmp/q9/re-jmh-r$r.log | sed "s/^/r$r load $(cut -d' ' -f1 /proc/loadavg) /"
done
flock /work/s9/bench.lock env RUNS=3 SKIP_BUILD=1 WORKLOADS="get-uniform get-hot" VERSIONS="virtualfile usual" \
  RESULTS=/tmp/q9/re-service benchmarks/service-benchmark.sh > /tmp/q9/re-service.log 2>&1
awk -F'\t' '{print $1, $2, $3, $4}' /tmp/q9/re-service/service.tsv
echo "end $(date -u +%H:%M)"
