package workflows

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// peer names the far end of an HTTP call in the errors of exchange, so that
// each executor's failures keep their own wording.
type peer struct {
	name     string // who did not answer: "the model"
	answer   string // what could not be read: "the model's answer"
	endpoint string // who answered a status: "the model endpoint"
	// tooLargePermanent marks an oversized answer as one another attempt
	// cannot cure.
	tooLargePermanent bool
}

// exchange sends req and reads the answer's body, at most limit bytes. The
// deadline of ctx passing is reported as wrapping context.DeadlineExceeded;
// a redirect the client refused with a Permanent error fails with that
// error; a non-2xx status fails the call, Permanent unless the status may go
// away on its own.
func exchange(ctx context.Context, client *http.Client, req *http.Request, limit int64, p peer) ([]byte, error) {
	late := func() error {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%s did not answer before the deadline: %w", p.name, context.DeadlineExceeded)
		}
		return nil
	}
	resp, err := client.Do(req)
	if err != nil {
		if err := late(); err != nil {
			return nil, err
		}
		var uerr *url.Error
		if errors.As(err, &uerr) && IsPermanent(uerr.Err) {
			return nil, uerr.Err
		}
		return nil, fmt.Errorf("call %s: %w", p.name, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		if err := late(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("read %s: %w", p.answer, err)
	}
	if int64(len(raw)) > limit {
		err := fmt.Errorf("%s is larger than %d bytes", p.answer, limit)
		if p.tooLargePermanent {
			err = Permanent(err)
		}
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		err := fmt.Errorf("%s answered %s: %s", p.endpoint, resp.Status, snippet(raw))
		if !retryableStatus(resp.StatusCode) {
			err = Permanent(err)
		}
		return nil, err
	}
	return raw, nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}

// retryableStatus tells whether an HTTP status may go away on its own.
func retryableStatus(code int) bool {
	switch code {
	case 408, 425, 429:
		return true
	}
	return code >= 500
}
