#!/usr/bin/env bash
# The kubectl plugin's release files, from a built coffer binary:
#
#   OUT/coffer-VERSION-linux-amd64.tar.gz  the binary as `coffer` and, for a
#       manual install (untar into a folder on PATH), a copy as
#       `kubectl-coffer`; regular files only, as krew unpacks no links;
#       LICENSE too when the repository has one. Reproducible: sorted,
#       owned by root, every time the last commit's.
#   OUT/coffer.yaml  plugins/coffer.yaml (krew's manifest) with the version,
#       the archive's address (URI_BASE/coffer-VERSION-linux-amd64.tar.gz)
#       and its sha256 in place of the placeholders.
#
# Usage: scripts/krew.sh VERSION BINARY OUT URI_BASE
# scripts/release.sh runs it with the static binary `make image` built.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
log() { printf '[krew] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[ $# -eq 4 ] || die "usage: scripts/krew.sh VERSION BINARY OUT URI_BASE"
version=$1 binary=$2 out=$3 uri_base=${4%/}
[ -x "$binary" ] || die "$binary is not an executable file"
mkdir -p "$out"
archive=coffer-$version-linux-amd64.tar.gz
work=$(mktemp -d "${TMPDIR:-/tmp}/coffer-krew.XXXXXX")
trap 'rm -rf "$work"' EXIT

files=(coffer kubectl-coffer)
install -m 0755 "$binary" "$work/coffer"
install -m 0755 "$binary" "$work/kubectl-coffer"
if [ -f "$root/LICENSE" ]; then
  install -m 0644 "$root/LICENSE" "$work/LICENSE"
  files+=(LICENSE)
fi
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)}
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
  -C "$work" -cf - "${files[@]}" | gzip -n >"$out/$archive"
sha=$(sha256sum "$out/$archive" | cut -d' ' -f1)

template=$root/plugins/coffer.yaml
for placeholder in __VERSION__ __URI_LINUX_AMD64__ __SHA256_LINUX_AMD64__; do
  grep -q "$placeholder" "$template" || die "$template has no $placeholder"
done
sed -e "s|__VERSION__|$version|" \
  -e "s|__URI_LINUX_AMD64__|$uri_base/$archive|" \
  -e "s|__SHA256_LINUX_AMD64__|$sha|" "$template" >"$out/coffer.yaml"
! grep -q '__[A-Z0-9_]*__' "$out/coffer.yaml" || die "a placeholder is left in $out/coffer.yaml"
log "$out/$archive ($sha) and $out/coffer.yaml"
