{{/* Chart name, overridable. */}}
{{- define "coffer.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects: the release name, plus the chart
name unless the release name already contains it. */}}
{{- define "coffer.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "coffer.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "coffer.labels" -}}
helm.sh/chart: {{ include "coffer.chart" . }}
{{ include "coffer.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: coffer
{{- end }}

{{/* Labels that select the operator's pods. */}}
{{- define "coffer.selectorLabels" -}}
app.kubernetes.io/name: {{ include "coffer.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The ServiceAccount coffer runs as. */}}
{{- define "coffer.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "coffer.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- /* By digest when one is set (a released chart pins its image so), else by tag. */}}
{{- define "coffer.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* A duration such as 90s, 30m, 1h or 1d in seconds, for PromQL. */}}
{{- define "coffer.seconds" -}}
{{- $d := toString . }}
{{- if not (regexMatch "^[0-9]+(s|m|h|d)$" $d) }}
{{- fail (printf "%q is not a duration such as 30m, 1h or 1d" $d) }}
{{- end }}
{{- $n := int (trimSuffix "s" (trimSuffix "m" (trimSuffix "h" (trimSuffix "d" $d)))) }}
{{- $unit := dict "s" 1 "m" 60 "h" 3600 "d" 86400 }}
{{- mul $n (get $unit (substr (int (sub (len $d) 1)) (len $d) $d)) }}
{{- end }}

{{/*
The rules coffer needs in every namespace it watches: a ClusterRole's with
the default watchNamespaces (all), a Role's in each namespace otherwise.
*/}}
{{- define "coffer.rules" -}}
- apiGroups: ["coffer.dev"]
  resources: ["backupvaults", "providerconfigs"]
  verbs: ["get", "list", "watch", "patch", "update"]
- apiGroups: ["coffer.dev"]
  resources: ["backupvaults/status", "providerconfigs/status"]
  verbs: ["get", "patch", "update"]
- apiGroups: ["coffer.dev"]
  resources: ["backupvaults/finalizers", "providerconfigs/finalizers"]
  verbs: ["update"]
# Agency: IAM agencies, the same verbs as every managed kind.
- apiGroups: ["coffer.dev"]
  resources: ["agencies"]
  verbs: ["get", "list", "watch", "patch", "update"]
- apiGroups: ["coffer.dev"]
  resources: ["agencies/status"]
  verbs: ["get", "patch", "update"]
- apiGroups: ["coffer.dev"]
  resources: ["agencies/finalizers"]
  verbs: ["update"]
# BackupShare: CBR backup shares, the same verbs as every managed kind.
- apiGroups: ["coffer.dev"]
  resources: ["backupshares"]
  verbs: ["get", "list", "watch", "patch", "update"]
- apiGroups: ["coffer.dev"]
  resources: ["backupshares/status"]
  verbs: ["get", "patch", "update"]
- apiGroups: ["coffer.dev"]
  resources: ["backupshares/finalizers"]
  verbs: ["update"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch", "create", "patch"]
# caBundleRef: CA bundles in ConfigMaps labelled coffer.dev/credentials=true,
# read, and patched only for coffer's finalizer; never created or deleted.
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}

{{/*
The namespaces coffer watches, the release namespace among them, each once,
as a JSON list; empty for all namespaces.
*/}}
{{- define "coffer.watchedNamespaces" -}}
{{- if .Values.watchNamespaces -}}
{{- append .Values.watchNamespaces .Release.Namespace | uniq | toJson -}}
{{- else -}}
[]
{{- end -}}
{{- end }}

{{/*
Whether ClusterProviderConfigs are served: as clusterProviderConfigs.enabled
says, else only without watchNamespaces. "true" or "" (false), for `if`.
*/}}
{{- define "coffer.clusterProviderConfigs" -}}
{{- $enabled := .Values.clusterProviderConfigs.enabled -}}
{{- if kindIs "invalid" $enabled -}}
{{- if not .Values.watchNamespaces -}}true{{- end -}}
{{- else if $enabled -}}true{{- end -}}
{{- end }}
