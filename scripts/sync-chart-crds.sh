#!/usr/bin/env bash
# Copies the generated CRDs (crds/) into the Helm chart (charts/coffer/files/crds/),
# which renders them as templates. `make crds` runs it; a unit test fails when
# the two differ.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=$root/charts/coffer/files/crds
mkdir -p "$dest"
rm -f "$dest"/*.yaml
cp "$root"/crds/*.yaml "$dest"/
