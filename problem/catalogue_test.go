package problem_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"schedsvc/problem"
)

// The catalogue is what the server sends; these tests hold it against what
// the contract and the README promise, both ways, and against the package's
// own constants, so a kind cannot be sent undeclared, declared but never
// mapped, or named without a row.

const (
	specPath   = "../api/openapi.yaml"
	readmePath = "../README.md"
)

// statuses is the catalogue as the documents state it: kind → status.
func statuses() map[problem.Kind]int {
	out := map[problem.Kind]int{}
	for k, e := range problem.Catalogue() {
		out[k] = e.Status
	}
	return out
}

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(specPath)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	return doc
}

// kindStatuses collects every `kind` followed by its status that re finds in
// text; a kind listed twice with different statuses fails the test.
func kindStatuses(t *testing.T, re *regexp.Regexp, text, where string) map[problem.Kind]int {
	t.Helper()
	out := map[problem.Kind]int{}
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		status, err := strconv.Atoi(m[2])
		require.NoError(t, err)
		k := problem.Kind(m[1])
		if prev, dup := out[k]; dup {
			require.Equal(t, prev, status, "%s lists %s twice with different statuses", where, k)
		}
		out[k] = status
	}
	return out
}

var (
	// A row of info.description's Errors table: | `kind` | 404 | meaning |
	tableRow = regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\| (\\d{3}) \\|")
	// An entry of Problem.type's description: `kind` (404...
	typeEntry = regexp.MustCompile("`([a-z-]+)` \\((\\d{3})")
)

func TestCatalogueIsTheSpecsProblemTypes(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)

	require.Equal(t, statuses(), kindStatuses(t, tableRow, doc.Info.Description, "info.description"),
		"the Errors table in info.description lists exactly the catalogue's kinds and statuses")

	typeDesc := doc.Components.Schemas["Problem"].Value.Properties["type"].Value.Description
	require.Equal(t, statuses(), kindStatuses(t, typeEntry, typeDesc, "Problem.type"),
		"Problem.type's description lists exactly the catalogue's kinds and statuses")

	// Every kind has an example a mock server can answer with, and every
	// example says what the server sends: its kind's status and title.
	examples := map[problem.Kind][]string{}
	check := func(where string, resp *openapi3.ResponseRef) {
		if resp == nil || resp.Value == nil || resp.Value.Content[problem.MediaType] == nil {
			return
		}
		m := resp.Value.Content[problem.MediaType]
		values := map[string]any{}
		if m.Example != nil {
			values[""] = m.Example
		}
		for name, ex := range m.Examples {
			values[name] = ex.Value.Value
		}
		for name, v := range values {
			obj, _ := v.(map[string]any)
			typ, _ := obj["type"].(string)
			kind, ok := strings.CutPrefix(typ, problem.TypeBase)
			e, known := problem.Lookup(problem.Kind(kind))
			require.True(t, ok && known, "%s example %q: problem type %q is not in the catalogue", where, name, typ)
			require.EqualValues(t, e.Status, obj["status"], "%s example %q: status of %s", where, name, kind)
			require.Equal(t, e.Title, obj["title"], "%s example %q: title of %s", where, name, kind)
			examples[problem.Kind(kind)] = append(examples[problem.Kind(kind)], where)
		}
	}
	for name, resp := range doc.Components.Responses {
		check("components.responses."+name, resp)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for code, resp := range op.Responses.Map() {
				check(method+" "+path+" "+code, resp)
			}
		}
	}
	for k := range problem.Catalogue() {
		require.NotEmpty(t, examples[k], "no response in the spec has an example of %s", k)
	}
}

// The README's list reads "`a`, `b` (400), `c` (401), ...": a status
// applies to the kinds listed since the previous one.
var readmeToken = regexp.MustCompile("`([a-z-]+)`|\\((\\d{3})")

func TestCatalogueIsTheREADMEsProblemTypes(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(readmePath)
	require.NoError(t, err)
	_, rest, found := strings.Cut(string(raw), "`application/problem+json` with a stable `type`")
	require.True(t, found, "README.md introduces its list of problem types with a stable `type`")
	_, rest, _ = strings.Cut(rest, "):") // past the type URI pattern
	list, _, _ := strings.Cut(rest, "\n\n")

	got := map[problem.Kind]int{}
	var pending []problem.Kind
	for _, m := range readmeToken.FindAllStringSubmatch(list, -1) {
		if m[1] != "" {
			pending = append(pending, problem.Kind(m[1]))
			continue
		}
		status, _ := strconv.Atoi(m[2])
		for _, k := range pending {
			got[k] = status
		}
		pending = nil
	}
	require.Empty(t, pending, "README.md lists kinds without a status after them")
	require.Equal(t, statuses(), got, "README.md lists exactly the catalogue's kinds and statuses")
}

// TestEveryKindHasACatalogueRow reads the package's source: every Kind
// constant has a row, and every row is a Kind constant, so a new kind
// cannot reach writeProblem unmapped.
func TestEveryKindHasACatalogueRow(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	declared := map[problem.Kind]string{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.CONST {
				continue
			}
			for _, spec := range gen.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if !isKind(vs, i) {
						continue
					}
					var lit *ast.BasicLit
					if i < len(vs.Values) {
						lit, ok = kindLiteral(vs.Values[i])
					}
					require.True(t, ok, "%s: Kind constant %s must be a string literal", fset.Position(id.Pos()), id.Name)
					value, err := strconv.Unquote(lit.Value)
					require.NoError(t, err)
					if other, dup := declared[problem.Kind(value)]; dup {
						t.Errorf("%s and %s are both %q", other, id.Name, value)
					}
					declared[problem.Kind(value)] = id.Name
				}
			}
		}
	}
	require.NotEmpty(t, declared, "found no Kind constants: did the package move?")

	cat := problem.Catalogue()
	for k, name := range declared {
		_, ok := cat[k]
		require.True(t, ok, "Kind constant %s (%q) has no catalogue row", name, k)
	}
	for k, e := range cat {
		_, ok := declared[k]
		require.True(t, ok, "catalogue row %q is not a Kind constant", k)
		require.NotEmpty(t, e.Title, "%s has no title", k)
		require.True(t, e.Status >= 400 && e.Status <= 599, "%s: status %d is not an error", k, e.Status)
		require.Equal(t, "https://schedsvc.dev/problems/"+string(k), k.Type())
	}
}

// isKind reports whether the i-th name of a const spec is of type Kind,
// declared as `X Kind = "x"` or `X = Kind("x")`.
func isKind(vs *ast.ValueSpec, i int) bool {
	if id, ok := vs.Type.(*ast.Ident); ok {
		return id.Name == "Kind"
	}
	if i >= len(vs.Values) {
		return false
	}
	call, ok := vs.Values[i].(*ast.CallExpr)
	if !ok {
		return false
	}
	fn, ok := call.Fun.(*ast.Ident)
	return ok && fn.Name == "Kind"
}

func kindLiteral(e ast.Expr) (*ast.BasicLit, bool) {
	if call, ok := e.(*ast.CallExpr); ok && len(call.Args) == 1 {
		e = call.Args[0]
	}
	lit, ok := e.(*ast.BasicLit)
	return lit, ok && lit.Kind == token.STRING
}

// TestProblemTypeEnumIsTheCatalogue holds Problem.type's enum, which SDKs turn
// into a typed union of error kinds, to exactly the catalogue's type URIs.
func TestProblemTypeEnumIsTheCatalogue(t *testing.T) {
	t.Parallel()
	doc := loadSpec(t)
	var got []string
	for _, v := range doc.Components.Schemas["Problem"].Value.Properties["type"].Value.Enum {
		got = append(got, v.(string))
	}
	var want []string
	for k := range problem.Catalogue() {
		want = append(want, k.Type())
	}
	require.ElementsMatch(t, want, got)
}
