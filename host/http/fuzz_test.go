package http

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/abi"
)

// FuzzRequestDecode feeds http_request's decoding and the allowlist any
// request and any pattern. Whatever the input: no panic, only invalid or
// too_large as errors, and a request that passes goes to an http or https
// URL without user information, to a host in canonical form that the
// pattern really covers, and a host that reads as an IP address is
// always treated as one.
func FuzzRequestDecode(f *testing.F) {
	for _, s := range []struct{ req, pattern string }{
		{`{"url":"https://api.example.com/x"}`, "api.example.com"},
		{`{"method":"POST","url":"http://a.example.org:8080/","headers":{"Content-Type":"text/plain"},"body":"hi"}`, "*.example.org:8080"},
		{`{"url":"http://example.org/"}`, "*.example.org"},
		{`{"url":"http://127.0.0.1:8080/","bodyBase64":"AAE="}`, "127.0.0.1:8080"},
		{`{"url":"http://0x7f000001/"}`, "0x7f000001"},
		{`{"url":"http://127.1/"}`, "127.1"},
		{`{"url":"http://[::ffff:127.0.0.1]/"}`, "api.example.com"},
		{`{"url":"http://user@api.example.com/"}`, "api.example.com"},
		{`{"url":"HTTP://API.EXAMPLE.COM./"}`, "api.example.com"},
		{`{"url":"http://api.example.com","headers":{"Host":"evil.com"}}`, "api.example.com"},
		{`{"url":"http://api.example.com","method":"GET /x HTTP/1.1\r\n"}`, "api.example.com"},
		{`{"url":"ftp://api.example.com/"}`, "api.example.com"},
		{`{"url":"http://b\u00fccher.example/"}`, "xn--bcher-kva.example"},
		{`{"url":"http://a.example.com:443@b.example.com/"}`, "a.example.com"},
		{`null`, ""},
		{`{"url":"http://x/","body":"a","bodyBase64":"YQ=="}`, "x"},
	} {
		f.Add([]byte(s.req), s.pattern)
	}
	f.Fuzz(func(t *testing.T, data []byte, pattern string) {
		out, err := decodeRequest(data, 1<<10)
		if err != nil {
			var ce *codedError
			if !errors.As(err, &ce) || ce.code != abi.ErrInvalid && ce.code != abi.ErrTooLarge {
				t.Fatalf("error %v is not invalid or too_large", err)
			}
			if !strings.HasPrefix(ce.msg, FuncRequest+": ") {
				t.Fatalf("message %q does not name the function", ce.msg)
			}
		}
		if out == nil {
			return
		}
		checkTarget(t, out.url, out.target)
		if err != nil {
			return
		}
		if len(out.body) > 1<<10 {
			t.Fatalf("a body of %d bytes passed", len(out.body))
		}
		for k := range out.header {
			if reservedHeaders[k] {
				t.Fatalf("reserved header %s passed", k)
			}
		}
		if !allowed([]string{pattern}, out.target) {
			return
		}
		p, err := abi.ParseHostPattern(pattern)
		if err != nil {
			t.Fatalf("%q allowed by the invalid pattern %q", out.target, pattern)
		}
		h := out.target.host
		switch {
		case p.Wildcard && (out.target.ip || !strings.HasSuffix(h, "."+p.Host)),
			!p.Wildcard && h != p.Host,
			p.Port == 0 && out.target.port != 80 && out.target.port != 443,
			p.Port != 0 && out.target.port != p.Port:
			t.Fatalf("%s allowed by %q", out.target, pattern)
		}
	})
}

// checkTarget checks what checkURL accepted.
func checkTarget(t *testing.T, u *url.URL, tg target) {
	t.Helper()
	if u.Scheme != "http" && u.Scheme != "https" || u.User != nil || u.Opaque != "" {
		t.Fatalf("url %q passed", u)
	}
	if tg.port < 1 || tg.port > 65535 {
		t.Fatalf("port %d passed", tg.port)
	}
	h := tg.host
	if h == "" || h != strings.ToLower(h) || strings.HasSuffix(h, ".") {
		t.Fatalf("host %q is not canonical", h)
	}
	for i := 0; i < len(h); i++ {
		if h[i] >= 0x80 || h[i] < '%' || h[i] == '/' || h[i] == '@' || h[i] == '[' {
			t.Fatalf("host %q passed", h)
		}
	}
	// The host checked is the host dialed.
	if got := strings.ToLower(strings.TrimSuffix(u.Hostname(), ".")); got != h {
		if a, err := netip.ParseAddr(u.Hostname()); err != nil || a.String() != h {
			t.Fatalf("checked %q, the URL's host is %q", h, u.Hostname())
		}
	}
	a, err := netip.ParseAddr(h)
	if (err == nil) != tg.ip {
		t.Fatalf("host %q: ip %v", h, tg.ip)
	}
	if !tg.ip && endsInNumber(h) {
		t.Fatalf("host %q reads as an IP address", h)
	}
	if tg.ip && a.Is4() && a.String() != h {
		t.Fatalf("host %q is not in canonical form", h)
	}
	// A redirect's Location is reparsed: the URL must mean the same then.
	u2, err := url.Parse(u.String())
	if err != nil {
		t.Fatalf("%q does not parse again: %v", u, err)
	}
	tg2, err := checkURL(u2)
	if err != nil || tg2 != tg {
		t.Fatalf("%q reparsed: %v %v, was %v", u, tg2, err, tg)
	}
}
