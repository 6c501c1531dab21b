package server_test

import (
	"encoding/json"
	"net/http"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"schedsvc/server/docs"
)

// TestContractAndDocsArePublic: the contract and its docs page are served
// without credentials, the YAML byte for byte as committed, the JSON the
// same document, and the page under a self-only Content-Security-Policy.
func TestContractAndDocsArePublic(t *testing.T) {
	t.Parallel()
	b := setup(t)
	committed, err := os.ReadFile("../api/openapi.yaml")
	require.NoError(t, err)

	y := b.do(t, request{method: http.MethodGet, path: "/openapi.yaml"})
	require.Equal(t, http.StatusOK, y.status)
	require.Equal(t, "application/yaml", y.header.Get("Content-Type"))
	require.Equal(t, string(committed), string(y.body), "/openapi.yaml is api/openapi.yaml byte for byte")

	j := b.do(t, request{method: http.MethodGet, path: "/openapi.json"})
	require.Equal(t, http.StatusOK, j.status)
	require.Equal(t, "application/json", j.header.Get("Content-Type"))
	var fromYAML, fromJSON any
	require.NoError(t, yaml.Unmarshal(committed, &fromYAML))
	require.NoError(t, json.Unmarshal(j.body, &fromJSON))
	want, err := json.Marshal(fromYAML)
	require.NoError(t, err)
	got, err := json.Marshal(fromJSON)
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(got), "/openapi.json is the same document")

	page := b.do(t, request{method: http.MethodGet, path: "/docs"})
	require.Equal(t, http.StatusOK, page.status)
	require.Equal(t, "text/html", page.header.Get("Content-Type"))
	require.Equal(t, docs.ContentSecurityPolicy, page.header.Get("Content-Security-Policy"))
	require.Contains(t, string(page.body), `<redoc spec-url="/openapi.yaml">`)
	require.Contains(t, string(page.body), `<script src="/docs/redoc.standalone.js">`)

	script := b.do(t, request{method: http.MethodGet, path: "/docs/redoc.standalone.js"})
	require.Equal(t, http.StatusOK, script.status)
	require.Equal(t, "text/javascript", script.header.Get("Content-Type"))
	require.Equal(t, docs.Script, script.body)

	// Credentials, even bad ones, change nothing: these paths never authenticate.
	bad := b.do(t, request{method: http.MethodGet, path: "/openapi.yaml", token: "not-a-jwt"})
	require.Equal(t, http.StatusOK, bad.status)

	missing := b.do(t, request{method: http.MethodGet, path: "/docs/other.js"})
	require.Equal(t, http.StatusNotFound, missing.status)
}
