// Package netguard is the outbound network policy for URLs that users
// supply (notification targets): an HTTP client that cannot be pointed at
// the service's own network.
//
// Design. The decision that counts is made at connect time, on the address
// actually dialled: the dialer's ControlContext hook runs after DNS
// resolution, for every address tried (each Happy Eyeballs attempt and
// each redirect hop), so DNS rebinding (a name that resolves to a public
// address when checked and to 127.0.0.1 when used), redirects to internal
// addresses and numeric host tricks all meet the same check. Refused are
// loopback, private (RFC 1918, unique local fc00::/7), link-local
// (169.254/16 and fe80::/10, which hold the cloud metadata endpoints
// 169.254.169.254 and fd00:ec2::254), unspecified, this-network 0/8,
// CGNAT 100.64/10, multicast, broadcast, reserved, documentation and
// benchmarking ranges, and IPv6 forms that reach any of them
// (::ffff:127.0.0.1, NAT64 and 6to4 embeddings). The client ignores
// HTTP_PROXY (a proxy would make the dialled address the proxy's), speaks
// only http and https, and re-checks every redirect.
//
// An operator allowlist admits otherwise refused targets: host names are
// matched against the URL's host, CIDR prefixes against the dialled
// address. CheckURL is the cheap check for create and update time (scheme,
// host, credentials, port, address literals); CheckURLResolve adds a DNS
// look-up whose answer is advisory only, since it can change before the
// connection is made.
//
// Every refusal is a *RefusedError (errors.Is(err, ErrRefused)), however
// deeply the HTTP client wraps it, so callers can tell a policy refusal
// (the user's URL is not acceptable: a 422, not worth retrying) from a
// network failure.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrRefused is what every *RefusedError matches with errors.Is.
var ErrRefused = errors.New("refused by the outbound network policy")

// RefusedError says why a URL or a connection was refused.
type RefusedError struct {
	// Host is the URL's host (name or address literal), when known.
	Host string
	// Addr is the refused address: the literal in the URL, a resolved
	// address, or the one being dialled. Zero when the URL itself is
	// refused (scheme, credentials, malformed host).
	Addr netip.Addr
	// Class is what Addr is; empty when Addr is zero.
	Class Class
	// Reason is the refusal in words, for URL-level refusals.
	Reason string
}

func (e *RefusedError) Error() string {
	if !e.Addr.IsValid() {
		return "URL refused: " + e.Reason
	}
	who := e.Addr.String()
	if e.Host != "" && e.Host != who {
		who = fmt.Sprintf("%s (%s)", e.Host, e.Addr)
	}
	return fmt.Sprintf("refused to connect to %s: a %s address, which only the operator allowlist can admit", who, e.Class)
}

// Detail is the refusal as the URL's owner may see it (a problem detail,
// a run's recorded error): for a host name it leaves out the address the
// name resolved to, so that the API cannot be used to learn what internal
// names resolve to. Error, with the address, is for the operator's logs.
func (e *RefusedError) Detail() string {
	if !e.Addr.IsValid() || e.Host == "" || e.Host == e.Addr.String() {
		return e.Error()
	}
	if _, literal := parseLiteral(e.Host); literal {
		return e.Error()
	}
	return fmt.Sprintf("refused to connect to %s: it resolves to a %s address, which only the operator allowlist can admit", e.Host, e.Class)
}

// Is makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// Config configures a Guard.
type Config struct {
	Allow Allowlist
	// DialTimeout bounds each connection attempt; default 5 s. The caller's
	// context bounds the whole request.
	DialTimeout time.Duration
	// Resolver resolves host names, for the connection and for
	// CheckURLResolve; nil is net.DefaultResolver.
	Resolver *net.Resolver
}

// Guard applies the policy. It is safe for concurrent use.
type Guard struct {
	allow    Allowlist
	resolver *net.Resolver
	dialer   *net.Dialer
}

// New returns a Guard for c.
func New(c Config) *Guard {
	if c.DialTimeout <= 0 {
		c.DialTimeout = 5 * time.Second
	}
	if c.Resolver == nil {
		c.Resolver = net.DefaultResolver
	}
	g := &Guard{allow: c.Allow, resolver: c.Resolver}
	g.dialer = &net.Dialer{
		Timeout:        c.DialTimeout,
		KeepAlive:      30 * time.Second,
		Resolver:       c.Resolver,
		ControlContext: g.control,
	}
	return g
}

// Allowlist is the allowlist the guard applies.
func (g *Guard) Allowlist() Allowlist { return g.allow }

type admittedHostKey struct{}
type hostKey struct{}

// DialContext dials addr (host:port) over TCP, refusing addresses outside
// the policy at connect time. It is the Transport's dialer; use it for any
// other client that must obey the policy.
func (g *Guard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, &RefusedError{Reason: fmt.Sprintf("network %q: only TCP is dialled", network)}
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	ctx = context.WithValue(ctx, hostKey{}, host)
	if _, literal := parseLiteral(host); !literal && g.allow.AdmitsHost(host) {
		ctx = context.WithValue(ctx, admittedHostKey{}, true)
	}
	return g.dialer.DialContext(ctx, network, addr)
}

// control runs once per address the dialer tries, after resolution and
// before connect: address is the IP and port about to be dialled.
func (g *Guard) control(ctx context.Context, network, address string, _ syscall.RawConn) error {
	host, _ := ctx.Value(hostKey{}).(string)
	if network != "tcp4" && network != "tcp6" {
		return &RefusedError{Host: host, Reason: fmt.Sprintf("network %q: only TCP is dialled", network)}
	}
	if admitted, _ := ctx.Value(admittedHostKey{}).(bool); admitted {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &RefusedError{Host: host, Reason: fmt.Sprintf("cannot judge the dialled address %q: %v", address, err)}
	}
	return g.judge(host, ap.Addr())
}

// judge refuses ip unless it is public or the allowlist admits it.
func (g *Guard) judge(host string, ip netip.Addr) error {
	ip = ip.WithZone("")
	if c := Classify(ip); c != Public && !g.allow.AdmitsAddr(ip) {
		return &RefusedError{Host: host, Addr: ip.Unmap(), Class: c}
	}
	return nil
}

// Transport is an http.Transport that dials through the guard and ignores
// proxy settings from the environment. Share one per process: it pools
// connections, each of which was judged when it was dialled.
func (g *Guard) Transport() *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           g.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// ClientOptions shape the client Client returns.
type ClientOptions struct {
	// MaxRedirects is how many redirects are followed, each re-checked
	// with CheckURL and dialled through the guard. Zero follows none:
	// the 3xx answer is returned to the caller as it is.
	MaxRedirects int
	// Transport overrides g.Transport() (to share one between clients);
	// it must dial through g.
	Transport http.RoundTripper
}

// Client returns an HTTP client that obeys the policy. It sets no overall
// timeout: give each request a context with a deadline.
func (g *Guard) Client(o ClientOptions) *http.Client {
	rt := o.Transport
	if rt == nil {
		rt = g.Transport()
	}
	return &http.Client{
		Transport: rt,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if o.MaxRedirects == 0 {
				return http.ErrUseLastResponse
			}
			if len(via) > o.MaxRedirects {
				return fmt.Errorf("stopped after %d redirects", o.MaxRedirects)
			}
			return g.CheckURL(req.URL.String())
		},
	}
}
