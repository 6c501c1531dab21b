package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"schedsvc/bench/internal/stack"
)

// The mixed workload: several users in several tenants, each with schedules
// that fire every minute (never deleted, so their runs can be counted at the
// end) and churn schedules that are created and deleted (yearly, so they
// never fire: a deleted schedule has no runs to count by construction).

const (
	firingCron  = "* * * * *"
	firingCron2 = "*/2 * * * *" // what an update toggles a firing schedule to and back
	churnCron   = "0 0 1 1 *"
	churnCap    = 20 // churn schedules per user at most
)

var zones = []string{"UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney"}

// opWeights is the mix, in parts of 100.
var opWeights = []struct {
	op     string
	weight int
}{
	{"get", 20}, {"list", 15}, {"runs", 15}, {"preview", 10}, {"update", 10},
	{"pause", 5}, {"resume", 5}, {"create", 10}, {"delete", 10},
}

type user struct {
	name, tenant, token string

	mu     sync.Mutex
	firing []string // never deleted
	churn  []string // oldest first
}

type workload struct {
	base    string
	hc      *http.Client
	users   []*user
	deleted sync.Map // schedule ids deleted (or being deleted) by the soak
}

// sample is one request's outcome.
type sample struct {
	Op      string
	Due     time.Time     // when it was meant to start
	Latency time.Duration // from Due to the end of the answer
	Service time.Duration // from sending to the end of the answer
	Status  int           // 0: transport error
	Race404 bool          // 404 on a schedule a concurrent delete removed
}

func (s sample) failed() bool { return s.Status == 0 || s.Status >= 500 || s.Status == 429 }

func newWorkload(base, secret string, tenants, usersPerTenant int, runID string) (*workload, error) {
	w := &workload{
		base: base,
		hc: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			MaxIdleConns: 512, MaxIdleConnsPerHost: 512, IdleConnTimeout: time.Minute,
		}},
	}
	now := time.Now()
	for t := range tenants {
		for u := range usersPerTenant {
			name := fmt.Sprintf("soak-%s-u%d-%d", runID, t, u)
			tenant := fmt.Sprintf("soak-%s-t%d", runID, t)
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
				"sub": name, "tenant_id": tenant, "iat": now.Unix(), "exp": now.Add(6 * time.Hour).Unix(),
			}).SignedString([]byte(secret))
			if err != nil {
				return nil, err
			}
			w.users = append(w.users, &user{name: name, tenant: tenant, token: tok})
		}
	}
	return w, nil
}

// do sends one request and reads the answer fully.
func (w *workload) do(ctx context.Context, u *user, method, path string, body any, idem bool, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, w.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+u.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idem {
		req.Header.Set("Idempotency-Key", stack.RandomHex(12))
	}
	resp, err := w.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

type createAnswer struct {
	ScheduleID string `json:"schedule_id"`
}

func (w *workload) create(ctx context.Context, u *user, cron string, n int) (string, int, error) {
	var a createAnswer
	status, err := w.do(ctx, u, http.MethodPost, "/api/v1/schedules", map[string]any{
		"name":            fmt.Sprintf("soak %s %d", u.name, n),
		"description":     "created by make soak",
		"cron_expression": cron,
		"timezone":        zones[n%len(zones)],
		"task_query":      "soak",
		"task_context":    map[string]any{"n": n},
		"executor":        "echo",
	}, true, &a)
	return a.ScheduleID, status, err
}

// seed gives every user its firing schedules.
func (w *workload) seed(ctx context.Context, perUser int) error {
	for _, u := range w.users {
		for i := range perUser {
			id, status, err := w.create(ctx, u, firingCron, i)
			if err != nil || status != http.StatusCreated {
				return fmt.Errorf("seed %s: status %d: %v", u.name, status, err)
			}
			u.firing = append(u.firing, id)
		}
	}
	return nil
}

// pick chooses an operation by weight.
func pick(r *rand.Rand) string {
	n := r.IntN(100)
	for _, o := range opWeights {
		if n < o.weight {
			return o.op
		}
		n -= o.weight
	}
	return opWeights[0].op
}

// one performs one randomly chosen operation of a random user.
func (w *workload) one(ctx context.Context, r *rand.Rand, due time.Time) sample {
	sent := time.Now()
	u := w.users[r.IntN(len(w.users))]
	op := pick(r)
	u.mu.Lock()
	// Creates and deletes keep each user's churn pool between 0 and churnCap.
	if op == "create" && len(u.churn) >= churnCap {
		op = "delete"
	}
	if op == "delete" && len(u.churn) == 0 {
		op = "create"
	}
	var target string
	switch op {
	case "delete":
		target = u.churn[0]
		u.churn = u.churn[1:]
		w.deleted.Store(target, true)
	case "get", "update", "runs":
		all := len(u.firing) + len(u.churn)
		if i := r.IntN(all); i < len(u.firing) {
			target = u.firing[i]
		} else {
			target = u.churn[i-len(u.firing)]
		}
	case "pause", "resume":
		target = u.firing[r.IntN(len(u.firing))]
	}
	u.mu.Unlock()

	var status int
	var err error
	switch op {
	case "get":
		status, err = w.do(ctx, u, http.MethodGet, "/api/v1/schedules/"+target, nil, false, nil)
	case "list":
		q := "?page_size=20"
		if r.IntN(3) == 0 {
			q += "&status=ACTIVE"
		}
		status, err = w.do(ctx, u, http.MethodGet, "/api/v1/schedules"+q, nil, false, nil)
	case "runs":
		status, err = w.do(ctx, u, http.MethodGet, "/api/v1/schedules/"+target+"/runs?page_size=20", nil, false, nil)
	case "preview":
		exprs := []string{"*/15 * * * *", "0 9 * * MON-FRI", "30 2 * * *", "0 0 1 * MON"}
		q := url.Values{"cron_expression": {exprs[r.IntN(len(exprs))]}, "timezone": {zones[r.IntN(len(zones))]}, "count": {"5"}}
		status, err = w.do(ctx, u, http.MethodGet, "/api/v1/cron/preview?"+q.Encode(), nil, false, nil)
	case "update":
		body := map[string]any{"description": "updated at " + time.Now().UTC().Format(time.RFC3339Nano)}
		if w.isFiring(u, target) {
			body["cron_expression"] = []string{firingCron, firingCron2}[r.IntN(2)]
		} else {
			body["name"] = "soak churn renamed"
		}
		status, err = w.do(ctx, u, http.MethodPut, "/api/v1/schedules/"+target, body, false, nil)
	case "pause":
		status, err = w.do(ctx, u, http.MethodPost, "/api/v1/schedules/"+target+"/pause", map[string]any{"reason": "soak"}, true, nil)
	case "resume":
		status, err = w.do(ctx, u, http.MethodPost, "/api/v1/schedules/"+target+"/resume", map[string]any{}, true, nil)
	case "create":
		var id string
		id, status, err = w.create(ctx, u, churnCron, r.IntN(1<<30))
		if err == nil && status == http.StatusCreated {
			u.mu.Lock()
			u.churn = append(u.churn, id)
			u.mu.Unlock()
		}
	case "delete":
		status, err = w.do(ctx, u, http.MethodDelete, "/api/v1/schedules/"+target, nil, true, nil)
	}
	if err != nil && status == 0 && ctx.Err() != nil {
		status = -1 // cancelled by the soak's own end, not the service's doing
	}
	s := sample{Op: op, Due: due, Latency: time.Since(due), Service: time.Since(sent), Status: status}
	if status == http.StatusNotFound && target != "" {
		_, s.Race404 = w.deleted.Load(target)
	}
	return s
}

func (w *workload) isFiring(u *user, id string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, f := range u.firing {
		if f == id {
			return true
		}
	}
	return false
}

// allSchedules lists the schedules that exist at the end, firing first.
// owned is a schedule and the user who owns it.
type owned struct {
	user *user
	id   string
}

func (w *workload) allSchedules() (firing, churn []owned) {
	for _, u := range w.users {
		u.mu.Lock()
		for _, id := range u.firing {
			firing = append(firing, owned{u, id})
		}
		for _, id := range u.churn {
			churn = append(churn, owned{u, id})
		}
		u.mu.Unlock()
	}
	return firing, churn
}
