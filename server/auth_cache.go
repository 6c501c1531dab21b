package server

import (
	"sync"
	"time"
)

// Verifying a JWT (base64, JSON, HMAC or signature, claims) on every
// request was 6% of the gateway's CPU on GET /schedules/{id} (issue 9);
// clients send the same token many times. A token verified once is the
// same bytes under the same keys the next time, and its issuer, audience
// and claims do not change; only time moves, and once valid a token stays
// valid until it expires. So each process remembers what a token verified
// to, for at most tokenCacheTTL, and checks only the expiry again. Nothing
// is shared between replicas; a token that failed is never remembered.

const (
	tokenCacheTTL = time.Minute
	// maxTokens bounds the cache; past it, it starts again empty.
	maxTokens = 10000
)

type verifiedToken struct {
	p principal
	// expires is exp plus the leeway: the first moment the token is refused.
	expires time.Time
	// until is when this entry must be verified again.
	until time.Time
}

type tokenCache struct {
	mu sync.RWMutex
	m  map[string]verifiedToken
}

func (c *tokenCache) get(token string, now time.Time) (principal, bool) {
	c.mu.RLock()
	v, ok := c.m[token]
	c.mu.RUnlock()
	if !ok || !now.Before(v.until) || !now.Before(v.expires) {
		return principal{}, false
	}
	return v.p, true
}

func (c *tokenCache) put(token string, p principal, expires, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxTokens {
		c.m = make(map[string]verifiedToken)
	}
	c.m[token] = verifiedToken{p: p, expires: expires, until: now.Add(tokenCacheTTL)}
}
