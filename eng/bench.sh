#!/usr/bin/env bash
# The benchmark (issue #7): SinkConnector's `sink run` (insert and upsert) against the ceilings (binary COPY of the
# same rows from memory; consume-only) and the alternatives (an EF Core consumer; a multi-row INSERT / ON CONFLICT
# writer like the JDBC sinks), on one machine, same data, one run. Starts its own PostgreSQL 15 and Kafka
# (librdkafka's mock cluster). Prints a table and writes tests/SinkConnector.Benchmarks/results/<date>.md + .svg.
#
#   bash eng/bench.sh            # full run: 240,000 and 480,000 messages, 3 repetitions (~15 min on 2 cores)
#   bash eng/bench.sh --quick    # smoke run: 24,000 and 48,000 messages, 1 repetition (~2 min)
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
exec dotnet tests/SinkConnector.Benchmarks/bin/Release/net10.0/SinkConnector.Benchmarks.dll --sink-dll "$sink_publish/sink.dll" "$@"
