#!/usr/bin/env bash
# Runs the Python tests that drive the provider emulator with Huawei's official
# SDK, so the emulator's wire shapes are checked by the client they imitate.
#
# The virtualenv lives outside the clone, keyed by the hash of
# tests/python/requirements.txt: it is built once per set of pins and reused.
# The emulator binary is COFFER_DEV_BIN, or target/debug/coffer-dev built here.
#
# Usage: scripts/python-tests.sh [extra pytest arguments]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${COFFER_CACHE:-$HOME/.cache/coffer}
requirements=$root/tests/python/requirements.txt
key=$(sha256sum "$requirements" | cut -c1-12)
venv=$cache/venv-$key

log() { printf '[python-tests] %s\n' "$*" >&2; }

# The marker is written last, so an interrupted install is redone, not trusted.
if [ ! -f "$venv/.installed" ]; then
  log "creating $venv"
  mkdir -p "$cache"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  touch "$venv/.installed"
fi

if [ -z "${COFFER_DEV_BIN:-}" ]; then
  log "building the coffer-dev binary"
  (cd "$root" && cargo build --quiet --bin coffer-dev)
  export COFFER_DEV_BIN=${CARGO_TARGET_DIR:-$root/target}/debug/coffer-dev
fi

cd "$root"
exec "$venv/bin/pytest" -q tests/python "$@"
