{{/* The chart's names and labels. */}}
{{- define "esignet.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "esignet.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "esignet.selectorLabels" -}}
app.kubernetes.io/name: {{ include "esignet.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "esignet.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "esignet.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "esignet.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "esignet.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "esignet.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The environment of every container that runs the provider: secrets, config file, data. */}}
{{- define "esignet.env" -}}
- name: ESIGNET_STORE__POSTGRES_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.keys.postgresUrl }}
- name: ESIGNET_CACHE__REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.keys.redisUrl }}
- name: ESIGNET_KEYS__ENCRYPTION_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.keys.encryptionKey }}
{{- if .Values.secrets.keys.adminToken }}
- name: ESIGNET_ADMIN__STATIC_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.keys.adminToken }}
      optional: true
{{- end }}
- name: ESIGNET_CONFIG
  value: /etc/esignet/config.toml
- name: ESIGNET_DATA__DIR
  value: /var/lib/esignet
{{- end -}}
