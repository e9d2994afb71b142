# syntax=docker/dockerfile:1
# coffer's image: one static binary (musl), on distroless/static (CA
# certificates, /etc/passwd, nothing else), running as uid 65532.
#
#   docker build -t coffer:dev .
#   docker run --rm coffer:dev --help
#
# The entrypoint is `coffer`; the default command is `run` (the operator).

# The toolchain the lockfile is built and tested with.
ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS build
ARG TARGET=x86_64-unknown-linux-musl
# musl-gcc for the C parts (aws-lc-sys, ring, jemalloc); cmake for
# aws-lc-sys when it cannot use its cc-only build.
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools cmake \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add "$TARGET"
WORKDIR /src
# The git revision coffer_build_info reports (build.rs; the context has no .git):
#   docker build --build-arg COFFER_REVISION=$(git rev-parse --short=12 HEAD) .
ARG COFFER_REVISION=unknown
# Only what the build reads (see .dockerignore): sources, tests and benches (declared
# as targets in Cargo.toml), manifest and lockfile.
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --target "$TARGET" --bin coffer \
 && install -D -m 0755 "target/$TARGET/release/coffer" /out/coffer

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/coffer /usr/local/bin/coffer
# distroless's "nonroot" user; the chart's securityContext expects this uid.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/coffer"]
CMD ["run"]
