package api_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"schedsvc/problem"
)

const (
	specPath     = "openapi.yaml"
	problemRef   = "#/components/schemas/Problem"
	problemMedia = "application/problem+json"
	apiPrefix    = "/api/v1/"
)

// expectedOperations is the exact operation table of the contract. Adding, removing or
// renaming an operation must change this table too.
var expectedOperations = map[string]string{
	"POST /api/v1/schedules":                   "createSchedule",
	"GET /api/v1/schedules":                    "listSchedules",
	"GET /api/v1/schedules/{id}":               "getSchedule",
	"PUT /api/v1/schedules/{id}":               "updateSchedule",
	"POST /api/v1/schedules/{id}/pause":        "pauseSchedule",
	"POST /api/v1/schedules/{id}/resume":       "resumeSchedule",
	"POST /api/v1/schedules/{id}/trigger":      "triggerSchedule",
	"POST /api/v1/schedules/{id}/backfill":     "backfillSchedule",
	"DELETE /api/v1/schedules/{id}":            "deleteSchedule",
	"GET /api/v1/schedules/{id}/runs":          "listScheduleRuns",
	"GET /api/v1/schedules/{id}/runs/{run_id}": "getScheduleRun",
	"GET /api/v1/schedules/{id}/events":        "listScheduleEvents",
	"GET /api/v1/cron/preview":                 "previewCron",
	"GET /healthz":                             "getHealthz",
	"GET /readyz":                              "getReadyz",
	"GET /openapi.yaml":                        "getOpenAPIYAML",
	"GET /openapi.json":                        "getOpenAPIJSON",
	"GET /docs":                                "getDocs",
	"GET /docs/redoc.standalone.js":            "getDocsScript",
}

// nonProblemErrors lists error responses that deliberately are not problem+json.
var nonProblemErrors = map[string]bool{
	"GET /readyz 503": true, // Readiness body, so probes and dashboards see which check failed
}

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(specPath)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()), "spec (including its examples) must validate")
	return doc
}

func TestSpecIsValidOpenAPI303(t *testing.T) {
	doc := loadSpec(t)
	require.Equal(t, "3.0.3", doc.OpenAPI)
	require.Equal(t, "Schedule service API", doc.Info.Title)
	// The server's validator drops servers before routing (server.loadSpec), so declaring
	// them gives clients a base URL without making it match on the Host header.
	require.NotEmpty(t, doc.Servers, "servers give SDKs and docs a base URL")
	require.NotNil(t, doc.Info.License, "a license")

	scheme := doc.Components.SecuritySchemes["bearerAuth"]
	require.NotNil(t, scheme, "bearerAuth security scheme")
	require.Equal(t, "http", scheme.Value.Type)
	require.Equal(t, "bearer", scheme.Value.Scheme)
	require.Equal(t, "JWT", scheme.Value.BearerFormat)
	apiKey := doc.Components.SecuritySchemes["apiKeyAuth"]
	require.NotNil(t, apiKey, "apiKeyAuth security scheme")
	require.Equal(t, "apiKey", apiKey.Value.Type)
	require.Equal(t, "header", apiKey.Value.In)
	require.Equal(t, "X-API-Key", apiKey.Value.Name)
	require.Equal(t, openapi3.SecurityRequirements{{"bearerAuth": []string{}}, {"apiKeyAuth": []string{}}}, doc.Security)
}

func TestOperationSetIsExact(t *testing.T) {
	doc := loadSpec(t)
	got := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			got[method+" "+path] = op.OperationID
		}
	}
	require.Equal(t, expectedOperations, got)
}

func TestContractLint(t *testing.T) {
	doc := loadSpec(t)
	require.Empty(t, lint(doc))
}

// TestLintCatchesViolations proves the lint rules can fail: a spec breaking each rule once
// must produce one finding per rule.
func TestLintCatchesViolations(t *testing.T) {
	const broken = `
openapi: 3.0.3
info: {title: broken, version: '0'}
security: [{bearerAuth: []}]
paths:
  /api/v1/things/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string, format: uuid}}
    post:
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {a: {type: string}}}
      responses:
        '200':
          description: no example, no X-Request-Id
          content:
            application/json:
              schema: {type: object}
        '401':
          description: unauthorized without WWW-Authenticate, plain json
          headers:
            X-Request-Id: {schema: {type: string}}
          content:
            application/json:
              schema: {type: object}
              example: {}
        '422':
          description: wrong kind
          headers:
            X-Request-Id: {schema: {type: string}}
          content:
            application/problem+json:
              schema: {$ref: '#/components/schemas/Problem'}
              example: {type: 'https://schedsvc.dev/problems/not-found', title: x, status: 422}
  /healthz:
    get:
      operationId: getHealthz
      responses:
        '200':
          description: ok
          headers:
            X-Request-Id: {schema: {type: string}}
components:
  securitySchemes:
    bearerAuth: {type: http, scheme: bearer}
  schemas:
    Problem:
      type: object
      required: [type, title, status]
      properties:
        type: {type: string}
        title: {type: string}
        status: {type: integer}
`
	doc, err := openapi3.NewLoader().LoadFromData([]byte(broken))
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	findings := strings.Join(lint(doc), "\n")
	for _, want := range []string{
		"POST /api/v1/things/{id}: no operationId",
		"POST /api/v1/things/{id}: no 500 response",
		"POST /api/v1/things/{id}: missing 400",
		"POST /api/v1/things/{id}: missing 404",
		"POST /api/v1/things/{id}: missing 413",
		"POST /api/v1/things/{id}: declares 422; list its problems under default",
		"POST /api/v1/things/{id}: no default response (its 422 problems)",
		"POST /api/v1/things/{id}: missing 503",
		"POST /api/v1/things/{id} 200: application/json has no example",
		"POST /api/v1/things/{id} 200: no X-Request-Id header",
		"POST /api/v1/things/{id} 401: error response must be application/problem+json only",
		"POST /api/v1/things/{id} 401: no WWW-Authenticate header",
		`POST /api/v1/things/{id} 422: example "" uses kind not-found (status 404)`,
		"POST /api/v1/things/{id} request body application/json: object schema without additionalProperties: false",
		"GET /healthz: must declare security: [] (health endpoint) or 401",
		"GET /healthz: no 500 response",
	} {
		require.Contains(t, findings, want)
	}
}

// lint returns one line per contract violation; empty means the contract is clean.
func lint(doc *openapi3.T) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	globalAuth := len(doc.Security) > 0

	seenIDs := map[string]string{}
	for _, path := range sortedKeys(doc.Paths.Map()) {
		item := doc.Paths.Value(path)
		for _, method := range sortedKeys(item.Operations()) {
			op := item.Operations()[method]
			name := method + " " + path

			if op.OperationID == "" {
				add("%s: no operationId", name)
			} else if other, dup := seenIDs[op.OperationID]; dup {
				add("%s: operationId %s already used by %s", name, op.OperationID, other)
			} else {
				seenIDs[op.OperationID] = name
			}

			publicOp := op.Security != nil && len(*op.Security) == 0
			authed := !publicOp && (globalAuth || (op.Security != nil && len(*op.Security) > 0))
			has := func(code int) bool { return op.Responses.Status(code) != nil }
			switch {
			case publicOp && has(http.StatusUnauthorized):
				add("%s: security: [] but declares 401", name)
			case publicOp && strings.HasPrefix(path, apiPrefix):
				add("%s: /api/v1 operations must require bearerAuth", name)
			case authed && !has(http.StatusUnauthorized):
				if strings.HasPrefix(path, apiPrefix) {
					add("%s: no 401 response", name)
				} else {
					add("%s: must declare security: [] (health endpoint) or 401", name)
				}
			}
			if has(http.StatusUnprocessableEntity) {
				// Prism answers a request that breaks the schema with a declared 422 before a 400.
				add("%s: declares 422; list its problems under default so a mock answers schema violations 400, as the server does", name)
			}
			if !has(http.StatusInternalServerError) {
				add("%s: no 500 response", name)
			}

			if strings.HasPrefix(path, apiPrefix) {
				required := []int{400, 401, 429, 500, 503}
				if strings.Contains(path, "{id}") {
					required = append(required, 404)
				}
				if op.RequestBody != nil {
					required = append(required, 413, 415)
				}
				if (op.RequestBody != nil || takesIdempotencyKey(op)) && op.Responses.Default() == nil {
					add("%s: no default response (its 422 problems)", name)
				}
				if op.OperationID == "createSchedule" {
					required = append(required, 409)
				}
				slices.Sort(required)
				for _, code := range required {
					if code != 401 && !has(code) { // 401 is reported above
						add("%s: missing %d", name, code)
					}
				}
			}

			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, mt := range sortedKeys(op.RequestBody.Value.Content) {
					where := fmt.Sprintf("%s request body %s", name, mt)
					if mt != "application/json" {
						add("%s: request bodies must be application/json", where)
					}
					lintRequestSchema(op.RequestBody.Value.Content[mt].Schema, where, true, add)
				}
			}

			for _, code := range sortedKeys(op.Responses.Map()) {
				ref := op.Responses.Map()[code]
				if ref == nil || ref.Value == nil {
					add("%s %s: unresolved response", name, code)
					continue
				}
				lintResponse(name, code, ref.Value, add)
				if strings.HasPrefix(path, apiPrefix) && code != "401" {
					for _, h := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
						if ref.Value.Headers[h] == nil {
							add("%s %s: no %s header", name, code, h)
						}
					}
				}
				if takesIdempotencyKey(op) && strings.HasPrefix(code, "2") {
					// Described, not declared: a mock sends every declared header on every answer.
					if ref.Value.Headers["Idempotent-Replayed"] != nil {
						add("%s %s: declares Idempotent-Replayed; a mock would mark every answer a replay", name, code)
					}
					if ref.Value.Description == nil || !strings.Contains(*ref.Value.Description, "Idempotent-Replayed") {
						add("%s %s: description does not mention Idempotent-Replayed", name, code)
					}
				}
				if code == "400" && op.RequestBody == nil && mentionsKind(ref.Value, problem.UnknownField) {
					add("%s 400: unknown-field example on an operation without a body", name)
				}
			}
		}
	}
	return out
}

func lintResponse(op, code string, resp *openapi3.Response, add func(string, ...any)) {
	where := op + " " + code
	if resp.Headers["X-Request-Id"] == nil {
		add("%s: no X-Request-Id header", where)
	}
	for _, mt := range sortedKeys(resp.Content) {
		m := resp.Content[mt]
		if m.Example == nil && len(m.Examples) == 0 && (m.Schema == nil || m.Schema.Value == nil || m.Schema.Value.Example == nil) {
			add("%s: %s has no example", where, mt)
		}
	}
	status, err := strconv.Atoi(code)
	if code == "default" {
		// default holds an operation's 422 problems only (see lint).
		status, err = http.StatusUnprocessableEntity, nil
		if resp.Description == nil || !strings.HasPrefix(*resp.Description, "**422**") {
			add("%s: description must start with **422**", where)
		}
	}
	if err != nil {
		add("%s: use explicit status codes, not ranges", where)
		return
	}
	if status == http.StatusUnauthorized && resp.Headers["WWW-Authenticate"] == nil {
		add("%s: no WWW-Authenticate header", where)
	}
	if status < 400 || nonProblemErrors[where] {
		return
	}
	m := resp.Content[problemMedia]
	if len(resp.Content) != 1 || m == nil {
		add("%s: error response must be %s only", where, problemMedia)
		return
	}
	if m.Schema == nil || m.Schema.Ref != problemRef {
		add("%s: error response schema must be %s", where, problemRef)
	}
	if status == http.StatusServiceUnavailable && resp.Headers["Retry-After"] == nil {
		add("%s: no Retry-After header", where)
	}
	examples := map[string]any{}
	if m.Example != nil {
		examples[""] = m.Example
	}
	for n, ex := range m.Examples {
		if ex != nil && ex.Value != nil {
			examples[n] = ex.Value.Value
		}
	}
	for _, n := range sortedKeys(examples) {
		obj, _ := examples[n].(map[string]any)
		typ, _ := obj["type"].(string)
		kind, ok := strings.CutPrefix(typ, problem.TypeBase)
		entry, known := problem.Lookup(problem.Kind(kind))
		switch {
		case !ok || !known:
			add("%s: example %q has unknown problem type %q", where, n, typ)
		case entry.Status != status:
			add("%s: example %q uses kind %s (status %d)", where, n, kind, entry.Status)
		case obj["title"] != entry.Title:
			add("%s: example %q has title %q; the server sends %q", where, n, obj["title"], entry.Title)
		}
		if s, _ := obj["status"].(float64); int(s) != status {
			add("%s: example %q has status %v", where, n, obj["status"])
		}
	}
}

// lintRequestSchema requires additionalProperties: false on the top-level request object and an
// explicit additionalProperties decision on every nested object (free-form maps say true).
func lintRequestSchema(ref *openapi3.SchemaRef, where string, top bool, add func(string, ...any)) {
	if ref == nil || ref.Value == nil {
		add("%s: no schema", where)
		return
	}
	s := ref.Value
	if s.Type == nil || !s.Type.Is("object") {
		return
	}
	ap := s.AdditionalProperties
	switch {
	case top && (ap.Has == nil || *ap.Has || ap.Schema != nil):
		add("%s: object schema without additionalProperties: false", where)
	case !top && ap.Has == nil && ap.Schema == nil:
		add("%s: nested object schema must state additionalProperties", where)
	}
	for _, p := range sortedKeys(s.Properties) {
		lintRequestSchema(s.Properties[p], where+"."+p, false, add)
	}
}

func mentionsKind(resp *openapi3.Response, k problem.Kind) bool {
	for _, m := range resp.Content {
		if ex, _ := m.Example.(map[string]any); ex != nil && ex["type"] == k.Type() {
			return true
		}
		for _, ex := range m.Examples {
			if v, _ := ex.Value.Value.(map[string]any); v != nil && v["type"] == k.Type() {
				return true
			}
		}
	}
	return false
}

func takesIdempotencyKey(op *openapi3.Operation) bool {
	for _, p := range op.Parameters {
		if p.Value != nil && p.Value.In == "header" && p.Value.Name == "Idempotency-Key" {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
