#!/usr/bin/env bash
# Device depth while DeviceReadBenchmark runs (session 11, issue #13): samples /sys/block/vda/inflight at
# 1 kHz (inflight-sampler.c), stamps each line of the benchmark's output with the time, and counts
# io_uring_enter calls of the Java process and block/irq events of the whole machine each second.
# analyze.py LABEL-DIR then gives, per reader and run, the mean depth over its measured window.
#   gcc -O2 -o inflight-sampler inflight-sampler.c
#   READERS='virtualfile io_uring,fio' flock /work/s11/bench.lock ./run.sh LABEL /path/to/worktree '-DinFlight=32' 3
# Needs root (perf on tracepoints) and built jars (benchmarks, uring) in the worktree.
here=$(cd "$(dirname "$0")" && pwd)
set -u
label=$1; wt=$2; opts=$3; runs=$4; readers=${READERS:-virtualfile io_uring,fio,blockingThreads,virtualfile}
d=${OUT:-/tmp/device-depth}/$label; mkdir -p $d
uptime > $d/uptime.before
$here/inflight-sampler /sys/block/vda/inflight 100000 > $d/inflight.txt &
sp=$!
cd $wt
sync
uj=$(ls uring/target/virtualfile-uring-*.jar | grep -v -- '-tests\|-sources\|-javadoc' | head -1)
( /usr/lib/jvm/temurin-25-jdk-amd64/bin/java --enable-native-access=ALL-UNNAMED "-Dreaders=$readers" $opts -Druns=$runs -Ddir=/var/tmp/virtualfile-device -Dout=$d/report.md -cp benchmarks/target/benchmarks.jar:$uj io.virtualfile.benchmarks.device.DeviceReadBenchmark > >(while IFS= read -r l; do printf '%s %s\n' "$(date +%s.%N)" "$l"; done > $d/stdout.txt) 2> $d/stderr.txt ) &
bp=$!
sleep 1
jp=$(pgrep -f "Dout=$d/report.md" | head -1)
[ -z "$jp" ] && jp=$(pgrep -f "Dout=$d/report.md" | head -1)
echo "java pid $jp" > $d/pids
date +%s.%N > $d/perf.start
perf stat -I 1000 -x, -e syscalls:sys_enter_io_uring_enter -p $jp -o $d/perf.txt &
pp=$!
perf stat -a -I 1000 -x, -e syscalls:sys_enter_io_uring_enter,block:block_unplug,block:block_rq_issue,block:block_rq_complete,irq:irq_handler_entry,irq:softirq_entry,sched:sched_switch -o $d/perfa.txt &
pa=$!
wait $bp
kill -INT $pp $pa 2>/dev/null; wait $pp $pa 2>/dev/null
kill $sp; wait $sp 2>/dev/null
uptime > $d/uptime.after
