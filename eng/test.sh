#!/usr/bin/env bash
# The test command: build (warnings are errors), every test against a real PostgreSQL server and Kafka
# protocol (both started by the tests), then one summary line.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

dotnet build SinkConnector.sln -c Release -nologo -clp:ErrorsOnly

results=$repo/TestResults
rm -rf "$results"
status=0
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
echo "Tests: $passed passed, $failed failed, $skipped skipped"
exit $status
