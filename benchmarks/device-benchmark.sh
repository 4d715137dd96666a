#!/usr/bin/env bash
# Device-bound random reads: virtualfile's readAt against the JDK's channels and fio, with O_DIRECT.
# Writes benchmarks/results/device.md. About 2 minutes per run of the comparison (3 runs by default).
#
#   benchmarks/device-benchmark.sh
#   RUNS=5 DIR=/mnt/disk/virtualfile-device benchmarks/device-benchmark.sh
#   JAVA_OPTS="-Dseconds=5 -DinFlight=1,8,32" benchmarks/device-benchmark.sh
#
# DIR must be on the device to measure, not on tmpfs; the 2 GiB test file there is kept for next time.
set -euo pipefail
cd "$(dirname "$0")/.."

jar=benchmarks/target/benchmarks.jar
# Build when the jar is missing or older than any source or pom (the engine may have changed).
if [[ ! -f $jar ]] || [[ -n $(find core reactive benchmarks pom.xml -path '*/target' -prune -o \
    \( -name '*.java' -o -name pom.xml \) -newer "$jar" -print -quit) ]]; then
  echo "Building $jar..."
  mvn -B -q -DskipTests package
fi

if ! command -v fio >/dev/null; then
  if [[ $(id -u) -eq 0 ]]; then
    echo "Installing fio..."
    { apt-get update -q && apt-get install -y -q fio; } >/dev/null || echo "Could not install fio: its rows will be empty."
  else
    echo "fio is missing and this is not root: its rows will be empty."
  fi
fi

# The io_uring row needs JDK 22+ and the uring module's jar (built by a JDK 22+ Maven run); without
# them the report says why it has no such row.
java=java
cp=$jar
native=()
jdk25=${JDK25_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
if [[ -x $jdk25/bin/java ]]; then
  uring_jar=$(ls uring/target/virtualfile-uring-*.jar 2>/dev/null | grep -v -- '-tests\|-sources\|-javadoc' | head -1 || true)
  if [[ -z $uring_jar ]] || [[ -n $(find uring/src uring/pom.xml -newer "$uring_jar" -print -quit) ]]; then
    echo "Building the io_uring module with $jdk25..."
    JAVA_HOME=$jdk25 mvn -B -q -DskipTests -pl uring -am package
    uring_jar=$(ls uring/target/virtualfile-uring-*.jar | grep -v -- '-tests\|-sources\|-javadoc' | head -1)
  fi
  java=$jdk25/bin/java
  cp=$jar:$uring_jar
  native=(--enable-native-access=ALL-UNNAMED)
fi

# Writeback left by earlier work (a service benchmark's PUTs) competes with the reads for the device
# and has cut the first reader's figure to a quarter: write it out first.
sync

# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
exec "$java" "${native[@]}" ${JAVA_OPTS:-} -Druns="${RUNS:-3}" \
  -Ddir="${DIR:-/var/tmp/virtualfile-device}" -cp "$cp" io.virtualfile.benchmarks.device.DeviceReadBenchmark
