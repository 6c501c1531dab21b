package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// repo is the repository this module sits in.
const repo = "../.."

var schemaDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "deploycheck-schemas-")
	if err != nil {
		panic(err)
	}
	// Made afresh, so the test covers the generation too.
	if schemaDir, err = ensureSchemas(dir); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestRepositoryDeployIsValid: what is committed passes.
func TestRepositoryDeployIsValid(t *testing.T) {
	if problems := check(repo, schemaDir); len(problems) > 0 {
		t.Fatalf("deploy/ has problems:\n%s", strings.Join(problems, "\n"))
	}
}

// TestBrokenDeployFails: each breakage of a copy of deploy/ is reported,
// naming the file and what is wrong.
func TestBrokenDeployFails(t *testing.T) {
	cases := []struct {
		name, file, old, new, want string
	}{
		{"unknown field", "kubernetes/gateway.yaml", "  revisionHistoryLimit: 5\n", "  revisionHistoryLimit: 5\n  replica: 3\n",
			"Deployment/schedsvc-gateway: at '/spec': additional properties 'replica' not allowed"},
		{"unknown field in a container", "kubernetes/worker.yaml", "          imagePullPolicy: IfNotPresent\n          command: [\"/usr/local/bin/worker\"]",
			"          imagePullPolicy: IfNotPresent\n          comand: [\"/usr/local/bin/worker\"]", "additional properties 'comand' not allowed"},
		{"wrong type", "kubernetes/gateway.yaml", "  maxReplicas: 12", "  maxReplicas: twelve",
			"HorizontalPodAutoscaler/schedsvc-gateway: at '/spec/maxReplicas': got string, want integer"},
		{"probe port of the wrong type", "kubernetes/gateway.yaml", "              path: /readyz\n              port: http", "              path: /readyz\n              port: [8080]",
			"at '/spec/template/spec/containers/0/readinessProbe/httpGet/port'"},
		{"missing required field", "kubernetes/worker.yaml", "  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: schedsvc-worker\n", "",
			"HorizontalPodAutoscaler/schedsvc-worker: at '/spec': missing property 'scaleTargetRef'"},
		{"unknown kind", "kubernetes/gateway.yaml", "kind: PodDisruptionBudget", "kind: PodDisruptionBudjet",
			"could not find schema for PodDisruptionBudjet"},
		{"kind in the wrong case", "kubernetes/gateway.yaml", "kind: Service\n", "kind: service\n",
			"at '/kind'"},
		{"kind at an API version that has no such kind", "kubernetes/gateway.yaml", "apiVersion: policy/v1\n", "apiVersion: policy/v1beta1\n",
			"could not find schema for PodDisruptionBudget"},
		{"duplicate key", "kubernetes/gateway.yaml", "  revisionHistoryLimit: 5\n", "  revisionHistoryLimit: 5\n  revisionHistoryLimit: 6\n",
			"already set in map"},
		{"a variable config/ does not read", "kubernetes/configmap.yaml", "  HTTP_ADDR: \":8080\"\n", "  HTTP_ADDR: \":8080\"\n  HTTP_PORT: \"8080\"\n",
			"ConfigMap schedsvc-config): HTTP_PORT is not a variable config/ reads"},
		{"a misspelt secret variable", "kubernetes/gateway.yaml", "            - name: REDIS_URL\n", "            - name: REDIS_ADDR\n",
			"REDIS_ADDR is not a variable config/ reads"},
		{"a secret key the secret example lacks", "kubernetes/worker.yaml", "                  key: TASK_ENDPOINT_SECRET\n", "                  key: TASK_SECRET\n",
			"secretKeyRef schedsvc-secrets/TASK_SECRET is no key of that Secret in secret.example.yaml"},
		{"a manifest the kustomization leaves out", "kubernetes/kustomization.yaml", "  - worker.yaml\n", "",
			"kustomization.yaml: resources"},
		{"compose: unknown key", "compose.yaml", "    restart: on-failure\n", "    restart: on-failure\n    restrat: always\n",
			"services.migrate.restrat"},
		{"compose: wrong type", "compose.yaml", "      retries: 20\n", "      retries: [20]\n",
			"retries"},
		{"compose: a variable config/ does not read", "compose.yaml", "  REDIS_URL: redis://redis:6379/0\n", "  REDIS_URL: redis://redis:6379/0\n  REDIS_ADDR: redis:6379\n",
			"service gateway: REDIS_ADDR is not a variable config/ reads"},
		{"compose: a service missing", "compose.yaml", "  redis:\n    image: redis:7\n", "  cache:\n    image: redis:7\n",
			"redis"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyRepo(t)
			path := filepath.Join(dir, "deploy", c.file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), c.old) {
				t.Fatalf("%s no longer contains %q: update this case", c.file, c.old)
			}
			broken := strings.Replace(string(data), c.old, c.new, 1)
			if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
				t.Fatal(err)
			}
			problems := check(dir, schemaDir)
			all := strings.Join(problems, "\n")
			if !strings.Contains(all, c.want) {
				t.Fatalf("problems do not mention %q:\n%s", c.want, all)
			}
		})
	}
}

// TestDockerfileFollowsGoMod: a Go version bump in go.mod that the
// Dockerfile does not follow is reported.
func TestDockerfileFollowsGoMod(t *testing.T) {
	dir := copyRepo(t)
	mod := filepath.Join(dir, "go.mod")
	data, err := os.ReadFile(mod)
	if err != nil {
		t.Fatal(err)
	}
	bumped := strings.Replace(string(data), "\ngo 1.", "\ngo 9.", 1)
	if err := os.WriteFile(mod, []byte(bumped), 0o644); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(check(dir, schemaDir), "\n")
	if !strings.Contains(all, "Dockerfile: ARG GO_VERSION is not go.mod's go 9.") {
		t.Fatalf("problems do not mention the Go version:\n%s", all)
	}
}

// copyRepo copies what check reads (deploy/, config/, cmd/internal/connect,
// go.mod, Dockerfile) into a temporary folder.
func copyRepo(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	for _, p := range []string{"deploy", "config", filepath.Join("cmd", "internal", "connect"), "go.mod", "Dockerfile"} {
		src := filepath.Join(repo, p)
		err := filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(repo, path)
			if err != nil {
				return err
			}
			target := filepath.Join(dst, rel)
			if info.IsDir() {
				return os.MkdirAll(target, 0o755)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return dst
}
