#!/usr/bin/env bash
# `make demo`: a real kube-apiserver and etcd on loopback with coffer's CRDs,
# then (as they exist) the provider emulator and the operator, with
# examples/ applied (through the emulator overlay, examples/emulator) and
# their status shown. Everything runs in the background
# under .demo/; `make demo-stop` stops it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
demo=$root/.demo
# Where cargo builds: CARGO_TARGET_DIR when set.
bin=${CARGO_TARGET_DIR:-$root/target}/debug/coffer
dev_bin=${CARGO_TARGET_DIR:-$root/target}/debug/coffer-dev
kubeconfig=$demo/control-plane/kubeconfig
# The emulator overlay (examples/emulator) points the examples at this address.
emulator_url=http://127.0.0.1:8780
metrics_addr=127.0.0.1:8781
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
      local pid; pid=$(cat "$pidfile")
      if kill "$pid" 2>/dev/null; then
        # The control plane stops etcd and kube-apiserver on the way out.
        for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        echo "stopped $name"
      fi
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

# BackupShare: a checkpoint of the examples' vault shared-servers, as the
# emulator's default user (a token, so plain curl can sign in).
make_backup_to_share() {
  local project=0123456789abcdef0123456789abcdef token vault
  token=$(curl -fsS -D - -o /dev/null -X POST "$emulator_url/v3/auth/tokens" \
    -H 'content-type: application/json' \
    -d '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"coffer","password":"coffer-password","domain":{"name":"coffer-account"}}}},"scope":{"project":{"id":"'"$project"'"}}}}' \
    | awk 'tolower($1)=="x-subject-token:" {print $2}' | tr -d '\r')
  vault=$(kubectl get backupvault shared-servers -o jsonpath='{.status.externalId}')
  curl -fsS -X POST "$emulator_url/v3/$project/checkpoints" -H "X-Auth-Token: $token" \
    -H 'content-type: application/json' -d '{"checkpoint":{"vault_id":"'"$vault"'"}}' -o /dev/null
}

start() {
  stop >/dev/null
  mkdir -p "$demo"
  say "Building coffer"
  (cd "$root" && ${CARGO:-cargo} build -q)

  say "Starting etcd and kube-apiserver on loopback"
  rm -rf "$demo/control-plane"
  start_bg control-plane "$dev_bin" --log-format text control-plane --dir "$demo/control-plane" --crds "$root/crds"
  wait_for "the control plane" 120 test -f "$demo/control-plane/ready"
  kubectl version
  kubectl get crds

  say "Starting the provider emulator (Huawei IAM + CBR, Rackspace Identity + Cloud Backup, Commvault under /commandcenter/api) on $emulator_url"
  if curl -fs "$emulator_url/_emulator/faults" >/dev/null 2>&1; then
    echo "demo: something already answers on $emulator_url; stop it first (make demo-stop)" >&2
    exit 1
  fi
  start_bg emulator "$dev_bin" --log-format text emulator --listen "${emulator_url#http://}"
  wait_for "the emulator" 30 curl -fs "$emulator_url/_emulator/faults" -o /dev/null

  say "Starting the operator (coffer run)"
  KUBECONFIG=$kubeconfig start_bg operator "$bin" --log-format text run \
    --metrics-addr "$metrics_addr" --resync-interval 1m --leader-election=false \
    --allowed-endpoints "$emulator_url"
  wait_for "the operator" 60 curl -fs "http://$metrics_addr/readyz" -o /dev/null

  # The examples are written for real clouds; the overlay points them at the
  # emulator and fills in its keys and ids.
  say "Applying examples/ through the emulator overlay (kubectl apply -k examples/emulator)"
  kubectl apply -k "$root/examples/emulator"
  kubectl wait --for=condition=Ready providerconfig --all --timeout=60s
  kubectl wait --for=condition=Ready clusterproviderconfig --all --timeout=60s
  kubectl wait --for=condition=Ready backupvault --all --timeout=90s
  kubectl wait --for=condition=Ready agency --all --timeout=90s

  # BackupShare: the examples share the first backup of vault shared-servers,
  # which CBR makes from a checkpoint; make it, then ask both shares to look.
  say "Making the backup to share (a checkpoint of vault shared-servers)"
  make_backup_to_share
  kubectl annotate backupshare --all --overwrite "coffer.dev/reconcile-requested-at=$(date +%s)"
  kubectl wait --for=condition=Ready backupshare --all --timeout=120s

  say "coffer's resources"
  kubectl get coffer -A
  for bv in $(kubectl get backupvault -o name); do
    echo
    echo "$bv:"
    kubectl get "$bv" -o yaml | sed -n '/^status:/,$p'
  done
  for bs in $(kubectl get backupshare -o name); do
    echo
    echo "$bs:"
    kubectl get "$bs" -o yaml | sed -n '/^status:/,$p'
  done

  # kubectl finds the plugin as kubectl-coffer on PATH: a link to coffer.
  mkdir -p "$demo/bin"
  ln -sf "$bin" "$demo/bin/kubectl-coffer"
  echo
  say "kubectl coffer status -A"
  KUBECONFIG=$kubeconfig PATH="$demo/bin:$PATH" "$KUBECTL" coffer status -A

  cat <<MSG

The demo is running in the background:
  control plane  $(cat "$demo/control-plane/ready")
  emulator       $emulator_url  (what it holds: curl $emulator_url/_emulator/vaults;
                 Commvault's S3 vaults: curl $emulator_url/_emulator/s3-vaults;
                 Rackspace's agents: curl $emulator_url/_emulator/rackspace/agents)
  operator       metrics on http://$metrics_addr/metrics

Use kubectl against it:
  export KUBECONFIG=$kubeconfig
  export PATH=$demo/bin:$(dirname "$KUBECTL"):\$PATH
  kubectl get coffer
  kubectl coffer status -A      # failing first; also: kubectl coffer plan, drift, reconcile bv/NAME
  kubectl patch bv web-servers --type merge -p '{"spec":{"huaweiCloud":{"billing":{"size":200}}}}'
Change the Rackspace vault's passphrase (coffer sends old and new to the agent):
  kubectl patch secret vault-passphrase --type merge -p '{"stringData":{"passphrase":"another passphrase"}}'
Make the cloud misbehave (30% errors) and watch coffer cope:
  curl -X PUT $emulator_url/_emulator/faults -H 'content-type: application/json' -d '{"error_rates":{"500":0.15,"429":0.15}}'
Logs are in $demo/. Stop everything with: make demo-stop
MSG
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
