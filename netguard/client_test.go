package netguard

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// These tests dial real listeners on loopback addresses: the policy under
// test refuses exactly those, so every receiver counts the requests that
// reached it and a refusal must leave its count at zero.

type receiver struct {
	*httptest.Server
	hits atomic.Int32
}

// listen starts a receiver on ip (port chosen by the kernel); next, when
// set, answers instead of the default 200 "ok".
func listen(t *testing.T, ip string, next http.HandlerFunc) *receiver {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Skipf("cannot listen on %s here: %v", ip, err)
	}
	r := &receiver{}
	r.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		if next != nil {
			next(w, req)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	r.Listener = l
	r.Start()
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) port() string {
	_, p, _ := net.SplitHostPort(r.Listener.Addr().String())
	return p
}

// url is the receiver's URL with host in place of its address.
func (r *receiver) url(host string) string {
	return "http://" + net.JoinHostPort(host, r.port()) + "/hook"
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, strings.NewReader(`{"n":1}`))
	require.NoError(t, err)
	resp, err := c.Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	return resp, err
}

func requireRefused(t *testing.T, err error, host, addr string, class Class) {
	t.Helper()
	require.ErrorIs(t, err, ErrRefused)
	var re *RefusedError
	require.ErrorAs(t, err, &re)
	require.Equal(t, host, re.Host)
	require.Equal(t, netip.MustParseAddr(addr), re.Addr)
	require.Equal(t, class, re.Class)
}

func TestLoopbackReceiverNeedsTheAllowlist(t *testing.T) {
	t.Parallel()
	r := listen(t, "127.0.0.1", nil)

	_, err := get(t, New(Config{}).Client(ClientOptions{}), r.URL)
	requireRefused(t, err, "127.0.0.1", "127.0.0.1", Loopback)
	require.Contains(t, err.Error(), "refused to connect to 127.0.0.1: a loopback address")
	require.Zero(t, r.hits.Load(), "a refused target is never reached")

	for _, allow := range []string{"127.0.0.1/32", "127.0.0.1", "127.0.0.0/8", "::ffff:127.0.0.1/128"} {
		resp, err := get(t, New(Config{Allow: mustAllow(t, allow)}).Client(ClientOptions{}), r.URL)
		require.NoError(t, err, allow)
		require.Equal(t, http.StatusOK, resp.StatusCode, allow)
	}
	require.EqualValues(t, 4, r.hits.Load())
}

func TestHostNameAllowlistMatchesTheURLHost(t *testing.T) {
	t.Parallel()
	r := listen(t, "127.0.0.1", nil)
	c := New(Config{Allow: mustAllow(t, "localhost")}).Client(ClientOptions{})

	resp, err := get(t, c, r.url("localhost"))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.EqualValues(t, 1, r.hits.Load())

	_, err = get(t, c, r.url("127.0.0.1"))
	requireRefused(t, err, "127.0.0.1", "127.0.0.1", Loopback)
	require.EqualValues(t, 1, r.hits.Load(), "the name admits the name, not the address it resolves to")
}

func TestNameResolvingToLoopbackIsRefusedAtConnectTime(t *testing.T) {
	t.Parallel()
	r := listen(t, "127.0.0.1", nil)
	g := New(Config{})
	url := r.url("localhost")
	require.NoError(t, g.CheckURL(url), "the URL itself is well formed: only the dial can judge it")

	_, err := get(t, g.Client(ClientOptions{}), url)
	requireRefused(t, err, "localhost", "127.0.0.1", Loopback)
	require.Contains(t, err.Error(), "refused to connect to localhost (127.0.0.1): a loopback address")
	require.Zero(t, r.hits.Load())

	var re *RefusedError
	require.ErrorAs(t, err, &re)
	require.Equal(t, "refused to connect to localhost: it resolves to a loopback address, which only the operator allowlist can admit", re.Detail(),
		"the owner's version names no resolved address")
	literal := &RefusedError{Host: "127.0.0.1", Addr: netip.MustParseAddr("127.0.0.1"), Class: Loopback}
	require.Equal(t, literal.Error(), literal.Detail(), "an address the owner wrote is theirs to see")
	urlLevel := &RefusedError{Reason: "scheme \"ftp\": only http and https are allowed"}
	require.Equal(t, "URL refused: scheme \"ftp\": only http and https are allowed", urlLevel.Detail())
}

func TestIPv6LoopbackIsRefused(t *testing.T) {
	t.Parallel()
	r := listen(t, "::1", nil)
	_, err := get(t, New(Config{}).Client(ClientOptions{}), r.url("::1"))
	requireRefused(t, err, "::1", "::1", Loopback)
	require.Zero(t, r.hits.Load())

	resp, err := get(t, New(Config{Allow: mustAllow(t, "::1/128")}).Client(ClientOptions{}), r.url("::1"))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestRedirectsAreJudgedAtEveryHop(t *testing.T) {
	t.Parallel()
	// The refused target listens on 127.0.0.1; the allowed receiver on
	// 127.0.0.2, admitted by its own /32 only.
	inside := listen(t, "127.0.0.1", nil)
	var location atomic.Value
	allowed := listen(t, "127.0.0.2", func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/final" {
			_, _ = io.WriteString(w, "arrived")
			return
		}
		http.Redirect(w, req, location.Load().(string), http.StatusTemporaryRedirect)
	})
	g := New(Config{Allow: mustAllow(t, "127.0.0.2/32")})
	c := g.Client(ClientOptions{MaxRedirects: 3})

	// A name: CheckRedirect cannot know where it leads; the dial refuses it.
	location.Store(inside.url("localhost"))
	_, err := get(t, c, allowed.url("127.0.0.2"))
	requireRefused(t, err, "localhost", "127.0.0.1", Loopback)

	// A literal: refused before any dial.
	location.Store(inside.url("127.0.0.1"))
	_, err = get(t, c, allowed.url("127.0.0.2"))
	requireRefused(t, err, "127.0.0.1", "127.0.0.1", Loopback)

	location.Store("http://169.254.169.254/latest/meta-data/")
	_, err = get(t, c, allowed.url("127.0.0.2"))
	requireRefused(t, err, "169.254.169.254", "169.254.169.254", LinkLocal)

	location.Store("file:///etc/passwd")
	_, err = get(t, c, allowed.url("127.0.0.2"))
	require.ErrorContains(t, err, `scheme "file"`)
	require.ErrorIs(t, err, ErrRefused)

	require.Zero(t, inside.hits.Load(), "no redirect reached the refused target")

	// A hop the policy admits is followed.
	location.Store("/final")
	resp, err := get(t, c, allowed.url("127.0.0.2"))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// With redirects off the 3xx comes back as it is, unfollowed.
	location.Store(inside.url("localhost"))
	resp, err = get(t, g.Client(ClientOptions{}), allowed.url("127.0.0.2"))
	require.NoError(t, err)
	require.Equal(t, http.StatusTemporaryRedirect, resp.StatusCode)
	require.Zero(t, inside.hits.Load())

	// Redirect loops stop at the limit.
	location.Store(allowed.url("127.0.0.2"))
	_, err = get(t, c, allowed.url("127.0.0.2"))
	require.ErrorContains(t, err, "stopped after 3 redirects")
	require.NotErrorIs(t, err, ErrRefused)
}

// TestDNSRebindingIsCaughtAtConnectTime points the guard at a DNS server
// that answers a public address to the first question and 127.0.0.1 to
// every later one: the create-time look-up passes, the connection does not.
func TestDNSRebindingIsCaughtAtConnectTime(t *testing.T) {
	t.Parallel()
	r := listen(t, "127.0.0.1", nil)
	var asked atomic.Int32
	dns := fakeDNS(t, func() netip.Addr {
		if asked.Add(1) == 1 {
			return netip.MustParseAddr("93.184.215.14")
		}
		return netip.MustParseAddr("127.0.0.1")
	})
	g := New(Config{Resolver: &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", dns)
		},
	}})
	url := r.url("rebind.test")
	require.NoError(t, g.CheckURLResolve(context.Background(), url), "the first answer is public")
	_, err := get(t, g.Client(ClientOptions{}), url)
	requireRefused(t, err, "rebind.test", "127.0.0.1", Loopback)
	require.Zero(t, r.hits.Load())
	require.GreaterOrEqual(t, asked.Load(), int32(2))
}

func TestOnlyTCPIsDialled(t *testing.T) {
	t.Parallel()
	_, err := New(Config{}).DialContext(context.Background(), "udp", "8.8.8.8:53")
	require.ErrorIs(t, err, ErrRefused)
	require.ErrorContains(t, err, `network "udp"`)
}

// fakeDNS serves A questions on a UDP port of 127.0.0.1 with the address
// answer returns, and every other question with an empty answer.
func fakeDNS(t *testing.T, answer func() netip.Addr) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if reply, ok := dnsReply(buf[:n], answer); ok {
				_, _ = pc.WriteTo(reply, from)
			}
		}
	}()
	return pc.LocalAddr().String()
}

func dnsReply(q []byte, answer func() netip.Addr) ([]byte, bool) {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:6]) != 1 {
		return nil, false
	}
	end := 12
	for end < len(q) && q[end] != 0 {
		end += int(q[end]) + 1
	}
	end += 5 // the root label, QTYPE, QCLASS
	if end > len(q) {
		return nil, false
	}
	qtype := binary.BigEndian.Uint16(q[end-4 : end-2])
	out := append([]byte{}, q[:end]...)
	out[2], out[3] = 0x81, 0x80               // response, recursion desired and available, NOERROR
	binary.BigEndian.PutUint16(out[8:10], 0)  // NSCOUNT
	binary.BigEndian.PutUint16(out[10:12], 0) // ARCOUNT: drop the EDNS record the question carried
	binary.BigEndian.PutUint16(out[6:8], 0)   // ANCOUNT
	if qtype == 1 {
		ip := answer().As4()
		binary.BigEndian.PutUint16(out[6:8], 1)
		out = append(out, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4)
		out = append(out, ip[:]...)
	}
	return out, true
}
