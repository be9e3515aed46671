package blueprint

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// loadNephio reads a Nephio blueprint copied under testdata/nephio.
func loadNephio(t testing.TB, name string) *Blueprint {
	t.Helper()
	dir := filepath.Join("testdata", "nephio", name)
	files := map[string]string{}
	err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(filepath.Join(dir, p))
		files[p] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return &Blueprint{Name: name, Version: "v1.0.0", Files: files}
}

// declaredFiles is a small blueprint with a Parameters declaration: a
// Deployment bound by field, a setter, an injection point and a template.
func declaredFiles() map[string]string {
	return map[string]string{
		"Kptfile": `apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: amf
  annotations:
    config.kubernetes.io/local-config: "true"
info:
  description: test amf
pipeline:
  mutators:
  - image: ghcr.io/kptdev/krm-functions-catalog/set-labels:v0.2.0
    configMap:
      app: amf
`,
		"package-context.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: kptfile.kpt.dev
  annotations:
    config.kubernetes.io/local-config: "true"
data:
  name: example
`,
		"parameters.yaml": `apiVersion: blueprint.porchkit.io/v1alpha1
kind: Parameters
metadata:
  name: amf
  annotations:
    config.kubernetes.io/local-config: "true"
spec:
  description: AMF for tests
  schema:
    type: object
    additionalProperties: false
    required: [region]
    properties:
      replicas:
        type: integer
        minimum: 1
        maximum: 10
        default: 1
        description: AMF replicas
      region:
        type: string
        enum: [eu-west, eu-central, us-east]
        description: where the AMF runs
      ha:
        type: object
        properties:
          enabled: {type: boolean, default: false}
      image:
        type: string
        pattern: "^[a-z0-9./-]+:[a-z0-9.]+$"
        default: "free5gc/amf:v3.3.0"
      capacity:
        type: object
        properties:
          maxSubscribers: {type: integer, default: 1000}
  bindings:
  - value: replicas
    resource: {kind: Deployment, name: amf}
    field: spec.replicas
  - value: image
    resource: {kind: Deployment, name: amf}
    field: spec.template.spec.containers[name=amf].image
  - value: region
    setter: region
  - value: capacity
    injection: {kind: Capacity, name: control-plane}
  environments:
    dev: {replicas: 1}
    prod: {replicas: 3, ha: {enabled: true}}
`,
		"deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: amf
  labels:
    region: unset # kpt-set: ${region}
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: amf
        image: free5gc/amf:v3.0.0
`,
		"capacity.yaml": `apiVersion: req.nephio.org/v1alpha1
kind: Capacity
metadata:
  name: control-plane
  annotations:
    config.kubernetes.io/local-config: "true"
    kpt.dev/config-injection: optional
spec:
  maxSubscribers: 10
`,
		"config.yaml.tmpl": `apiVersion: v1
kind: ConfigMap
metadata:
  name: amf-config
data:
  region: {{ .Values.region | quote }}
  replicas: {{ .Values.replicas | quote }}
{{- if .Values.ha.enabled }}
  ha: "on"
{{- end }}
`,
	}
}

func declared() *Blueprint {
	return &Blueprint{Name: "amf", Version: "v1.0.0", Files: declaredFiles()}
}
