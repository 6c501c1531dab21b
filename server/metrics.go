package server

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"

	"github.com/getkin/kin-openapi/openapi3"

	contract "schedsvc/api"
	"schedsvc/metrics"
)

// Instrument wraps the handler NewServer returns so that m counts and times
// every request by the spec's operationId and its status code. The metrics
// themselves are not served here: metrics.Serve puts them on their own
// listener (METRICS_ADDR), never on the API's. A nil m returns next as is.
func Instrument(m *metrics.Metrics, next http.Handler) (http.Handler, error) {
	if m == nil {
		return next, nil
	}
	routes, err := specRoutes()
	if err != nil {
		return nil, err
	}
	return m.InstrumentHTTP(routes, next), nil
}

// specRoutes lists every operation of the contract (read from api/openapi.yaml
// itself: the spec gen/api embeds has its operationIds capitalised), the most specific
// template first (a literal segment before a parameter in the same place),
// so that a path two templates match takes the operation the router
// would.
func specRoutes() ([]metrics.Route, error) {
	doc, err := openapi3.NewLoader().LoadFromData(contract.YAML)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	var routes []metrics.Route
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			routes = append(routes, metrics.Route{Method: method, Path: path, Operation: op.OperationID})
		}
	}
	slices.SortFunc(routes, func(a, b metrics.Route) int {
		return cmp.Or(compareSpecificity(a.Path, b.Path), cmp.Compare(a.Path, b.Path), cmp.Compare(a.Method, b.Method))
	})
	return routes, nil
}

// compareSpecificity orders templates so that, at the first position where
// one has a literal and the other a parameter, the literal comes first.
func compareSpecificity(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] == b[i] {
			continue
		}
		switch {
		case a[i] == '{':
			return 1
		case b[i] == '{':
			return -1
		}
		return 0
	}
	return 0
}
