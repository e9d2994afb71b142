#!/usr/bin/env bash
# Checks the Helm chart in charts/coffer, and fails on the first problem:
#   1. `helm lint --strict` with the default and with non-default values;
#   2. `helm template` with both, and what each must (not) render;
#   3. values.schema.json refuses bad values;
#   4. against a real kube-apiserver and etcd of its own (`coffer-dev control-plane`,
#      started with no CRDs, so the chart's CRDs are the ones served):
#      a server-side dry run of both renders, `helm install`, the RBAC it grants
#      (`kubectl auth can-i` as the operator's ServiceAccount), the examples
#      against the chart's CRDs, `helm upgrade`, `helm uninstall` (the CRDs are
#      kept), a reinstall that adopts the kept CRDs, and that `helm uninstall`
#      leaves nothing else of the release (with and without the CRDs), with
#      kube-controller-manager's collector running; then the release's
#      namespace is deleted in full;
#   5. the monitoring parts: every PromQL expression of the alerts and the
#      dashboard parsed by Prometheus's parser (tools/promql-check), and a
#      `helm install` with all of them on, against prometheus-operator's CRDs.
# Pods never run (there is no kubelet), so nothing here waits for them.
#
# `make test` runs this after the cargo tests. Uses the kubectl and helm from
# scripts/install-tools.sh.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
chart=$root/charts/coffer
nondefault=$chart/ci/nondefault-values.yaml
eval "$("$root/scripts/install-tools.sh" env)"

work=$(mktemp -d "${TMPDIR:-/tmp}/coffer-chart-tests.XXXXXX")
export HELM_CACHE_HOME=$work/helm/cache HELM_CONFIG_HOME=$work/helm/config HELM_DATA_HOME=$work/helm/data
cp_pid=""
cleanup() {
  if [ -n "$cp_pid" ]; then
    kill "$cp_pid" 2>/dev/null || true
    wait "$cp_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

start=$SECONDS
step() { printf '[chart-tests] %3ds %s\n' "$((SECONDS - start))" "$*" >&2; }
fail() {
  printf '[chart-tests] FAIL: %s\n' "$*" >&2
  exit 1
}
helm() { "$HELM" "$@"; }
kubectl() { "$KUBECTL" --kubeconfig "$work/cp/kubeconfig" "$@"; }

# expect_count FILE PATTERN N: FILE has exactly N lines matching PATTERN.
expect_count() {
  local n
  n=$(grep -cE -- "$2" "$1" || true)
  [ "$n" -eq "$3" ] || fail "$(basename "$1"): expected $3 lines matching '$2', found $n"
}
expect_has() { grep -qE -- "$2" "$1" || fail "$(basename "$1"): nothing matches '$2'"; }
expect_lacks() { ! grep -qE -- "$2" "$1" || fail "$(basename "$1"): something matches '$2'"; }

# ---- helm uninstall: nothing of the release is left --------------------------------
# The control plane runs kube-controller-manager, so anything owned by what
# helm deletes is collected as in a real cluster; these checks wait for it.

# release_leftovers RELEASE NAMESPACE: every object, of every kind the server
# can list, labelled as the release's, and helm's own record of it.
release_leftovers() {
  local kinds
  kinds=$(kubectl api-resources --verbs=list -o name | grep -v '^events' | paste -sd, -)
  # A listing that fails says so in what is "left", which fails the check.
  # (Warnings, such as a deprecated kind's, go to stderr and are not errors.)
  kubectl get "$kinds" -A -l "app.kubernetes.io/instance=$1" -o name --ignore-not-found 2>/dev/null ||
    echo "(cannot list the release's objects)"
  kubectl get secrets -n "$2" -l "owner=helm,name=$1" -o name || echo "(cannot list helm's records)"
}

# namespace_leftovers NAMESPACE: every object in it but what any namespace
# holds (its default ServiceAccount) and Events.
namespace_leftovers() {
  local kinds out
  kinds=$(kubectl api-resources --verbs=list --namespaced -o name | grep -v '^events' | paste -sd, -)
  # An error is not "nothing left": it shows as left, which fails the check.
  out=$(kubectl get "$kinds" -n "$1" -o name --ignore-not-found 2>/dev/null) ||
    out="(cannot list what is left in namespace $1)"
  # grep finds no line when nothing is left, which is success here.
  grep -vx 'serviceaccount/default' <<<"$out" || true
}

# gone ARGS...: whether `kubectl get ARGS` finds nothing. Only NotFound
# means gone; any other error fails the run.
gone() {
  local out
  if out=$(kubectl get "$@" -o name 2>&1); then
    return 1
  fi
  grep -q 'NotFound' <<<"$out" || fail "kubectl get $*: $out"
}

# uninstall_leaves_nothing RELEASE NAMESPACE kept-crds|no-crds: after
# `helm uninstall`, within 30 s, nothing of the release is left but, with
# kept-crds, coffer's CRDs (crds.install keeps them on purpose).
uninstall_leaves_nothing() {
  local release=$1 ns=$2 crds=$3 left=""
  for _ in $(seq 1 60); do
    left=$(release_leftovers "$release" "$ns" | sort)
    [ "$crds" = kept-crds ] && left=$(grep -v '^customresourcedefinition\.apiextensions\.k8s\.io/[a-z]*\.coffer\.dev$' <<<"$left" || true)
    left+=$(namespace_leftovers "$ns")
    [ -z "$left" ] && break
    sleep 0.5
  done
  [ -z "$left" ] || fail "helm uninstall $release left behind: $left"
  if [ "$crds" = kept-crds ]; then
    [ "$(kubectl get crd -l "app.kubernetes.io/instance=$release" -o name | grep -c 'coffer\.dev$')" -eq "$crd_count" ] ||
      fail "helm uninstall $release did not keep every CRD"
  fi
}

# ---- 1. lint -------------------------------------------------------------------
step "helm lint --strict"
helm lint --strict "$chart" >/dev/null
helm lint --strict "$chart" -f "$nondefault" >/dev/null

step "the chart's CRDs are the generated ones"
diff -r "$root/crds" "$chart/files/crds" >/dev/null ||
  fail "charts/coffer/files/crds differs from crds/: run make crds"

# ---- 2. render -----------------------------------------------------------------
step "helm template with the default values"
default=$work/default.yaml
helm template coffer "$chart" -n coffer-system >"$default"
# One per generated CRD, so a new kind needs no edit here.
crd_count=$(find "$root/crds" -name '*.yaml' | wc -l)
expect_count "$default" '^kind: CustomResourceDefinition$' "$crd_count"
expect_count "$default" 'helm.sh/resource-policy: keep' "$crd_count"
for kind in ServiceAccount Role RoleBinding Service Deployment; do
  expect_count "$default" "^kind: $kind\$" 1
done
# coffer's own, and the one that serves ClusterProviderConfigs.
expect_count "$default" '^kind: ClusterRole$' 2
expect_count "$default" '^kind: ClusterRoleBinding$' 2
expect_lacks "$default" 'cluster-provider-configs'
helm template coffer "$chart" --set clusterProviderConfigs.enabled=false >"$work/no-cpc.yaml"
expect_count "$work/no-cpc.yaml" '^kind: ClusterRole$' 1
expect_has "$work/no-cpc.yaml" '^ +- --cluster-provider-configs=false$'
helm template coffer "$chart" --set 'watchNamespaces={team-a}' --set clusterProviderConfigs.enabled=true >"$work/ns-cpc.yaml"
expect_count "$work/ns-cpc.yaml" '^kind: ClusterRole$' 1
expect_has "$work/ns-cpc.yaml" 'name: coffer-cluster-configs$'
expect_lacks "$work/ns-cpc.yaml" 'cluster-provider-configs=false' 
expect_has "$default" '^ +- --resync-interval=10m$'
expect_has "$default" '^ +- --metrics-addr=0\.0\.0\.0:8080$'
expect_has "$default" '^ +- --leader-election$'
expect_has "$default" '^ +- --reconcile-deadline=1m$'
expect_lacks "$default" 'watch-namespaces'
expect_lacks "$default" 'max-concurrent-reconciles-per-config'
expect_has "$default" 'fieldPath: metadata.namespace'
expect_has "$default" 'prometheus.io/scrape: "true"'
expect_has "$default" 'readOnlyRootFilesystem: true'
expect_has "$default" 'runAsUser: 65532'
expect_has "$default" 'path: /healthz'
expect_has "$default" 'path: /readyz'
# The binary's own default log level applies unless operator.logLevel is set.
expect_lacks "$default" 'log-level|RUST_LOG'
expect_lacks "$default" 'topologySpreadConstraints'
helm template coffer "$chart" --set image.repository=registry.example.com/coffer \
  --set image.digest=sha256:"$(printf '0%.0s' $(seq 64))" >"$work/digest.yaml"
expect_has "$work/digest.yaml" 'image: "registry.example.com/coffer@sha256:0{64}"'

step "helm template with every value changed"
custom=$work/nondefault.yaml
helm template coffer "$chart" -n coffer-system -f "$nondefault" >"$custom"
expect_count "$custom" '^kind: CustomResourceDefinition$' 0
expect_count "$custom" '^kind: ServiceAccount$' 0
expect_count "$custom" '^kind: Service$' 0
# watchNamespaces: a Role and a RoleBinding in team-a, team-b and the
# release namespace, the leader-election Role beside them, nothing cluster-wide.
expect_count "$custom" '^kind: Role$' 4
expect_count "$custom" '^kind: RoleBinding$' 4
expect_count "$custom" '^kind: ClusterRole(Binding)?$' 0
expect_has "$custom" '^ +- --watch-namespaces=team-a,team-b$'
# Without a ClusterRole there is no ClusterProviderConfig to read.
expect_has "$custom" '^ +- --cluster-provider-configs=false$'
expect_has "$custom" '^ +- --reconcile-deadline=90s$'
expect_has "$custom" '^ +- --max-concurrent-reconciles-per-config=4$'
expect_has "$custom" '^  name: backup-operator$'
expect_has "$custom" 'serviceAccountName: platform-operator'
expect_has "$custom" 'image: "registry.example.com/platform/coffer:0.1.0-rc.1"'
expect_has "$custom" '^  replicas: 3$'
expect_has "$custom" '^ +- --resync-interval=1h30m$'
expect_has "$custom" '^ +- --metrics-addr=0\.0\.0\.0:9090$'
expect_has "$custom" '^ +- "--example-flag=1"$'
expect_has "$custom" 'containerPort: 9090'
expect_has "$custom" 'value: "text"'
expect_has "$custom" 'name: HTTPS_PROXY'
expect_has "$custom" 'priorityClassName: system-cluster-critical'
expect_has "$custom" '^ +- --log-level=info,coffer=debug$'
expect_has "$custom" 'topologyKey: topology.kubernetes.io/zone'
expect_has "$custom" 'mountPath: /etc/proxy-ca'
expect_has "$custom" 'name: proxy-ca$'
# podSecurityContext null: the platform (OpenShift) assigns the uid and gid.
expect_lacks "$custom" 'runAsUser|runAsGroup'
expect_has "$custom" 'runAsNonRoot: true'

step "helm template with crds.keep=false"
unkept=$work/unkept.yaml
helm template coffer "$chart" -n coffer-system --set crds.keep=false >"$unkept"
expect_count "$unkept" '^kind: CustomResourceDefinition$' "$crd_count"
expect_lacks "$unkept" 'helm.sh/resource-policy'

step "helm template without leader election or RBAC"
bare=$work/bare.yaml
helm template coffer "$chart" -n coffer-system --set operator.leaderElection=false --set rbac.create=false >"$bare"
expect_lacks "$bare" '^kind: (Cluster)?Role(Binding)?$'
expect_lacks "$bare" 'leader-election'

# ---- 3. values.schema.json -----------------------------------------------------------
step "values.schema.json and the template guards refuse bad values"
refuses() { # reason, helm template arguments...
  local reason=$1
  shift
  if helm template coffer "$chart" "$@" >/dev/null 2>"$work/refusal"; then
    fail "helm template accepted $reason ($*)"
  fi
}
refuses "a misspelt value" --set image.tagg=1
refuses "a digest that is not a sha256 digest" --set image.digest=latest
refuses "an unknown log format" --set operator.logFormat=xml
refuses "a resync interval that is not a duration" --set operator.resyncInterval=often
refuses "a port out of range" --set metrics.port=70000
refuses "a non-boolean toggle" --set-string crds.install=yes
refuses "a non-boolean crds.keep" --set-string crds.keep=no
refuses "a uid that is not a number" --set-string podSecurityContext.runAsUser=nobody
refuses "a volume mount without a path" --set-json 'extraVolumeMounts=[{"name":"x"}]'
refuses "a reconcile deadline that is not a duration" --set operator.reconcileDeadline=soon
refuses "a watched namespace that is no namespace name" --set 'watchNamespaces={Team_A}'
refuses "several replicas without leader election" --set replicaCount=2 --set operator.leaderElection=false
grep -q 'needs operator.leaderElection' "$work/refusal" || fail "the replica guard gave no reason: $(cat "$work/refusal")"

# ---- 4. a real API server --------------------------------------------------------------
step "starting kube-apiserver and etcd (no CRDs: the chart installs them)"
(cd "$root" && cargo build -q)
mkdir -p "$work/no-crds"
"${COFFER_DEV_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/coffer-dev}" --log-format text control-plane --dir "$work/cp" --crds "$work/no-crds" \
  >"$work/control-plane.log" 2>&1 &
cp_pid=$!
for _ in $(seq 1 240); do
  [ -f "$work/cp/ready" ] && break
  kill -0 "$cp_pid" 2>/dev/null || fail "the control plane exited: $(tail -n 20 "$work/control-plane.log")"
  sleep 0.5
done
[ -f "$work/cp/ready" ] || fail "the control plane was not ready after 120 s: $(tail -n 20 "$work/control-plane.log")"
export KUBECONFIG=$work/cp/kubeconfig
kubectl create namespace coffer-system >/dev/null
# The namespaces the non-default values watch; RoleBindings need them first.
for ns in team-a team-b team-c; do kubectl create namespace "$ns" >/dev/null; done

step "server-side dry run of both renders"
kubectl apply --dry-run=server -f "$default" >/dev/null
kubectl apply --dry-run=server -f "$custom" >/dev/null

step "helm install"
helm install coffer "$chart" -n coffer-system >"$work/install.txt"
grep -q 'coffer-system' "$work/install.txt" || fail "helm install printed no NOTES: $(cat "$work/install.txt")"
kubectl wait --for condition=established --timeout=60s \
  crd/backupvaults.coffer.dev crd/providerconfigs.coffer.dev >/dev/null
[ "$(kubectl get crd backupvaults.coffer.dev -o jsonpath='{.metadata.annotations.helm\.sh/resource-policy}')" = keep ] ||
  fail "the CRDs do not carry helm.sh/resource-policy: keep"
kubectl -n coffer-system get deployment/coffer serviceaccount/coffer service/coffer-metrics \
  role/coffer-leader-election rolebinding/coffer-leader-election >/dev/null
kubectl get clusterrole/coffer clusterrolebinding/coffer >/dev/null

step "the operator's ServiceAccount can do what coffer needs, and no more"
sa=system:serviceaccount:coffer-system:coffer
can() { [ "$(kubectl auth can-i --as "$sa" "$@" 2>/dev/null)" = yes ] || fail "the operator cannot: $*"; }
cannot() { [ "$(kubectl auth can-i --as "$sa" "$@" 2>/dev/null)" = no ] || fail "the operator may: $*"; }
for verb in get list watch patch update; do
  can "$verb" backupvaults.coffer.dev -A
  can "$verb" providerconfigs.coffer.dev -A
done
can patch backupvaults.coffer.dev --subresource=status -n team-a
can update providerconfigs.coffer.dev --subresource=status -n team-a
can update backupvaults.coffer.dev --subresource=finalizers -n team-a
can watch secrets -A
can create events -n team-a
cannot create events.events.k8s.io -n team-a
can create leases.coordination.k8s.io -n coffer-system
can update leases.coordination.k8s.io -n coffer-system
cannot create backupvaults.coffer.dev -n team-a
cannot delete backupvaults.coffer.dev -n team-a
cannot delete providerconfigs.coffer.dev -n team-a
# Rackspace: coffer's copy of a vault passphrase, written by server-side apply.
can create secrets -n team-a
can patch secrets -n team-a
cannot update secrets -n team-a
cannot delete secrets -n team-a
# caBundleRef: labelled ConfigMaps are read (watched) and patched for the
# in-use finalizer only: never created, updated or deleted.
can watch configmaps -A
can patch configmaps -n team-a
cannot create configmaps -n team-a
cannot update configmaps -n team-a
cannot delete configmaps -n team-a
cannot delete events -n team-a
cannot update leases.coordination.k8s.io -n team-a
cannot delete leases.coordination.k8s.io -n coffer-system
# Agency: the same rights as every managed kind, and no more.
for verb in get list watch patch update; do
  can "$verb" agencies.coffer.dev -A
done
can patch agencies.coffer.dev --subresource=status -n team-a
can update agencies.coffer.dev --subresource=finalizers -n team-a
cannot create agencies.coffer.dev -n team-a
cannot delete agencies.coffer.dev -n team-a
# BackupShare: the same rights as every managed kind, and no more.
for verb in get list watch patch update; do
  can "$verb" backupshares.coffer.dev -A
done
can patch backupshares.coffer.dev --subresource=status -n team-a
can update backupshares.coffer.dev --subresource=finalizers -n team-a
cannot create backupshares.coffer.dev -n team-a
cannot delete backupshares.coffer.dev -n team-a
# ClusterProviderConfig: read, status and finalizer; the Namespaces' labels
# read, never written.
for verb in get list watch patch update; do
  can "$verb" clusterproviderconfigs.coffer.dev
done
can patch clusterproviderconfigs.coffer.dev --subresource=status
can update clusterproviderconfigs.coffer.dev --subresource=finalizers
cannot create clusterproviderconfigs.coffer.dev
cannot delete clusterproviderconfigs.coffer.dev
can watch namespaces
cannot patch namespaces
cannot delete namespaces

# can_i_matrix SA: what SA may do with Secrets and coffer's objects in each
# namespace and across all of them, one line per namespace (printed for the
# record; the checks are the can/cannot lines).
can_i_matrix() {
  local who=$1 ns scope
  printf '[chart-tests]   %-14s %-12s %-12s %-13s %-12s %-13s %s\n' namespace "get secret" "list secret" "patch secret" "list vaults" "patch vaults" "create event" >&2
  for ns in team-a team-b team-c coffer-system coffer-ns -A; do
    scope=(-n "$ns")
    [ "$ns" = -A ] && scope=(-A)
    printf '[chart-tests]   %-14s' "$ns" >&2
    for check in "get secrets" "list secrets" "patch secrets" "list backupvaults.coffer.dev" "patch backupvaults.coffer.dev" "create events"; do
      # shellcheck disable=SC2086
      printf ' %-12s' "$(kubectl auth can-i --as "$who" $check "${scope[@]}" 2>/dev/null || true)" >&2
    done
    printf '\n' >&2
  done
}
step "can-i matrix, all namespaces (the default): $sa"
can_i_matrix "$sa"

step "watchNamespaces: rights in the listed namespaces and its own, none elsewhere"
kubectl create namespace coffer-ns >/dev/null
# The CRDs belong to the first release; this one only adds its own objects.
helm install coffer-ns "$chart" -n coffer-ns --set crds.install=false \
  --set 'watchNamespaces={team-a,team-b}' >/dev/null
args=$(kubectl -n coffer-ns get deployment coffer-ns -o jsonpath='{.spec.template.spec.containers[0].args}')
[[ $args == *'--watch-namespaces=team-a,team-b'* ]] || fail "the Deployment does not watch the listed namespaces: $args"
! kubectl get clusterrole coffer-ns >/dev/null 2>&1 || fail "namespaced mode installed a ClusterRole"
nsa=system:serviceaccount:coffer-ns:coffer-ns
ns_can() { [ "$(kubectl auth can-i --as "$nsa" "$@" 2>/dev/null)" = yes ] || fail "namespaced coffer cannot: $*"; }
ns_cannot() { [ "$(kubectl auth can-i --as "$nsa" "$@" 2>/dev/null)" = no ] || fail "namespaced coffer may: $*"; }
for ns in team-a team-b coffer-ns; do
  for verb in get list watch create patch; do ns_can "$verb" secrets -n "$ns"; done
  for verb in get list watch patch; do ns_can "$verb" configmaps -n "$ns"; done
  for kind in backupvaults providerconfigs agencies backupshares; do
    for verb in get list watch patch update; do ns_can "$verb" "$kind.coffer.dev" -n "$ns"; done
    ns_can patch "$kind.coffer.dev" --subresource=status -n "$ns"
    ns_can update "$kind.coffer.dev" --subresource=finalizers -n "$ns"
    ns_cannot create "$kind.coffer.dev" -n "$ns"
    ns_cannot delete "$kind.coffer.dev" -n "$ns"
  done
  ns_can create events -n "$ns"
  ns_cannot create events.events.k8s.io -n "$ns"
  ns_cannot update secrets -n "$ns"
  ns_cannot delete secrets -n "$ns"
done
ns_can create leases.coordination.k8s.io -n coffer-ns
# Outside the listed namespaces: nothing at all.
for ns in team-c coffer-system default kube-system; do
  for verb in get list watch create patch; do ns_cannot "$verb" secrets -n "$ns"; done
  ns_cannot list configmaps -n "$ns"
  ns_cannot list backupvaults.coffer.dev -n "$ns"
  ns_cannot patch providerconfigs.coffer.dev -n "$ns"
  ns_cannot create events -n "$ns"
done
for resource in secrets configmaps backupvaults.coffer.dev providerconfigs.coffer.dev agencies.coffer.dev backupshares.coffer.dev; do
  ns_cannot list "$resource" -A
  ns_cannot watch "$resource" -A
done
ns_cannot list namespaces
ns_cannot list clusterproviderconfigs.coffer.dev
step "can-i matrix, watchNamespaces={team-a,team-b}: $nsa"
can_i_matrix "$nsa"
helm uninstall coffer-ns -n coffer-ns >/dev/null
uninstall_leaves_nothing coffer-ns coffer-ns no-crds
kubectl delete namespace coffer-ns --wait=false >/dev/null

step "the examples are accepted by the chart's CRDs"
kubectl create namespace examples >/dev/null
for dir in huaweicloud huaweicloud/backup-share rackspace commvault shared/platform shared/team emulator; do
  kubectl apply --dry-run=server -n examples -k "$root/examples/$dir" >/dev/null
done

step "helm upgrade"
helm upgrade coffer "$chart" -n coffer-system --set operator.resyncInterval=5m --set replicaCount=2 >/dev/null
args=$(kubectl -n coffer-system get deployment coffer -o jsonpath='{.spec.template.spec.containers[0].args}')
[[ $args == *'--resync-interval=5m'* ]] || fail "the upgrade did not reach the Deployment: $args"
[ "$(kubectl -n coffer-system get deployment coffer -o jsonpath='{.spec.replicas}')" = 2 ] ||
  fail "the upgrade did not scale the Deployment"
[ "$(helm status coffer -n coffer-system -o json | grep -o '"version":[0-9]*' | head -n1)" = '"version":2' ] ||
  fail "helm does not report revision 2"

step "helm uninstall keeps the CRDs"
helm uninstall coffer -n coffer-system >"$work/uninstall.txt"
gone -n coffer-system deployment coffer || fail "the Deployment survived helm uninstall"
gone clusterrole coffer || fail "the ClusterRole survived helm uninstall"
gone clusterrole coffer-cluster-configs || fail "the ClusterProviderConfig ClusterRole survived helm uninstall"
kubectl get crd backupvaults.coffer.dev providerconfigs.coffer.dev clusterproviderconfigs.coffer.dev >/dev/null ||
  fail "helm uninstall deleted the CRDs"

step "a reinstall adopts the kept CRDs"
helm install coffer "$chart" -n coffer-system >/dev/null
# The leftover check sees an installed release, so its silence below means something.
installed=$(release_leftovers coffer coffer-system)
grep -qx 'deployment.apps/coffer' <<<"$installed" ||
  fail "release_leftovers does not see the installed release: $installed"
helm uninstall coffer -n coffer-system >/dev/null
uninstall_leaves_nothing coffer coffer-system kept-crds

step "crds.keep=false: helm uninstall deletes the CRDs too"
helm install coffer "$chart" -n coffer-system --set crds.keep=false >/dev/null
[ -z "$(kubectl get crd backupvaults.coffer.dev -o jsonpath='{.metadata.annotations.helm\.sh/resource-policy}')" ] ||
  fail "crds.keep=false left the keep policy on the CRDs"
helm uninstall coffer -n coffer-system >/dev/null
uninstall_leaves_nothing coffer coffer-system no-crds
! kubectl get crd backupvaults.coffer.dev >/dev/null 2>&1 || fail "crds.keep=false kept the CRDs"

step "helm uninstall without the CRDs leaves nothing at all"
helm install bare "$chart" -n coffer-system --set crds.install=false >/dev/null
helm uninstall bare -n coffer-system >/dev/null
uninstall_leaves_nothing bare coffer-system no-crds

step "the release's namespace is deleted in full (kube-controller-manager's namespace controller)"
kubectl delete namespace coffer-system --timeout=60s >/dev/null ||
  fail "namespace coffer-system was not deleted within 60 s: $(kubectl get namespace coffer-system -o yaml)"

# ---- 5. monitoring (ServiceMonitor, PrometheusRule, dashboard, PDB, NetworkPolicy) ----
# prometheus-operator's own CRDs and Prometheus's own PromQL parser, both
# pinned and cached by scripts/install-tools.sh.
"$root/scripts/install-tools.sh" monitoring
eval "$("$root/scripts/install-tools.sh" env)"
monitoring=$chart/ci/monitoring-values.yaml

step "the monitoring parts: off by default, rendered when asked"
helm lint --strict "$chart" -f "$monitoring" >/dev/null
for kind in ServiceMonitor PrometheusRule ConfigMap PodDisruptionBudget NetworkPolicy; do
  expect_count "$default" "^kind: $kind\$" 0
done
mon=$work/monitoring.yaml
helm template coffer "$chart" -n coffer-monitoring -f "$monitoring" >"$mon"
for kind in ServiceMonitor PrometheusRule ConfigMap PodDisruptionBudget NetworkPolicy; do
  expect_count "$mon" "^kind: $kind\$" 1
done
expect_has "$mon" 'grafana_dashboard: "1"'
expect_has "$mon" 'app.kubernetes.io/component: metrics'
expect_has "$custom" '^kind: NetworkPolicy$'
expect_has "$custom" 'grafana_folder: Platform'
expect_lacks "$custom" '^kind: PodDisruptionBudget$'
helm template coffer "$chart" -n coffer-system -f "$monitoring" --set replicaCount=1 >"$work/one.yaml"
expect_lacks "$work/one.yaml" '^kind: PodDisruptionBudget$'
refuses "a ServiceMonitor without the metrics Service" --set serviceMonitor.enabled=true --set metrics.service.enabled=false
refuses "a not-Ready threshold that is not a duration" --set prometheusRule.enabled=true --set prometheusRule.notReadyFor=soon

step "every PromQL expression parses with Prometheus's parser"
"$PROMQL_CHECK" <"$mon" >"$work/metric-names.txt" 2>"$work/promql-check.log" ||
  fail "promql-check: $(cat "$work/promql-check.log")"
expect_has "$work/metric-names.txt" '^coffer_objects_not_ready_longest_seconds$'
helm template coffer "$chart" -n coffer-system -f "$nondefault" --set prometheusRule.enabled=true |
  "$PROMQL_CHECK" >/dev/null 2>"$work/promql-check.log" ||
  fail "promql-check with a custom selector: $(cat "$work/promql-check.log")"

step "prometheus-operator's CRDs accept the chart with every monitoring part on"
kubectl apply --server-side -f "$MONITORING_CRDS" >/dev/null
kubectl wait --for condition=established --timeout=60s \
  crd/servicemonitors.monitoring.coreos.com crd/prometheusrules.monitoring.coreos.com >/dev/null
kubectl create namespace coffer-monitoring >/dev/null
kubectl apply --dry-run=server -n coffer-monitoring -f "$mon" >/dev/null
helm install coffer-mon "$chart" -n coffer-monitoring -f "$monitoring" >/dev/null
kubectl -n coffer-monitoring get servicemonitor/coffer-mon prometheusrule/coffer-mon \
  configmap/coffer-mon-dashboard poddisruptionbudget/coffer-mon networkpolicy/coffer-mon >/dev/null
[ "$(kubectl -n coffer-monitoring get servicemonitor coffer-mon -o jsonpath='{.spec.endpoints[0].port}')" = metrics ] ||
  fail "the ServiceMonitor does not scrape the metrics port"
# The ServiceMonitor's selector picks the metrics Service, and only it.
selector=$(kubectl -n coffer-monitoring get servicemonitor coffer-mon \
  -o go-template='{{range $k, $v := .spec.selector.matchLabels}}{{$k}}={{$v}},{{end}}')
[ "$(kubectl -n coffer-monitoring get service -l "${selector%,}" -o name)" = service/coffer-mon-metrics ] ||
  fail "the ServiceMonitor's selector ($selector) does not pick the metrics Service alone"
helm uninstall coffer-mon -n coffer-monitoring >/dev/null

step "all chart checks passed"
