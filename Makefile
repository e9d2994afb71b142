# coffer: the two commands a newcomer needs are `make demo` and `make test`.
# Everything they need is installed by scripts/install-tools.sh into
# ~/.cache/coffer (override with COFFER_CACHE), keyed by version.

SHELL := /usr/bin/env bash
CARGO ?= cargo

.PHONY: all build tools image crds test lint bench demo demo-stop clean-demo

all: build

build:
	$(CARGO) build

## tools: kube-apiserver (built from its Go module), etcd, kubectl, helm.
tools:
	scripts/install-tools.sh all

## image: coffer's OCI image (a static musl binary on scratch, uid 65532),
## built with buildah into the local podman store as localhost/coffer:<version>
## and written to target/image/coffer-<version>.oci.tar. Installs podman,
## buildah, runc, skopeo and musl-tools from Debian's packages when missing.
image:
	scripts/image.sh

## crds: regenerate crds/ from the API types, and the Helm chart's copy
## (commit the result).
crds:
	$(CARGO) run -q --bin coffer-dev -- crds --out crds
	scripts/sync-chart-crds.sh

## test: every test — formatting and clippy first (a finding fails the run),
## unit tests and doctests, integration against a real kube-apiserver and
## etcd, the chart's pods from the image (tests/pod), the emulator driven by
## the providers' official Python SDKs, chart checks.
test: lint tools image
	$(CARGO) test --lib --bins --tests
	$(CARGO) test --doc
	scripts/python-tests.sh
	scripts/chart-tests.sh

## bench: coffer at scale (COFFER_BENCH_OBJECTS, default 10000): the steady
## mode, then the latency mode (50 ms ± 25 ms); each run is written to
## target/bench/*.json with a PNG. Minutes, so not in `make test`.
## `make bench BENCH_MODES=latency` runs one mode.
BENCH_MODES ?= steady latency
bench: tools
	for mode in $(BENCH_MODES); do COFFER_BENCH_MODE=$$mode $(CARGO) bench --bench scale || exit 1; done

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

## demo: a local control plane, the emulator and the operator, with examples/ applied.
demo: tools
	scripts/demo.sh start

demo-stop:
	scripts/demo.sh stop

clean-demo: demo-stop
	rm -rf .demo
