package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/getkin/kin-openapi/routers"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	dbgen "schedsvc/gen/db"
	"schedsvc/problem"
)

// DefaultIdempotencyTTL is how long a stored answer is replayed.
const DefaultIdempotencyTTL = 24 * time.Hour

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
	q   *dbgen.Queries
	ttl time.Duration
	log *slog.Logger
}

// NewIdempotency returns the store; a ttl of zero means
// DefaultIdempotencyTTL.
func NewIdempotency(pool *pgxpool.Pool, ttl time.Duration, log *slog.Logger) *Idempotency {
	if ttl <= 0 {
		ttl = DefaultIdempotencyTTL
	}
	return &Idempotency{q: dbgen.New(pool), ttl: ttl, log: log}
}

// DeleteExpired removes expired keys in batches and returns how many.
func (s *Idempotency) DeleteExpired(ctx context.Context) (int64, error) {
	var total int64
	for {
		n, err := s.q.IdempotencyDeleteExpired(ctx, 1000)
		total += n
		if err != nil {
			return total, err
		}
		if n < 1000 {
			return total, nil
		}
	}
}

type storedHeaders map[string]string

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
		id := dbgen.IdempotencyGetParams{TenantID: p.owner.TenantID, UserID: p.owner.UserID, Key: key}
		// A key released between our claim and our read is free again, so
		// try again; more than a few rounds means heavy contention: in flight.
		for range 3 {
			claim := uuid.New()
			_, err := s.q.IdempotencyClaim(r.Context(), dbgen.IdempotencyClaimParams{
				TenantID: id.TenantID, UserID: id.UserID, Key: key, RequestHash: hash, ClaimID: claim,
				LeaseSeconds: idempotencyLease.Seconds(), TtlSeconds: s.ttl.Seconds(),
			})
			if err == nil {
				s.serve(w, r, next, id, claim)
				return
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				s.unavailable(w, r, err)
				return
			}
			row, err := s.q.IdempotencyGet(r.Context(), id)
			if errors.Is(err, pgx.ErrNoRows) {
				continue
			}
			if err != nil {
				s.unavailable(w, r, err)
				return
			}
			switch {
			case !bytes.Equal(row.RequestHash, hash):
				writeProblem(w, r, problem.IdempotencyKeyReused,
					"this Idempotency-Key was used for a different request; use a new key for a new request", nil)
			case row.ResponseStatus.Valid:
				replay(w, row)
			default:
				writeProblem(w, r, problem.IdempotencyInProgress,
					"a request with this Idempotency-Key is still being processed; retry shortly", nil)
			}
			return
		}
		writeProblem(w, r, problem.IdempotencyInProgress, "a request with this Idempotency-Key is still being processed; retry shortly", nil)
	})
}

// serve runs the claimed request, stores a successful answer and releases
// the key otherwise, and only then answers: a retry can never see the key
// free or in flight after the client has its answer.
func (s *Idempotency) serve(w http.ResponseWriter, r *http.Request, next http.Handler, id dbgen.IdempotencyGetParams, claim uuid.UUID) {
	rec := &recorder{header: w.Header()}
	finished := false
	// The store calls must not fail because the client went away.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	release := func() {
		if err := s.q.IdempotencyRelease(ctx, dbgen.IdempotencyReleaseParams{
			TenantID: id.TenantID, UserID: id.UserID, Key: id.Key, ClaimID: claim,
		}); err != nil {
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
		stored := storedHeaders{}
		for _, h := range replayedHeaders {
			if v := w.Header().Get(h); v != "" {
				stored[h] = v
			}
		}
		headers, _ := json.Marshal(stored)
		n, err := s.q.IdempotencyComplete(ctx, dbgen.IdempotencyCompleteParams{
			ResponseStatus: pgtype.Int4{Int32: int32(rec.status), Valid: true}, ResponseHeaders: headers,
			ResponseBody: rec.body.Bytes(), TenantID: id.TenantID, UserID: id.UserID, Key: id.Key, ClaimID: claim,
		})
		switch {
		case err != nil:
			s.log.ErrorContext(ctx, "store idempotent response", "error", err, "request_id", requestIDFrom(r.Context()))
			release()
		case n == 0:
			s.log.WarnContext(ctx, "idempotency claim was taken over before the answer was stored", "request_id", requestIDFrom(r.Context()))
		}
	} else {
		// Errors are not kept: a retry is processed afresh.
		release()
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(rec.body.Bytes())
}

func (s *Idempotency) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	s.log.WarnContext(r.Context(), "idempotency store unavailable", "error", err, "request_id", requestIDFrom(r.Context()))
	writeProblem(w, r, problem.ServiceUnavailable, "a backing service is unreachable; nothing was changed, retry later", nil)
}

func replay(w http.ResponseWriter, row dbgen.IdempotencyKey) {
	var stored storedHeaders
	_ = json.Unmarshal(row.ResponseHeaders, &stored)
	for k, v := range stored {
		w.Header().Set(k, v)
	}
	w.Header().Set("Idempotent-Replayed", "true")
	w.WriteHeader(int(row.ResponseStatus.Int32))
	_, _ = w.Write(row.ResponseBody)
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
