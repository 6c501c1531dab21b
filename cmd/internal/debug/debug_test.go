package debug

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestServeOffByDefault(t *testing.T) {
	t.Parallel()
	stop, err := Serve("", slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	stop()
}

func TestServeGoroutines(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	stop, err := Serve(addr, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer stop()

	resp, err := http.Get("http://" + addr + "/debug/vars")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var vars struct {
		Goroutines int `json:"goroutines"`
	}
	require.NoError(t, json.Unmarshal(body, &vars))
	require.Positive(t, vars.Goroutines)
}
