package netguard

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Allowlist is the operator's exception to the policy: targets it admits
// are reached even when their address is refused. Host names are matched
// against the URL's host, exactly (case and a trailing dot aside), and
// admit whatever address that name resolves to, so list only names whose
// DNS the operator controls. Prefixes are matched against the address
// actually dialled. The zero Allowlist admits nothing.
type Allowlist struct {
	hosts    map[string]bool
	prefixes []netip.Prefix
}

// ParseAllowlist reads a comma-separated list of host names, IP addresses
// and CIDR prefixes ("receiver.internal, 10.1.0.0/16, 127.0.0.1"), the
// form of NOTIFY_ALLOWED_HOSTS. An address stands for its single-address
// prefix. Blank entries are ignored; a malformed one is an error naming it.
func ParseAllowlist(s string) (Allowlist, error) {
	var a Allowlist
	for _, raw := range strings.Split(s, ",") {
		entry := strings.TrimSpace(raw)
		if entry == "" {
			continue
		}
		if strings.Contains(entry, "/") {
			p, err := netip.ParsePrefix(entry)
			if err != nil {
				return Allowlist{}, fmt.Errorf("allowlist entry %q is not a CIDR prefix: %w", entry, err)
			}
			if p != p.Masked() {
				return Allowlist{}, fmt.Errorf("allowlist entry %q has host bits set; did you mean %s?", entry, p.Masked())
			}
			a.prefixes = append(a.prefixes, unmapPrefix(p))
			continue
		}
		if ip, err := netip.ParseAddr(strings.Trim(entry, "[]")); err == nil {
			if ip.Zone() != "" {
				return Allowlist{}, fmt.Errorf("allowlist entry %q has a zone; list the address without it", entry)
			}
			ip = ip.Unmap()
			a.prefixes = append(a.prefixes, netip.PrefixFrom(ip, ip.BitLen()))
			continue
		}
		host := canonicalHost(entry)
		if err := checkHostName(host); err != nil {
			return Allowlist{}, fmt.Errorf("allowlist entry %q: %w", entry, err)
		}
		if a.hosts == nil {
			a.hosts = map[string]bool{}
		}
		a.hosts[host] = true
	}
	return a, nil
}

// unmapPrefix turns ::ffff:10.0.0.0/104 into 10.0.0.0/8, so that an
// operator writing either form admits the same dialled addresses (which
// are compared unmapped).
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p
}

// AdmitsHost tells whether the URL host (a name or an address literal,
// without port or brackets) is listed as a host name, or, for a literal,
// falls inside a listed prefix.
func (a Allowlist) AdmitsHost(host string) bool {
	if ip, err := netip.ParseAddr(host); err == nil {
		return a.AdmitsAddr(ip)
	}
	return a.hosts[canonicalHost(host)]
}

// AdmitsAddr tells whether a listed prefix contains ip (compared unmapped
// and without its zone).
func (a Allowlist) AdmitsAddr(ip netip.Addr) bool {
	ip = ip.WithZone("").Unmap()
	for _, p := range a.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// String lists the entries in a stable order, for logging what the
// process runs with.
func (a Allowlist) String() string {
	var out []string
	for h := range a.hosts {
		out = append(out, h)
	}
	slices.Sort(out)
	for _, p := range a.prefixes {
		out = append(out, p.String())
	}
	return strings.Join(out, ",")
}

func canonicalHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(h), ".")
}
