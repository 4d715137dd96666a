#!/bin/bash
# usage: [PROFILE=1] uring-reads-rounds.sh <out dir> <variant>...: RandomReadBenchmark on io_uring, 3 rounds,
# the variants alternated, inFlight 1 then 32, each run holding /work/s10/bench.lock.
# Each variant is a directory /tmp/s10u/<variant> with benchmarks.jar and virtualfile-uring-0.1.0-SNAPSHOT.jar
# (built with JDK 25: mvn -B -o -q package -DskipTests -pl uring,benchmarks -am). Output: JMH json and
# logs per run, load.txt with the start time and 1-minute load of each run; with PROFILE=1 also
# async-profiler's collapsed cpu stacks (interval 100 us) in prof-r<round>-<variant>-n<inFlight>/.
J=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
O=$1; shift; mkdir -p $O
for r in 1 2 3; do
  for v in "$@"; do
    for n in 1 32; do
      D=/tmp/s10u/$v
      PROF=""
      if [ "${PROFILE:-0}" = 1 ]; then
        PROF="-prof \"async:libPath=/tmp/ap/linux-x64/libasyncProfiler.so;output=collapsed;event=cpu;interval=100000;dir=$O/prof-r$r-$v-n$n\""
      fi
      flock /work/s10/bench.lock bash -c "echo \"r$r $v n$n start \$(date -u +%H:%M:%S) load \$(cut -d' ' -f1 /proc/loadavg)\" >> $O/load.txt; \
        $J --enable-native-access=ALL-UNNAMED -Dengine=IO_URING -cp $D/benchmarks.jar:$D/virtualfile-uring-0.1.0-SNAPSHOT.jar org.openjdk.jmh.Main \
        'RandomReadBenchmark\.(asyncVirtualFile|blockingFileChannel|blockingFileChannelOnAllCores)\$' \
        -p inFlight=$n -f 1 -wi 2 -w 1 -i 5 -r 1 -jvmArgsAppend '--enable-native-access=ALL-UNNAMED -Dengine=IO_URING' \
        -rf json -rff $O/r$r-$v-n$n.json $PROF > $O/r$r-$v-n$n.log 2>&1; echo \"r$r $v n$n end \$(date -u +%H:%M:%S) load \$(cut -d' ' -f1 /proc/loadavg)\" >> $O/load.txt"
    done
  done
done
echo done >> $O/load.txt
