package netguard

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func mustAllow(t *testing.T, s string) Allowlist {
	t.Helper()
	a, err := ParseAllowlist(s)
	require.NoError(t, err)
	return a
}

func TestParseAllowlist(t *testing.T) {
	t.Parallel()
	a := mustAllow(t, " Receiver.Internal. , 10.1.0.0/16,127.0.0.1, ::ffff:192.168.0.0/112, fd00::/8,,[::1]")
	require.Equal(t, "receiver.internal,10.1.0.0/16,127.0.0.1/32,192.168.0.0/16,fd00::/8,::1/128", a.String())

	for _, c := range []struct {
		host string
		want bool
	}{
		{"receiver.internal", true},
		{"RECEIVER.internal.", true},
		{"other.internal", false},
		{"sub.receiver.internal", false}, // exact names, no suffix match
		{"10.1.2.3", true},
		{"10.2.0.1", false},
		{"127.0.0.1", true},
		{"127.0.0.2", false},
		{"192.168.7.7", true},
		{"::ffff:192.168.7.7", true},
		{"fd12::1", true},
		{"fe80::1", false},
		{"::1", true},
	} {
		require.Equal(t, c.want, a.AdmitsHost(c.host), c.host)
	}
	require.True(t, a.AdmitsAddr(netip.MustParseAddr("::ffff:10.1.0.9")), "mapped forms meet the IPv4 prefix")
	require.False(t, Allowlist{}.AdmitsHost("localhost"), "the zero allowlist admits nothing")
	require.False(t, Allowlist{}.AdmitsAddr(netip.MustParseAddr("127.0.0.1")))

	empty := mustAllow(t, " , ")
	require.Equal(t, "", empty.String())

	for entry, msg := range map[string]string{
		"10.0.0.1/33":    "not a CIDR prefix",
		"10.0.0.1/8":     "host bits set; did you mean 10.0.0.0/8",
		"fe80::1%eth0":   "zone",
		"bad_host!":      "not allowed in a host name",
		"127.1":          "numeric",
		"-lead.example":  "hyphen",
		"a..example.com": "1-63 characters",
	} {
		_, err := ParseAllowlist("ok.example," + entry)
		require.ErrorContains(t, err, msg, entry)
		require.ErrorContains(t, err, entry)
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	g := New(Config{Allow: mustAllow(t, "hooks.internal,10.9.0.0/16")})
	for _, ok := range []string{
		"https://hooks.example.com/notify",
		"http://hooks.example.com:8080/a?b=c#frag",
		"https://8.8.8.8/x",
		"https://[2606:4700:4700::1111]:443/x",
		"https://localhost/x", // a name: judged when it is dialled
		"http://hooks.internal/x",
		"http://10.9.1.1:9000/x", // allowlisted prefix
		"https://xn--bcher-kva.example/",
		"https://under_score.example.com/",
		"https://example.com./trailing-dot",
		"https://1.2.3.4.nip.example/",
	} {
		require.NoError(t, g.CheckURL(ok), ok)
	}
	for raw, msg := range map[string]string{
		"ftp://example.com/":                                   `scheme "ftp"`,
		"file:///etc/passwd":                                   `scheme "file"`,
		"gopher://example.com":                                 `scheme "gopher"`,
		"example.com/notify":                                   "not an absolute URL",
		"//example.com/notify":                                 "not an absolute URL",
		"http:///path":                                         "no host",
		"http:example.com":                                     "no host",
		"https://user:pw@example.com/":                         "credentials",
		"https://user@example.com/":                            "credentials",
		"https://example.com:0/":                               "port",
		"https://example.com:65536/":                           "port",
		"https://example.com:/":                                "empty port",
		"https://exa mple.com/":                                "not a URL",
		"https://bücher.example/":                              "xn--",
		"http://127.0.0.1/":                                    "loopback",
		"http://127.0.0.1:8080/":                               "loopback",
		"http://[::1]/":                                        "loopback",
		"http://[::ffff:127.0.0.1]/":                           "loopback",
		"http://[::ffff:7f00:1]/":                              "loopback",
		"http://169.254.169.254/latest/":                       "link-local",
		"http://[fd00:ec2::254]/":                              "private",
		"http://[fe80::1%25eth0]/":                             "zone identifiers",
		"http://10.0.0.1/":                                     "private",
		"http://192.168.0.1/":                                  "private",
		"http://100.64.1.1/":                                   "CGNAT",
		"http://0.0.0.0/":                                      "unspecified",
		"http://[::]/":                                         "unspecified",
		"http://224.0.0.1/":                                    "multicast",
		"http://255.255.255.255/":                              "broadcast",
		"http://192.0.2.1/":                                    "documentation",
		"http://[64:ff9b::a9fe:a9fe]/":                         "link-local",
		"http://2130706433/":                                   "numeric",
		"http://0x7f000001/":                                   "numeric",
		"http://127.1/":                                        "numeric",
		"http://0177.0.0.1/":                                   "numeric",
		"http://10.9.0.1.example.017/":                         "numeric",
		"https://" + strings.Repeat("a", 64) + ".example.com/": "1-63 characters",
		"https://example.com/" + strings.Repeat("x", MaxURLLength): "longer than",
	} {
		err := g.CheckURL(raw)
		require.ErrorContains(t, err, msg, raw)
		require.ErrorIs(t, err, ErrRefused, raw)
		var re *RefusedError
		require.True(t, errors.As(err, &re), raw)
	}

	var re *RefusedError
	require.ErrorAs(t, g.CheckURL("http://169.254.169.254/"), &re)
	require.Equal(t, netip.MustParseAddr("169.254.169.254"), re.Addr)
	require.Equal(t, LinkLocal, re.Class)
	require.Equal(t, "refused to connect to 169.254.169.254: a link-local address, which only the operator allowlist can admit", re.Error())
}

func TestCheckURLResolveRefusesNamesThatResolveInward(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := New(Config{})
	err := g.CheckURLResolve(ctx, "http://localhost:9/x")
	var re *RefusedError
	require.ErrorAs(t, err, &re)
	require.Equal(t, "localhost", re.Host)
	require.Equal(t, Loopback, re.Class)
	require.Contains(t, err.Error(), "refused to connect to localhost (")

	require.NoError(t, g.CheckURLResolve(ctx, "http://no-such-host.invalid/x"), "a failed look-up is advisory, not a refusal")
	require.ErrorContains(t, g.CheckURLResolve(ctx, "ftp://localhost/"), `scheme "ftp"`, "the syntactic checks still apply")

	byName := New(Config{Allow: mustAllow(t, "localhost")})
	require.NoError(t, byName.CheckURLResolve(ctx, "http://localhost:9/x"))
	byPrefix := New(Config{Allow: mustAllow(t, "127.0.0.0/8,::1/128")})
	require.NoError(t, byPrefix.CheckURLResolve(ctx, "http://localhost:9/x"))
}
