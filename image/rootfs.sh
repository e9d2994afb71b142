#!/bin/sh
# Lays out coffer's image root filesystem in DEST, the one definition both
# image builds use (scripts/image.sh with buildah, the Dockerfile's build
# stage): the static binary, the CA bundle rustls reads for provider
# endpoints, /etc/passwd and /etc/group naming uid and gid 65532, and an
# empty /tmp for the chart's emptyDir. POSIX sh: the Dockerfile's build stage
# runs it too.
#
# Usage: image/rootfs.sh DEST BINARY CA_BUNDLE
set -eu
dest=$1 binary=$2 ca=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$dest"
mkdir -p "$dest/usr/local/bin" "$dest/etc/ssl/certs" "$dest/tmp" "$dest/home/nonroot"
install -m 0755 "$binary" "$dest/usr/local/bin/coffer"
install -m 0644 "$ca" "$dest/etc/ssl/certs/ca-certificates.crt"
install -m 0644 "$here/passwd" "$dest/etc/passwd"
install -m 0644 "$here/group" "$dest/etc/group"
chmod 1777 "$dest/tmp"
chown 65532:65532 "$dest/home/nonroot" 2>/dev/null || true
chmod 0700 "$dest/home/nonroot"
