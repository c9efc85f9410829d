package http

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/abi"
)

func TestPrivateKind(t *testing.T) {
	tests := []struct {
		addr, kind string // kind "" means public
	}{
		{"8.8.8.8", ""},
		{"93.184.216.34", ""},
		{"2606:4700::1111", ""},
		{"::ffff:8.8.8.8", ""},
		{"64:ff9b::808:808", ""}, // NAT64 of a public address
		{"2002:808:808::1", ""},  // 6to4 of a public address
		{"100.63.255.255", ""},
		{"100.128.0.0", ""},
		{"172.15.255.255", ""},
		{"172.32.0.0", ""},
		{"11.0.0.0", ""},

		{"127.0.0.1", "loopback"},
		{"127.255.255.254", "loopback"},
		{"::1", "loopback"},
		{"0.0.0.0", "unspecified (this network)"},
		{"0.1.2.3", "unspecified (this network)"},
		{"::", "unspecified"},
		{"10.0.0.1", "private"},
		{"10.255.255.255", "private"},
		{"172.16.0.0", "private"},
		{"172.31.255.255", "private"},
		{"192.168.0.1", "private"},
		{"100.64.0.0", "shared (CGNAT)"},
		{"100.127.255.255", "shared (CGNAT)"},
		{"169.254.169.254", "cloud metadata"},
		{"fd00:ec2::254", "cloud metadata"},
		{"169.254.0.1", "link-local"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"fc00::1", "unique local (private)"},
		{"fd12:3456::1", "unique local (private)"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"ff02::1", "multicast"},
		{"240.0.0.1", "reserved"},
		{"255.255.255.255", "reserved"},
		{"192.0.0.170", "IETF protocol assignment"},
		{"198.18.0.1", "benchmarking"},
		{"192.0.2.1", "documentation"},
		{"2001:db8::1", "documentation"},
		{"fec0::1", "site-local"},
		{"100::1", "discard"},
		{"2001::1", "Teredo"},
		{"::7f00:1", "IPv4-compatible"},

		{"::ffff:127.0.0.1", "loopback (IPv4-mapped)"},
		{"::ffff:10.1.2.3", "private (IPv4-mapped)"},
		{"::ffff:169.254.169.254", "cloud metadata (IPv4-mapped)"},
		{"::ffff:0.0.0.0", "unspecified (this network) (IPv4-mapped)"},
		{"64:ff9b::7f00:1", "loopback (NAT64)"},
		{"64:ff9b::a9fe:a9fe", "cloud metadata (NAT64)"},
		{"64:ff9b:1::1", "local NAT64"},
		{"2002:7f00:1::", "loopback (6to4)"},
		{"2002:a00:1::", "private (6to4)"},
	}
	for _, tc := range tests {
		if got := privateKind(netip.MustParseAddr(tc.addr)); got != tc.kind {
			t.Errorf("privateKind(%s) = %q, want %q", tc.addr, got, tc.kind)
		}
	}
	if got := privateKind(netip.Addr{}); got != "invalid" {
		t.Errorf("the zero Addr: %q", got)
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url  string
		want string // host:port, or the start of the error
		ip   bool
	}{
		{"http://api.example.com/", "api.example.com:80", false},
		{"https://api.example.com/x?y#z", "api.example.com:443", false},
		{"HTTPS://API.Example.COM.:8443/", "api.example.com:8443", false},
		{"http://a_b.example.com/", "a_b.example.com:80", false},
		{"http://127.0.0.1:8080/", "127.0.0.1:8080", true},
		{"http://[::1]/", "[::1]:80", true},
		{"http://[::FFFF:127.0.0.1]/", "[::ffff:127.0.0.1]:80", true},
		{"http://[0:0::1]:1/", "[::1]:1", true},
		{"http://api.example.com:/", "api.example.com:80", false},
		{"http://xn--bcher-kva.example/", "xn--bcher-kva.example:80", false},

		{"http://[fe80::1%25lo]/", "an IPv6 address with a zone", false},
		{"http://[::%25A]/", "an IPv6 address with a zone", false},
		{"ftp://api.example.com/", `has the scheme "ftp"`, false},
		{"javascript:alert(1)", `has the scheme "javascript"`, false},
		{"//api.example.com/", `has the scheme ""`, false},
		{"http:api.example.com", "has no host", false},
		{"http:///path", "has no host", false},
		{"http://u@api.example.com/", "has user information", false},
		{"http://:@api.example.com/", "has user information", false},
		{"http://api.example.com:0/", `has the port "0"`, false},
		{"http://api.example.com:65536/", `has the port "65536"`, false},
		{"http://bücher.example/", "has a host that is not ASCII", false},
		{"http://api%c3%a9.example/", "has a host that is not ASCII", false},
		{"http://a..b/", "has the host \"a..b\"", false},
		{"http://.a/", "has the host", false},
		{"http://a.b../", "has the host", false},
		{"http://" + strings.Repeat("a", 64) + ".example/", "has the host", false},
		{"http://" + strings.Repeat("a.", 127) + "ab/", "has a host name over 253 bytes", false},
		{"http://0x7f000001/", "has the host \"0x7f000001\", which reads as an IP address", false},
		{"http://2130706433/", "which reads as an IP address", false},
		{"http://0177.0.0.1/", "which reads as an IP address", false},
		{"http://127.1/", "which reads as an IP address", false},
		{"http://127.0.0.1.1/", "which reads as an IP address", false},
		{"http://1.2.3.256/", "which reads as an IP address", false},
		{"http://api.example.0x10/", "which reads as an IP address", false},
		{"http://api.example.123/", "which reads as an IP address", false},
		{"http://127.0.0.1./", "127.0.0.1:80", true},
	}
	// url.Parse refuses %-escapes of ASCII in a host, so "%2e" cannot
	// smuggle a dot and "%00" no NUL.
	for _, s := range []string{"http://api%2eexample.com/", "http://a%00b/", "http://a%2fb/"} {
		if _, err := url.Parse(s); err == nil {
			t.Errorf("url.Parse(%q) succeeded", s)
		}
	}
	for _, tc := range tests {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Errorf("url.Parse(%q): %v", tc.url, err)
			continue
		}
		got, err := checkURL(u)
		if err != nil {
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("checkURL(%q): %v, want %s", tc.url, err, tc.want)
			}
			continue
		}
		if got.String() != tc.want || got.ip != tc.ip {
			t.Errorf("checkURL(%q) = %s ip=%v, want %s ip=%v", tc.url, got, got.ip, tc.want, tc.ip)
		}
	}
}

func TestAllowed(t *testing.T) {
	tests := []struct {
		patterns []string
		host     string
		port     int
		ip       bool
		want     bool
	}{
		{[]string{"api.example.com"}, "api.example.com", 443, false, true},
		{[]string{"api.example.com"}, "api.example.com", 80, false, true},
		{[]string{"api.example.com"}, "api.example.com", 8080, false, false},
		{[]string{"API.Example.COM"}, "api.example.com", 443, false, true},
		{[]string{"api.example.com:8080"}, "api.example.com", 8080, false, true},
		{[]string{"api.example.com:8080"}, "api.example.com", 443, false, false},
		{[]string{"*.example.org"}, "a.example.org", 443, false, true},
		{[]string{"*.example.org"}, "a.b.example.org", 80, false, true},
		{[]string{"*.example.org"}, "example.org", 443, false, false},
		{[]string{"*.example.org"}, "badexample.org", 443, false, false},
		{[]string{"*.example.org:8443"}, "a.example.org", 443, false, false},
		{[]string{"example.org"}, "a.example.org", 443, false, false},
		{[]string{"127.0.0.1:8080"}, "127.0.0.1", 8080, true, true},
		{[]string{"*.0.0.1"}, "127.0.0.1", 80, true, false},
		{[]string{"bad pattern", "http://api.example.com", "api.example.com/"}, "api.example.com", 443, false, false},
		{[]string{"other.com", "api.example.com"}, "api.example.com", 443, false, true},
		{nil, "api.example.com", 443, false, false},
	}
	for _, tc := range tests {
		if got := allowed(tc.patterns, target{host: tc.host, port: tc.port, ip: tc.ip}); got != tc.want {
			t.Errorf("allowed(%q, %s:%d) = %v, want %v", tc.patterns, tc.host, tc.port, got, tc.want)
		}
	}
}

func TestDecodeRequest(t *testing.T) {
	out, err := decodeRequest([]byte(`{"url":"https://api.example.com/a#frag","headers":{"X-A":"1","x-a":"2","Accept":"text/plain"},"bodyBase64":"aGk="}`), 1024)
	if err != nil {
		t.Fatal(err)
	}
	if out.method != "GET" || out.url.String() != "https://api.example.com/a" || string(out.body) != "hi" || out.target.String() != "api.example.com:443" {
		t.Errorf("decoded: %+v", out)
	}
	if got := out.header.Values("X-A"); len(got) != 2 || got[0] != "1" || got[1] != "2" {
		t.Errorf("two spellings of one header: %q", got)
	}
	// The target survives a failure after the URL, for the denial message.
	out, err = decodeRequest([]byte(`{"url":"https://api.example.com/","method":"CONNECT"}`), 1024)
	var ce *codedError
	if !errors.As(err, &ce) || ce.code != abi.ErrInvalid || out == nil || out.target.String() != "api.example.com:443" {
		t.Errorf("%v, %+v", err, out)
	}
	_, err = decodeRequest([]byte(`{"url":"https://api.example.com/","body":"`+strings.Repeat("x", 1025)+`"}`), 1024)
	if !errors.As(err, &ce) || ce.code != abi.ErrTooLarge {
		t.Errorf("body over the limit: %v", err)
	}
}

// The dialer checks every address and dials only a checked one.
func TestDialer(t *testing.T) {
	dns := &fakeDNS{names: map[string][]netip.Addr{}}
	dns.set("public.test", "93.184.216.34", "2606:2800:220:1::1")
	dns.set("mixed.test", "93.184.216.34", "10.0.0.1")
	dns.set("empty.test")
	var dialed []string
	fail := errors.New("not really dialed")
	opts := &Options{Resolver: dns, Dial: func(_ context.Context, _, address string) (net.Conn, error) {
		dialed = append(dialed, address)
		return nil, fail
	}}
	d := newDialer(opts, false)
	tests := []struct {
		address string
		dials   []string
		blocked string
	}{
		{"public.test:443", []string{"93.184.216.34:443", "[2606:2800:220:1::1]:443"}, ""},
		{"8.8.8.8:80", []string{"8.8.8.8:80"}, ""},
		{"mixed.test:443", nil, "mixed.test:443 resolves to 10.0.0.1, in the private range"},
		{"127.0.0.1:80", nil, "127.0.0.1:80 is in the loopback range"},
		{"[::ffff:7f00:1]:80", nil, "[::ffff:7f00:1]:80 resolves to ::ffff:127.0.0.1, in the loopback (IPv4-mapped) range"},
		{"empty.test:80", nil, ""},
		{"nosuch.test:80", nil, ""},
	}
	for _, tc := range tests {
		dialed = nil
		_, err := d.DialContext(context.Background(), "tcp", tc.address)
		var be *blockedError
		if errors.As(err, &be) != (tc.blocked != "") || tc.blocked != "" && be.Error() != tc.blocked {
			t.Errorf("%s: %v, want blocked %q", tc.address, err, tc.blocked)
		}
		if strings.Join(dialed, " ") != strings.Join(tc.dials, " ") {
			t.Errorf("%s: dialed %q, want %q", tc.address, dialed, tc.dials)
		}
	}
	// With private addresses granted, the same addresses are dialed.
	dialed = nil
	newDialer(opts, true).DialContext(context.Background(), "tcp", "mixed.test:443")
	if strings.Join(dialed, " ") != "93.184.216.34:443 10.0.0.1:443" {
		t.Errorf("private: dialed %q", dialed)
	}
}

// The default dialer checks the socket's address once more.
func TestControlPublic(t *testing.T) {
	for addr, ok := range map[string]bool{"93.184.216.34:443": true, "[2606:4700::1111]:443": true, "127.0.0.1:80": false, "[::1]:80": false, "[fe80::1%lo]:80": false, "169.254.169.254:80": false, "nonsense": false} {
		if err := controlPublic("tcp", addr, nil); (err == nil) != ok {
			t.Errorf("controlPublic(%s): %v", addr, err)
		}
	}
	// And it is what the default dialer runs: a loopback connection is
	// refused even when the name check is bypassed.
	d := newDialer(&Options{}, false)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if c, err := d.dial(context.Background(), "tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Error("the default dialer connected to loopback")
	}
	c, err := newDialer(&Options{}, true).dial(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("with private addresses: %v", err)
	}
	c.Close()
}
