{{/* Names, labels and the computed parts of the configuration. */}}

{{- define "k8s-mcp.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "k8s-mcp.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Cluster-scoped objects carry the namespace too, so one release per namespace never collides. */}}
{{- define "k8s-mcp.clusterName" -}}
{{- printf "%s-%s" (include "k8s-mcp.fullname" .) .Release.Namespace -}}
{{- end -}}

{{- define "k8s-mcp.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "k8s-mcp.selectorLabels" -}}
app.kubernetes.io/name: {{ include "k8s-mcp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "k8s-mcp.labels" -}}
helm.sh/chart: {{ include "k8s-mcp.chart" . }}
{{ include "k8s-mcp.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: mcp-server
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "k8s-mcp.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "k8s-mcp.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "k8s-mcp.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* Several pods serve legacy sessions without stateless mode or declared sticky routing. */}}
{{- define "k8s-mcp.sessionsAtRisk" -}}
{{- if and (or .Values.autoscaling.enabled (gt (int .Values.replicaCount) 1)) (not .Values.config.stateless) (not .Values.stickySessions) -}}
true
{{- end -}}
{{- end -}}

{{/* read_only as set, or by default: true when the chart grants no writes (no write tool would work). */}}
{{- define "k8s-mcp.readOnly" -}}
{{- if kindIs "bool" .Values.config.read_only -}}
{{- .Values.config.read_only -}}
{{- else -}}
{{- and .Values.rbac.create (not .Values.rbac.write) -}}
{{- end -}}
{{- end -}}

{{/* Host header names accepted on /mcp: loopback (port-forward), the Service's DNS names, the Ingress hosts, extras. */}}
{{- define "k8s-mcp.allowedHosts" -}}
{{- $svc := include "k8s-mcp.fullname" . -}}
{{- $ns := .Release.Namespace -}}
{{- $hosts := list "localhost" "127.0.0.1" "[::1]" $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.%s" $svc $ns .Values.clusterDomain) -}}
{{- if .Values.ingress.enabled -}}
{{- range .Values.ingress.hosts -}}
{{- if .host -}}{{- $hosts = append $hosts .host -}}{{- end -}}
{{- end -}}
{{- end -}}
{{- $hosts = concat $hosts (.Values.config.allowed_hosts | default list) -}}
{{- toJson (uniq $hosts) -}}
{{- end -}}

{{/* Where the server keeps its own records (spent approval tokens). */}}
{{- define "k8s-mcp.stateNamespace" -}}
{{- .Values.stateNamespace | default .Release.Namespace -}}
{{- end -}}

{{/* "true" when the server records spent approval tokens in the cluster (confirm approval, ledger on, writes possible). */}}
{{- define "k8s-mcp.ledger" -}}
{{- if and (eq (toString (.Values.config.approval | default "confirm")) "confirm") (ne (toString .Values.config.approval_ledger) "false") (ne (include "k8s-mcp.readOnly" .) "true") -}}
true
{{- end -}}
{{- end -}}

{{/* The Secret holding the shared approval key: the user's, or the one the chart creates when changes are
possible (a read-only server approves nothing); empty: none. */}}
{{- define "k8s-mcp.approvalSecretName" -}}
{{- if .Values.approval.secretName -}}
{{- .Values.approval.secretName -}}
{{- else if and .Values.approval.create (ne (include "k8s-mcp.readOnly" .) "true") -}}
{{- printf "%s-approval" (include "k8s-mcp.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* Seconds a pod may need between its deletion and its exit: preStop, the unready delay, the grace for requests in flight. */}}
{{- define "k8s-mcp.shutdownSeconds" -}}
{{- $delay := .Values.config.shutdown_delay_seconds -}}
{{- if kindIs "invalid" $delay }}{{ $delay = 2 }}{{ end -}}
{{- $grace := .Values.config.shutdown_grace_seconds -}}
{{- if kindIs "invalid" $grace }}{{ $grace = 20 }}{{ end -}}
{{- add (int .Values.lifecycle.preStopSeconds) (int (ceil $delay)) (int (ceil $grace)) -}}
{{- end -}}

{{/* The server's config file: the user's settings (empty ones left to the server's defaults) plus what the chart decides. */}}
{{/* Who the API server sees: server | impersonate | passthrough (config.impersonate is the older spelling). */}}
{{- define "k8s-mcp.clusterAuth" -}}
{{- $mode := .Values.config.cluster_auth | default "server" -}}
{{- if and (eq $mode "server") .Values.config.impersonate -}}impersonate{{- else -}}{{ $mode }}{{- end -}}
{{- end -}}

{{/* Passthrough in the pod: the API server's CA and the namespace, and no service account token. */}}
{{- define "k8s-mcp.passthroughInPod" -}}
{{- if and (eq (include "k8s-mcp.clusterAuth" .) "passthrough") (not .Values.kubeconfig.secretName) -}}true{{- end -}}
{{- end -}}

{{- define "k8s-mcp.serverConfig" -}}
{{- $cfg := dict -}}
{{- range $key, $value := .Values.config -}}
{{- if not (or (kindIs "invalid" $value) (and (kindIs "string" $value) (eq $value "")) (and (kindIs "slice" $value) (empty $value))) -}}
{{- $_ := set $cfg $key $value -}}
{{- end -}}
{{- end -}}
{{- $_ := set $cfg "read_only" (eq (include "k8s-mcp.readOnly" .) "true") -}}
{{- $_ := set $cfg "transport" "http" -}}
{{- $_ := set $cfg "host" "0.0.0.0" -}}
{{- $_ := set $cfg "port" (int .Values.containerPort) -}}
{{- $_ := set $cfg "allowed_hosts" (include "k8s-mcp.allowedHosts" . | fromJsonArray) -}}
{{- $_ := set $cfg "state_namespace" (include "k8s-mcp.stateNamespace" .) -}}
{{- if .Values.auth.tokensSecretName -}}
{{- $_ := set $cfg "auth_tokens_file" (printf "/etc/k8s-mcp/auth/%s" .Values.auth.tokensKey) -}}
{{- end -}}
{{- if .Values.oidc.caConfigMap -}}
{{- $_ := set $cfg "oidc_ca_file" (printf "/etc/k8s-mcp/oidc-ca/%s" .Values.oidc.caKey) -}}
{{- end -}}
{{- if include "k8s-mcp.passthroughInPod" . -}}
{{- $_ := set $cfg "service_account_dir" "/etc/k8s-mcp/cluster" -}}
{{- end -}}
{{- if .Values.approvalRules -}}
{{- $_ := set $cfg "approval_rules" "/etc/k8s-mcp/config/approval-rules.yaml" -}}
{{- end -}}
{{- if .Values.kubeconfig.secretName -}}
{{- $_ := set $cfg "in_cluster" "false" -}}
{{- $_ := set $cfg "kubeconfig" (printf "/etc/k8s-mcp/kubeconfig/%s" .Values.kubeconfig.key) -}}
{{- with .Values.kubeconfig.context -}}{{- $_ := set $cfg "context" . -}}{{- end -}}
{{- else -}}
{{- $_ := set $cfg "in_cluster" "true" -}}
{{- end -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/* API groups the read rules cover: well-known ones, every group the cluster serves now, readGroups; minus excludeGroups. */}}
{{- define "k8s-mcp.readGroups" -}}
{{- $groups := list "apps" "batch" "autoscaling" "policy" "networking.k8s.io" "discovery.k8s.io" "events.k8s.io" "storage.k8s.io" "rbac.authorization.k8s.io" "apiextensions.k8s.io" "apiregistration.k8s.io" "admissionregistration.k8s.io" "scheduling.k8s.io" "coordination.k8s.io" "node.k8s.io" "certificates.k8s.io" "flowcontrol.apiserver.k8s.io" "metrics.k8s.io" -}}
{{- range $gv := .Capabilities.APIVersions -}}
{{- $parts := splitList "/" $gv -}}
{{- if and (ge (len $parts) 2) (not (regexMatch "^v[0-9]+((alpha|beta)[0-9]+)?$" (first $parts))) -}}
{{- $groups = append $groups (first $parts) -}}
{{- end -}}
{{- end -}}
{{- $groups = concat $groups .Values.rbac.readGroups -}}
{{- $kept := list -}}
{{- range $g := uniq $groups -}}
{{- if not (has $g $.Values.rbac.excludeGroups) -}}{{- $kept = append $kept $g -}}{{- end -}}
{{- end -}}
{{- toJson (sortAlpha $kept) -}}
{{- end -}}

{{/*
The RBAC rules, for a ClusterRole (scope "cluster") or a namespaced Role (scope "namespace": cluster-scoped
kinds left out). Secrets are never in the read list unless rbac.secrets; writes only with rbac.write.
*/}}
{{- define "k8s-mcp.rules" -}}
{{- $root := index . 0 -}}
{{- $scope := index . 1 -}}
{{- $rbac := $root.Values.rbac -}}
{{- $read := list "get" "list" "watch" -}}
{{- $write := list "create" "update" "patch" "delete" "deletecollection" -}}
{{- $coreNamespaced := list "configmaps" "endpoints" "events" "limitranges" "persistentvolumeclaims" "pods" "podtemplates" "replicationcontrollers" "resourcequotas" "serviceaccounts" "services" -}}
{{- $coreCluster := list "namespaces" "nodes" "persistentvolumes" "componentstatuses" -}}
{{- $coreRead := concat $coreNamespaced (list "pods/log" "pods/status" "services/status" "persistentvolumeclaims/status" "replicationcontrollers/scale") -}}
{{- if eq $scope "cluster" -}}{{- $coreRead = concat $coreRead $coreCluster (list "nodes/status" "namespaces/status") -}}{{- end -}}
{{- if $rbac.secrets -}}{{- $coreRead = append $coreRead "secrets" -}}{{- end -}}
- apiGroups: [""]
  resources: {{ toJson (sortAlpha $coreRead) }}
  verbs: {{ toJson $read }}
- apiGroups: {{ include "k8s-mcp.readGroups" $root }}
  resources: ["*"]
  verbs: {{ toJson $read }}
{{- if $rbac.write }}
{{- $coreWrite := concat $coreNamespaced (list "pods/eviction" "replicationcontrollers/scale") }}
{{- if eq $scope "cluster" }}{{- $coreWrite = append $coreWrite "namespaces" }}{{- end }}
{{- if $rbac.secrets }}{{- $coreWrite = append $coreWrite "secrets" }}{{- end }}
- apiGroups: [""]
  resources: {{ toJson (sortAlpha $coreWrite) }}
  verbs: {{ toJson $write }}
- apiGroups: {{ toJson (concat (list "apps" "batch" "autoscaling" "policy" "networking.k8s.io") $rbac.writeGroups | uniq) }}
  resources: ["*"]
  verbs: {{ toJson $write }}
{{- end }}
{{- if and $rbac.nodeMaintenance (eq $scope "cluster") }}
- apiGroups: [""]
  resources: ["nodes"]
  verbs: ["patch"]
{{- end }}
{{- if $rbac.exec }}
- apiGroups: [""]
  resources: ["pods/exec", "pods/attach", "pods/portforward"]
  verbs: ["create", "get"]
{{- end }}
{{- with $rbac.extraRules }}
{{ toYaml . }}
{{- end }}
{{- end -}}
