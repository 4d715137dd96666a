#!/bin/bash
# The quiet-window measurements, in order. Run from /work/main after the final build.
set -u
cd /work/main
echo "start $(date -u +%H:%M) load $(cut -d' ' -f1 /proc/loadavg)"
# 2. JMH page-cached on io_uring: 3 rounds
UJ=$(ls uring/target/virtualfile-uring-*.jar | grep -v -e sources -e javadoc | head -1)
for r in 1 2 3; do
  for n in 1 32; do
    flock /work/s9/bench.lock /usr/lib/jvm/temurin-25-jdk-amd64/bin/java --enable-native-access=ALL-UNNAMED -Dengine=IO_URING \
      -cp benchmarks/target/benchmarks.jar:$UJ org.openjdk.jmh.Main \
      'RandomReadBenchmark\.(asyncVirtualFile|blockingFileChannel|blockingFileChannelOnAllCores)$' \
      -p inFlight=$n -f 1 -wi 2 -w 1 -i 5 -r 1 -jvmArgsAppend "--enable-native-access=ALL-UNNAMED -Dengine=IO_URING" \
      -rf json -rff /tmp/q9/jmh-u-r$r-n$n.json > /tmp/q9/jmh-u-r$r-n$n.log 2>&1
    grep -E "^RandomRead" /tmp/q9/jmh-u-r$r-n$n.log | sed "s/^/r$r n$n load $(cut -d' ' -f1 /proc/loadavg) /"
  done
done
echo "end $(date -u +%H:%M)"
# 3. JMH page-cached, thread engine (JDK 17): 3 rounds
for r in 1 2 3; do
  for n in 32 1; do
    flock /work/s9/bench.lock java -cp benchmarks/target/benchmarks.jar org.openjdk.jmh.Main \
      'RandomReadBenchmark\.(asyncVirtualFile|rawAsyncChannelSameExecutor|blockingFileChannelOnAllCores|blockingFileChannel)$' \
      -p inFlight=$n -f 1 -wi 2 -w 1 -i 5 -r 1 > /tmp/q9/jmh-t-r$r-n$n.log 2>&1
    grep -E "^RandomRead" /tmp/q9/jmh-t-r$r-n$n.log | sed "s/^/threads r$r n$n /"
  done
done
echo "end2 $(date -u +%H:%M)"
# 1. Service, 3 runs, 5 versions (JDK 17 versions + JDK 25 engines)
flock /work/s9/bench.lock env RUNS=3 SKIP_BUILD=1 VERSIONS="virtualfile usual memory virtualfile-threads virtualfile-uring" \
  RESULTS=/tmp/q9/final-service benchmarks/service-benchmark.sh > /tmp/q9/final-service.log 2>&1
echo "service done $(date -u +%H:%M)"
echo "all done $(date -u +%H:%M)"
