package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/getkin/kin-openapi/routers"
	"github.com/google/uuid"

	"schedsvc/metrics"
	"schedsvc/problem"
	"schedsvc/schedules"
	"schedsvc/store"
)

// idempotencyLease is how long a claim protects a request in flight. It
// outlasts the server's write timeout, so only a claim whose holder died
// can be taken over.
const idempotencyLease = time.Minute

// idempotencyHeader is the request header; the operations that declare it
// in the spec are the ones it applies to.
const idempotencyHeader = "Idempotency-Key"

// replayedHeaders are the response headers stored with an answer; the
// request id and the limit state belong to the retry, not to the original.
var replayedHeaders = []string{"Content-Type", "Location"}

// Idempotency makes retried writes safe across replicas: the first request
// with a key claims a row in PostgreSQL, and its successful answer is
// stored there and replayed to retries.
type Idempotency struct {
	store   *store.Store
	ttl     time.Duration
	log     *slog.Logger
	metrics *metrics.Metrics // replays; nil counts nothing
}

// NewIdempotency returns the middleware's state over st; answers are
// replayed for ttl.
func NewIdempotency(st *store.Store, ttl time.Duration, log *slog.Logger) *Idempotency {
	return &Idempotency{store: st, ttl: ttl, log: log}
}

// DeleteExpired removes expired keys in batches and returns how many.
func (s *Idempotency) DeleteExpired(ctx context.Context) (int64, error) {
	var total int64
	for {
		n, err := s.store.IdempotencyDeleteExpired(ctx, 1000)
		total += n
		if err != nil {
			return total, err
		}
		if n < 1000 {
			return total, nil
		}
	}
}

func (s *Idempotency) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get(idempotencyHeader)
		route, _ := r.Context().Value(routeKey{}).(*routers.Route)
		p, ok := principalFrom(r.Context())
		if key == "" || !ok || !declaresIdempotencyKey(route) {
			next.ServeHTTP(w, r)
			return
		}
		hash, err := requestHash(r)
		if err != nil {
			writeProblem(w, r, problem.InvalidRequest, "the request body is not valid JSON", nil)
			return
		}
		id := store.IdempotencyKey{Owner: p.owner, Key: key}
		// A key released between our claim and our read is free again, so
		// try again; more than a few rounds means heavy contention: in flight.
		for range 3 {
			claim := uuid.New()
			claimed, err := s.store.IdempotencyClaim(r.Context(), id, hash, claim, idempotencyLease, s.ttl)
			if err != nil {
				s.unavailable(w, r, err)
				return
			}
			if claimed {
				s.serve(w, r, next, id, claim)
				return
			}
			rec, err := s.store.IdempotencyGet(r.Context(), id)
			if errors.Is(err, schedules.ErrNotFound) {
				continue
			}
			if err != nil {
				s.unavailable(w, r, err)
				return
			}
			switch {
			case !bytes.Equal(rec.RequestHash, hash):
				writeProblem(w, r, problem.IdempotencyKeyReused,
					"this Idempotency-Key was used for a different request; use a new key for a new request", nil)
			case rec.Response != nil:
				s.metrics.IdempotencyReplayed()
				replay(w, *rec.Response)
			default:
				inProgress(w, r, rec.LockedUntil)
			}
			return
		}
		inProgress(w, r, nil)
	})
}

// inProgress answers that another request holds the key, with the seconds
// until its claim must have answered or lapsed (one when unknown), so a
// client whose first attempt died with its gateway knows when to retry.
func inProgress(w http.ResponseWriter, r *http.Request, lockedUntil *time.Time) {
	wait := 1
	if lockedUntil != nil {
		wait = min(max(int(math.Ceil(time.Until(*lockedUntil).Seconds())), 1), int(idempotencyLease.Seconds()))
	}
	w.Header().Set("Retry-After", strconv.Itoa(wait))
	writeProblem(w, r, problem.IdempotencyInProgress,
		"a request with this Idempotency-Key is still being processed; retry after Retry-After seconds to get its answer", nil)
}

// serve runs the claimed request, stores a successful answer and releases
// the key otherwise, and only then answers: a retry can never see the key
// free or in flight after the client has its answer.
func (s *Idempotency) serve(w http.ResponseWriter, r *http.Request, next http.Handler, id store.IdempotencyKey, claim uuid.UUID) {
	rec := &recorder{header: w.Header()}
	finished := false
	release := func() {
		ctx, cancel := s.storeContext(r)
		defer cancel()
		if err := s.store.IdempotencyRelease(ctx, id, claim); err != nil {
			s.log.ErrorContext(ctx, "release idempotency key", "error", err, "request_id", requestIDFrom(r.Context()))
		}
	}
	defer func() {
		if !finished {
			release() // the handler panicked; observe answers it
		}
	}()
	next.ServeHTTP(rec, r)
	finished = true
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if rec.status >= 200 && rec.status < 300 {
		resp := store.StoredResponse{Status: rec.status, Headers: map[string]string{}, Body: rec.body.Bytes()}
		for _, h := range replayedHeaders {
			if v := w.Header().Get(h); v != "" {
				resp.Headers[h] = v
			}
		}
		ctx, cancel := s.storeContext(r)
		stored, err := s.store.IdempotencyComplete(ctx, id, claim, resp)
		cancel()
		switch {
		case err != nil:
			s.log.ErrorContext(ctx, "store idempotent response", "error", err, "request_id", requestIDFrom(r.Context()))
			release()
		case !stored:
			s.log.WarnContext(ctx, "idempotency claim was taken over before the answer was stored", "request_id", requestIDFrom(r.Context()))
		}
	} else {
		// Errors are not kept: a retry is processed afresh.
		release()
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(rec.body.Bytes())
}

// idempotencyStoreTimeout bounds each store call made once the handler is
// done.
const idempotencyStoreTimeout = 5 * time.Second

// storeContext is the context of a store call made after the handler: it
// outlives the client (the answer must be kept or the key freed whether or
// not anyone still listens), and its deadline starts now. A deadline taken
// before the handler ran was already spent whenever the handler took as
// long (a Temporal call timing out takes 5 s), which left the key claimed
// and retries answered 409 until the lease ran out.
func (s *Idempotency) storeContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(r.Context()), idempotencyStoreTimeout)
}

func (s *Idempotency) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	s.log.WarnContext(r.Context(), "idempotency store unavailable", "error", err, "request_id", requestIDFrom(r.Context()))
	writeProblem(w, r, problem.ServiceUnavailable, "a backing service is unreachable; nothing was changed, retry later", nil)
}

func replay(w http.ResponseWriter, resp store.StoredResponse) {
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	w.Header().Set("Idempotent-Replayed", "true")
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

// declaresIdempotencyKey reports whether the operation takes the header.
func declaresIdempotencyKey(route *routers.Route) bool {
	if route == nil || route.Operation == nil {
		return false
	}
	for _, p := range route.Operation.Parameters {
		if p.Value != nil && p.Value.In == "header" && p.Value.Name == idempotencyHeader {
			return true
		}
	}
	return false
}

// requestHash identifies a request by method, path and body, with the body
// in canonical JSON so that key order and spacing do not matter.
func requestHash(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	canonical := []byte{}
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if canonical, err = json.Marshal(v); err != nil {
			return nil, err
		}
	}
	h := sha256.New()
	h.Write([]byte(r.Method + "\n" + r.URL.Path + "\n"))
	h.Write(canonical)
	return h.Sum(nil), nil
}

// recorder holds a response back until it has been stored. Headers go
// straight to the real writer's map.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (rc *recorder) Header() http.Header { return rc.header }

func (rc *recorder) WriteHeader(code int) {
	if rc.status == 0 {
		rc.status = code
	}
}

func (rc *recorder) Write(b []byte) (int, error) {
	if rc.status == 0 {
		rc.status = http.StatusOK
	}
	return rc.body.Write(b)
}
