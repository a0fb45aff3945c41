#!/usr/bin/env bash
# The benchmark (issue #7): SinkConnector's `sink run` (insert and upsert) against the ceilings (binary COPY of the
# same rows from memory; consume-only) and the alternatives (an EF Core consumer; a multi-row INSERT / ON CONFLICT
# writer like the JDBC sinks), on one machine, same data, one run. Starts its own PostgreSQL 15 and Kafka
# (a throwaway broker from KAFKA_HOME, which defaults to ../shared/kafka/kafka_2.11-2.4.0 like eng/test.sh; else, or
# with --kafka mock, librdkafka's mock cluster). Prints a table and writes
# tests/SinkConnector.Benchmarks/results/<date>[-quick][-broker].md + .svg.
#
#   bash eng/bench.sh            # full run: 240,000 and 480,000 messages, 3 repetitions, and on a real broker also a
#                                # 2,000,000-message backlog for the sink and consume-only
#   bash eng/bench.sh --quick    # smoke run: 24,000 and 48,000 messages, 1 repetition (~2 min)
#   bash eng/bench.sh --kafka mock   # librdkafka's mock cluster even when a broker is available
#   bash eng/bench.sh --perf     # also a perf CPU profile of `sink run` per mode (needs linux-perf)
#   bash eng/bench.sh --help     # all options (--messages, --overlap, --reps, --scenarios, ...)
#   bash eng/bench.sh --scenarios latency   # steady-rate end-to-end latency only (10,000 and 2,000 msg/s, 2 runs
#                                           # each, ~8 min; the full run includes it); with KAFKA_HOME against a real broker
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
dotnet build tests/SinkConnector.Benchmarks -c Release -nologo -clp:ErrorsOnly -v quiet
# The sink runs as users run it: the ReadyToRun publish of docker/Dockerfile (same command line).
sink_publish=tests/SinkConnector.Benchmarks/bin/sink-publish
dotnet publish src/SinkConnector.Cli/SinkConnector.Cli.csproj -c Release -r linux-x64 --self-contained false --no-restore \
  -o "$sink_publish" -nologo -clp:ErrorsOnly -v quiet
# Kafka (tests/SinkConnector.Testing/KafkaSelection.cs), as eng/test.sh chooses it.
shared_kafka=$repo/../shared/kafka/kafka_2.11-2.4.0
if [ -z "${SINK_TEST_KAFKA:-}" ] && [ -z "${KAFKA_HOME:-}" ] && [ -d "$shared_kafka" ]; then
  KAFKA_HOME=$(cd "$shared_kafka" && pwd)
  export KAFKA_HOME
fi
exec dotnet tests/SinkConnector.Benchmarks/bin/Release/net10.0/SinkConnector.Benchmarks.dll --sink-dll "$sink_publish/sink.dll" "$@"
