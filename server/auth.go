package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"schedsvc/schedules"
)

// AuthConfig verifies bearer JWTs: HS256 with Secret, `exp` required,
// issuer and audience checked when set.
type AuthConfig struct {
	Secret   []byte
	Issuer   string
	Audience string
	Leeway   time.Duration
}

type claims struct {
	TenantID string `json:"tenant_id"`
	jwt.RegisteredClaims
}

// Authenticator turns a request's bearer token into the schedule owner.
type Authenticator struct {
	secret []byte
	parser *jwt.Parser
}

// NewAuthenticator returns an Authenticator, or an error when the
// configuration cannot verify anything.
func NewAuthenticator(cfg AuthConfig) (*Authenticator, error) {
	if len(cfg.Secret) < 32 {
		return nil, errors.New("the JWT HS256 secret must be at least 32 bytes")
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(cfg.Leeway),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	return &Authenticator{secret: cfg.Secret, parser: jwt.NewParser(opts...)}, nil
}

// authError is a credential problem; its text is safe to show the caller.
type authError struct {
	msg     string
	missing bool
}

func (e *authError) Error() string { return e.msg }

func (a *Authenticator) authenticate(r *http.Request) (schedules.Owner, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return schedules.Owner{}, &authError{msg: "an Authorization: Bearer <token> header is required", missing: true}
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return schedules.Owner{}, &authError{msg: "the Authorization header must be of the form: Bearer <token>"}
	}
	var c claims
	_, err := a.parser.ParseWithClaims(strings.TrimSpace(token), &c, func(*jwt.Token) (any, error) { return a.secret, nil })
	if err != nil {
		return schedules.Owner{}, &authError{msg: "the bearer token is invalid: " + jwtReason(err)}
	}
	if c.Subject == "" {
		return schedules.Owner{}, &authError{msg: "the bearer token has no sub claim"}
	}
	if c.TenantID == "" {
		return schedules.Owner{}, &authError{msg: "the bearer token has no tenant_id claim"}
	}
	return schedules.Owner{UserID: c.Subject, TenantID: c.TenantID}, nil
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
		return "the signature does not verify"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "it is malformed"
	default:
		return "it could not be verified"
	}
}

type ownerKey struct{}

func ownerFrom(ctx context.Context) (schedules.Owner, bool) {
	o, ok := ctx.Value(ownerKey{}).(schedules.Owner)
	return o, ok
}

// requireAuth rejects requests without valid credentials with 401 and a
// WWW-Authenticate challenge (RFC 6750).
func (a *Authenticator) requireAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		owner, err := a.authenticate(r)
		if err != nil {
			var ae *authError
			errors.As(err, &ae)
			challenge := `Bearer realm="schedsvc"`
			if !ae.missing {
				challenge += fmt.Sprintf(`, error="invalid_token", error_description=%q`, ae.msg)
			}
			w.Header().Set("WWW-Authenticate", challenge)
			writeProblem(w, r, "unauthorized", ae.msg, nil)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ownerKey{}, owner)))
	})
}
