package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"schedsvc/api"
)

// TestJSONIsTheSameDocument: /openapi.json decodes to exactly what
// openapi.yaml does, with the keys in the file's order.
func TestJSONIsTheSameDocument(t *testing.T) {
	t.Parallel()
	out, err := api.JSON()
	require.NoError(t, err)
	require.True(t, json.Valid(out))

	var fromYAML, fromJSON any
	require.NoError(t, yaml.Unmarshal(api.YAML, &fromYAML))
	require.NoError(t, json.Unmarshal(out, &fromJSON))
	want, err := json.Marshal(fromYAML)
	require.NoError(t, err)
	got, err := json.Marshal(fromJSON)
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(got))

	require.True(t, strings.HasPrefix(string(out), `{"openapi":"3.0.3","info":{"title":`), "key order kept: %.60s", out)
}
