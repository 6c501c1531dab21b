package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	contract "schedsvc/api"
)

// TestSpecRoutesCoverTheContract: every operation of api/openapi.yaml is a
// route, under the operationId the spec writes (not gen/api's capitalised
// one), so no request of a declared operation is counted as unmatched.
func TestSpecRoutesCoverTheContract(t *testing.T) {
	t.Parallel()
	routes, err := specRoutes()
	require.NoError(t, err)
	var want, got []string
	for _, line := range strings.Split(string(contract.YAML), "\n") {
		if id, ok := strings.CutPrefix(strings.TrimSpace(line), "operationId: "); ok {
			want = append(want, id)
		}
	}
	for _, r := range routes {
		got = append(got, r.Operation)
	}
	require.NotEmpty(t, want)
	require.ElementsMatch(t, want, got)
	require.Contains(t, got, "createSchedule")
}

func TestSpecRoutesPutLiteralsFirst(t *testing.T) {
	t.Parallel()
	require.Negative(t, compareSpecificity("/api/v1/schedules/preview", "/api/v1/schedules/{id}"))
	require.Positive(t, compareSpecificity("/api/v1/schedules/{id}/runs", "/api/v1/schedules/preview"))
	require.Zero(t, compareSpecificity("/healthz", "/readyz"))
}

func TestInstrumentWithoutMetricsIsTheHandler(t *testing.T) {
	t.Parallel()
	h := http.NewServeMux()
	got, err := Instrument(nil, h)
	require.NoError(t, err)
	require.Same(t, h, got)
}
