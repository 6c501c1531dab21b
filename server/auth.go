package server

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"schedsvc/problem"
	"schedsvc/schedules"
	"schedsvc/store"
)

// Algorithms the JWT verifier can be configured for. Anything else,
// `none` above all, is never accepted.
const (
	AlgHS256 = "HS256"
	AlgRS256 = "RS256"
	AlgES256 = "ES256"
)

// DefaultJWTLeeway is the clock skew allowed on exp and nbf.
const DefaultJWTLeeway = 30 * time.Second

// AuthConfig says which credentials the gateway accepts. JWTs are verified
// only with the configured algorithms, each tied to the kind of key it
// needs, so a token cannot choose how it is checked: an HS256 token is
// checked against Secret only, never against a public key's bytes.
type AuthConfig struct {
	// Algorithms accepted for JWTs. Empty means every algorithm a key is
	// configured for: HS256 with Secret, RS256 and ES256 with PublicKeys or
	// JWKS.
	Algorithms []string
	// Secret is the HS256 key, at least 32 bytes.
	Secret []byte
	// PublicKeys are RSA and ECDSA P-256 keys (from PEM) that tokens may be
	// signed with, whatever their kid.
	PublicKeys []crypto.PublicKey
	// JWKS supplies public keys by kid.
	JWKS *JWKS
	// Issuer and Audience are checked when set.
	Issuer   string
	Audience string
	// Leeway is the clock skew allowed on exp and nbf.
	Leeway time.Duration
	// APIKeys verifies X-API-Key; nil means API keys are not accepted.
	APIKeys APIKeyVerifier
}

// APIKeyVerifier looks up an API key presented by a caller.
type APIKeyVerifier interface {
	// Verify returns the key's record, ErrAPIKeyInvalid when the key is
	// unknown, malformed or revoked, or another error when the store cannot
	// be reached.
	Verify(ctx context.Context, key string) (store.APIKey, error)
}

type claims struct {
	TenantID string `json:"tenant_id"`
	Tier     string `json:"tier"`
	jwt.RegisteredClaims
}

// principal is who a request acts for and how it is rate limited.
type principal struct {
	owner schedules.Owner
	// tier names the rate-limit tier; empty means the default tier.
	tier string
	// rateKey is what the rate limit counts against: the API key, or the
	// user of a JWT.
	rateKey string
}

// Authenticator turns a request's credentials into the principal it acts
// for.
type Authenticator struct {
	algorithms []string
	secret     []byte
	publicKeys []crypto.PublicKey
	jwks       *JWKS
	parser     *jwt.Parser
	apiKeys    APIKeyVerifier
	leeway     time.Duration
	tokens     tokenCache
}

// NewAuthenticator returns an Authenticator, or an error when the
// configuration is inconsistent or cannot verify anything.
func NewAuthenticator(cfg AuthConfig) (*Authenticator, error) {
	algs := cfg.Algorithms
	if len(algs) == 0 {
		if len(cfg.Secret) > 0 {
			algs = append(algs, AlgHS256)
		}
		if len(cfg.PublicKeys) > 0 || cfg.JWKS != nil {
			algs = append(algs, AlgRS256, AlgES256)
		}
	}
	for _, alg := range algs {
		switch alg {
		case AlgHS256:
			if len(cfg.Secret) < 32 {
				return nil, errors.New("HS256 needs a secret of at least 32 bytes")
			}
		case AlgRS256, AlgES256:
			if len(cfg.PublicKeys) == 0 && cfg.JWKS == nil {
				return nil, fmt.Errorf("%s needs public keys (a PEM file or a JWKS URL)", alg)
			}
		default:
			return nil, fmt.Errorf("JWT algorithm %q is not supported; use %s, %s or %s", alg, AlgHS256, AlgRS256, AlgES256)
		}
	}
	if len(cfg.Secret) > 0 && !slices.Contains(algs, AlgHS256) {
		return nil, errors.New("an HS256 secret is configured but HS256 is not among the accepted algorithms")
	}
	for _, k := range cfg.PublicKeys {
		if keyAlgorithm(k) == "" {
			return nil, fmt.Errorf("public key of type %T is not supported; use RSA or ECDSA P-256", k)
		}
	}
	if len(algs) == 0 && cfg.APIKeys == nil {
		return nil, errors.New("no credentials can be verified: configure a JWT key or API keys")
	}
	leeway := cfg.Leeway
	if leeway == 0 {
		leeway = DefaultJWTLeeway
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(algs),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(leeway),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	return &Authenticator{
		algorithms: algs,
		secret:     cfg.Secret,
		publicKeys: cfg.PublicKeys,
		jwks:       cfg.JWKS,
		parser:     jwt.NewParser(opts...),
		apiKeys:    cfg.APIKeys,
		leeway:     leeway,
	}, nil
}

// keyAlgorithm is the only JWT algorithm a public key may verify.
func keyAlgorithm(k crypto.PublicKey) string {
	switch k := k.(type) {
	case *rsa.PublicKey:
		return AlgRS256
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return AlgES256
		}
	}
	return ""
}

// authError is a credential problem; its text is safe to show the caller.
type authError struct {
	msg     string
	missing bool
}

func (e *authError) Error() string { return e.msg }

// errCredentialStore means the credentials could not be checked because
// the API key store did not answer.
var errCredentialStore = errors.New("credential store unavailable")

func (a *Authenticator) authenticate(r *http.Request) (principal, error) {
	h := r.Header.Get("Authorization")
	apiKey := r.Header.Get("X-API-Key")
	switch {
	case h != "" && apiKey != "":
		return principal{}, &authError{msg: "send either an Authorization header or an X-API-Key header, not both"}
	case apiKey != "":
		return a.authenticateAPIKey(r.Context(), apiKey)
	case h == "":
		return principal{}, &authError{msg: "credentials are required: an Authorization: Bearer <JWT> or an X-API-Key header", missing: true}
	}
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return principal{}, &authError{msg: "the Authorization header must be of the form: Bearer <token>"}
	}
	if strings.HasPrefix(token, apiKeyPrefix) {
		return principal{}, &authError{msg: "API keys are accepted only in the X-API-Key header"}
	}
	if len(a.algorithms) == 0 {
		return principal{}, &authError{msg: "this server does not accept JWTs; use an API key in X-API-Key"}
	}
	now := time.Now()
	if p, ok := a.tokens.get(token, now); ok {
		return p, nil
	}
	var c claims
	tok, err := a.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) { return a.verificationKey(r.Context(), t) })
	if err != nil {
		return principal{}, &authError{msg: "the bearer token is invalid: " + jwtReason(err)}
	}
	if c.Subject == "" {
		return principal{}, &authError{msg: "the bearer token has no sub claim"}
	}
	if c.TenantID == "" {
		return principal{}, &authError{msg: "the bearer token has no tenant_id claim"}
	}
	owner := schedules.Owner{UserID: c.Subject, TenantID: c.TenantID}
	p := principal{owner: owner, tier: c.Tier, rateKey: "user:" + owner.TenantID + "/" + owner.UserID}
	// Keys from a JWKS can be withdrawn; a secret or a configured public
	// key lasts as long as the process.
	if tok.Method.Alg() == AlgHS256 || a.jwks == nil {
		a.tokens.put(token, p, c.ExpiresAt.Add(a.leeway), now)
	}
	return p, nil
}

// verificationKey returns the keys a token may be verified with. The
// parser has already refused any algorithm not configured; each algorithm
// gets only keys of its own kind.
func (a *Authenticator) verificationKey(ctx context.Context, t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	if alg == AlgHS256 {
		return a.secret, nil
	}
	kid, _ := t.Header["kid"].(string)
	var set jwt.VerificationKeySet
	for _, k := range a.publicKeys {
		if keyAlgorithm(k) == alg {
			set.Keys = append(set.Keys, k)
		}
	}
	if a.jwks != nil {
		keys, err := a.jwks.keys(ctx, kid)
		if err != nil && len(set.Keys) == 0 {
			return nil, err
		}
		for _, k := range keys {
			if keyAlgorithm(k) == alg {
				set.Keys = append(set.Keys, k)
			}
		}
	}
	if len(set.Keys) == 0 {
		return nil, fmt.Errorf("no %s key for kid %q", alg, kid)
	}
	return set, nil
}

func (a *Authenticator) authenticateAPIKey(ctx context.Context, key string) (principal, error) {
	if a.apiKeys == nil {
		return principal{}, &authError{msg: "this server does not accept API keys"}
	}
	k, err := a.apiKeys.Verify(ctx, key)
	switch {
	case errors.Is(err, ErrAPIKeyInvalid):
		return principal{}, &authError{msg: "the API key is unknown or revoked"}
	case err != nil:
		return principal{}, fmt.Errorf("%w: %w", errCredentialStore, err)
	}
	return principal{owner: k.Owner, tier: k.Tier, rateKey: "key:" + k.ID.String()}, nil
}

// jwtReason names what is wrong with a token without echoing it.
func jwtReason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "it has expired"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "a required claim (exp) is missing"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "it is not valid yet"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "the signature does not verify with an accepted algorithm and key"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "it is malformed"
	default:
		return "it could not be verified"
	}
}

type principalKey struct{}

func principalFrom(ctx context.Context) (principal, bool) {
	p, ok := ctx.Value(principalKey{}).(principal)
	return p, ok
}

func ownerFrom(ctx context.Context) (schedules.Owner, bool) {
	p, ok := principalFrom(ctx)
	return p.owner, ok
}

// requireAuth rejects requests without valid credentials with 401 and a
// WWW-Authenticate challenge (RFC 6750), and answers 503 when the
// credentials cannot be checked.
func (a *Authenticator) requireAuth(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.authenticate(r)
		if err != nil {
			var ae *authError
			if !errors.As(err, &ae) {
				log.WarnContext(r.Context(), "credentials could not be checked", "error", err, "request_id", requestIDFrom(r.Context()))
				writeProblem(w, r, problem.ServiceUnavailable, "credentials cannot be checked right now; nothing was changed, retry later", nil)
				return
			}
			challenge := `Bearer realm="schedsvc"`
			if !ae.missing {
				challenge += fmt.Sprintf(`, error="invalid_token", error_description=%q`, ae.msg)
			}
			w.Header().Set("WWW-Authenticate", challenge)
			writeProblem(w, r, problem.Unauthorized, ae.msg, nil)
			return
		}
		noteOwner(r.Context(), p.owner)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}
