#!/usr/bin/env bash
# The service benchmark: one HTTP blob store (io.virtualfile.benchmarks.service.BlobServer) in three
# versions -- virtualfile, usual (blocking JDK calls on boundedElastic), memory (the ceiling) -- each in
# its own JVM, loaded by wrk in its own process with three workloads: GET uniform, GET hot, PUT.
#
#   benchmarks/service-benchmark.sh               # one run: 3 workloads x 3 versions, about 4.5 minutes
#   RUNS=3 benchmarks/service-benchmark.sh        # three runs; the report gives medians and each run
#
# Settings (environment): RUNS (1), DURATION seconds measured per workload (10), WARMUP seconds of
# unmeasured load before each workload (15: long enough for the JIT to finish compiling the workload's
# code in every version, so that the figures are the service's at steady state, as a service runs for
# hours; after 3 s the server still compiles, see results/session10/put.md), CONNECTIONS (64), WRK_THREADS (2), WRK_TIMEOUT (10s),
# PORT (18080), DIR blob directory (/tmp/virtualfile-service-blobs, created once and reused),
# JAVA_OPTS for the server JVMs (-Xmx2g), SKIP_BUILD=1 to use the jar as it is; VERSIONS and WORKLOADS
# (space-separated subsets, e.g. WORKLOADS=get-uniform VERSIONS="virtualfile usual") and RESULTS (the
# report's directory, benchmarks/results) for a partial run. Two more versions compare the engines on
# JDK 25 (JAVA25_HOME, default /usr/lib/jvm/temurin-25-jdk-amd64): virtualfile-threads and
# virtualfile-uring, e.g. VERSIONS="virtualfile-threads virtualfile-uring memory-jdk25" (memory-jdk25: the
# ceiling on the same JDK, which the engines' ratios then use); the io_uring engine's jar is built with
# that JDK.
#
# Writes $RESULTS/service.md (report) and service.tsv (the raw figures); wrk outputs and server logs go
# to benchmarks/target/service/.
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=${RUNS:-1}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-15}
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-2}
WRK_TIMEOUT=${WRK_TIMEOUT:-10s}
PORT=${PORT:-18080}
DIR=${DIR:-/tmp/virtualfile-service-blobs}
JAVA_OPTS=${JAVA_OPTS:--Xmx2g}
BLOBS=20000
read -r -a VERSIONS <<< "${VERSIONS:-virtualfile usual memory}"
read -r -a WORKLOADS <<< "${WORKLOADS:-get-uniform get-hot put}"
JAR=benchmarks/target/benchmarks.jar
WORK=benchmarks/target/service
RESULTS=${RESULTS:-benchmarks/results}
mkdir -p "$RESULTS"

command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)

JAVA25_HOME=${JAVA25_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
uring_wanted=0
[[ " ${VERSIONS[*]} " == *" virtualfile-uring "* || " ${VERSIONS[*]} " == *" virtualfile-threads "* ]] && uring_wanted=1

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  echo "Building $JAR"
  # package, not install: the modules come from this tree, nothing is published to the local repository.
  mvn -B -o -q package -DskipTests -pl benchmarks -am || mvn -B -q package -DskipTests -pl benchmarks -am
  if ((uring_wanted)); then
    echo "Building the io_uring engine with $JAVA25_HOME"
    JAVA_HOME=$JAVA25_HOME mvn -B -o -q package -DskipTests -pl uring -am \
      || JAVA_HOME=$JAVA25_HOME mvn -B -q package -DskipTests -pl uring -am
  fi
fi
URING_JAR=
if ((uring_wanted)); then
  URING_JAR=$(ls uring/target/virtualfile-uring-*.jar 2>/dev/null | grep -v -e sources -e javadoc | head -1)
  [[ -n $URING_JAR ]] || { echo "no uring/target/virtualfile-uring-*.jar: build it with JDK 25" >&2; exit 1; }
fi

mkdir -p "$WORK" "$RESULTS"
rm -f "$WORK"/run*   # outputs of an earlier run
FIGURES=$WORK/figures.tsv
SERVERS=$WORK/servers.tsv
: > "$FIGURES"
: > "$SERVERS"

java -cp "$JAR" io.virtualfile.benchmarks.service.BlobSet "$DIR"

server_pid=
cleanup() {
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

# start_server VERSION LOG: starts the server JVM and waits until it listens; sets server_pid.
start_server() {
  : > "$2"   # emptied here, not by the background job's redirection, which may come after the grep below
  local java=java cp=$JAR opts=$JAVA_OPTS
  case $1 in
    virtualfile-uring)
      java=$JAVA25_HOME/bin/java cp=$JAR:$URING_JAR
      opts="$JAVA_OPTS --enable-native-access=ALL-UNNAMED -Dengine=IO_URING" ;;
    virtualfile-threads)
      java=$JAVA25_HOME/bin/java opts="$JAVA_OPTS -Dengine=THREADS" ;;
    memory-jdk25)
      java=$JAVA25_HOME/bin/java ;;
  esac
  # shellcheck disable=SC2086
  "$java" $opts -cp "$cp" io.virtualfile.benchmarks.service.BlobServer "$1" "$PORT" "$DIR" > "$2" 2>&1 &
  server_pid=$!
  local i
  for ((i = 0; i < 1200; i++)); do
    grep -q '^listening' "$2" && return 0
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "server $1 exited before listening:" >&2
      cat "$2" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "server $1 did not listen within 120 s" >&2
  return 1
}

stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || true   # 143: ended by the TERM
  server_pid=
}

fd_count() {
  local fds=(/proc/"$1"/fd/*)
  echo "${#fds[@]}"
}

# sample_fds PID STOPFILE: prints the largest descriptor count of PID, sampled every 50 ms until
# STOPFILE exists. No process is forked per sample (the wait is a read with a timeout on a pipe that
# never delivers), so the sampler costs the shared cores next to nothing.
sample_fds() {
  local pid=$1 stop=$2 peak=0 n fds sleeper
  exec {sleeper}<> <(:)
  while [[ ! -e $stop ]] && kill -0 "$pid" 2>/dev/null; do
    fds=(/proc/"$pid"/fd/*)
    n=${#fds[@]}
    ((n > peak)) && peak=$n
    read -r -t 0.05 -u "$sleeper" || true
  done
  exec {sleeper}>&-
  echo "$peak"
}

# wrk_load WORKLOAD SECONDS [--latency]
wrk_load() {
  wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$2"s --timeout "$WRK_TIMEOUT" ${3:-} \
    -s "benchmarks/wrk/$1.lua" "http://127.0.0.1:$PORT" -- "$BLOBS" \
    || { echo "wrk failed ($1 against the server on port $PORT)" >&2; return 1; }
}

# parse_wrk FILE: rps, p99 in ms, requests, non-2xx, socket errors connect, read, write, timeout
parse_wrk() {
  awk '
    /Requests\/sec:/ { rps = $2 }
    $1 == "99%" { p99 = $2 }
    / requests in / { requests = $1 }
    /Socket errors:/ { gsub(",", ""); connect = $4; read = $6; write = $8; timeout = $10 }
    /Non-2xx or 3xx responses:/ { non2xx = $5 }
    END {
      if (rps == "" || p99 == "") { print "cannot parse wrk output" > "/dev/stderr"; exit 1 }
      if (p99 ~ /us$/) ms = substr(p99, 1, length(p99) - 2) / 1000
      else if (p99 ~ /ms$/) ms = substr(p99, 1, length(p99) - 2)
      else if (p99 ~ /s$/) ms = substr(p99, 1, length(p99) - 1) * 1000
      else if (p99 ~ /m$/) ms = substr(p99, 1, length(p99) - 1) * 60000
      else if (p99 ~ /h$/) ms = substr(p99, 1, length(p99) - 1) * 3600000
      printf "%s\t%.3f\t%d\t%d\t%d\t%d\t%d\t%d\n", rps, ms, requests, non2xx, connect, read, write, timeout
    }' "$1"
}

started=$(date +%s)
started_at=$(date -u '+%Y-%m-%d %H:%M')
for ((run = 1; run <= RUNS; run++)); do
  # Each run starts with the next version, so no version always runs first or last.
  order=()
  for ((k = 0; k < ${#VERSIONS[@]}; k++)); do
    order+=("${VERSIONS[(run - 1 + k) % ${#VERSIONS[@]}]}")
  done
  echo "Run $run of $RUNS: ${order[*]}"
  for version in "${order[@]}"; do
    log=$WORK/run$run-$version-server.log
    start_server "$version" "$log"
    idle=$(fd_count "$server_pid")
    for workload in "${WORKLOADS[@]}"; do
      # The data an earlier PUT run left dirty is written back now, not during this version's run.
      sync
      wrk_load "$workload" "$WARMUP" > "$WORK/run$run-$version-$workload-warmup.txt"
      out=$WORK/run$run-$version-$workload.txt
      stopfile=$WORK/.sampler-stop
      rm -f "$stopfile"
      sample_fds "$server_pid" "$stopfile" > "$WORK/.peak" &
      sampler=$!
      wrk_load "$workload" "$DURATION" --latency > "$out"
      touch "$stopfile"
      wait "$sampler"
      peak=$(cat "$WORK/.peak")
      load=$(awk '{ print $1 }' /proc/loadavg)   # the machine's 1-minute load average, as the run ends
      figures=$(parse_wrk "$out")
      printf '%d\t%s\t%s\t%s\t%d\t%d\t%s\n' "$run" "$workload" "$version" "$figures" "$peak" "$idle" "$load" \
        >> "$FIGURES"
      printf '  %-19s %-12s %s\n' "$version" "$workload" \
        "$(awk -F'\t' '{ printf "%8.0f req/s  p99 %9.2f ms  non-2xx %s  socket c/r/w/t %s/%s/%s/%s", $1, $2, $4, $5, $6, $7, $8 }' <<< "$figures")  peak fds $peak (idle $idle)  load $load"
    done
    stop_server
    printf '%d\t%s\t%s\n' "$run" "$version" "$(grep '^stopped: ' "$log" | sed 's/^stopped: //')" >> "$SERVERS"
  done
done
rm -f "$WORK/.peak" "$WORK/.sampler-stop"
echo "Measured in $(($(date +%s) - started)) s"

setup="$RUNS run(s), each version in its own JVM ($JAVA_OPTS); per version and workload a \`sync\`, $WARMUP s of"
setup+=" unmeasured warm-up, then \`wrk -t$WRK_THREADS -c$CONNECTIONS -d${DURATION}s --timeout $WRK_TIMEOUT"
wrk_version=$(wrk -v 2>&1 | awk 'NR == 1 { print $2 }' || true)   # wrk -v exits 1
setup+=" --latency\` (wrk $wrk_version); workloads in the order GET uniform,"
setup+=" GET hot (90 % of requests to 100 ids, 10 % uniform), PUT (random id, 4–16 KiB random body); the"
setup+=" first version of each run rotates (run 1: ${VERSIONS[*]})."
cp "$FIGURES" "$RESULTS/service.tsv"
java -Dmeasured="$started_at–$(date -u +%H:%M) UTC" -cp "$JAR" io.virtualfile.benchmarks.service.ServiceReport \
  "$FIGURES" "$SERVERS" "$setup" > "$RESULTS/service.md"
cat "$RESULTS/service.md"
echo "Written: $RESULTS/service.md, $RESULTS/service.tsv"
