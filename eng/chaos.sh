#!/usr/bin/env bash
# Chaos soak (docs/chaos.md): three `sink run` processes in one group under a seeded fault schedule
# (SIGKILL, SIGSTOP zombies, SIGTERM rolling restarts, pg_ctl restart/stop, pg_terminate_backend, and Kafka faults:
# a real broker stopped or killed and started again, or the mock cluster's request errors and broker down/up) while a
# producer writes a known sequence; at the end the tables are checked against the state computed from that sequence.
# Exit 0 only on PASS.
#
#   eng/chaos.sh [--seed N] [--duration SECONDS] [--rate MSGS_PER_S] [--kafka mock|broker] [--artifacts DIR]
#
# Kafka as in eng/test.sh: a throwaway broker from KAFKA_HOME, or from ../shared/kafka/kafka_2.11-2.4.0 when it
# exists; else (or with --kafka mock) librdkafka's mock cluster inside the harness.
# Default duration 300 s; CI runs `eng/chaos.sh --duration 60`. A failing run prints the command that replays
# its produced sequence and fault schedule.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

dotnet build tests/SinkConnector.Chaos -c Release -nologo -clp:ErrorsOnly -v quiet
# The soak stops and restarts its own Postgres server and Kafka broker: never external ones.
unset SINK_TEST_POSTGRES SINK_TEST_KAFKA
shared_kafka=$repo/../shared/kafka/kafka_2.11-2.4.0
if [ -z "${KAFKA_HOME:-}" ] && [ -d "$shared_kafka" ]; then
  KAFKA_HOME=$(cd "$shared_kafka" && pwd)
  export KAFKA_HOME
fi
# librdkafka's mock cluster (inside the harness process) can abort on an internal assertion under the group-fault mix
# (rdkafka_mock_cgrp.c "!member->resp"). That run proves nothing either way: its orphaned sinks are stopped and the
# same seed runs again, once. Only on the mock (the report's "Kafka:" line says which ran).
log=$(mktemp)
for attempt in 1 2; do
  status=0
  dotnet tests/SinkConnector.Chaos/bin/Release/net10.0/SinkConnector.Chaos.dll "$@" 2>&1 | tee "$log" || status=${PIPESTATUS[0]}
  if [ "$status" -ne 0 ] && grep -q "^Kafka: librdkafka's mock cluster" "$log" && grep -q "rdkafka_mock.*Assertion" "$log"; then
    artifacts=$(sed -n "s/^artifacts (report, every sink's log): //p" "$log" | head -1)
    [ -n "$artifacts" ] && pkill -9 -f "sink.dll run --config $artifacts/config" || true
    echo "INCONCLUSIVE (attempt $attempt): librdkafka's mock cluster aborted inside the harness, not a sink verdict" >&2
    continue
  fi
  rm -f "$log"
  exit "$status"
done
rm -f "$log"
exit 1
