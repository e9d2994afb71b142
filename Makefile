# coffer: the two commands a newcomer needs are `make demo` and `make test`.
# Everything they need is installed by scripts/install-tools.sh into
# ~/.cache/coffer (override with COFFER_CACHE), keyed by version.

SHELL := /usr/bin/env bash
CARGO ?= cargo

.PHONY: all build tools image release crds docs test lint bench mutants demo demo-stop clean-demo

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

## release: `make release VERSION=x.y.z REGISTRY=host[:port]/path` pushes the
## image to REGISTRY/coffer and the chart, with that image pinned by digest,
## to oci://REGISTRY/charts/coffer, and writes the chart, the image archive, a
## CycloneDX SBOM, the kubectl plugin's archive and krew manifest, and
## SHA256SUMS to target/dist/VERSION/ (scripts/release.sh). PLAIN_HTTP=1 for
## a registry without TLS; DOWNLOAD_URL=where those files will be published
## (the krew manifest's uri).
release: image
	VERSION=$(VERSION) REGISTRY=$(REGISTRY) PLAIN_HTTP=$(PLAIN_HTTP) DOWNLOAD_URL=$(DOWNLOAD_URL) scripts/release.sh

## crds: regenerate crds/ from the API types, and the Helm chart's copy
## (commit the result).
crds:
	$(CARGO) run -q --bin coffer-dev -- crds --out crds
	scripts/sync-chart-crds.sh

## docs: regenerate docs/api-reference.md (from the CRD schemas) and
## docs/reasons.md (from the code's condition reasons); commit the result.
## A unit test fails when the committed pages are stale.
docs:
	$(CARGO) run -q --bin coffer-dev -- docs --out docs

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

## mutants: how many mutants of the engine and the pure plan modules the
## unit tests catch (cargo-mutants: `cargo install cargo-mutants --locked`).
## .cargo/mutants.toml says what is examined, what is left out and why.
## Hours on two cores, so neither in `make test` nor in CI; one job, niced.
## MUTANTS_ARGS narrows or extends it, e.g. MUTANTS_ARGS='--re agency/'
## or MUTANTS_ARGS='--iterate' (only what was not caught last time).
## Results in target/mutants/mutants.out/ (caught.txt, missed.txt, ...).
MUTANTS_ARGS ?=
mutants:
	nice -n 10 $(CARGO) mutants --jobs 1 --no-shuffle --output target/mutants $(MUTANTS_ARGS)

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
