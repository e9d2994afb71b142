#!/usr/bin/env bash
# `make release VERSION=x.y.z REGISTRY=host[:port]/path`: a release a user can
# install with `helm install coffer oci://REGISTRY/charts/coffer --version x.y.z`.
#
#   1. the image `make image` built (target/image/coffer-VERSION.oci.tar) is
#      pushed to REGISTRY/coffer:VERSION, and its digest read back;
#   2. the chart is packaged with VERSION as its version and appVersion and
#      that image pinned by digest (image.repository, image.digest), and
#      pushed to oci://REGISTRY/charts as an OCI artifact;
#   3. beside them, in target/dist/VERSION/: the chart's .tgz, the image's OCI
#      archive, a CycloneDX SBOM from Cargo.lock (scripts/sbom.py), the
#      image's reference by digest, the kubectl plugin (scripts/krew.sh: the
#      image's own binary in coffer-VERSION-linux-amd64.tar.gz, and krew's
#      manifest coffer.yaml with its sha256), and SHA256SUMS of all six.
#
# DOWNLOAD_URL is where the maintainer publishes target/dist/VERSION/'s files
# (a release page, a bucket): the krew manifest's uri is under it. Left out,
# it is https://downloads.example.com/coffer/VERSION, and the manifest serves
# only `kubectl krew install --manifest=coffer.yaml --archive=...`.
#
# VERSION must be Cargo.toml's version (the binary reports it, and the image
# is labelled with it). PLAIN_HTTP=1 talks plain HTTP to the registry (a
# loopback test registry); otherwise log in first (`helm registry login`,
# `skopeo login`). Prints the `helm install` command last, on stdout.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
log() { printf '[release] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

version=${VERSION:-}
registry=${REGISTRY:-}
registry=${registry%/}
[ -n "$version" ] && [ -n "$registry" ] || die "usage: make release VERSION=x.y.z REGISTRY=host[:port]/path"
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || die "VERSION $version is not a semantic version"
cargo_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n1)
[ "$version" = "$cargo_version" ] ||
  die "VERSION $version is not Cargo.toml's version $cargo_version: bump Cargo.toml first"
archive=$root/target/image/coffer-$version.oci.tar
[ -f "$archive" ] || die "$archive is missing: run make image (make release does)"

eval "$("$root/scripts/install-tools.sh" env)"
tls=() helm_tls=()
if [ "${PLAIN_HTTP:-0}" = 1 ]; then tls=(--dest-tls-verify=false) helm_tls=(--plain-http); fi
out=$root/target/dist/$version
rm -rf "$out"
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/coffer-release.XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$SECONDS

# 1. The image, and its digest as the registry has it.
image=$registry/coffer
log "pushing $image:$version"
skopeo copy --quiet "${tls[@]}" --digestfile "$work/digest" \
  "oci-archive:$archive" "docker://$image:$version" >&2
digest=$(cat "$work/digest")
[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || die "skopeo gave no digest: $digest"
echo "$image@$digest" >"$out/coffer-$version.image"
cp "$archive" "$out/coffer-$version.oci.tar"

# 2. The chart, with that image pinned by digest.
cp -r "$root/charts/coffer" "$work/coffer"
chart=$work/coffer
sed -i -e "s/^version: .*/version: $version/" -e "s/^appVersion: .*/appVersion: \"$version\"/" "$chart/Chart.yaml"
# The image block's own lines only (repository, tag, digest are its first keys).
sed -i -e "0,/^  repository: .*/s||  repository: $image|" \
  -e "0,/^  tag: .*/s||  tag: \"$version\"|" \
  -e "0,/^  digest: .*/s||  digest: \"$digest\"|" "$chart/values.yaml"
export HELM_CACHE_HOME=$work/helm/cache HELM_CONFIG_HOME=${HELM_CONFIG_HOME:-$work/helm/config} HELM_DATA_HOME=$work/helm/data
rendered=$("$HELM" template coffer "$chart" | grep -E '^ +image: ')
[ "$rendered" = "          image: \"$image@$digest\"" ] || die "the packaged chart renders the image as: $rendered"
"$HELM" lint --strict "$chart" >/dev/null
"$HELM" package "$chart" -d "$out" >/dev/null
log "pushing the chart to oci://$registry/charts"
"$HELM" push "${helm_tls[@]}" "$out/coffer-$version.tgz" "oci://$registry/charts" >&2

# 3. The kubectl plugin, from the binary the image carries.
download_url=${DOWNLOAD_URL:-https://downloads.example.com/coffer/$version}
[ -n "${DOWNLOAD_URL:-}" ] || log "DOWNLOAD_URL unset: the krew manifest points at $download_url"
binary=$root/target/image/context/rootfs/usr/local/bin/coffer
[ -x "$binary" ] || die "$binary is missing: run make image (make release does)"
"$root/scripts/krew.sh" "$version" "$binary" "$out" "$download_url"

# SBOM and checksums.
SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0) \
  python3 "$root/scripts/sbom.py" "$version" "$image@$digest" >"$out/coffer-$version.cdx.json"
(cd "$out" && sha256sum "coffer-$version.tgz" "coffer-$version.oci.tar" \
  "coffer-$version.cdx.json" "coffer-$version.image" \
  "coffer-$version-linux-amd64.tar.gz" coffer.yaml >SHA256SUMS)
log "released coffer $version in $((SECONDS - start)) s: $image@$digest; files in $out"
echo "helm install coffer oci://$registry/charts/coffer --version $version -n coffer-system --create-namespace"
