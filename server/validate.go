package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"

	"schedsvc/gen/api"
	"schedsvc/problem"
)

func init() {
	// kin-openapi does not check format: uuid unless told to; the spec's ids
	// are UUIDs and a malformed one is the caller's error, not a 404.
	openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562))
}

// loadSpec returns the embedded contract, with servers dropped so that the
// router matches on path alone, whatever Host the request used.
func loadSpec() (*openapi3.T, error) {
	doc, err := api.GetSwagger()
	if err != nil {
		return nil, fmt.Errorf("load embedded spec: %w", err)
	}
	doc.Servers = nil
	return doc, nil
}

// routeKey carries the spec operation a request was matched to, so later
// middleware can read what the contract declares for it.
type routeKey struct{}

// maxTaskContextBytes bounds task_context as compact JSON; the spec states
// it, but JSON Schema cannot express a serialized size.
const maxTaskContextBytes = 16 << 10

// peekBody returns the request body and leaves it in place for the next
// reader; limitBody has already bounded it.
func peekBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, err
}

// checkTaskContextSize returns a field error when the body's task_context
// is over maxTaskContextBytes as compact JSON.
func checkTaskContextSize(body []byte) *api.ProblemFieldError {
	if len(body) <= maxTaskContextBytes {
		return nil // task_context is a part of the body: it cannot be larger
	}
	var b struct {
		TaskContext json.RawMessage `json:"task_context"`
	}
	if json.Unmarshal(body, &b) != nil || len(b.TaskContext) <= maxTaskContextBytes {
		return nil
	}
	var compact bytes.Buffer
	if json.Compact(&compact, b.TaskContext) != nil || compact.Len() <= maxTaskContextBytes {
		return nil
	}
	return &api.ProblemFieldError{Field: "task_context", Message: fmt.Sprintf("must be at most %d bytes as compact JSON", maxTaskContextBytes)}
}

// validator checks each request against the spec before any handler runs.
type validator struct {
	router routers.Router
	// templates find the operation of most requests without the router's
	// regular expressions (4.5% of the gateway's CPU on GET
	// /schedules/{id}, issue 9); the router answers the rest.
	templates []template
}

// template is one operation of the spec: its path split into segments, an
// empty segment standing for a parameter.
type template struct {
	method   string
	segments []string
	params   []string // the parameters' names, in path order
	route    routers.Route
	// bare: every parameter the operation declares is in the path or an optional query
	// parameter, and it takes no required body. A request to it with no query and no body
	// is then valid exactly when its path values match their schemas (pathSchemas, in
	// params order), which bareValid checks without kin-openapi's whole validation.
	bare        bool
	pathSchemas []*openapi3.Schema
}

// describeParameters fills t.bare and t.pathSchemas from its route's operation.
func (t *template) describeParameters() {
	op := t.route.Operation
	if op == nil || op.RequestBody != nil && (op.RequestBody.Value == nil || op.RequestBody.Value.Required) {
		return
	}
	byName := map[string]*openapi3.Schema{}
	var declared openapi3.Parameters
	if t.route.PathItem != nil {
		declared = append(declared, t.route.PathItem.Parameters...)
	}
	for _, ref := range append(declared, op.Parameters...) {
		p := ref.Value
		switch {
		case p == nil:
			return
		case p.In == openapi3.ParameterInPath && p.Schema != nil && p.Schema.Value != nil && p.Content == nil:
			byName[p.Name] = p.Schema.Value
		case p.In == openapi3.ParameterInQuery && !p.Required:
		default:
			return
		}
	}
	schemas := make([]*openapi3.Schema, len(t.params))
	for i, name := range t.params {
		if schemas[i] = byName[name]; schemas[i] == nil {
			return
		}
	}
	t.bare, t.pathSchemas = true, schemas
}

// bareValid says the request needs no further validation: its operation is bare, it has
// neither query nor body, and each path value matches its schema. Anything else (and any
// mismatch, whose error the full validation words) goes through openapi3filter.
func (t *template) bareValid(r *http.Request, values map[string]string) bool {
	if t == nil || !t.bare || r.URL.RawQuery != "" || r.URL.ForceQuery || r.Body != nil && r.Body != http.NoBody {
		return false
	}
	for i, name := range t.params {
		if t.pathSchemas[i].VisitJSON(values[name]) != nil {
			return false
		}
	}
	return true
}

func newValidator(doc *openapi3.T) (*validator, error) {
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("build spec router: %w", err)
	}
	v := &validator{router: r}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			t := template{method: method}
			probe := ""
			for _, seg := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
				if name, ok := strings.CutPrefix(seg, "{"); ok && strings.HasSuffix(name, "}") {
					t.segments = append(t.segments, "")
					t.params = append(t.params, strings.TrimSuffix(name, "}"))
					probe += "/p"
					continue
				}
				t.segments = append(t.segments, seg)
				probe += "/" + seg
			}
			// The route is the router's own answer for a request of this
			// shape, so both ways of finding it give the same operation.
			req, err := http.NewRequest(method, probe, nil)
			if err != nil {
				return nil, fmt.Errorf("probe %s %s: %w", method, path, err)
			}
			route, _, err := r.FindRoute(req)
			if err != nil || route.Path != path {
				continue
			}
			t.route = *route
			t.describeParameters()
			v.templates = append(v.templates, t)
		}
	}
	return v, nil
}

// findTemplate is the router's FindRoute, answered from the templates when
// exactly one matches a request whose parameters are plain (unreserved
// characters only, nothing escaped), with the template (nil when the router
// answered); anything else asks the router.
func (v *validator) findTemplate(r *http.Request) (*routers.Route, map[string]string, *template, error) {
	if r.URL.RawPath == "" && strings.HasPrefix(r.URL.Path, "/") {
		var found *template
		matches := 0
		for i := range v.templates {
			if t := &v.templates[i]; t.method == r.Method && t.matches(r.URL.Path[1:]) {
				found = t
				matches++
			}
		}
		if matches == 1 {
			route := found.route
			return &route, found.values(r.URL.Path[1:]), found, nil
		}
	}
	route, params, err := v.router.FindRoute(r)
	return route, params, nil, err
}

func (t *template) matches(path string) bool {
	for i, seg := range t.segments {
		part, rest, more := strings.Cut(path, "/")
		if more != (i < len(t.segments)-1) {
			return false
		}
		if seg == "" {
			if !plainParam(part) {
				return false
			}
		} else if part != seg {
			return false
		}
		path = rest
	}
	return true
}

func (t *template) values(path string) map[string]string {
	out := make(map[string]string, len(t.params))
	p := 0
	for _, seg := range t.segments {
		part, rest, _ := strings.Cut(path, "/")
		if seg == "" {
			out[t.params[p]] = part
			p++
		}
		path = rest
	}
	return out
}

// plainParam: a non-empty segment of unreserved characters (RFC 3986),
// which every router reads the same way.
func plainParam(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// allowed returns the methods the spec declares for the request's path,
// for the Allow header that RFC 9110 requires on a 405.
func (v *validator) allowed(r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions, http.MethodTrace} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, _, err := v.router.FindRoute(probe); err == nil {
			out = append(out, m)
		}
	}
	return out
}

func (v *validator) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route, params, tmpl, err := v.findTemplate(r)
		switch {
		case errors.Is(err, routers.ErrMethodNotAllowed):
			w.Header().Set("Allow", strings.Join(v.allowed(r), ", "))
			writeProblem(w, r, problem.MethodNotAllowed, fmt.Sprintf("%s is not allowed on %s", r.Method, r.URL.Path), nil)
			return
		case err != nil:
			writeProblem(w, r, problem.NotFound, "no such endpoint", nil)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), routeKey{}, route))
		// Name the request's span after the operation, not the raw path.
		span := trace.SpanFromContext(r.Context())
		span.SetName(r.Method + " " + route.Path)
		if span.IsRecording() {
			span.SetAttributes(semconv.HTTPRoute(route.Path), attribute.String("openapi.operation_id", route.Operation.OperationID))
		}
		if tmpl.bareValid(r, params) {
			next.ServeHTTP(w, r)
			return
		}
		body, err := peekBody(r)
		if err != nil {
			writeProblem(w, r, problem.InvalidRequest, "the request body could not be read", nil)
			return
		}
		query := r.URL.Query()
		// Before the schema: decoding would replace the bad bytes silently.
		if detail := invalidUTF8(query, body); detail != "" {
			writeProblem(w, r, problem.InvalidRequest, detail, nil)
			return
		}
		err = openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
			Request:    r,
			PathParams: params,
			Route:      route,
			Options: &openapi3filter.Options{
				MultiError: true,
				// Credentials were verified before validation runs.
				AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			},
		})
		if err != nil {
			kind, fields := describeValidation(err)
			detail := "the request does not match the API contract"
			if kind == problem.UnknownField {
				detail = "the request body has fields this endpoint does not accept"
			}
			writeProblem(w, r, kind, detail, fields)
			return
		}
		if field := checkTaskContextSize(body); field != nil {
			writeProblem(w, r, problem.InvalidRequest, "the request does not match the API contract", []api.ProblemFieldError{*field})
			return
		}
		if fields := nulFields(query, body); len(fields) > 0 {
			writeProblem(w, r, problem.InvalidField, `text must not contain the NUL character (\u0000)`, fields)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// describeValidation flattens kin-openapi's nested errors into field errors
// and decides the problem kind: unknown fields get their own.
func describeValidation(err error) (problem.Kind, []api.ProblemFieldError) {
	kind := problem.InvalidRequest
	var fields []api.ProblemFieldError
	missing := false // a required field or parameter is absent: a malformed request, whatever the field
	var walk func(err error, param string)
	walk = func(err error, param string) {
		var multi openapi3.MultiError
		var reqErr *openapi3filter.RequestError
		var schemaErr *openapi3.SchemaError
		var parseErr *openapi3filter.ParseError
		switch {
		case errors.As(err, &multi):
			for _, e := range multi {
				walk(e, param)
			}
		case errors.As(err, &reqErr):
			if reqErr.Parameter != nil {
				param = reqErr.Parameter.Name
			}
			if errors.Is(reqErr.Err, openapi3filter.ErrInvalidRequired) {
				missing = true
			}
			if reqErr.Err == nil {
				fields = append(fields, api.ProblemFieldError{Field: fieldName(param, nil), Message: reqErr.Reason})
				return
			}
			walk(reqErr.Err, param)
		case errors.As(err, &schemaErr):
			if unknown := undeclaredKeys(schemaErr); len(unknown) > 0 {
				kind = problem.UnknownField
				for _, k := range unknown {
					fields = append(fields, api.ProblemFieldError{
						Field:   fieldName(param, append(schemaErr.JSONPointer(), k)),
						Message: "this field is not part of the request schema",
					})
				}
				return
			}
			if schemaErr.SchemaField == "required" {
				missing = true
			}
			fields = append(fields, api.ProblemFieldError{Field: fieldName(param, schemaErr.JSONPointer()), Message: schemaErr.Reason})
		case errors.As(err, &parseErr):
			fields = append(fields, api.ProblemFieldError{Field: fieldName(param, nil), Message: "not valid JSON: " + parseErr.Reason})
		default:
			fields = append(fields, api.ProblemFieldError{Field: fieldName(param, nil), Message: err.Error()})
		}
	}
	walk(err, "")
	if kind == problem.InvalidRequest && !missing {
		kind = fieldKind(fields)
	}
	return kind, fields
}

// fieldRuleKinds gives schema violations of these fields the same problem
// type as the domain rule for that field, so a negative budget and a budget
// over the cap read alike to a client branching on type.
var fieldRuleKinds = map[string]problem.Kind{
	"cron_expression":        problem.InvalidCron,
	"timezone":               problem.UnknownTimezone,
	"max_budget_per_run_usd": problem.BudgetExceeded,
}

func fieldKind(fields []api.ProblemFieldError) problem.Kind {
	if len(fields) == 0 {
		return problem.InvalidRequest
	}
	kind, ok := fieldRuleKinds[fields[0].Field]
	for _, f := range fields[1:] {
		if f.Field != fields[0].Field {
			ok = false
		}
	}
	if !ok {
		return problem.InvalidRequest
	}
	return kind
}

// undeclaredKeys returns the keys of an object the schema does not declare,
// when that is what the schema error is about.
func undeclaredKeys(e *openapi3.SchemaError) []string {
	obj, ok := e.Value.(map[string]any)
	if e.SchemaField != "properties" || !ok || e.Schema == nil {
		return nil
	}
	var unknown []string
	for k := range obj {
		if _, declared := e.Schema.Properties[k]; !declared {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	return unknown
}

func fieldName(param string, pointer []string) string {
	if param != "" {
		return param
	}
	if len(pointer) == 0 {
		return "body"
	}
	return strings.Join(pointer, ".")
}
