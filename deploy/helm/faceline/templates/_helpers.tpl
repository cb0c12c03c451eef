{{/*
Names. The longest name is "<fullname>-postgresql-hl" (14 characters of suffix), and a
StatefulSet name must stay within 52 characters (its pods get a 63-character revision
label), so the prefix is cut to 38.
*/}}
{{- define "faceline.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "faceline.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 38 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 38 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 38 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* faceline.componentName: (dict "root" $ "component" "web") */}}
{{- define "faceline.componentName" -}}
{{- printf "%s-%s" (include "faceline.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "faceline.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels shared by every object. */}}
{{- define "faceline.labels" -}}
helm.sh/chart: {{ include "faceline.chart" . }}
app.kubernetes.io/name: {{ include "faceline.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: faceline
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* faceline.componentLabels / faceline.selectorLabels: (dict "root" $ "component" "web") */}}
{{- define "faceline.componentLabels" -}}
{{ include "faceline.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "faceline.selectorLabels" -}}
app.kubernetes.io/name: {{ include "faceline.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* faceline.image: (dict "root" $ "image" .Values.web.image) */}}
{{- define "faceline.image" -}}
{{- $registry := default .image.registry .root.Values.global.imageRegistry -}}
{{- $ref := printf "%s/%s" $registry .image.repository -}}
{{- if not $registry }}{{ $ref = .image.repository }}{{ end -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $ref .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $ref (default .root.Chart.AppVersion .image.tag | toString) -}}
{{- end -}}
{{- end -}}

{{- define "faceline.imagePullSecrets" -}}
{{- with .Values.global.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Where users reach Faceline. */}}
{{- define "faceline.publicUrl" -}}
{{- if .Values.publicUrl -}}
{{- .Values.publicUrl | trimSuffix "/" -}}
{{- else if and .Values.ingress.enabled .Values.ingress.hostname -}}
{{- printf "%s://%s" (ternary "https" "http" .Values.ingress.tls.enabled) .Values.ingress.hostname -}}
{{- end -}}
{{- end -}}

{{- define "faceline.visionUrl" -}}
{{- if .Values.auth.visionUrls -}}
{{- join "," .Values.auth.visionUrls -}}
{{- else -}}
{{- /* the headless Service: a pod address and the port the container listens on */ -}}
{{- printf "http://%s:%d" (include "faceline.visionHeadlessName" .) (int .Values.vision.containerPort) -}}
{{- end -}}
{{- end -}}

{{- define "faceline.visionHeadlessName" -}}
{{- printf "%s-headless" (include "faceline.componentName" (dict "root" . "component" "vision") | trunc 54 | trimSuffix "-") -}}
{{- end -}}

{{- define "faceline.authUrl" -}}
{{- default (printf "http://%s:%d" (include "faceline.componentName" (dict "root" . "component" "auth")) (int .Values.auth.service.port)) .Values.web.authUrl -}}
{{- end -}}

{{/*
Placement. faceline.affinity / faceline.tolerations: (dict "root" $ "component" "vision" "values" .Values.vision)
  edge:  required node affinity on the edge label, tolerate the edge taint and, with
         tolerateUplinkLoss, unreachable/not-ready forever (the default 300 s would evict
         every pod of a site whose uplink is down).
  cloud: required affinity away from the edge label, no edge toleration.
  any:   tolerate the edge taint; vision prefers edge nodes (it is where the cameras are).
A non-empty `affinity` / `tolerations` value replaces the generated one.
*/}}
{{- define "faceline.edgeMatch" -}}
{{- $label := .root.Values.global.edge.nodeLabel -}}
key: {{ $label.key | quote }}
{{- if and .edge $label.value }}
operator: In
values: [{{ $label.value | quote }}]
{{- else if .edge }}
operator: Exists
{{- else if $label.value }}
operator: NotIn
values: [{{ $label.value | quote }}]
{{- else }}
operator: DoesNotExist
{{- end }}
{{- end -}}

{{- define "faceline.affinity" -}}
{{- $placement := .values.placement -}}
{{- if .values.affinity -}}
{{ toYaml .values.affinity }}
{{- else if eq $placement "edge" -}}
nodeAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
      - matchExpressions:
          - {{- include "faceline.edgeMatch" (dict "root" .root "edge" true) | nindent 12 }}
{{- else if eq $placement "cloud" -}}
nodeAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    nodeSelectorTerms:
      - matchExpressions:
          - {{- include "faceline.edgeMatch" (dict "root" .root "edge" false) | nindent 12 }}
{{- else if and (eq $placement "any") (eq .component "vision") -}}
nodeAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      preference:
        matchExpressions:
          - {{- include "faceline.edgeMatch" (dict "root" .root "edge" true) | nindent 12 }}
{{- end -}}
{{- end -}}

{{- define "faceline.tolerations" -}}
{{- $placement := .values.placement -}}
{{- $edge := .root.Values.global.edge -}}
{{- if .values.tolerations -}}
{{ toYaml .values.tolerations }}
{{- else if ne $placement "cloud" -}}
{{- if $edge.taint.key }}
- key: {{ $edge.taint.key | quote }}
  {{- if $edge.taint.value }}
  operator: Equal
  value: {{ $edge.taint.value | quote }}
  {{- else }}
  operator: Exists
  {{- end }}
  {{- with $edge.taint.effect }}
  effect: {{ . }}
  {{- end }}
{{- end }}
{{- if and (eq $placement "edge") $edge.tolerateUplinkLoss }}
- key: node.kubernetes.io/unreachable
  operator: Exists
  effect: NoExecute
- key: node.kubernetes.io/not-ready
  operator: Exists
  effect: NoExecute
{{- end }}
{{- end -}}
{{- end -}}

{{/* Spread replicas over nodes and zones, but never refuse to schedule because of it. */}}
{{- define "faceline.topologySpread" -}}
{{- if .values.topologySpreadConstraints -}}
{{ toYaml .values.topologySpreadConstraints }}
{{- else -}}
- maxSkew: 1
  topologyKey: kubernetes.io/hostname
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "faceline.selectorLabels" . | nindent 6 }}
- maxSkew: 1
  topologyKey: topology.kubernetes.io/zone
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "faceline.selectorLabels" . | nindent 6 }}
{{- end -}}
{{- end -}}

{{/* Millicores of a CPU quantity ("2", "1.5", "500m"). */}}
{{- define "faceline.millicores" -}}
{{- $q := toString . -}}
{{- if hasSuffix "m" $q -}}
{{- trimSuffix "m" $q | atoi -}}
{{- else -}}
{{- mulf (float64 $q) 1000 | int -}}
{{- end -}}
{{- end -}}

{{/* Every value check in one place, failing once with all the problems listed. */}}
{{- define "faceline.validate" -}}
{{- $errors := list -}}
{{- $v := .Values -}}
{{- if eq $v.database.mode "external" -}}
{{- if and (not $v.database.external.url) (not $v.database.external.existingSecret) -}}
{{- $errors = append $errors "database.mode=external needs database.external.url or database.external.existingSecret" -}}
{{- end -}}
{{- if and $v.database.external.url (not (regexMatch "^postgres(ql)?://" $v.database.external.url)) -}}
{{- $errors = append $errors "database.external.url must start with postgres:// or postgresql://" -}}
{{- end -}}
{{- end -}}
{{- if $v.auth.masterKey -}}
{{- if not (or (regexMatch "^[0-9a-fA-F]{64}$" $v.auth.masterKey) (eq (len (b64dec $v.auth.masterKey)) 32)) -}}
{{- $errors = append $errors "auth.masterKey must be 32 random bytes as base64 (openssl rand -base64 32) or 64 hex digits" -}}
{{- end -}}
{{- end -}}
{{- range $component := list "web" "auth" "vision" "postgresql" -}}
{{- $c := index $v $component -}}
{{- if and (eq $c.placement "edge") (not $v.global.edge.nodeLabel.key) -}}
{{- $errors = append $errors (printf "%s.placement=edge needs global.edge.nodeLabel.key" $component) -}}
{{- end -}}
{{- end -}}
{{- range $component := list "auth" "vision" -}}
{{- $a := (index $v $component).autoscaling -}}
{{- if and $a.enabled (gt (int $a.minReplicas) (int $a.maxReplicas)) -}}
{{- $errors = append $errors (printf "%s.autoscaling.minReplicas (%d) is above maxReplicas (%d)" $component (int $a.minReplicas) (int $a.maxReplicas)) -}}
{{- end -}}
{{- end -}}
{{- $limits := default dict $v.vision.resources.limits -}}
{{- if $limits.cpu -}}
{{- $threads := mul (int $v.vision.workers) (int $v.vision.intraOpThreads) -}}
{{- $millis := include "faceline.millicores" $limits.cpu | int -}}
{{- if gt (mul $threads 1000) $millis -}}
{{- $errors = append $errors (printf "vision.workers x vision.intraOpThreads = %d threads exceeds vision.resources.limits.cpu (%s); lower them or raise the limit" $threads (toString $limits.cpu)) -}}
{{- end -}}
{{- end -}}
{{- if and $v.ingress.tls.issuer $v.ingress.tls.clusterIssuer -}}
{{- $errors = append $errors "set ingress.tls.issuer or ingress.tls.clusterIssuer, not both" -}}
{{- end -}}
{{- if and $v.ingress.enabled $v.ingress.tls.enabled (not $v.ingress.hostname) -}}
{{- $errors = append $errors "ingress.tls.enabled needs ingress.hostname" -}}
{{- end -}}
{{- if not (or $v.ingress.enabled $v.loadBalancer.enabled $v.gatewayApi.enabled) -}}
{{- $errors = append $errors "enable ingress.enabled, gatewayApi.enabled or loadBalancer.enabled, or users cannot reach Faceline" -}}
{{- end -}}
{{- if and $v.gatewayApi.enabled (not $v.gatewayApi.parentRefs) -}}
{{- $errors = append $errors "gatewayApi.enabled needs gatewayApi.parentRefs (the Gateway to attach to)" -}}
{{- end -}}
{{- /* hub and sites (docs/sites.md) */ -}}
{{- if eq $v.auth.mode "site" -}}
{{- if not $v.auth.site.id -}}
{{- $errors = append $errors "auth.mode=site needs auth.site.id, the site's name (e.g. line-7)" -}}
{{- end -}}
{{- if not (or $v.auth.site.hubUrl $v.auth.site.existingSecret) -}}
{{- $errors = append $errors "auth.mode=site needs auth.site.hubUrl or auth.site.existingSecret (keys HUB_DATABASE_URL and HUB_REPLICATION_URL): the hub's database" -}}
{{- end -}}
{{- else -}}
{{- if or $v.auth.site.id $v.auth.site.hubUrl $v.auth.site.existingSecret -}}
{{- $errors = append $errors (printf "auth.site.* is only used with auth.mode=site (auth.mode is %s)" $v.auth.mode) -}}
{{- end -}}
{{- end -}}
{{- if and (ne $v.auth.mode "hub") (or $v.auth.hub.sites $v.auth.hub.existingSecret) -}}
{{- $errors = append $errors (printf "auth.hub.sites and auth.hub.existingSecret are only used with auth.mode=hub (auth.mode is %s)" $v.auth.mode) -}}
{{- end -}}
{{- if $errors -}}
{{- fail (printf "\n\nFaceline values are not valid:\n  - %s\n" (join "\n  - " $errors)) -}}
{{- end -}}
{{- end -}}
