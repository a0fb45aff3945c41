#!/usr/bin/env bash
# The test command: build (warnings are errors), every test against a real PostgreSQL server and Kafka
# protocol (both started by the tests), then one summary line.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

dotnet build SinkConnector.sln -c Release -nologo -clp:ErrorsOnly

results=$repo/TestResults
rm -rf "$results"
mkdir -p "$results"
status=0

# Kafka (tests/SinkConnector.Testing/KafkaSelection.cs): SINK_TEST_KAFKA (a running broker), else a throwaway
# broker from KAFKA_HOME, else from the distribution next to the repository when there is one, else librdkafka's
# mock cluster. The fault-injection tests use a mock cluster of their own in every case.
shared_kafka=$repo/../shared/kafka/kafka_2.11-2.4.0
if [ -z "${SINK_TEST_KAFKA:-}" ] && [ -z "${KAFKA_HOME:-}" ] && [ -d "$shared_kafka" ]; then
  KAFKA_HOME=$(cd "$shared_kafka" && pwd)
  export KAFKA_HOME
fi
# The test fixtures append which Kafka each part of the suite used.
export SINK_TEST_SERVICES_REPORT=$results/services.txt
# --blame-hang-timeout: a hung test (a stuck consumer, a server that never answers) fails the run
# with a dump instead of eating the CI budget.
dotnet test SinkConnector.sln -c Release --no-build -nologo \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" \
  --blame-hang-timeout 15m || status=$?

# One closing line summed over every test project's TRX file.
passed=0 failed=0 skipped=0
shopt -s globstar nullglob
for trx in "$results"/**/*.trx; do
  counters=$(grep -o '<Counters [^>]*' "$trx")
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$((skipped + $(get total) - $(get executed)))
done
if [ "$passed" -eq 0 ]; then
  echo "no passing test results found in $results" >&2
  failed=$((failed + 1))
fi
[ "$failed" -eq 0 ] || status=1
echo "Kafka used by the tests:"
if [ -s "$SINK_TEST_SERVICES_REPORT" ]; then sort -u "$SINK_TEST_SERVICES_REPORT" | sed 's/^/  /'; else echo "  (no report: no integration test ran)"; fi
echo "Tests: $passed passed, $failed failed, $skipped skipped"
exit $status
