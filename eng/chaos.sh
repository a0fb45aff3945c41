#!/usr/bin/env bash
# Chaos soak (README "Chaos soak"): three `sink run` processes in one group under a seeded fault schedule
# (SIGKILL, SIGSTOP zombies, SIGTERM rolling restarts, pg_ctl restart/stop, pg_terminate_backend, mock-broker
# request errors and broker down/up) while a producer writes a known sequence; at the end the tables are checked
# against the state computed from that sequence. Exit 0 only on PASS.
#
#   eng/chaos.sh [--seed N] [--duration SECONDS] [--rate MSGS_PER_S] [--artifacts DIR]
#
# Default duration 300 s; CI runs `eng/chaos.sh --duration 60`. A failing run prints the command that replays
# its produced sequence and fault schedule.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

bash eng/build-librdkafka.sh
dotnet build tests/SinkConnector.Chaos -c Release -nologo -clp:ErrorsOnly -v quiet
# The soak stops and restarts its own Postgres server: never an external one.
unset SINK_TEST_POSTGRES
exec dotnet tests/SinkConnector.Chaos/bin/Release/net10.0/SinkConnector.Chaos.dll "$@"
