#!/usr/bin/env bash
# Builds the native librdkafka that Confluent.Kafka 2.15.1 is compiled against and places it
# where every app and test output picks it up by ordinary native probing (.native/linux-x64).
#
# Why build it: the NuGet registry reachable here has no librdkafka.redist, and Debian's
# librdkafka1 (2.0.2) lacks symbols Confluent.Kafka 2.15.1 calls. The source ships inside the
# npm package @confluentinc/kafka-javascript@1.10.1 (deps/librdkafka, version 2.15.1).
#
# Idempotent and cached by version: the cache lives in $SINK_NATIVE_CACHE
# (default ~/.cache/sinkconnector); a second run only copies the cached library.
set -euo pipefail

LIBRDKAFKA_VERSION=2.15.1
NPM_PACKAGE=@confluentinc/kafka-javascript@1.10.1
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${SINK_NATIVE_CACHE:-$HOME/.cache/sinkconnector}/librdkafka-$LIBRDKAFKA_VERSION
target=$repo/.native/linux-x64

log() { echo "[librdkafka] $*" >&2; }

install_build_deps() {
  local wanted=(libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev pkg-config make)
  local missing=()
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

build() {
  local work; work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  log "fetching source from npm package $NPM_PACKAGE"
  (cd "$work" && npm pack --silent "$NPM_PACKAGE" >/dev/null 2>&1)
  tar -xzf "$work"/*.tgz -C "$work"
  local src=$work/package/deps/librdkafka
  grep -q "RD_KAFKA_VERSION  *0x020f01" "$src/src/rdkafka.h" || { log "unexpected librdkafka version in $NPM_PACKAGE"; exit 1; }
  log "configuring"
  # Snappy is compiled in from librdkafka's own source; OAUTHBEARER comes with SSL.
  (cd "$src" && ./configure --prefix="$cache" --disable-debug-symbols \
      --enable-ssl --enable-sasl --enable-gssapi --enable-zlib --enable-zstd --enable-lz4-ext \
      --disable-curl >"$work/configure.log" 2>&1) \
    || { cat "$work/configure.log" >&2; exit 1; }
  log "compiling (about a minute on 2 cores)"
  (cd "$src" && make -j"$(nproc)" libs >"$work/make.log" 2>&1) || { tail -50 "$work/make.log" >&2; exit 1; }
  mkdir -p "$cache.tmp"
  cp "$src/src/librdkafka.so.1" "$cache.tmp/librdkafka.so"
  rm -rf "$cache" && mv "$cache.tmp" "$cache"
}

install_build_deps
if [ ! -f "$cache/librdkafka.so" ]; then
  build
else
  log "using cached $cache/librdkafka.so"
fi
mkdir -p "$target"
cp -f "$cache/librdkafka.so" "$target/librdkafka.so"
log "ready: $target/librdkafka.so"
