package server

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
)

const unitSecret = "unit-test-secret-that-is-at-least-32-bytes"

func bearer(token string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/api/v1/schedules", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

func goodClaims() jwt.MapClaims {
	return jwt.MapClaims{"sub": "u1", "tenant_id": "t1", "exp": time.Now().Add(time.Hour).Unix(), "aud": "schedsvc", "iss": "https://issuer.test"}
}

func with(c jwt.MapClaims, k string, v any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for kk, vv := range c {
		out[kk] = vv
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

func pemOf(t *testing.T, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// TestJWTHS256 covers the credential failures a shared-secret deployment
// must refuse, and the clock-skew allowance.
func TestJWTHS256(t *testing.T) {
	t.Parallel()
	a, err := NewAuthenticator(AuthConfig{Secret: []byte(unitSecret), Issuer: "https://issuer.test", Audience: "schedsvc", Leeway: 30 * time.Second})
	require.NoError(t, err)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	now := time.Now()

	p, err := a.authenticate(bearer(sign(t, jwt.SigningMethodHS256, []byte(unitSecret), "", with(goodClaims(), "tier", "pro"))))
	require.NoError(t, err)
	require.Equal(t, "u1", p.owner.UserID)
	require.Equal(t, "t1", p.owner.TenantID)
	require.Equal(t, "pro", p.tier)
	require.Equal(t, "user:t1/u1", p.rateKey)

	_, err = a.authenticate(bearer(sign(t, jwt.SigningMethodHS256, []byte(unitSecret), "", with(goodClaims(), "exp", now.Add(-10*time.Second).Unix()))))
	require.NoError(t, err, "expired by less than the leeway")

	none := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", goodClaims())
	for name, tok := range map[string]string{
		"alg none":             none,
		"wrong key":            sign(t, jwt.SigningMethodHS256, []byte("another-secret-that-is-long-enough-to-sign"), "", goodClaims()),
		"HS512":                sign(t, jwt.SigningMethodHS512, []byte(unitSecret), "", goodClaims()),
		"RS256 not configured": sign(t, jwt.SigningMethodRS256, rsaKey, "", goodClaims()),
		"expired":              sign(t, jwt.SigningMethodHS256, []byte(unitSecret), "", with(goodClaims(), "exp", now.Add(-time.Minute).Unix())),
		"no exp":               sign(t, jwt.SigningMethodHS256, []byte(unitSecret), "", with(goodClaims(), "exp", nil)),
		"not yet valid":        sign(t, jwt.SigningMethodHS256, []byte(unitSecret), "", with(goodClaims(), "nbf", now.Add(time.Minute).Unix())),
		"wrong audience":       sign(t, jwt.SigningMethodHS256, []byte(unitSecret), "", with(goodClaims(), "aud", "someone-else")),
		"no audience":          sign(t, jwt.SigningMethodHS256, []byte(unitSecret), "", with(goodClaims(), "aud", nil)),
		"wrong issuer":         sign(t, jwt.SigningMethodHS256, []byte(unitSecret), "", with(goodClaims(), "iss", "https://evil.test")),
		"missing tenant":       sign(t, jwt.SigningMethodHS256, []byte(unitSecret), "", with(goodClaims(), "tenant_id", nil)),
		"missing sub":          sign(t, jwt.SigningMethodHS256, []byte(unitSecret), "", with(goodClaims(), "sub", nil)),
		"API key as bearer":    "sk_abcdefgh_" + "x",
	} {
		_, err := a.authenticate(bearer(tok))
		var ae *authError
		require.ErrorAs(t, err, &ae, name)
	}
}

// TestJWTPublicKeys covers RS256 from a JWKS (with key rotation) and ES256
// from PEM, and that HS256 cannot be used to forge a token with a public
// key's bytes as the secret.
func TestJWTPublicKeys(t *testing.T) {
	t.Parallel()
	rsa1, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	rsa2, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)

	var current atomic.Value
	current.Store(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &rsa1.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	var fetches atomic.Int32
	jwksServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		_ = json.NewEncoder(w).Encode(current.Load())
	}))
	defer jwksServer.Close()
	jwks := NewJWKS(jwksServer.URL, jwksServer.Client())
	jwks.minRefresh = 0

	ecKeys, err := ParsePublicKeysPEM(pemOf(t, &ec.PublicKey))
	require.NoError(t, err)
	a, err := NewAuthenticator(AuthConfig{PublicKeys: ecKeys, JWKS: jwks, Audience: "schedsvc"})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{AlgRS256, AlgES256}, a.algorithms)

	_, err = a.authenticate(bearer(sign(t, jwt.SigningMethodRS256, rsa1, "k1", goodClaims())))
	require.NoError(t, err, "RS256 key from the JWKS")
	_, err = a.authenticate(bearer(sign(t, jwt.SigningMethodES256, ec, "", goodClaims())))
	require.NoError(t, err, "ES256 key from PEM")

	// The issuer rotates to k2: a token naming the unknown kid refetches.
	current.Store(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &rsa2.PublicKey, KeyID: "k2", Algorithm: "RS256", Use: "sig"}}})
	before := fetches.Load()
	_, err = a.authenticate(bearer(sign(t, jwt.SigningMethodRS256, rsa2, "k2", goodClaims())))
	require.NoError(t, err, "rotated key")
	require.Equal(t, before+1, fetches.Load())

	rsaPEM := pemOf(t, &rsa2.PublicKey)
	for name, tok := range map[string]string{
		"HS256 with the public key as secret": sign(t, jwt.SigningMethodHS256, rsaPEM, "k2", goodClaims()),
		"RS256 by an unknown key, known kid":  sign(t, jwt.SigningMethodRS256, rsa1, "k2", goodClaims()),
		"ES256 by another key":                sign(t, jwt.SigningMethodES256, mustEC(t), "", goodClaims()),
		"alg none":                            sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", goodClaims()),
		"wrong audience":                      sign(t, jwt.SigningMethodRS256, rsa2, "k2", with(goodClaims(), "aud", "other")),
		"missing tenant":                      sign(t, jwt.SigningMethodRS256, rsa2, "k2", with(goodClaims(), "tenant_id", nil)),
		"expired":                             sign(t, jwt.SigningMethodRS256, rsa2, "k2", with(goodClaims(), "exp", time.Now().Add(-time.Hour).Unix())),
	} {
		_, err := a.authenticate(bearer(tok))
		var ae *authError
		require.ErrorAs(t, err, &ae, name)
	}

	// With HS256 and RS256 both accepted, an HS256 token "signed" with the
	// RSA public key is still checked against the secret only.
	mixed, err := NewAuthenticator(AuthConfig{Secret: []byte(unitSecret), PublicKeys: []crypto.PublicKey{&rsa2.PublicKey}, Algorithms: []string{AlgHS256, AlgRS256}})
	require.NoError(t, err)
	_, err = mixed.authenticate(bearer(sign(t, jwt.SigningMethodHS256, rsaPEM, "", goodClaims())))
	require.Error(t, err)
	_, err = mixed.authenticate(bearer(sign(t, jwt.SigningMethodRS256, rsa2, "", goodClaims())))
	require.NoError(t, err)
}

func mustEC(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

func TestNewAuthenticatorRejectsUnsafeConfig(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]AuthConfig{
		"alg none":            {Secret: []byte(unitSecret), Algorithms: []string{"none"}},
		"short secret":        {Secret: []byte("short")},
		"RS256 without keys":  {Algorithms: []string{AlgRS256}},
		"secret but no HS256": {Secret: []byte(unitSecret), Algorithms: []string{AlgRS256}, PublicKeys: []crypto.PublicKey{&mustRSA(t).PublicKey}},
		"nothing to verify":   {},
	} {
		_, err := NewAuthenticator(cfg)
		require.Error(t, err, name)
	}
}

func mustRSA(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	return k
}
