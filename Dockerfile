# syntax=docker/dockerfile:1
# coffer's image for users with Docker and a registry: one static binary
# (musl) on scratch, with a CA bundle, /etc/passwd and /etc/group for uid and
# gid 65532. `make image` builds the same image here with buildah from
# image/Containerfile; both lay the root filesystem out with image/rootfs.sh
# and share the runtime stage's text (tests/image_layout.rs checks it).
#
#   docker build -t coffer:0.1.0 --build-arg VERSION=0.1.0 \
#     --build-arg REVISION=$(git rev-parse HEAD) .
#   docker run --rm coffer:0.1.0 --help
#
# The entrypoint is `coffer`; the default command is `run` (the operator).

# The toolchain the lockfile is built and tested with.
ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS build
ARG TARGET=x86_64-unknown-linux-musl
# musl-gcc for the C parts (aws-lc-sys, jemalloc); cmake for aws-lc-sys
# when it cannot use its cc-only build.
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools cmake ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add "$TARGET"
WORKDIR /src
# The git revision: the image's label and what coffer_build_info reports
# (build.rs reads COFFER_REVISION; the context has no .git).
ARG REVISION=unknown
# Only what the build reads (see .dockerignore): sources, tests and benches (declared
# as targets in Cargo.toml), manifest, lockfile and image/.
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    COFFER_REVISION="$REVISION" cargo build --release --locked --target "$TARGET" --bin coffer \
 && image/rootfs.sh /rootfs "target/$TARGET/release/coffer" /etc/ssl/certs/ca-certificates.crt

FROM scratch
# ---- runtime stage: keep in step with the Dockerfile's ----
ARG VERSION=0.0.0
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="coffer" \
      org.opencontainers.image.description="A Kubernetes operator for backup vaults, shares and agencies on Huawei Cloud, Rackspace and Commvault" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /rootfs/ /
# The chart's securityContext runs as this uid and gid ("nonroot").
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/coffer"]
CMD ["run"]
