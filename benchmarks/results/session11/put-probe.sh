#!/usr/bin/env bash
# put.sh VERSION [extra java opts...]: one PUT measurement with thread sampling and step times
cd /work/main
v=$1; shift
log=/tmp/s11/server-$v.log
: > $log
java -Xmx2g -Dsteps=true "$@" -cp ${JAR:-benchmarks/target/benchmarks.jar} io.virtualfile.benchmarks.service.BlobServer $v 18080 /tmp/virtualfile-service-blobs > $log 2>&1 &
pid=$!
until grep -q '^listening' $log; do sleep 0.1; done
wrk -t2 -c64 -d${WARM:-3}s -s benchmarks/wrk/put.lua http://127.0.0.1:18080 -- 20000 >/dev/null
( peak=0; sum=0; n=0; while kill -0 $pid 2>/dev/null && [ ! -e /tmp/s10/stop ]; do t=$(ls /proc/$pid/task | wc -l); ((t>peak)) && peak=$t; sum=$((sum+t)); n=$((n+1)); sleep 0.1; done; echo "threads peak=$peak mean=$((sum/(n>0?n:1)))" > /tmp/s10/threads ) &
sp=$!
rm -f /tmp/s10/stop
p0=$(awk -F'total=' '/some/{print $2}' /proc/pressure/cpu); t0=$(date +%s%N)
c0=$(awk '{print $14+$15}' /proc/$pid/stat); a0=$(awk '/^cpu /{print $2+$3+$4+$6+$7+$8}' /proc/stat); i0=$(awk '/^cpu /{print $5}' /proc/stat)
out=$(wrk -t2 -c64 -d10s --latency -s benchmarks/wrk/put.lua http://127.0.0.1:18080 -- 20000)
p1=$(awk -F'total=' '/some/{print $2}' /proc/pressure/cpu); t1=$(date +%s%N)
c1=$(awk '{print $14+$15}' /proc/$pid/stat); a1=$(awk '/^cpu /{print $2+$3+$4+$6+$7+$8}' /proc/stat); i1=$(awk '/^cpu /{print $5}' /proc/stat)
rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
echo "rps=$rps server_cpu_ticks=$((c1-c0)) machine_busy_ticks=$((a1-a0)) idle_ticks=$((i1-i0)) psi_some=$(python3 -c "print(round(($p1-$p0)*1000/($t1-$t0),2))") server_us_per_req=$(python3 -c "print(round(($c1-$c0)*10000/($rps*10)))")"
touch /tmp/s10/stop; wait $sp; cat /tmp/s10/threads; rm -f /tmp/s10/stop
kill -TERM $pid; wait $pid
tail -2 $log | cut -c1-600
