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

{{/*
faceline.image: (dict "root" $ "image" .Values.web.image)
The registry: global.imageRegistry, else the one Rancher injects for clusters that pull through a
private mirror (global.systemDefaultRegistry or global.cattle.systemDefaultRegistry, as Rancher's
own charts read it), else the image's own.
*/}}
{{- define "faceline.image" -}}
{{- $g := .root.Values.global -}}
{{- $registry := coalesce $g.imageRegistry $g.systemDefaultRegistry (dig "cattle" "systemDefaultRegistry" "" $g) .image.registry | default "" -}}
{{- $ref := printf "%s/%s" $registry .image.repository -}}
{{- if not $registry }}{{ $ref = .image.repository }}{{ end -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $ref .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $ref (default .root.Chart.AppVersion .image.tag | toString) -}}
{{- end -}}
{{- end -}}

{{/* The version a service reports (/readyz, /api/v1/info): its image tag, else the chart's appVersion. faceline.version: (dict "root" $ "image" .Values.web.image) */}}
{{- define "faceline.version" -}}
{{- default .root.Chart.AppVersion .image.tag | toString -}}
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

{{/*
Seconds a service gets after SIGTERM to finish open requests (SHUTDOWN_GRACE_SECONDS): what is
left of the termination grace period after the preStop delay, less 5 s so that it exits before
the kubelet kills it. faceline.shutdownGrace: .Values.web
*/}}
{{- define "faceline.shutdownGrace" -}}
{{- max 1 (sub (sub (int .terminationGracePeriodSeconds) (int .preStopDelaySeconds)) 5) -}}
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
{{- range $component := list "web" "auth" "vision" -}}
{{- $c := index $v $component -}}
{{- if lt (int $c.terminationGracePeriodSeconds) (add (int $c.preStopDelaySeconds) 6) -}}
{{- $errors = append $errors (printf "%s.terminationGracePeriodSeconds (%d) must be at least %s.preStopDelaySeconds (%d) + 6, or the pod is killed before it has finished its requests" $component (int $c.terminationGracePeriodSeconds) $component (int $c.preStopDelaySeconds)) -}}
{{- end -}}
{{- end -}}
{{- if eq (int $v.web.metricsPort) (int $v.web.containerPort) -}}
{{- $errors = append $errors (printf "web.metricsPort (%d) must differ from web.containerPort: the Ingress publishes that port, and /metrics must not be public" (int $v.web.metricsPort)) -}}
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
{{- if and $v.gatewayApi.enabled $v.gatewayApi.httpsRedirect.enabled -}}
{{- if not $v.gatewayApi.httpsRedirect.parentRefs -}}
{{- $errors = append $errors "gatewayApi.httpsRedirect.enabled needs gatewayApi.httpsRedirect.parentRefs (the Gateway's plain-HTTP listener)" -}}
{{- end -}}
{{- range $ref := concat $v.gatewayApi.parentRefs $v.gatewayApi.httpsRedirect.parentRefs -}}
{{- if not $ref.sectionName -}}
{{- $errors = append $errors (printf "gatewayApi.httpsRedirect.enabled needs a sectionName on every parentRef (%s): the routes must attach to the HTTPS and the HTTP listener respectively, or the redirect and the app answer on the same listener" (default "?" $ref.name)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and $v.loadBalancer.enabled (eq (toString $v.web.trustProxy) "true") (not $v.loadBalancer.trustForwardedHeaders) -}}
{{- $errors = append $errors "web.trustProxy=true with loadBalancer.enabled: clients reach web directly through the LoadBalancer, so any client could set X-Forwarded-For and choose the address auth's per-address login limits count. Leave web.trustProxy at auto (false in this mode); set loadBalancer.trustForwardedHeaders=true only if a proxy you run sits in front of the LoadBalancer and overwrites X-Forwarded-For" -}}
{{- end -}}
{{- $authTrust := toString $v.auth.trustProxy -}}
{{- if regexMatch "^[0-9]+$" $authTrust -}}
{{- $errors = append $errors (printf "auth.trustProxy=%s: a hop count trusts whatever sits that many hops in front of auth, whatever its address, so a client that reaches auth another way names any address it likes (and a changed proxy chain makes auth count every client as the proxy, so one person's failed logins would lock out everyone). Give the proxies' CIDR instead (k3s pods: 10.42.0.0/16)" $authTrust) -}}
{{- else if eq $authTrust "false" -}}
{{- $errors = append $errors "auth.trustProxy=false: clients reach auth only through the ingress controller or web, so auth would count every client as that proxy and one person's failed logins would lock out everyone. Give the proxies' CIDR instead (k3s pods: 10.42.0.0/16)" -}}
{{- end -}}
{{- $oidc := $v.oidc -}}
{{- if and $oidc.enabled (or $oidc.clients $oidc.existingSecret) (not (include "faceline.publicUrl" .)) -}}
{{- $errors = append $errors "oidc needs publicUrl (or ingress.hostname): it is the issuer of the OpenID Connect provider" -}}
{{- end -}}
{{- if and $oidc.clients $oidc.existingSecret -}}
{{- $errors = append $errors "set oidc.clients or oidc.existingSecret, not both" -}}
{{- end -}}
{{- range $c := $oidc.clients -}}
{{- if and $c.public $c.clientSecret -}}
{{- $errors = append $errors (printf "oidc client %s: a public client has no clientSecret" $c.clientId) -}}
{{- else if and (not $c.public) (not $c.clientSecret) -}}
{{- $errors = append $errors (printf "oidc client %s: set clientSecret (confidential client) or public: true" $c.clientId) -}}
{{- end -}}
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
