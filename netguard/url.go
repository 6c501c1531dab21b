package netguard

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// MaxURLLength bounds a checked URL; longer ones are refused.
const MaxURLLength = 2048

// CheckURL judges a URL without touching the network, for create and
// update time: an absolute http or https URL with a host, no credentials,
// a port in 1-65535, and a host that is either a well-formed DNS name or
// an address literal the policy admits. A name passes whatever it
// resolves to: the connection is judged when it is made.
func (g *Guard) CheckURL(raw string) error {
	_, err := g.checkURL(raw)
	return err
}

// CheckURLResolve is CheckURL plus a DNS look-up of a host name: the URL
// is refused when any address the name has now is refused, since such a
// name is either misconfigured or aimed inward. The answer is advisory
// (the name may resolve differently when used, and the connection is
// judged again then), so a failed look-up is not an error here.
func (g *Guard) CheckURLResolve(ctx context.Context, raw string) error {
	host, err := g.checkURL(raw)
	if err != nil {
		return err
	}
	if _, literal := parseLiteral(host); literal || g.allow.AdmitsHost(host) {
		return nil
	}
	addrs, err := g.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil
	}
	for _, ip := range addrs {
		if err := g.judge(host, ip); err != nil {
			return err
		}
	}
	return nil
}

// checkURL returns the URL's host (without brackets or port) when the URL
// passes.
func (g *Guard) checkURL(raw string) (string, error) {
	refuse := func(format string, a ...any) (string, error) {
		return "", &RefusedError{Reason: fmt.Sprintf(format, a...)}
	}
	if len(raw) > MaxURLLength {
		return refuse("longer than %d characters", MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return refuse("not a URL: %v", unwrapURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return refuse("%q is not an absolute URL; write it with http:// or https://", raw)
		}
		return refuse("scheme %q: only http and https are allowed", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return refuse("%q has no host", raw)
	}
	if u.User != nil {
		return refuse("the URL must not carry credentials (user:password@); the signature authenticates the sender")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return refuse("port %q is not in 1-65535", p)
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return refuse("%q has an empty port", u.Host)
	}
	host := u.Hostname()
	if ip, literal := parseLiteral(host); literal {
		if !ip.IsValid() {
			return refuse("address %q is not usable: zone identifiers are not allowed", host)
		}
		if err := g.judge(host, ip); err != nil {
			return "", err
		}
		return host, nil
	}
	if err := checkHostName(host); err != nil {
		return refuse("host %q: %v", host, err)
	}
	return host, nil
}

// parseLiteral tells whether host is an IP address literal; a literal
// with a zone is reported with the zero Addr.
func parseLiteral(host string) (netip.Addr, bool) {
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	if ip.Zone() != "" {
		return netip.Addr{}, true
	}
	return ip, true
}

// checkHostName accepts DNS names in ASCII (RFC 1123 labels; underscores
// are tolerated, as real names carry them). A name whose last label is
// numeric is refused: URL parsers and resolvers read "127.1",
// "2130706433" and "0x7f.1" as IPv4 addresses, and which one wins is not
// ours to guess.
func checkHostName(host string) error {
	host = strings.TrimSuffix(host, ".")
	if host == "" {
		return fmt.Errorf("empty host name")
	}
	if len(host) > 253 {
		return fmt.Errorf("host name longer than 253 characters")
	}
	labels := strings.Split(host, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return fmt.Errorf("label %q must be 1-63 characters", l)
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("label %q must not begin or end with a hyphen", l)
		}
		for _, r := range l {
			ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_'
			if !ok {
				return fmt.Errorf("character %q is not allowed in a host name (write international names in their xn-- form)", r)
			}
		}
	}
	if last := strings.ToLower(labels[len(labels)-1]); isNumeric(last) {
		return fmt.Errorf("a host whose last label is numeric reads as an IPv4 address; write the address in dotted decimal")
	}
	return nil
}

// isNumeric reports labels that IPv4 parsers accept as a number: decimal,
// octal (leading 0) or hexadecimal (0x...).
func isNumeric(l string) bool {
	if strings.HasPrefix(l, "0x") {
		l = l[2:]
		if l == "" {
			return true
		}
		for _, r := range l {
			if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
				return false
			}
		}
		return true
	}
	for _, r := range l {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
