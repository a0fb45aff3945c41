#!/usr/bin/env bash
# The README's first command: runs the sink end to end on local defaults and exits.
# Starts a temporary PostgreSQL and Kafka ($KAFKA_BOOTSTRAP if set, else a throwaway broker from the distribution in
# $KAFKA_HOME if set, else librdkafka's mock cluster),
# produces sample orders to a topic of its own (sink-quickstart-<time>-<id>, also the consumer group, so a real
# broker's topics and groups are never touched), runs `sink migrate` and `sink run` with a copy of samples/config
# pointed at that topic, and shows the rows.
#   bash eng/quickstart.sh          # exits when done; the database is deleted
#   bash eng/quickstart.sh --keep   # leaves PostgreSQL running (prints the psql command) until Ctrl+C
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
dotnet build tests/SinkConnector.QuickStart -c Release -nologo -clp:ErrorsOnly -v quiet
exec dotnet tests/SinkConnector.QuickStart/bin/Release/net10.0/SinkConnector.QuickStart.dll "$repo/samples/config" "$@"
