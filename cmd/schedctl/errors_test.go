package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func answer(status int, contentType, body string, header ...string) (*http.Response, []byte) {
	h := http.Header{"Content-Type": {contentType}}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return &http.Response{StatusCode: status, Header: h}, []byte(body)
}

func TestAPIErrorIsOneReadableLine(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		status      int
		contentType string
		body        string
		header      []string
		want        string
	}{
		"not found": {404, "application/problem+json",
			`{"type":"https://schedsvc.dev/problems/not-found","title":"Not found","status":404,"detail":"no schedule 3f6c2a8e","request_id":"r1"}`, nil,
			"404 Not found: no schedule 3f6c2a8e [type https://schedsvc.dev/problems/not-found; request_id r1]"},
		"field errors": {400, "application/problem+json",
			`{"type":"https://schedsvc.dev/problems/invalid-request","title":"Invalid request","status":400,"detail":"the request does not match the schema",
			  "errors":[{"field":"name","message":"must be at least 1 character"},{"field":"page_size","message":"must be at most 100"}]}`, nil,
			"400 Invalid request: the request does not match the schema [type https://schedsvc.dev/problems/invalid-request; errors: name: must be at least 1 character, page_size: must be at most 100]"},
		"multi-line detail, retry": {429, "application/problem+json; charset=utf-8",
			`{"type":"https://schedsvc.dev/problems/rate-limited","title":"Too many requests","status":429,"detail":"slow\ndown\tplease"}`, []string{"Retry-After", "5"},
			"429 Too many requests: slow down please [type https://schedsvc.dev/problems/rate-limited; retry after 5 s]"},
		"no detail": {503, "application/problem+json",
			`{"type":"https://schedsvc.dev/problems/service-unavailable","title":"Service unavailable","status":503}`, nil,
			"503 Service unavailable [type https://schedsvc.dev/problems/service-unavailable]"},
		"a proxy's page": {502, "text/html", "<html>\n<body>Bad gateway</body>\n</html>", nil,
			"502 Bad Gateway (not a problem+json answer): <html> <body>Bad gateway</body> </html>"},
		"JSON that is no problem": {500, "application/json", `{"oops":true}`, nil,
			`500 Internal Server Error (not a problem+json answer): {"oops":true}`},
		"empty": {504, "", "", nil, "504 Gateway Timeout"},
	} {
		resp, body := answer(c.status, c.contentType, c.body, c.header...)
		got := newAPIError(resp, body).Error()
		require.Equal(t, c.want, got, name)
		require.NotContains(t, got, "\n", name)
	}
}

func TestAPIErrorQuotesOnlyTheStartOfALongBody(t *testing.T) {
	t.Parallel()
	resp, body := answer(502, "text/plain", strings.Repeat("x", 5000))
	got := newAPIError(resp, body).Error()
	require.Less(t, len(got), maxBodyInError+80)
	require.True(t, strings.HasSuffix(got, "…"), got)
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	resp, body := answer(404, "application/problem+json", `{"type":"t","title":"Not found","status":404}`)
	for want, err := range map[int]error{
		exitOK:       nil,
		exitUsage:    usagef("", "bad flag"),
		exitAPI:      newAPIError(resp, body),
		exitNoAnswer: &noAnswerError{err: &url.Error{Op: "Get", URL: "http://x", Err: errors.New("connection refused")}},
	} {
		require.Equal(t, want, exitCode(err), "%v", err)
		if err != nil {
			require.Equal(t, want, exitCode(fmt.Errorf("wrapped: %w", err)), "%v", err)
		}
	}
	require.Equal(t, exitAPI, exitCode(errors.New("an answer that is not the API's JSON")))
	require.Contains(t, (&noAnswerError{err: context.DeadlineExceeded}).Error(), "--request-timeout")
}
