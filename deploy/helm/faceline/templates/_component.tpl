{{/*
The shape shared by web, auth and vision. Each component's template calls these with
  (dict "root" $ "component" "auth" "values" .Values.auth "config" $config "secretEnv" $secretEnv "secretChecksum" $sum)
where config is the ConfigMap data (plain settings) and secretEnv extra env entries (YAML).
metricsPort (optional): /metrics is served on this port instead of `http` (web, whose `http` port is public).
*/}}

{{- define "faceline.component.serviceAccount" -}}
{{- if .root.Values.serviceAccount.create }}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "faceline.componentName" . }}
  labels:
    {{- include "faceline.componentLabels" . | nindent 4 }}
  {{- with .root.Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: false
{{- end }}
{{- end -}}

{{- define "faceline.component.configMap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "faceline.componentName" . }}
  labels:
    {{- include "faceline.componentLabels" . | nindent 4 }}
data:
  {{- range $k, $v := .config }}
  {{ $k }}: {{ $v | toString | quote }}
  {{- end }}
{{- end -}}

{{- define "faceline.component.deployment" -}}
{{- $v := .values -}}
{{- $root := .root -}}
{{- $name := include "faceline.componentName" . -}}
{{- $autoscaling := default dict $v.autoscaling -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "faceline.componentLabels" . | nindent 4 }}
spec:
  {{- if not $autoscaling.enabled }}
  replicas: {{ $v.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  selector:
    matchLabels:
      {{- include "faceline.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "faceline.selectorLabels" . | nindent 8 }}
        app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
        app.kubernetes.io/part-of: faceline
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ toJson .config | sha256sum }}
        checksum/secret: {{ .secretChecksum | default "none" }}
        {{- if $root.Values.metrics.annotations }}
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ .metricsPort | default $v.containerPort | quote }}
        prometheus.io/path: /metrics
        {{- end }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ ternary $name "default" $root.Values.serviceAccount.create }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      {{- with include "faceline.imagePullSecrets" $root | trim }}
      {{- . | nindent 6 }}
      {{- end }}
      {{- with $v.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
      securityContext:
        {{- toYaml $root.Values.podSecurityContext | nindent 8 }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with include "faceline.affinity" . | trim }}
      affinity:
        {{- . | nindent 8 }}
      {{- end }}
      {{- with include "faceline.tolerations" . | trim }}
      tolerations:
        {{- . | nindent 8 }}
      {{- end }}
      topologySpreadConstraints:
        {{- include "faceline.topologySpread" . | nindent 8 }}
      containers:
        - name: {{ .component }}
          image: {{ include "faceline.image" (dict "root" $root "image" $v.image) }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ $v.containerPort }}
              protocol: TCP
            {{- with .metricsPort }}
            - name: metrics
              containerPort: {{ . }}
              protocol: TCP
            {{- end }}
          envFrom:
            - configMapRef:
                name: {{ $name }}
          {{- if or .secretEnv $v.extraEnv }}
          env:
            {{- with .secretEnv }}
            {{- . | nindent 12 }}
            {{- end }}
            {{- with $v.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- end }}
          startupProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: {{ $v.probes.startup.periodSeconds }}
            timeoutSeconds: {{ $v.probes.startup.timeoutSeconds }}
            failureThreshold: {{ $v.probes.startup.failureThreshold }}
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: {{ $v.probes.liveness.periodSeconds }}
            timeoutSeconds: {{ $v.probes.liveness.timeoutSeconds }}
            failureThreshold: {{ $v.probes.liveness.failureThreshold }}
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: {{ $v.probes.readiness.periodSeconds }}
            timeoutSeconds: {{ $v.probes.readiness.timeoutSeconds }}
            failureThreshold: {{ $v.probes.readiness.failureThreshold }}
          {{- with $v.preStopDelaySeconds }}
          lifecycle:
            {{- /*
            Endpoint removal reaches Traefik and kube-proxy a moment after the pod is told to stop;
            serving on meanwhile avoids 502s. Slept by node itself: the images promise no shell or
            `sleep` binary (the lifecycle `sleep` action needs Kubernetes 1.30).
            */}}
            preStop:
              exec:
                command: ["node", "-e", "setTimeout(() => {}, {{ mul (int .) 1000 }})"]
          {{- end }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.containerSecurityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- if .secretSources }}
            - name: secrets
              mountPath: /run/secrets/faceline
              readOnly: true
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: {{ $v.tmpSizeLimit }}
        {{- with .secretSources }}
        - name: secrets
          projected:
            # Readable by the pod's group (fsGroup) only.
            defaultMode: 288 # 0440
            sources:
              {{- toYaml . | nindent 14 }}
        {{- end }}
{{- end -}}

{{- define "faceline.component.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "faceline.componentName" . }}
  labels:
    {{- include "faceline.componentLabels" . | nindent 4 }}
    {{- /* The ServiceMonitor selects this one; other Services of the component (vision's headless one, the LoadBalancer to web) carry another value, or every pod would be scraped once per Service. */}}
    faceline.io/service: main
  {{- with .annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: ClusterIP
  {{- if .clientIpAffinity }}
  sessionAffinity: ClientIP
  {{- end }}
  selector:
    {{- include "faceline.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .values.service.port }}
      targetPort: http
      protocol: TCP
      appProtocol: http
    {{- with .metricsPort }}
    - name: metrics
      port: {{ . }}
      targetPort: metrics
      protocol: TCP
      appProtocol: http
    {{- end }}
{{- end -}}

{{- define "faceline.component.pdb" -}}
{{- if .values.pdb.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "faceline.componentName" . }}
  labels:
    {{- include "faceline.componentLabels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .values.pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "faceline.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end -}}

{{- define "faceline.component.hpa" -}}
{{- if .values.autoscaling.enabled }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "faceline.componentName" . }}
  labels:
    {{- include "faceline.componentLabels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "faceline.componentName" . }}
  minReplicas: {{ .values.autoscaling.minReplicas }}
  maxReplicas: {{ .values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .values.autoscaling.targetCPUUtilizationPercentage }}
  behavior:
    scaleDown:
      # Logins come in waves at shift changes; do not drop pods between two waves.
      stabilizationWindowSeconds: 300
{{- end }}
{{- end -}}

{{- define "faceline.component.serviceMonitor" -}}
{{- if .root.Values.metrics.serviceMonitor.enabled }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "faceline.componentName" . }}
  labels:
    {{- include "faceline.componentLabels" . | nindent 4 }}
    {{- with .root.Values.metrics.serviceMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "faceline.selectorLabels" . | nindent 6 }}
      faceline.io/service: main
  endpoints:
    - port: {{ ternary "metrics" "http" (hasKey . "metricsPort") }}
      path: /metrics
      interval: {{ .root.Values.metrics.serviceMonitor.interval }}
{{- end }}
{{- end -}}

{{/* All objects of one component, separated as YAML documents. */}}
{{- define "faceline.component.all" -}}
{{- with include "faceline.component.serviceAccount" . }}
---
{{ . }}
{{- end }}
---
{{ include "faceline.component.configMap" . }}
---
{{ include "faceline.component.deployment" . }}
---
{{ include "faceline.component.service" . }}
{{- with include "faceline.component.pdb" . }}
---
{{ . }}
{{- end }}
{{- if hasKey .values "autoscaling" }}
{{- with include "faceline.component.hpa" . }}
---
{{ . }}
{{- end }}
{{- end }}
{{- with include "faceline.component.serviceMonitor" . }}
---
{{ . }}
{{- end }}
{{- end -}}
