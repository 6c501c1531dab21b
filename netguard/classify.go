package netguard

import (
	"net/netip"
)

// Class names why an address is refused; the empty Class is a public
// address. The names are stable: they appear in error messages and in
// the problem detail the API sends.
type Class string

const (
	Public       Class = ""
	Unspecified  Class = "unspecified"
	ThisNetwork  Class = "this-network"
	Loopback     Class = "loopback"
	Private      Class = "private"
	SharedCGNAT  Class = "shared address space (CGNAT)"
	LinkLocal    Class = "link-local"
	Multicast    Class = "multicast"
	Broadcast    Class = "broadcast"
	Reserved     Class = "reserved"
	Protocol     Class = "IETF protocol assignment"
	Benchmarking Class = "benchmarking"
	Document     Class = "documentation"
	Discard      Class = "discard-only"
	Tunnel       Class = "tunnel (Teredo)"
	SiteLocal    Class = "site-local"
)

type rangeClass struct {
	prefix netip.Prefix
	class  Class
}

// refused4 and refused6 are the special-purpose ranges of the IANA
// registries (RFC 6890 and its updates) that a notification must never
// reach unless an operator admits them. Order matters only where prefixes
// nest: the first match wins, so narrower prefixes come first.
var refused4 = []rangeClass{
	{netip.MustParsePrefix("0.0.0.0/32"), Unspecified},
	{netip.MustParsePrefix("0.0.0.0/8"), ThisNetwork},
	{netip.MustParsePrefix("10.0.0.0/8"), Private},
	{netip.MustParsePrefix("100.64.0.0/10"), SharedCGNAT},
	{netip.MustParsePrefix("127.0.0.0/8"), Loopback},
	{netip.MustParsePrefix("169.254.0.0/16"), LinkLocal}, // 169.254.169.254: cloud metadata
	{netip.MustParsePrefix("172.16.0.0/12"), Private},
	{netip.MustParsePrefix("192.0.0.0/24"), Protocol}, // 192.0.0.192: Oracle Cloud metadata
	{netip.MustParsePrefix("192.0.2.0/24"), Document},
	{netip.MustParsePrefix("192.88.99.0/24"), Reserved}, // former 6to4 relay anycast
	{netip.MustParsePrefix("192.168.0.0/16"), Private},
	{netip.MustParsePrefix("198.18.0.0/15"), Benchmarking},
	{netip.MustParsePrefix("198.51.100.0/24"), Document},
	{netip.MustParsePrefix("203.0.113.0/24"), Document},
	{netip.MustParsePrefix("224.0.0.0/4"), Multicast},
	{netip.MustParsePrefix("255.255.255.255/32"), Broadcast},
	{netip.MustParsePrefix("240.0.0.0/4"), Reserved},
}

var refused6 = []rangeClass{
	{netip.MustParsePrefix("::/128"), Unspecified},
	{netip.MustParsePrefix("::1/128"), Loopback},
	{netip.MustParsePrefix("::/96"), Reserved}, // IPv4-compatible, deprecated
	{netip.MustParsePrefix("64:ff9b:1::/48"), Private},
	{netip.MustParsePrefix("100::/64"), Discard},
	{netip.MustParsePrefix("2001::/32"), Tunnel},
	{netip.MustParsePrefix("2001:2::/48"), Benchmarking},
	{netip.MustParsePrefix("2001:db8::/32"), Document},
	{netip.MustParsePrefix("2001::/23"), Protocol},
	{netip.MustParsePrefix("3fff::/20"), Document},
	{netip.MustParsePrefix("fc00::/7"), Private}, // unique local; fd00:ec2::254: AWS metadata
	{netip.MustParsePrefix("fe80::/10"), LinkLocal},
	{netip.MustParsePrefix("fec0::/10"), SiteLocal},
	{netip.MustParsePrefix("ff00::/8"), Multicast},
}

var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

// Classify tells whether ip is a public address, and if not, what it is.
// Forms that carry an IPv4 address inside an IPv6 one (IPv4-mapped
// ::ffff:a.b.c.d, NAT64 64:ff9b::a.b.c.d, 6to4 2002:aabb:ccdd::) are
// judged by the IPv4 address they reach, so ::ffff:127.0.0.1 is loopback.
// An address with a zone (fe80::1%eth0) is judged without it.
func Classify(ip netip.Addr) Class {
	if !ip.IsValid() {
		return Reserved
	}
	ip = ip.WithZone("")
	if ip.Is4In6() {
		ip = ip.Unmap()
	}
	if ip.Is6() {
		if v4, ok := embeddedIPv4(ip); ok {
			return classify4(v4)
		}
		return lookup(refused6, ip)
	}
	return classify4(ip)
}

func classify4(ip netip.Addr) Class { return lookup(refused4, ip) }

func lookup(table []rangeClass, ip netip.Addr) Class {
	for _, r := range table {
		if r.prefix.Contains(ip) {
			return r.class
		}
	}
	return Public
}

// embeddedIPv4 returns the IPv4 address that a NAT64 or 6to4 address
// translates to; a gateway would deliver to it, so it is what is judged.
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	b := ip.As16()
	switch {
	case nat64.Contains(ip):
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case sixTo4.Contains(ip):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}
