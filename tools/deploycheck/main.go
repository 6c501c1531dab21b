// Command deploycheck validates deploy/ offline, for `make check-deploy`:
//
//   - every Kubernetes manifest in deploy/kubernetes with kubeconform (strict:
//     unknown fields and duplicate keys are errors) against JSON schemas made
//     here from the Kubernetes API's own OpenAPI document, the swagger.json of
//     the k8s.io/kubernetes Go module at a pinned version and checksum (the
//     machine reaches the Go module proxy but not kubeconform's default schema
//     download);
//   - kustomization.yaml lists every manifest (and not the secret example);
//   - deploy/compose.yaml with compose-go, which checks it against the
//     Compose specification's JSON schema and loads it as `docker compose` does;
//   - every environment variable handed to the gateway, the worker or the
//     migration is one that config/ (or cmd/internal/connect) really reads;
//   - the Dockerfile builds with the Go version go.mod names.
//
// It prints one line per problem and exits 1 when there is any.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/yannh/kubeconform/pkg/validator"
	"sigs.k8s.io/yaml"
)

// The Kubernetes release whose API the manifests are checked against, and
// the Go checksum database's hash of that module, so the schemas cannot
// change under us.
const (
	kubernetesVersion = "1.37.2"
	kubernetesModule  = "k8s.io/kubernetes@v" + kubernetesVersion
	kubernetesSum     = "h1:A2VDEiObzkYqFTKhSsn0ZEb0RlLEXpHWj93gi2HqEwE="
)

func main() {
	repo := flag.String("repo", "../..", "the repository root (deploy/, config/, go.mod, Dockerfile)")
	schemas := flag.String("schemas", "", "folder for the generated JSON schemas (default: the user cache folder)")
	flag.Parse()
	dir, err := ensureSchemas(*schemas)
	if err != nil {
		fmt.Fprintln(os.Stderr, "deploycheck:", err)
		os.Exit(2)
	}
	problems := check(*repo, dir)
	for _, p := range problems {
		fmt.Println("FAIL", p)
	}
	if len(problems) > 0 {
		fmt.Printf("deploycheck: %d problem(s)\n", len(problems))
		os.Exit(1)
	}
	fmt.Printf("deploycheck: deploy/ is valid (Kubernetes %s schemas, strict; Compose specification)\n", kubernetesVersion)
}

// check returns every problem found in repo's deploy/, using the schemas in
// schemaDir.
func check(repo, schemaDir string) []string {
	var problems []string
	known, err := configVariables(repo)
	if err != nil {
		return []string{err.Error()}
	}
	k8sDir := filepath.Join(repo, "deploy", "kubernetes")
	problems = append(problems, checkKubernetes(k8sDir, schemaDir, known)...)
	problems = append(problems, checkCompose(filepath.Join(repo, "deploy", "compose.yaml"), known)...)
	problems = append(problems, checkDockerfile(repo)...)
	return problems
}

// ---- Kubernetes ----

func checkKubernetes(dir, schemaDir string, known map[string]bool) []string {
	var problems []string
	v, err := kubeconform(schemaDir)
	if err != nil {
		return []string{fmt.Sprintf("kubeconform: %v", err)}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return []string{fmt.Sprintf("%s: no manifests (%v)", dir, err)}
	}
	var manifests []string
	refs := &secretRefs{keys: map[string]bool{}}
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		valid := 0
		for _, r := range v.Validate(file, f) {
			switch r.Status {
			case validator.Valid:
				valid++
			case validator.Skipped, validator.Empty:
			default:
				problems = append(problems, fmt.Sprintf("%s: %s: %s", rel(file), resourceName(r), validationMessage(r.Err)))
			}
		}
		if filepath.Base(file) != "kustomization.yaml" {
			manifests = append(manifests, filepath.Base(file))
			if valid == 0 && !slices.ContainsFunc(problems, func(p string) bool { return strings.HasPrefix(p, rel(file)) }) {
				problems = append(problems, fmt.Sprintf("%s: holds no Kubernetes object", rel(file)))
			}
		}
		problems = append(problems, envProblems(file, known, refs)...)
	}
	for _, u := range refs.uses {
		if !refs.keys[u.ref] {
			problems = append(problems, fmt.Sprintf("%s: secretKeyRef %s is no key of that Secret in %s", u.where, u.ref, secretExample))
		}
	}
	problems = append(problems, checkKustomization(dir, manifests)...)
	return problems
}

var validators sync.Map // schema folder -> validator.Validator

// kubeconform returns the validator for schemaDir, one per folder so that
// its compiled schemas are reused (the tests check many copies of deploy/).
func kubeconform(schemaDir string) (validator.Validator, error) {
	if v, ok := validators.Load(schemaDir); ok {
		return v.(validator.Validator), nil
	}
	v, err := validator.New([]string{filepath.Join(schemaDir, "{{ .ResourceKind }}{{ .KindSuffix }}.json")}, validator.Opts{
		Strict:            true,
		KubernetesVersion: kubernetesVersion,
		// kustomize's own file, checked by checkKustomization.
		SkipKinds: map[string]struct{}{"Kustomization": {}},
	})
	if err != nil {
		return nil, err
	}
	validators.Store(schemaDir, v)
	return v, nil
}

// resourceName is a resource's kind and name, as far as it has them.
func resourceName(r validator.Result) string {
	sig, err := r.Resource.Signature()
	if err != nil || sig == nil {
		return "(unreadable)"
	}
	return sig.Kind + "/" + sig.Name
}

// validationMessage is kubeconform's error without its preamble and the
// schema file's URL, leaving what failed and where, as in
// "at '/spec/replicas': got string, want integer".
func validationMessage(err error) string {
	msg := fmt.Sprint(err)
	msg = strings.TrimPrefix(msg, "problem validating schema. Check JSON formatting: ")
	msg = regexp.MustCompile(`jsonschema validation failed with '[^']*'\s*`).ReplaceAllString(msg, "")
	msg = regexp.MustCompile(`- at '': 'allOf' failed\s*`).ReplaceAllString(msg, "")
	return strings.TrimPrefix(strings.TrimSpace(msg), "- ")
}

// secretExample is a template for the operator's own Secret: validated, but
// never applied by the kustomization (it would overwrite the real one).
const secretExample = "secret.example.yaml"

func checkKustomization(dir string, manifests []string) []string {
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return []string{err.Error()}
	}
	var k struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Namespace  string            `json:"namespace,omitempty"`
		Labels     []json.RawMessage `json:"labels,omitempty"`
		Resources  []string          `json:"resources"`
		Images     []struct {
			Name    string `json:"name"`
			NewName string `json:"newName,omitempty"`
			NewTag  string `json:"newTag,omitempty"`
		} `json:"images,omitempty"`
	}
	name := rel(filepath.Join(dir, "kustomization.yaml"))
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		return []string{fmt.Sprintf("%s: %v", name, err)}
	}
	var problems []string
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		problems = append(problems, fmt.Sprintf("%s: want apiVersion kustomize.config.k8s.io/v1beta1, kind Kustomization", name))
	}
	var want []string
	for _, m := range manifests {
		if m != secretExample {
			want = append(want, m)
		}
	}
	got := slices.Clone(k.Resources)
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		problems = append(problems, fmt.Sprintf("%s: resources %v, want every manifest but %s: %v", name, got, secretExample, want))
	}
	return problems
}

// envProblems names every environment variable a manifest hands the service
// that the service does not read: a ConfigMap's keys, a Secret's keys, and
// each container's env. It adds to refs the Secrets' keys and the
// containers' secretKeyRefs.
func envProblems(file string, known map[string]bool, refs *secretRefs) []string {
	data, err := os.ReadFile(file)
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		var obj struct {
			Kind       string                `json:"kind"`
			Metadata   struct{ Name string } `json:"metadata"`
			Data       map[string]string     `json:"data"`
			StringData map[string]string     `json:"stringData"`
			Spec       struct {
				Template podTemplate `json:"template"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			continue // kubeconform has said so
		}
		var names []string
		switch obj.Kind {
		case "ConfigMap":
			names = slices.Collect(mapsKeys(obj.Data))
		case "Secret":
			names = append(slices.Collect(mapsKeys(obj.Data)), slices.Collect(mapsKeys(obj.StringData))...)
			for _, n := range names {
				refs.keys[obj.Metadata.Name+"/"+n] = true
			}
		case "Deployment", "Job", "StatefulSet", "DaemonSet":
			for _, c := range slices.Concat(obj.Spec.Template.Spec.InitContainers, obj.Spec.Template.Spec.Containers) {
				for _, e := range c.Env {
					names = append(names, e.Name)
					if r := e.ValueFrom.SecretKeyRef; r != nil {
						refs.uses = append(refs.uses, secretUse{
							ref:   r.Name + "/" + r.Key,
							where: fmt.Sprintf("%s (%s %s, container %s, %s)", rel(file), obj.Kind, obj.Metadata.Name, c.Name, e.Name),
						})
					}
				}
			}
		}
		sort.Strings(names)
		for _, n := range names {
			if !known[n] {
				problems = append(problems, fmt.Sprintf("%s (document %d, %s %s): %s is not a variable config/ reads", rel(file), i+1, obj.Kind, obj.Metadata.Name, n))
			}
		}
	}
	return problems
}

type podTemplate struct {
	Spec struct {
		InitContainers []container `json:"initContainers"`
		Containers     []container `json:"containers"`
	} `json:"spec"`
}

type container struct {
	Name string `json:"name"`
	Env  []struct {
		Name      string `json:"name"`
		ValueFrom struct {
			SecretKeyRef *struct {
				Name string `json:"name"`
				Key  string `json:"key"`
			} `json:"secretKeyRef"`
		} `json:"valueFrom"`
	} `json:"env"`
}

// secretRefs are the keys of the Secrets in deploy/kubernetes (the
// example's: the operator's own Secret must have the same) and the
// secretKeyRefs that read them.
type secretRefs struct {
	keys map[string]bool // name/key
	uses []secretUse
}

type secretUse struct{ ref, where string }

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// configVariables is every environment variable the service reads: the
// names config.Load passes to its readers, and those cmd/internal/connect
// reads for tracing.
func configVariables(repo string) (map[string]bool, error) {
	read := regexp.MustCompile(`(?:e\.(?:str|int|float|duration|list|tiers|failMode|getenv)|getenv)\("([A-Z][A-Z0-9_]*)"`)
	known := map[string]bool{}
	for _, dir := range []string{"config", filepath.Join("cmd", "internal", "connect")} {
		files, err := filepath.Glob(filepath.Join(repo, dir, "*.go"))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			for _, m := range read.FindAllStringSubmatch(string(src), -1) {
				known[m[1]] = true
			}
		}
	}
	if !known["DATABASE_URL"] || !known["TEMPORAL_ADDRESS"] {
		return nil, fmt.Errorf("found no DATABASE_URL or TEMPORAL_ADDRESS in %s/config: has config.Load changed shape?", repo)
	}
	return known, nil
}

// ---- Compose ----

// The services compose.yaml must have, and those that run the service's
// image (whose environment must be variables config/ reads).
var (
	composeServices = []string{"postgres", "redis", "temporal", "migrate", "gateway", "worker"}
	composeOurs     = []string{"migrate", "gateway", "worker"}
)

func checkCompose(file string, known map[string]bool) []string {
	data, err := os.ReadFile(file)
	if err != nil {
		return []string{err.Error()}
	}
	name := rel(file)
	project, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  filepath.Dir(file),
		ConfigFiles: []types.ConfigFile{{Filename: file, Content: data}},
		Environment: types.Mapping{},
	}, func(o *loader.Options) { o.SetProjectName("schedsvc", true) })
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", name, err)}
	}
	var problems []string
	for _, s := range composeServices {
		if _, ok := project.Services[s]; !ok {
			problems = append(problems, fmt.Sprintf("%s: no service %q", name, s))
		}
	}
	for _, s := range composeOurs {
		svc, ok := project.Services[s]
		if !ok {
			continue
		}
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range svc.Environment {
				if !yield(k) {
					return
				}
			}
		}) {
			if !known[k] {
				problems = append(problems, fmt.Sprintf("%s: service %s: %s is not a variable config/ reads", name, s, k))
			}
		}
	}
	return problems
}

// ---- Dockerfile ----

func checkDockerfile(repo string) []string {
	data, err := os.ReadFile(filepath.Join(repo, "Dockerfile"))
	if err != nil {
		return []string{err.Error()}
	}
	mod, err := os.ReadFile(filepath.Join(repo, "go.mod"))
	if err != nil {
		return []string{err.Error()}
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if m == nil {
		return []string{"go.mod: no go directive"}
	}
	var problems []string
	df := string(data)
	if !regexp.MustCompile(`(?m)^ARG GO_VERSION=` + regexp.QuoteMeta(string(m[1])) + `$`).MatchString(df) {
		problems = append(problems, fmt.Sprintf("Dockerfile: ARG GO_VERSION is not go.mod's go %s", m[1]))
	}
	for _, want := range []string{"./cmd/gateway", "./cmd/worker"} {
		if !strings.Contains(df, want) {
			problems = append(problems, fmt.Sprintf("Dockerfile: does not build %s", want))
		}
	}
	return problems
}

// ---- Schemas ----

// ensureSchemas makes the JSON schemas in dir (a cache folder when empty),
// unless an earlier run already did for this Kubernetes version.
func ensureSchemas(dir string) (string, error) {
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(cache, "schedsvc", "k8s-schemas", "v"+kubernetesVersion+"-strict")
	}
	done := filepath.Join(dir, ".complete")
	if _, err := os.Stat(done); err == nil {
		return dir, nil
	}
	swagger, err := kubernetesOpenAPI()
	if err != nil {
		return "", err
	}
	if err := writeSchemas(swagger, dir); err != nil {
		return "", err
	}
	return dir, os.WriteFile(done, []byte(kubernetesModule+"\n"), 0o644)
}

// kubernetesOpenAPI returns the path of the Kubernetes API's OpenAPI v2
// document in the module cache, downloading the pinned module through the
// Go module proxy when it is not there, and refusing it unless its hash is
// the pinned one.
func kubernetesOpenAPI() (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", kubernetesModule)
	cmd.Dir = os.TempDir() // outside any module: nothing here gains a requirement
	cmd.Env = append(os.Environ(), "GO111MODULE=on", "GOFLAGS=-mod=mod")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	var info struct{ Dir, Sum, Error string }
	if jerr := json.Unmarshal(out, &info); jerr != nil || err != nil || info.Error != "" {
		return "", fmt.Errorf("go mod download %s: %v %s", kubernetesModule, err, info.Error)
	}
	if info.Sum != kubernetesSum {
		return "", fmt.Errorf("%s has hash %s, want %s", kubernetesModule, info.Sum, kubernetesSum)
	}
	return filepath.Join(info.Dir, "api", "openapi-spec", "swagger.json"), nil
}

// writeSchemas turns the OpenAPI document's definitions into what
// kubeconform reads: one _definitions.json, and for each kind a file
// {kind}-{group}-{version}.json (lower case, the group's first label; core
// kinds {kind}-{version}.json) that refers to its definition and fixes
// apiVersion and kind. As kubeconform's own strict schemas do, every object
// with properties allows no others, and the two types Kubernetes writes as
// strings but also accepts as numbers (IntOrString, Quantity) take both.
func writeSchemas(swaggerPath, dir string) error {
	raw, err := os.ReadFile(swaggerPath)
	if err != nil {
		return err
	}
	var doc struct {
		Definitions map[string]map[string]any `json:"definitions"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("%s: %w", swaggerPath, err)
	}
	if len(doc.Definitions) == 0 {
		return fmt.Errorf("%s: no definitions", swaggerPath)
	}
	for name, def := range doc.Definitions {
		switch name {
		case "io.k8s.apimachinery.pkg.util.intstr.IntOrString":
			doc.Definitions[name] = map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}}
		case "io.k8s.apimachinery.pkg.api.resource.Quantity":
			doc.Definitions[name] = map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "number"}}}
		default:
			strict(def)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "_definitions.json"), map[string]any{"definitions": doc.Definitions}); err != nil {
		return err
	}
	kinds := 0
	for name, def := range doc.Definitions {
		gvks, _ := def["x-kubernetes-group-version-kind"].([]any)
		for _, g := range gvks {
			gvk, _ := g.(map[string]any)
			group, _ := gvk["group"].(string)
			version, _ := gvk["version"].(string)
			kind, _ := gvk["kind"].(string)
			if kind == "" || version == "" {
				continue
			}
			apiVersion, suffix := version, "-"+version
			if group != "" {
				apiVersion = group + "/" + version
				suffix = "-" + strings.Split(group, ".")[0] + "-" + version
			}
			schema := map[string]any{"allOf": []any{
				map[string]any{"$ref": "_definitions.json#/definitions/" + name},
				map[string]any{
					"required": []any{"apiVersion", "kind"},
					"properties": map[string]any{
						"apiVersion": map[string]any{"enum": []any{apiVersion}},
						"kind":       map[string]any{"enum": []any{kind}},
					},
				},
			}}
			if err := writeJSON(filepath.Join(dir, strings.ToLower(kind)+suffix+".json"), schema); err != nil {
				return err
			}
			kinds++
		}
	}
	if kinds == 0 {
		return errors.New("no kinds in the OpenAPI document")
	}
	return nil
}

// strict forbids properties a schema does not declare, in s and every
// schema inside it.
func strict(s map[string]any) {
	if props, ok := s["properties"].(map[string]any); ok {
		if _, set := s["additionalProperties"]; !set {
			s["additionalProperties"] = false
		}
		for _, p := range props {
			if ps, ok := p.(map[string]any); ok {
				strict(ps)
			}
		}
	}
	for _, key := range []string{"items", "additionalProperties"} {
		if sub, ok := s[key].(map[string]any); ok {
			strict(sub)
		}
	}
	for _, key := range []string{"allOf", "anyOf", "oneOf"} {
		if subs, ok := s[key].([]any); ok {
			for _, sub := range subs {
				if ss, ok := sub.(map[string]any); ok {
					strict(ss)
				}
			}
		}
	}
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// rel shortens a path for messages: from deploy/ on when it has one.
func rel(path string) string {
	if i := strings.LastIndex(filepath.ToSlash(path), "/deploy/"); i >= 0 {
		return filepath.ToSlash(path)[i+1:]
	}
	return filepath.Base(path)
}
