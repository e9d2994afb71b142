#!/usr/bin/env bash
# `make image`: coffer's OCI image, built with what this machine reaches.
#
#   1. podman, buildah, runc and skopeo from Debian's packages, musl-gcc
#      (musl-tools) for the C parts, and rustup's x86_64-unknown-linux-musl
#      target (scripts/install-tools.sh image-tools);
#   2. a static release binary, built in a target directory outside the clone
#      (~/.cache/coffer/target-image-<rustc>), so a new clone reuses the
#      dependencies a previous one built;
#   3. image/rootfs.sh lays the root filesystem out (the binary, the CA bundle,
#      /etc/passwd and /etc/group for uid/gid 65532), and buildah builds
#      image/Containerfile on scratch with the OCI labels;
#   4. the image goes into the local container store as localhost/coffer:<version>
#      and into target/image/coffer-<version>.oci.tar (an OCI archive).
#
# Prints the image's name last, on stdout; progress goes to stderr.
# Environment: COFFER_CACHE (default ~/.cache/coffer), COFFER_IMAGE (the
# name to tag, default localhost/coffer:<version of Cargo.toml>).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${COFFER_CACHE:-$HOME/.cache/coffer}
target=x86_64-unknown-linux-musl
log() { printf '[image] %s\n' "$*" >&2; }

"$root/scripts/install-tools.sh" image-tools

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n1)
image=${COFFER_IMAGE:-localhost/coffer:$version}
revision=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
if ! git -C "$root" diff --quiet HEAD -- 2>/dev/null; then revision="$revision-dirty"; fi
source_url=$(git -C "$root" config --get remote.origin.url 2>/dev/null || true)
# Reproducible: every timestamp in the image is the last commit's.
epoch=$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)

rustc_key=$(rustc --version | sha256sum | cut -c1-12)
build_dir=$cache/target-image-$rustc_key
start=$SECONDS
log "building coffer $version ($revision) for $target, release, in $build_dir"
(cd "$root" && CARGO_TARGET_DIR=$build_dir cargo build --release --locked --target "$target" --bin coffer)
binary=$build_dir/$target/release/coffer
log "binary built in $((SECONDS - start)) s: $(du -h "$binary" | cut -f1)"
# A static binary has no program interpreter (the dynamic loader).
! readelf -l "$binary" | grep -q 'INTERP' || { log "$binary is not statically linked"; exit 1; }

out=$root/target/image
context=$out/context
mkdir -p "$out"
"$root/image/rootfs.sh" "$context/rootfs" "$binary" /etc/ssl/certs/ca-certificates.crt
cp "$root/image/Containerfile" "$context/Containerfile"

log "buildah: $image"
buildah bud --quiet --format oci --layers=false --timestamp "$epoch" \
  --build-arg "VERSION=$version" --build-arg "REVISION=$revision" \
  --build-arg "SOURCE=${source_url:-unknown}" \
  -f "$context/Containerfile" -t "$image" "$context" >/dev/null

archive=$out/coffer-$version.oci.tar
rm -f "$archive"
skopeo copy --quiet "containers-storage:$image" "oci-archive:$archive:$image" >&2
size=$(podman image inspect --format '{{.Size}}' "$image")
log "image $image: $((size / 1024)) KiB in the store; archive $archive: $(du -k "$archive" | cut -f1) KiB; $((SECONDS - start)) s in all"
echo "$image"
