package workflows

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestExchangeOversizedAnswer(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", 11)))
	}))
	t.Cleanup(srv.Close)
	for _, permanent := range []bool{false, true} {
		req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
		require.NoError(t, err)
		_, err = exchange(context.Background(), srv.Client(), req, 10, peer{name: "it", answer: "its answer", endpoint: "it", tooLargePermanent: permanent})
		require.EqualError(t, err, "its answer is larger than 10 bytes")
		require.Equal(t, permanent, IsPermanent(err))

		req, err = http.NewRequest(http.MethodGet, srv.URL, nil)
		require.NoError(t, err)
		raw, err := exchange(context.Background(), srv.Client(), req, 11, peer{tooLargePermanent: permanent})
		require.NoError(t, err)
		require.Len(t, raw, 11, "an answer of exactly the limit is read whole")
	}
}
