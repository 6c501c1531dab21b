package server

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// JWKS fetches signing keys from a JSON Web Key Set URL and keeps them,
// refetching when they grow old or a token names a kid it does not know
// (at most once per minRefresh, so unknown kids cannot hammer the issuer).
type JWKS struct {
	url        string
	client     *http.Client
	maxAge     time.Duration
	minRefresh time.Duration

	mu        sync.Mutex
	byKID     map[string][]crypto.PublicKey
	all       []crypto.PublicKey
	fetchedAt time.Time
	triedAt   time.Time
}

// NewJWKS returns a key set read from url on first use. A nil client uses
// one with a 5 s timeout.
func NewJWKS(url string, client *http.Client) *JWKS {
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	return &JWKS{url: url, client: client, maxAge: 10 * time.Minute, minRefresh: 30 * time.Second}
}

// keys returns the keys for kid, or every key when kid is empty.
func (j *JWKS) keys(ctx context.Context, kid string) ([]crypto.PublicKey, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	now := time.Now()
	_, known := j.byKID[kid]
	stale := j.fetchedAt.IsZero() || now.Sub(j.fetchedAt) > j.maxAge || (kid != "" && !known)
	var fetchErr error
	if stale && now.Sub(j.triedAt) >= j.minRefresh {
		j.triedAt = now
		fetchErr = j.fetch(ctx)
	}
	if kid == "" {
		return j.all, fetchErr
	}
	return j.byKID[kid], fetchErr
}

func (j *JWKS) fetch(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.url, nil)
	if err != nil {
		return fmt.Errorf("JWKS request: %w", err)
	}
	resp, err := j.client.Do(req)
	if err != nil {
		return fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch JWKS: %s", resp.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return fmt.Errorf("parse JWKS: %w", err)
	}
	byKID := map[string][]crypto.PublicKey{}
	var all []crypto.PublicKey
	for _, k := range set.Keys {
		if k.Use == "enc" || !k.Valid() {
			continue
		}
		pub := k.Public().Key
		if keyAlgorithm(pub) == "" || (k.Algorithm != "" && k.Algorithm != keyAlgorithm(pub)) {
			continue
		}
		byKID[k.KeyID] = append(byKID[k.KeyID], pub)
		all = append(all, pub)
	}
	j.byKID, j.all, j.fetchedAt = byKID, all, time.Now()
	return nil
}

// ParsePublicKeysPEM reads every PUBLIC KEY block (PKIX: RSA or ECDSA
// P-256) and RSA PUBLIC KEY block (PKCS #1) from data.
func ParsePublicKeysPEM(data []byte) ([]crypto.PublicKey, error) {
	var keys []crypto.PublicKey
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		var k crypto.PublicKey
		var err error
		switch block.Type {
		case "PUBLIC KEY":
			k, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			k, err = x509.ParsePKCS1PublicKey(block.Bytes)
		default:
			return nil, fmt.Errorf("PEM block %q is not a public key", block.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", block.Type, err)
		}
		if keyAlgorithm(k) == "" {
			return nil, fmt.Errorf("public key of type %T is not supported; use RSA or ECDSA P-256", k)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("no PEM public key found")
	}
	return keys, nil
}
