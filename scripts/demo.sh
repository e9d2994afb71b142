#!/usr/bin/env bash
# `make demo`: a real kube-apiserver and etcd on loopback with coffer's CRDs,
# then (as they exist) the provider emulator and the operator, with
# examples/ applied and their status shown. Everything runs in the background
# under .demo/; `make demo-stop` stops it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
demo=$root/.demo
bin=$root/target/debug/coffer
kubeconfig=$demo/control-plane/kubeconfig
eval "$("$root/scripts/install-tools.sh" env)"
kubectl() { "$KUBECTL" --kubeconfig "$kubeconfig" "$@"; }

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

start_bg() { # name, command...
  local name=$1; shift
  nohup "$@" >"$demo/$name.log" 2>&1 &
  echo $! >"$demo/$name.pid"
}

stop() {
  for name in operator emulator control-plane; do
    local pidfile=$demo/$name.pid
    if [ -f "$pidfile" ]; then
      kill "$(cat "$pidfile")" 2>/dev/null && echo "stopped $name" || true
      rm -f "$pidfile"
    fi
  done
}

wait_for() { # what, seconds, test command...
  local what=$1 secs=$2; shift 2
  for _ in $(seq 1 "$secs"); do "$@" && return 0; sleep 1; done
  echo "demo: $what did not come up in ${secs}s; see the logs in $demo/" >&2
  exit 1
}

start() {
  stop >/dev/null
  mkdir -p "$demo"
  say "Building coffer"
  (cd "$root" && cargo build -q)

  say "Starting etcd and kube-apiserver on loopback"
  rm -rf "$demo/control-plane"
  start_bg control-plane "$bin" --log-format text control-plane --dir "$demo/control-plane" --crds "$root/crds"
  wait_for "the control plane" 120 test -f "$demo/control-plane/ready"
  kubectl version
  kubectl get crds

  if [ -d "$root/examples" ]; then
    say "Applying examples/"
    kubectl apply -R -f "$root/examples/"
  fi

  say "coffer's resources"
  kubectl get coffer -A -o wide 2>/dev/null || true

  cat <<MSG

The demo is running in the background.
  export KUBECONFIG=$kubeconfig
  $KUBECTL get crds
Logs are in $demo/. Stop everything with: make demo-stop
MSG
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
