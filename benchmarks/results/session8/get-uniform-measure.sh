#!/usr/bin/env bash
# measure.sh JAR VERSION TAG [PROF]  -- GET uniform, warmup 3s, measured 10s; per-request figures
set -uo pipefail
JAR=$(realpath $1); VERSION=$2; TAG=$3; PROF=${4:-}
cd /work/wt-s8-uniform
PORT=18180
OUT=/tmp/s8u/out/$TAG; rm -rf "$OUT"; mkdir -p "$OUT"
AGENT=
mkfifo $OUT/ctl $OUT/ack
AGENT=
if [[ -n $PROF ]]; then AGENT="-agentpath:/tmp/ap/linux-x64/libasyncProfiler.so=start,event=$PROF,interval=1ms,threads,file=$OUT/prof-$PROF.collapsed,collapsed"; fi
EV=context-switches,task:task_newtask,raw_syscalls:sys_enter,syscalls:sys_enter_openat,syscalls:sys_enter_read,syscalls:sys_enter_pread64,syscalls:sys_enter_newfstat,syscalls:sys_enter_newfstatat,syscalls:sys_enter_statx,syscalls:sys_enter_close,syscalls:sys_enter_futex,syscalls:sys_enter_lseek,syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_mmap,syscalls:sys_enter_munmap,syscalls:sys_enter_sched_yield,syscalls:sys_enter_madvise,syscalls:sys_enter_mprotect
PERFCMD=(perf stat -x, -o "$OUT/perf.txt" -D -1 --control fifo:$OUT/ctl,$OUT/ack -e $EV --)
[[ ${PERF:-1} == 0 ]] && PERFCMD=()
"${PERFCMD[@]}" \
  java -Xmx2g $AGENT ${JOPTS:-} -cp "$JAR" io.virtualfile.benchmarks.service.BlobServer "$VERSION" $PORT /tmp/virtualfile-service-blobs > "$OUT/server.log" 2>&1 &
ppid=$!
[[ ${PERF:-1} == 1 ]] && { exec {ctl}>$OUT/ctl; exec {ack}<$OUT/ack; }
for i in $(seq 1 600); do grep -q '^listening' "$OUT/server.log" && break; sleep 0.1; done
pid=$ppid; [[ ${PERF:-1} == 1 ]] && pid=$(pgrep -P $ppid java)
w() { wrk -t2 -c64 -d"$1"s --timeout 10s $2 -s benchmarks/wrk/get-uniform.lua "http://127.0.0.1:$PORT" -- 20000; }
w 3 "" > "$OUT/warmup.txt"
cpu() { awk '{print $14+$15}' /proc/$pid/stat; }
cs() { cat /proc/$pid/task/*/status 2>/dev/null | awk '/^voluntary_ctxt/{v+=$2} /^nonvoluntary/{n+=$2} END{print v, n}'; }
c0=$(cpu); read v0 n0 <<< "$(cs)"
( while [[ ! -e $OUT/stop ]]; do ls /proc/$pid/task | wc -l; sleep 0.5; done ) > "$OUT/threads.txt" &
[[ ${PERF:-1} == 1 ]] && { echo enable >&$ctl; read -u $ack a; }
w 10 --latency > "$OUT/wrk.txt"
[[ ${PERF:-1} == 1 ]] && { echo disable >&$ctl; read -u $ack a; }
touch $OUT/stop
c1=$(cpu); read v1 n1 <<< "$(cs)"

load=$(awk '{print $1}' /proc/loadavg)
kill -TERM $pid; wait $ppid
req=$(awk '/ requests in /{print $1}' "$OUT/wrk.txt")
rps=$(awk '/Requests\/sec:/{print $2}' "$OUT/wrk.txt")
p99=$(awk '$1=="99%"{print $2}' "$OUT/wrk.txt")
thr=$(sort -n "$OUT/threads.txt" | awk '{a[NR]=$1} END{print a[1] "-" a[NR]}')
printf '%s %s rps=%s p99=%s cpu_us/req=%.1f vcs/req=%.3f nvcs/req=%.3f threads=%s load=%s\n' "$TAG" "$VERSION" "$rps" "$p99" \
  "$(echo "($c1-$c0)*10000/$req" | bc -l)" "$(echo "($v1-$v0)/$req" | bc -l)" "$(echo "($n1-$n0)/$req" | bc -l)" "$thr" "$load" | tee -a /tmp/s8u/summary.txt
[[ ${PERF:-1} == 1 ]] && awk -F, -v r="$req" '$1 ~ /^[0-9]/ {printf "  %-36s %10d  %.3f/req\n", $3, $1, $1/r}' "$OUT/perf.txt" | tee "$OUT/perf-per-req.txt"
grep '^stopped' "$OUT/server.log" || true
