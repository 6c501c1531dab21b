package server

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPublicPathsAreTheSpecsPublicOperations: the router lets through
// without credentials exactly the paths outside /api that the spec declares
// with security: [].
func TestPublicPathsAreTheSpecsPublicOperations(t *testing.T) {
	t.Parallel()
	doc, err := loadSpec()
	require.NoError(t, err)
	declared := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		if strings.HasPrefix(path, "/api/") {
			continue
		}
		for method, op := range item.Operations() {
			require.NotNil(t, op.Security, "%s %s is outside /api, so it must declare security: []", method, path)
			require.Empty(t, *op.Security, "%s %s is outside /api, so it must declare security: []", method, path)
		}
		declared[path] = true
	}
	require.Equal(t, declared, publicPaths)
}
