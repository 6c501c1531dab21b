package netguard

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		addr string
		want Class
	}{
		// Public, including neighbours of refused ranges.
		{"8.8.8.8", Public},
		{"1.1.1.1", Public},
		{"9.255.255.255", Public},
		{"11.0.0.0", Public},
		{"100.63.255.255", Public},
		{"100.128.0.0", Public},
		{"172.15.255.255", Public},
		{"172.32.0.0", Public},
		{"192.167.255.255", Public},
		{"192.169.0.0", Public},
		{"169.253.255.255", Public},
		{"223.255.255.255", Public},
		{"2606:4700:4700::1111", Public},
		{"2a00:1450:4001:80e::200e", Public},
		{"::ffff:8.8.8.8", Public},
		{"64:ff9b::808:808", Public}, // NAT64 of 8.8.8.8
		{"2002:808:808::1", Public},  // 6to4 of 8.8.8.8

		// IPv4 special-purpose ranges.
		{"0.0.0.0", Unspecified},
		{"0.1.2.3", ThisNetwork},
		{"10.0.0.1", Private},
		{"10.255.255.255", Private},
		{"100.64.0.1", SharedCGNAT},
		{"100.127.255.255", SharedCGNAT},
		{"127.0.0.1", Loopback},
		{"127.255.255.254", Loopback},
		{"169.254.169.254", LinkLocal},
		{"169.254.0.1", LinkLocal},
		{"172.16.0.1", Private},
		{"172.31.255.255", Private},
		{"192.0.0.192", Protocol},
		{"192.0.2.10", Document},
		{"192.88.99.1", Reserved},
		{"192.168.1.1", Private},
		{"198.18.0.1", Benchmarking},
		{"198.19.255.255", Benchmarking},
		{"198.51.100.7", Document},
		{"203.0.113.9", Document},
		{"224.0.0.1", Multicast},
		{"239.255.255.250", Multicast},
		{"240.0.0.1", Reserved},
		{"255.255.255.255", Broadcast},

		// IPv6.
		{"::", Unspecified},
		{"::1", Loopback},
		{"::127.0.0.1", Reserved}, // IPv4-compatible
		{"fc00::1", Private},
		{"fd00:ec2::254", Private}, // AWS metadata over IPv6
		{"fdff:ffff::1", Private},
		{"fe80::1", LinkLocal},
		{"fe80::1%eth0", LinkLocal},
		{"febf::1", LinkLocal},
		{"fec0::1", SiteLocal},
		{"ff02::1", Multicast},
		{"100::1", Discard},
		{"2001:db8::1", Document},
		{"3fff::1", Document},
		{"2001:2::1", Benchmarking},
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", Tunnel},
		{"2001:10::1", Protocol},
		{"64:ff9b:1::a00:1", Private},

		// IPv6 forms that reach a refused IPv4 address.
		{"::ffff:127.0.0.1", Loopback},
		{"::ffff:7f00:1", Loopback},
		{"::ffff:169.254.169.254", LinkLocal},
		{"::ffff:10.1.2.3", Private},
		{"::ffff:0.0.0.0", Unspecified},
		{"::ffff:100.64.0.1", SharedCGNAT},
		{"::ffff:255.255.255.255", Broadcast},
		{"64:ff9b::7f00:1", Loopback},       // NAT64 of 127.0.0.1
		{"64:ff9b::a9fe:a9fe", LinkLocal},   // NAT64 of 169.254.169.254
		{"2002:c0a8:101::1", Private},       // 6to4 of 192.168.1.1
		{"2002:7f00:1::", Loopback},         // 6to4 of 127.0.0.1
		{"2002:a9fe:a9fe::1", LinkLocal},    // 6to4 of 169.254.169.254
		{"2002:0000:0000::1", Unspecified},  // 6to4 of 0.0.0.0
		{"2002:e000:0001::1", Multicast},    // 6to4 of 224.0.0.1
		{"2002:6440:0001::1", SharedCGNAT},  // 6to4 of 100.64.0.1
		{"64:ff9b::c000:201", Document},     // NAT64 of 192.0.2.1
		{"64:ff9b::ffff:ffff", Broadcast},   // NAT64 of 255.255.255.255
		{"64:ff9b::ac10:1", Private},        // NAT64 of 172.16.0.1
		{"64:ff9b::c612:1", Benchmarking},   // NAT64 of 198.18.0.1
		{"64:ff9b::f000:1", Reserved},       // NAT64 of 240.0.0.1
		{"64:ff9b::1.2.3.4", Public},        // NAT64 of a public address
		{"2002:102:304::", Public},          // 6to4 of 1.2.3.4
		{"::ffff:192.168.0.1", Private},     // mapped private
		{"::ffff:172.31.0.1", Private},      // mapped private
		{"::ffff:203.0.113.1", Document},    // mapped documentation
		{"::ffff:224.0.0.251", Multicast},   // mapped multicast (mDNS)
		{"::ffff:198.51.100.1", Document},   // mapped documentation
		{"::ffff:192.0.0.170", Protocol},    // mapped NAT64 discovery
		{"::ffff:0.1.0.0", ThisNetwork},     // mapped this-network
		{"::ffff:127.10.20.30", Loopback},   // mapped loopback, not .1
		{"::ffff:169.254.1.1", LinkLocal},   // mapped link-local
		{"::ffff:240.0.0.0", Reserved},      // mapped reserved
		{"::ffff:198.19.0.1", Benchmarking}, // mapped benchmarking
	} {
		ip, err := netip.ParseAddr(c.addr)
		require.NoError(t, err, c.addr)
		require.Equal(t, c.want, Classify(ip), c.addr)
	}
	require.Equal(t, Reserved, Classify(netip.Addr{}), "the zero Addr is never dialled")
}
