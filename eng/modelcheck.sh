#!/usr/bin/env bash
# Model check of the exactly-once protocol (docs/exactly-once.md) with spin: eng/model/README.md.
# Exhaustive runs of eng/model/exactly_once.pml. The protocol as implemented must pass; each mutant
# must fail with a counterexample (printed as a trail). Exits 0 only if every run behaves as expected.
# Installs spin (and a C compiler for its verifiers) when missing; needs no standard input.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=$root/eng/model/exactly_once.pml

# ---- tools -------------------------------------------------------------------------------------
need=()
command -v spin >/dev/null 2>&1 || need+=(spin)
command -v gcc >/dev/null 2>&1 || need+=(gcc)
[ -e /usr/include/stdio.h ] || need+=(libc6-dev)
if [ ${#need[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Dpkg::Use-Pty=0)
  echo "modelcheck: installing ${need[*]}"
  if ! "${apt[@]}" install --no-install-recommends "${need[@]}" </dev/null >/dev/null 2>&1; then
    "${apt[@]}" update </dev/null >/dev/null
    "${apt[@]}" install --no-install-recommends "${need[@]}" </dev/null >/dev/null
  fi
fi

# ---- runs --------------------------------------------------------------------------------------
# name | expected (pass = exhaustive search without error, error = counterexample) | spin -D flags.
# Defaults in the model: NC=2 consumers, N=3 messages, batches of 1-2, 1 rebalance, 1 crash,
# 1 lost commit reply, 0 operator resets, 0 hung writes given up on (the drop run leaves out the crash: with it the
# state space grows sixfold, to 25 million states and about 4 minutes for that run alone).
runs=(
  "safety|pass|"
  "safety 3 consumers|pass|-DNC=3"
  "safety + operator reset|pass|-DRESETS=1"
  "safety 4 messages|pass|-DN=4"
  "safety 2 crashes, 2 lost replies|pass|-DCRASHES=2 -DLOST_REPLIES=2"
  "mutant: no epoch check|error|-DNO_EPOCH_CHECK"
  "mutant: no next_offset check|error|-DNO_OFFSET_CHECK"
  "no epoch check, table only|pass|-DNO_EPOCH_CHECK -DTABLE_ONLY -DRESETS=1"
  "progress|pass|-DPROGRESS -DRESETS=1"
  "mutant: no stale-claim re-claim|error|-DPROGRESS -DNO_STALL_FIX"
  "progress + hung-write drop|pass|-DPROGRESS -DDROPS=1 -DCRASHES=0"
  "mutant: drop without re-claim|error|-DDROPS=1 -DNO_DROP_RECLAIM"
)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One run in its own directory: spin generates the verifier, gcc builds it, pan searches.
check() {
  local dir=$1 expect=$2 flags=$3
  mkdir -p "$dir"
  cp "$model" "$dir/model.pml"
  cd "$dir"
  local cflags=(-w -O1 -DSAFETY) panflags=(-m100000)
  if [ "$expect" = error ]; then
    cflags+=(-DREACH)  # with -i: keep searching for the shortest counterexample
    panflags+=(-i)
  fi
  local start
  start=$(date +%s%N)
  # shellcheck disable=SC2086
  if ! spin -a $flags model.pml >spin.log 2>&1; then echo "spin failed" >failure; return; fi
  if ! gcc "${cflags[@]}" -o pan pan.c >gcc.log 2>&1; then echo "gcc failed" >failure; return; fi
  ./pan "${panflags[@]}" >pan.log 2>&1 || true
  echo $(( ($(date +%s%N) - start) / 1000000 )) >wall_ms
  if [ -e model.pml.trail ]; then
    # shellcheck disable=SC2086
    spin -T -t $flags model.pml >trail.log 2>&1 || true
  fi
}

jobs_max=$(nproc 2>/dev/null || echo 2)
[ "$jobs_max" -gt 4 ] && jobs_max=4
[ "$jobs_max" -lt 1 ] && jobs_max=1
started=$(date +%s%N)
i=0
for run in "${runs[@]}"; do
  IFS='|' read -r _ expect flags <<<"$run"
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
  ( check "$work/$i" "$expect" "$flags" ) &
  i=$((i + 1))
done
wait
total_ms=$(( ($(date +%s%N) - started) / 1000000 ))

# ---- summary -----------------------------------------------------------------------------------
spin_version=$(spin -V 2>/dev/null | head -1)
echo "modelcheck: $spin_version; model eng/model/exactly_once.pml"
printf '%-34s %-8s %-8s %10s %6s %8s  %s\n' run expected result states depth pan_s flags
ok=0 bad=0 i=0
trails=()
for run in "${runs[@]}"; do
  IFS='|' read -r name expect flags <<<"$run"
  dir=$work/$i
  i=$((i + 1))
  result=broken states=- depth=- secs=-
  if [ -e "$dir/failure" ]; then
    result="($(cat "$dir/failure"))"
  elif [ -e "$dir/pan.log" ]; then
    log=$dir/pan.log
    errors=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' "$log" | tail -1)
    states=$(awk '/states, stored/ {print $1}' "$log" | tail -1)
    depth=$(sed -n 's/.*depth reached \([0-9][0-9]*\).*/\1/p' "$log" | tail -1)
    secs=$(sed -n 's/^pan: elapsed time \([0-9.e+-]*\) seconds.*/\1/p' "$log" | tail -1)
    if [ -z "$errors" ]; then
      result=broken
    elif [ "$errors" -gt 0 ]; then
      result=error
    elif grep -q 'max search depth too small' "$log"; then
      result=incomplete
    else
      result=pass
    fi
  fi
  if [ "$result" = "$expect" ]; then ok=$((ok + 1)); mark=""; else bad=$((bad + 1)); mark="  <-- UNEXPECTED"; fi
  printf '%-34s %-8s %-8s %10s %6s %8s  %s%s\n' "$name" "$expect" "$result" "${states:--}" "${depth:--}" "${secs:--}" "${flags:-(defaults)}" "$mark"
  if [ -e "$dir/trail.log" ]; then
    steps=$(sed -n 's/.*trail ends after \([0-9]*\) steps.*/\1/p' "$dir/trail.log" | head -1)
    assertion=$(sed -n 's/.*text of failed assertion: //p' "$dir/trail.log" | head -1)
    trails+=("$name: $assertion, shortest trail $steps steps")
    while IFS= read -r line; do trails+=("    $line"); done < <(sed -n 's/^ *MSC: //p' "$dir/trail.log")
  fi
done
if [ ${#trails[@]} -gt 0 ]; then
  echo
  echo "counterexamples (steps of the shortest trail):"
  printf '  %s\n' "${trails[@]}"
fi
echo
echo "modelcheck: $ok as expected, $bad unexpected, $(awk "BEGIN {printf \"%.1f\", $total_ms / 1000}") s wall on $jobs_max jobs"
[ "$bad" -eq 0 ]
