#!/usr/bin/env bash
# The README's first command: runs the sink end to end on local defaults and exits.
# Starts a temporary PostgreSQL and Kafka (librdkafka's mock cluster, or $KAFKA_BOOTSTRAP if set),
# produces sample orders, runs `sink migrate` and `sink run` with samples/config, and shows the rows.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
dotnet build tests/SinkConnector.QuickStart -c Release -nologo -clp:ErrorsOnly -v quiet
exec dotnet tests/SinkConnector.QuickStart/bin/Release/net10.0/SinkConnector.QuickStart.dll "$repo/samples/config"
