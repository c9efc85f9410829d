package http

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wasmgate/wasmgate/abi"
	_ "github.com/wasmgate/wasmgate/engine/wazero"
	hostenv "github.com/wasmgate/wasmgate/host/env"
	"github.com/wasmgate/wasmgate/runtime"
)

const fetchWasm = "../../guests/testdata/http/fetch.wasm"

// fakeDNS resolves the names a test gives it, and nothing else: no test
// reaches a real resolver.
type fakeDNS struct {
	mu    sync.Mutex
	names map[string][]netip.Addr
}

func (d *fakeDNS) set(name string, addrs ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var as []netip.Addr
	for _, a := range addrs {
		as = append(as, netip.MustParseAddr(a))
	}
	d.names[name] = as
}

func (d *fakeDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if as, ok := d.names[strings.ToLower(strings.TrimSuffix(host, "."))]; ok {
		return as, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// env is a Client, the fetch test guest loaded on it, a fake resolver
// and a record of every address dialed.
type env struct {
	c   *Client
	r   *runtime.Runtime
	m   *runtime.Module
	dns *fakeDNS

	mu     sync.Mutex
	dials  []string
	routes map[string]string // a checked address to the loopback address really dialed

	ok     *httptest.Server // answers 200 "hello" to anything
	okHost string           // "api.test:PORT", resolving to ok
}

func newEnv(t *testing.T, opts *Options) *env {
	t.Helper()
	e := &env{dns: &fakeDNS{names: map[string][]netip.Addr{}}, routes: map[string]string{}}
	o := Options{}
	if opts != nil {
		o = *opts
	}
	o.Resolver = e.dns
	var d net.Dialer
	o.Dial = func(ctx context.Context, network, address string) (net.Conn, error) {
		e.mu.Lock()
		e.dials = append(e.dials, address)
		if to, ok := e.routes[address]; ok {
			address = to
		}
		e.mu.Unlock()
		return d.DialContext(ctx, network, address)
	}
	e.c = New(&o)
	t.Cleanup(e.c.CloseIdleConnections)
	r, err := runtime.New(context.Background(), runtime.NewConfig().WithCacheDir("").WithHostFunctions(e.c.HostFuncs()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(context.Background()) })
	e.r = r
	e.m = loadAs(t, r, "fetch")
	e.ok = server(t, nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		io.WriteString(w, "hello")
	}))
	e.dns.set("api.test", "127.0.0.1")
	// The normal request after an attack has a name of its own: a test
	// that points api.test elsewhere must not decide whether it works (it
	// did when the request found no kept-alive connection to reuse).
	e.dns.set("ok.test", "127.0.0.1")
	e.okHost = "ok.test:" + port(e.ok)
	return e
}

// loadAs loads the fetch guest under the module name name.
func loadAs(t testing.TB, r *runtime.Runtime, name string) *runtime.Module {
	t.Helper()
	wasm, err := os.ReadFile(fetchWasm)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := abi.ExtractManifest(wasm)
	if err != nil {
		t.Fatal(err)
	}
	var man map[string]any
	if err := json.Unmarshal(raw, &man); err != nil {
		t.Fatal(err)
	}
	man["name"] = name
	raw, _ = json.Marshal(man)
	m, err := r.Compile(context.Background(), fetchWasm, wasm, raw, "test")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func server(t testing.TB, h nethttp.Handler) *httptest.Server {
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

func port(s *httptest.Server) string {
	_, p, _ := net.SplitHostPort(s.Listener.Addr().String())
	return p
}

func (e *env) dialed() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.dials...)
}

// grant allows the patterns, private addresses included: the test
// servers are on loopback.
func grant(private bool, allow ...string) *runtime.Grant {
	return runtime.NewGrant(&Grant{Allow: allow, Private: private})
}

func text(res *abi.ToolResult) string {
	var b strings.Builder
	if res == nil {
		return ""
	}
	for _, c := range res.Content {
		if c.Type == abi.ContentText {
			b.WriteString(c.Text)
		}
	}
	return b.String()
}

// req encodes a request for the guest.
func req(method, url string, extra ...any) string {
	m := map[string]any{"url": url}
	if method != "" {
		m["method"] = method
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func (e *env) callArgs(t testing.TB, g *runtime.Grant, limits runtime.Limits, args map[string]any) *runtime.Outcome {
	t.Helper()
	b, _ := json.Marshal(args)
	out, err := e.m.Call(context.Background(), runtime.Call{Tool: "fetch", Arguments: b, Grant: g, Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fetch passes request to http_request; the call itself must succeed.
// It returns what the guest printed.
func (e *env) fetch(t testing.TB, g *runtime.Grant, request string) (string, *runtime.Outcome) {
	t.Helper()
	out := e.callArgs(t, g, runtime.Limits{}, map[string]any{"request": request})
	if out.Err != nil {
		t.Fatalf("%.200s: %v", request, out.Err)
	}
	return text(out.Result), out
}

// parse splits what the guest printed into the status and the response.
func parse(t testing.TB, printed string) (int, response) {
	t.Helper()
	var status int
	var r response
	head, body, _ := strings.Cut(printed, "\n")
	if _, err := fmt.Sscanf(head, "ok %d", &status); err != nil {
		t.Fatalf("not a success: %.300q", printed)
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("response %q: %v", body, err)
	}
	if status != len(body) {
		t.Fatalf("status %d, response of %d bytes", status, len(body))
	}
	return status, r
}

// normal checks that an ordinary request right after still works.
func (e *env) normal(t testing.TB) {
	t.Helper()
	e.c.CloseIdleConnections() // PROBE
	got, out := e.fetch(t, grant(true, e.okHost), req("", "http://"+e.okHost+"/"))
	_, r := parse(t, got)
	if r.Status != 200 || r.Body == nil || *r.Body != "hello" {
		t.Fatalf("normal request after: %q", got)
	}
	if len(out.Denied) != 0 {
		t.Fatalf("normal request recorded denials: %q", out.Denied)
	}
}

// wantError checks that the guest got the error code and a message
// holding each of parts.
func wantError(t testing.TB, got string, code int32, parts ...string) {
	t.Helper()
	prefix := fmt.Sprintf("error %d: ", code)
	if !strings.HasPrefix(got, prefix) {
		t.Errorf("got %.400q, want %q...", got, prefix)
		return
	}
	for _, p := range parts {
		if !strings.Contains(got, p) {
			t.Errorf("got %.400q, want it to contain %q", got, p)
		}
	}
}

// counter is a server that counts the requests it receives.
func counter(t testing.TB) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	s := server(t, nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		n.Add(1)
		io.WriteString(w, "reached")
	}))
	return s, &n
}

func TestGetAndPost(t *testing.T) {
	e := newEnv(t, nil)
	echo := server(t, nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Method", r.Method)
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.Header().Set("X-Got-Header", r.Header.Get("X-Test"))
		w.Header().Set("X-User-Agent", r.Header.Get("User-Agent"))
		w.Header().Set("X-Host", r.Host)
		switch r.URL.Path {
		case "/binary":
			w.Write([]byte{0xff, 0x00, 0xfe})
		case "/teapot":
			w.WriteHeader(nethttp.StatusTeapot)
			io.WriteString(w, "short and stout")
		default:
			fmt.Fprintf(w, "%s %s len=%d body=%s", r.Method, r.URL.RequestURI(), len(body), body)
		}
	}))
	host := "api.test:" + port(echo)
	g := grant(true, host)

	got, out := e.fetch(t, g, req("", "http://"+host+"/path?q=1#frag", "headers", map[string]string{"X-Test": "yes"}))
	_, r := parse(t, got)
	if r.Status != 200 || *r.Body != "GET /path?q=1 len=0 body=" || r.BodyBase64 != nil {
		t.Errorf("GET: %q", got)
	}
	if r.URL != "http://"+host+"/path?q=1" {
		t.Errorf("url %q", r.URL)
	}
	for k, want := range map[string]string{"X-Method": "GET", "X-Multi": "a, b", "X-Got-Header": "yes", "X-User-Agent": "wasmgate", "X-Host": host} {
		if r.Headers[k] != want {
			t.Errorf("header %s = %q, want %q", k, r.Headers[k], want)
		}
	}
	if len(out.Hosts) != 1 || out.Hosts[0] != host {
		t.Errorf("hosts recorded: %q", out.Hosts)
	}

	got, _ = e.fetch(t, g, req("POST", "http://"+host+"/submit", "body", "héllo\n\"world\"", "headers", map[string]string{"Content-Type": "text/plain", "User-Agent": "mine"}))
	_, r = parse(t, got)
	if *r.Body != "POST /submit len=14 body=héllo\n\"world\"" || r.Headers["X-User-Agent"] != "mine" {
		t.Errorf("POST: %q", got)
	}

	got, _ = e.fetch(t, g, req("PUT", "http://"+host+"/b", "bodyBase64", "AAEC/w=="))
	_, r = parse(t, got)
	if r.BodyBase64 == nil {
		t.Fatalf("PUT base64: %q", got)
	}
	if b, _ := base64.StdEncoding.DecodeString(*r.BodyBase64); string(b) != "PUT /b len=4 body=\x00\x01\x02\xff" {
		t.Errorf("PUT base64: %q", b)
	}

	got, _ = e.fetch(t, g, req("", "http://"+host+"/binary"))
	_, r = parse(t, got)
	if r.Body != nil || r.BodyBase64 == nil || *r.BodyBase64 != "/wD+" {
		t.Errorf("binary body: %q", got)
	}

	got, _ = e.fetch(t, g, req("", "http://"+host+"/teapot"))
	_, r = parse(t, got)
	if r.Status != 418 || *r.Body != "short and stout" {
		t.Errorf("status 418: %q", got)
	}

	got, _ = e.fetch(t, g, req("HEAD", "http://"+host+"/"))
	_, r = parse(t, got)
	if r.Status != 200 || r.Body == nil || *r.Body != "" {
		t.Errorf("HEAD: %q", got)
	}

	// The host name is matched without regard to case or a trailing dot.
	got, _ = e.fetch(t, g, req("", "http://API.Test.:"+port(echo)+"/"))
	if _, r = parse(t, got); r.Status != 200 {
		t.Errorf("API.Test.: %q", got)
	}
}

func TestHTTPS(t *testing.T) {
	ts := httptest.NewUnstartedServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		fmt.Fprintf(w, "tls %s", r.Proto)
	}))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	ts.EnableHTTP2 = true
	ts.StartTLS()
	t.Cleanup(ts.Close)
	roots := ts.Client().Transport.(*nethttp.Transport).TLSClientConfig.RootCAs
	host := "example.com:" + port(ts) // the name httptest's certificate is for

	e := newEnv(t, &Options{RootCAs: roots})
	e.dns.set("example.com", "127.0.0.1")
	got, out := e.fetch(t, grant(true, host), req("", "https://"+host+"/"))
	_, r := parse(t, got)
	if r.Status != 200 || *r.Body != "tls HTTP/2.0" {
		t.Errorf("https: %q", got)
	}
	if len(out.Hosts) != 1 || out.Hosts[0] != host {
		t.Errorf("hosts: %q", out.Hosts)
	}

	// The certificate is verified: a name it does not cover fails, and so
	// does any certificate without the test's roots.
	e.dns.set("other.test", "127.0.0.1")
	got, _ = e.fetch(t, grant(true, "other.test:"+port(ts)), req("", "https://other.test:"+port(ts)+"/"))
	wantError(t, got, abi.ErrFailed, "certificate")
	plain := newEnv(t, nil)
	plain.dns.set("example.com", "127.0.0.1")
	got, _ = plain.fetch(t, grant(true, host), req("", "https://"+host+"/"))
	wantError(t, got, abi.ErrFailed, "certificate")
	plain.normal(t)
}

// Without a network grant nothing is sent: the guest is told which host
// was refused and how to grant it, and the attempt is recorded.
func TestDeniedWithoutGrant(t *testing.T) {
	e := newEnv(t, nil)
	s, hits := counter(t)
	host := "api.test:" + port(s)
	for _, g := range []*runtime.Grant{nil, runtime.NewGrant(), runtime.NewGrant(&hostenv.Grant{Vars: map[string]string{"A": "b"}})} {
		got, out := e.fetch(t, g, req("", "http://"+host+"/"))
		want := "network access to " + host + " is not granted to module fetch: "
		wantError(t, got, abi.ErrDenied, want, "allow "+host+" in the policy", "network.allow")
		if len(out.Denied) != 1 || !strings.HasPrefix(out.Denied[0], want) {
			t.Errorf("denied recorded: %q", out.Denied)
		}
		if len(out.Hosts) != 0 {
			t.Errorf("hosts recorded: %q", out.Hosts)
		}
		// A request that cannot be read is denied too, without a host.
		got, out = e.fetch(t, g, "{not json")
		wantError(t, got, abi.ErrDenied, "network access is not granted to module fetch")
		if len(out.Denied) != 1 {
			t.Errorf("denied recorded: %q", out.Denied)
		}
		e.normal(t)
	}
	// The default ports need only the host name on the command line.
	got, _ := e.fetch(t, nil, req("", "https://api.test/"))
	wantError(t, got, abi.ErrDenied, "network access to api.test:443 is not granted", "allow api.test in the policy")
	if hits.Load() != 0 {
		t.Errorf("server reached %d times", hits.Load())
	}
	for _, d := range e.dialed() { // normal's, once or again when its connection was not kept
		if d != "127.0.0.1:"+port(e.ok) {
			t.Errorf("dialed %s", d)
		}
	}
}

func TestNotInAllowlist(t *testing.T) {
	e := newEnv(t, nil)
	s, hits := counter(t)
	p := port(s)
	for _, name := range []string{"api.test", "example.test", "test", "a.b.example.test", "evil.test"} {
		e.dns.set(name, "127.0.0.1")
	}
	tests := []struct {
		name  string
		allow []string
		url   string
		code  int32
		want  string
	}{
		{"other host", []string{"example.test:" + p}, "http://api.test:" + p + "/", abi.ErrDenied, "network access to api.test:" + p + " is not granted to module fetch"},
		{"other port", []string{"api.test:1"}, "http://api.test:" + p + "/", abi.ErrDenied, "api.test:" + p + " is not granted"},
		{"no port means 80 and 443 only", []string{"api.test"}, "http://api.test:" + p + "/", abi.ErrDenied, "allow api.test:" + p + " in the policy"},
		{"wildcard does not cover the apex", []string{"*.test:" + p}, "http://test:" + p + "/", abi.ErrDenied, "test:" + p + " is not granted"},
		{"wildcard is a label boundary", []string{"*.example.test:" + p}, "http://evil.test:" + p + "/", abi.ErrDenied, "evil.test:" + p},
		{"suffix is not a subdomain", []string{"example.test:" + p}, "http://a.b.example.test:" + p + "/", abi.ErrDenied, "a.b.example.test:" + p},
		{"wildcard does not cover an IP", []string{"*.0.0.1:" + p}, "http://127.0.0.1:" + p + "/", abi.ErrDenied, "127.0.0.1:" + p + " is not granted"},
		{"IPv6 cannot be granted", []string{"api.test:" + p}, "http://[::1]:" + p + "/", abi.ErrDenied, "IPv6 addresses cannot be allowed"},
		{"empty allowlist", nil, "http://api.test:" + p + "/", abi.ErrDenied, "is not granted"},
		{"bad pattern grants nothing", []string{"http://api.test:" + p}, "http://api.test:" + p + "/", abi.ErrDenied, "is not granted"},
		{"scheme ftp", []string{"api.test:" + p}, "ftp://api.test:" + p + "/", abi.ErrInvalid, `has the scheme "ftp"`},
		{"scheme file", []string{"api.test:" + p}, "file:///etc/passwd", abi.ErrInvalid, `has the scheme "file"`},
		{"userinfo", []string{"api.test:" + p}, "http://user:pw@api.test:" + p + "/", abi.ErrInvalid, "user information"},
		{"userinfo hiding a host", []string{"api.test:" + p}, "http://api.test:" + p + "@evil.test:" + p + "/", abi.ErrInvalid, "user information"},
		{"non-ASCII host", []string{"api.test:" + p}, "http://аpi.test:" + p + "/", abi.ErrInvalid, "not ASCII"},
		{"relative", []string{"api.test:" + p}, "/just/a/path", abi.ErrInvalid, `has the scheme ""`},
		{"opaque", []string{"api.test:" + p}, "http:api.test", abi.ErrInvalid, "has no host"},
		{"port out of range", []string{"api.test:" + p}, "http://api.test:70000/", abi.ErrInvalid, "outside 1-65535"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, out := e.fetch(t, grant(true, tc.allow...), req("", tc.url))
			wantError(t, got, tc.code, tc.want)
			if tc.code == abi.ErrDenied && len(out.Denied) != 1 {
				t.Errorf("denied recorded: %q", out.Denied)
			}
			if len(out.Hosts) != 0 {
				t.Errorf("hosts recorded: %q", out.Hosts)
			}
			e.normal(t)
		})
	}
	if hits.Load() != 0 {
		t.Errorf("the server was reached %d times", hits.Load())
	}
	for _, d := range e.dialed() {
		if strings.HasSuffix(d, ":"+p) {
			t.Errorf("dialed %s", d)
		}
	}
}

func TestRedirects(t *testing.T) {
	e := newEnv(t, nil)
	evil, evilHits := counter(t)
	e.dns.set("evil.test", "127.0.0.1")
	e.dns.set("other.test", "127.0.0.1")
	evilHost := "evil.test:" + port(evil)
	var hops atomic.Int64
	var s *httptest.Server
	s = server(t, nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		hops.Add(1)
		switch r.URL.Path {
		case "/to-evil":
			nethttp.Redirect(w, r, "http://"+evilHost+"/stolen", nethttp.StatusFound)
		case "/to-ip":
			nethttp.Redirect(w, r, "http://127.0.0.1:"+port(evil)+"/", nethttp.StatusFound)
		case "/to-ftp":
			nethttp.Redirect(w, r, "ftp://api.test/", nethttp.StatusFound)
		case "/to-userinfo":
			nethttp.Redirect(w, r, "http://api.test:"+port(s)+"@"+evilHost+"/", nethttp.StatusFound)
		case "/to-other-then-evil":
			nethttp.Redirect(w, r, "http://other.test:"+port(s)+"/to-evil", nethttp.StatusFound)
		case "/loop":
			nethttp.Redirect(w, r, "/loop", nethttp.StatusFound)
		case "/hop":
			nethttp.Redirect(w, r, "/final", nethttp.StatusMovedPermanently)
		case "/post":
			nethttp.Redirect(w, r, "/final", nethttp.StatusTemporaryRedirect)
		case "/auth-to-other":
			nethttp.Redirect(w, r, "http://other.test:"+port(s)+"/auth", nethttp.StatusFound)
		case "/auth-to-self":
			nethttp.Redirect(w, r, "/auth", nethttp.StatusFound)
		case "/auth":
			fmt.Fprintf(w, "authorization=%q cookie=%q", r.Header.Get("Authorization"), r.Header.Get("Cookie"))
		default:
			body, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%s %s %s", r.Method, r.URL.Path, body)
		}
	}))
	host := "api.test:" + port(s)
	other := "other.test:" + port(s)
	g := grant(true, host, other)

	// A redirect within the allowlist is followed; url is where it ended.
	got, out := e.fetch(t, g, req("", "http://"+host+"/hop"))
	_, r := parse(t, got)
	if r.Status != 200 || *r.Body != "GET /final " || r.URL != "http://"+host+"/final" {
		t.Errorf("redirect: %q", got)
	}
	got, _ = e.fetch(t, g, req("POST", "http://"+host+"/post", "body", "kept"))
	if _, r = parse(t, got); *r.Body != "POST /final kept" {
		t.Errorf("307 keeps the method and body: %q", got)
	}
	got, out = e.fetch(t, g, req("", "http://"+other+"/hop"))
	if _, r = parse(t, got); r.Status != 200 || len(out.Hosts) != 1 {
		t.Errorf("redirect: %q, hosts %q", got, out.Hosts)
	}
	// Credentials follow a redirect on the same host, not to another one,
	// even a granted one.
	creds := map[string]string{"Authorization": "Bearer t0ken", "Cookie": "s=1"}
	got, _ = e.fetch(t, g, req("", "http://"+host+"/auth-to-self", "headers", creds))
	if _, r = parse(t, got); *r.Body != `authorization="Bearer t0ken" cookie="s=1"` {
		t.Errorf("same host: %q", got)
	}
	got, out = e.fetch(t, g, req("", "http://"+host+"/auth-to-other", "headers", creds))
	if _, r = parse(t, got); *r.Body != `authorization="" cookie=""` || r.URL != "http://"+other+"/auth" {
		t.Errorf("other host: %q", got)
	}
	if strings.Join(out.Hosts, " ") != host+" "+other {
		t.Errorf("hosts recorded: %q", out.Hosts)
	}

	tests := []struct {
		path string
		code int32
		want []string
	}{
		{"/to-evil", abi.ErrDenied, []string{"redirect 1, from \"http://" + host + "/to-evil\" to \"http://" + evilHost + "/stolen\", was refused: network access to " + evilHost + " is not granted to module fetch"}},
		{"/to-other-then-evil", abi.ErrDenied, []string{"redirect 2, from \"http://" + other + "/to-evil\"", "network access to " + evilHost + " is not granted"}},
		{"/to-ip", abi.ErrDenied, []string{"network access to 127.0.0.1:" + port(evil) + " is not granted"}},
		{"/to-ftp", abi.ErrFailed, []string{"redirect 1", `the new url has the scheme "ftp"`}},
		{"/to-userinfo", abi.ErrFailed, []string{"redirect 1", "user information"}},
		{"/loop", abi.ErrFailed, []string{"stopped at redirect 6", "at most 5 redirects"}},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			hops.Store(0)
			got, out := e.fetch(t, g, req("", "http://"+host+tc.path))
			wantError(t, got, tc.code, tc.want...)
			if tc.code == abi.ErrDenied {
				if len(out.Denied) != 1 || !strings.Contains(out.Denied[0], "redirect") {
					t.Errorf("denied recorded: %q", out.Denied)
				}
			}
			for _, h := range out.Hosts {
				if h != host && h != other {
					t.Errorf("contacted %s", h)
				}
			}
			if tc.path == "/loop" && hops.Load() != 6 {
				t.Errorf("loop: %d requests, want the first and 5 redirects", hops.Load())
			}
			e.normal(t)
		})
	}
	if evilHits.Load() != 0 {
		t.Errorf("the ungranted host was reached %d times", evilHits.Load())
	}

	// With redirects turned off the guest sees the redirect itself.
	noFollow := newEnv(t, &Options{MaxRedirects: -1})
	noFollow.dns.set("evil.test", "127.0.0.1")
	got, _ = noFollow.fetch(t, g, req("", "http://"+host+"/to-evil"))
	if _, r = parse(t, got); r.Status != 302 || r.Headers["Location"] != "http://"+evilHost+"/stolen" {
		t.Errorf("not followed: %q", got)
	}
	if evilHits.Load() != 0 {
		t.Errorf("the ungranted host was reached %d times", evilHits.Load())
	}
}

// A granted name that resolves to a loopback, private, link-local, CGNAT,
// metadata or otherwise non-public address is refused at dial time
// unless the grant allows private addresses: nothing is dialed.
func TestSSRF(t *testing.T) {
	e := newEnv(t, nil)
	s, hits := counter(t)
	p := port(s)
	tests := []struct {
		addrs []string
		kind  string
	}{
		{[]string{"127.0.0.1"}, "loopback"},
		{[]string{"127.1.2.3"}, "loopback"},
		{[]string{"::1"}, "loopback"},
		{[]string{"::ffff:127.0.0.1"}, "loopback (IPv4-mapped)"},
		{[]string{"64:ff9b::7f00:1"}, "loopback (NAT64)"},
		{[]string{"2002:7f00:1::"}, "loopback (6to4)"},
		{[]string{"169.254.169.254"}, "cloud metadata"},
		{[]string{"::ffff:169.254.169.254"}, "cloud metadata (IPv4-mapped)"},
		{[]string{"fd00:ec2::254"}, "cloud metadata"},
		{[]string{"10.0.0.1"}, "private"},
		{[]string{"172.16.5.4"}, "private"},
		{[]string{"192.168.1.1"}, "private"},
		{[]string{"fc00::1"}, "unique local"},
		{[]string{"169.254.1.1"}, "link-local"},
		{[]string{"fe80::1"}, "link-local"},
		{[]string{"100.64.0.1"}, "CGNAT"},
		{[]string{"0.0.0.0"}, "unspecified"},
		{[]string{"::"}, "unspecified"},
		{[]string{"224.0.0.1"}, "multicast"},
		{[]string{"ff02::1"}, "multicast"},
		{[]string{"255.255.255.255"}, "reserved"},
		{[]string{"93.184.216.34", "127.0.0.1"}, "loopback"}, // one bad address refuses the name
		{[]string{"2606:4700::1111", "::1"}, "loopback"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.addrs, ","), func(t *testing.T) {
			e.dns.set("api.test", tc.addrs...)
			defer e.dns.set("api.test", "127.0.0.1")
			before := len(e.dialed())
			host := "api.test:" + p
			got, out := e.fetch(t, grant(false, host), req("", "http://"+host+"/"))
			wantError(t, got, abi.ErrDenied, "network access to "+host+" (which resolves to ", tc.kind, "network.private: true")
			if len(out.Denied) != 1 || len(out.Hosts) != 0 {
				t.Errorf("denied %q, hosts %q", out.Denied, out.Hosts)
			}
			if d := e.dialed()[before:]; len(d) != 0 {
				t.Errorf("dialed %q", d)
			}
			e.normal(t)
		})
	}
	// An allowed IP address is checked the same way.
	got, out := e.fetch(t, grant(false, "127.0.0.1:"+p), req("", "http://127.0.0.1:"+p+"/"))
	wantError(t, got, abi.ErrDenied, "network access to 127.0.0.1:"+p+", in the loopback range, is not granted")
	if len(out.Denied) != 1 {
		t.Errorf("denied %q", out.Denied)
	}
	if hits.Load() != 0 {
		t.Errorf("the server was reached %d times", hits.Load())
	}
	// With private addresses granted, the same requests go through.
	got, _ = e.fetch(t, grant(true, "127.0.0.1:"+p), req("", "http://127.0.0.1:"+p+"/"))
	if _, r := parse(t, got); *r.Body != "reached" {
		t.Errorf("private granted: %q", got)
	}
}

// Without private addresses, a public address is reached (here, one the
// test routes to a loopback server), and it is checked again at every
// dial: a redirect to a name that resolves to a metadata address, or the
// same name resolving elsewhere later (DNS rebinding), gets nowhere.
func TestPublicAddress(t *testing.T) {
	e := newEnv(t, nil)
	s := server(t, nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		switch r.URL.Path {
		case "/to-meta":
			nethttp.Redirect(w, r, "http://meta.test/latest/meta-data/", nethttp.StatusFound)
		case "/to-hex":
			nethttp.Redirect(w, r, "http://0xa9fea9fe/latest/meta-data/", nethttp.StatusFound)
		default:
			io.WriteString(w, "public")
		}
	}))
	e.routes["93.184.216.34:80"] = s.Listener.Addr().String()
	e.dns.set("public.test", "93.184.216.34")
	e.dns.set("meta.test", "169.254.169.254")
	g := grant(false, "public.test", "meta.test", "0xa9fea9fe")

	got, out := e.fetch(t, g, req("", "http://public.test/"))
	if _, r := parse(t, got); *r.Body != "public" || strings.Join(out.Hosts, " ") != "public.test:80" {
		t.Fatalf("public: %q, hosts %q", got, out.Hosts)
	}
	got, out = e.fetch(t, g, req("", "http://public.test/to-meta"))
	wantError(t, got, abi.ErrDenied, "network access to meta.test:80 (which resolves to 169.254.169.254, in the cloud metadata range) is not granted to module fetch")
	if len(out.Denied) != 1 || strings.Join(out.Hosts, " ") != "public.test:80" {
		t.Errorf("denied %q, hosts %q", out.Denied, out.Hosts)
	}
	got, _ = e.fetch(t, g, req("", "http://public.test/to-hex"))
	wantError(t, got, abi.ErrFailed, "redirect 1", `has the host "0xa9fea9fe", which reads as an IP address`)
	for _, d := range e.dialed() {
		if strings.HasPrefix(d, "169.254.") {
			t.Errorf("dialed %s", d)
		}
	}

	e.c.CloseIdleConnections() // the next request dials again
	e.dns.set("public.test", "127.0.0.1")
	got, _ = e.fetch(t, g, req("", "http://public.test/"))
	wantError(t, got, abi.ErrDenied, "(which resolves to 127.0.0.1, in the loopback range)")
	e.dns.set("public.test", "93.184.216.34")
	got, _ = e.fetch(t, g, req("", "http://public.test/"))
	if _, r := parse(t, got); *r.Body != "public" {
		t.Errorf("public again: %q", got)
	}
}

// The usual SSRF spellings of 127.0.0.1 are refused before anything is
// resolved or dialed, even where private addresses are granted.
func TestLiteralIPSpellings(t *testing.T) {
	e := newEnv(t, nil)
	s, hits := counter(t)
	p := port(s)
	spellings := []string{"0x7f000001", "0X7F000001", "2130706433", "0177.0.0.1", "127.1", "127.0.1", "0x7f.0.0.1", "0x7f.1", "017700000001", "127.000.000.001", "0", "0x"}
	for _, private := range []bool{false, true} {
		for _, sp := range spellings {
			t.Run(fmt.Sprint(sp, private), func(t *testing.T) {
				before := len(e.dialed())
				allow := []string{"127.0.0.1:" + p, sp + ":" + p}
				got, _ := e.fetch(t, grant(private, allow...), req("", "http://"+sp+":"+p+"/"))
				wantError(t, got, abi.ErrInvalid, "reads as an IP address but is not written as four decimal numbers")
				if d := e.dialed()[before:]; len(d) != 0 {
					t.Errorf("dialed %q", d)
				}
				e.normal(t)
			})
		}
	}
	// IPv6 spellings cannot be allowed at all.
	for _, sp := range []string{"[::1]", "[::ffff:127.0.0.1]", "[0:0:0:0:0:ffff:7f00:1]", "[::ffff:7f00:1]", "[64:ff9b::127.0.0.1]"} {
		got, out := e.fetch(t, grant(true, "127.0.0.1:"+p, "api.test:"+p), req("", "http://"+sp+":"+p+"/"))
		wantError(t, got, abi.ErrDenied, "IPv6 addresses cannot be allowed")
		if len(out.Denied) != 1 {
			t.Errorf("%s: denied %q", sp, out.Denied)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("the server was reached %d times", hits.Load())
	}
}

func TestResponseTooLarge(t *testing.T) {
	big := strings.Repeat("x", int(DefaultMaxResponseBody)+1)
	s := server(t, nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		switch r.URL.Path {
		case "/length": // announced by Content-Length
			w.Header().Set("Content-Length", fmt.Sprint(len(big)))
			io.WriteString(w, big)
		case "/chunked": // not announced
			w.(nethttp.Flusher).Flush()
			io.WriteString(w, big)
		case "/bomb": // 64 MiB of zeros, about 64 KiB on the wire
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gzipZeros(t, 64<<20))
		}
	}))
	e := newEnv(t, nil)
	host := "api.test:" + port(s)
	for _, path := range []string{"/length", "/chunked", "/bomb"} {
		got, _ := e.fetch(t, grant(true, host), req("", "http://"+host+path))
		wantError(t, got, abi.ErrTooLarge, "over the limit of 4MiB", "ask for less")
		e.normal(t)
	}

	// Exactly at the limit is fine, one byte over is not.
	small := newEnv(t, &Options{MaxResponseBody: 1024})
	exact := server(t, nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		n := 1024
		if r.URL.Path == "/over" {
			n++
		}
		io.WriteString(w, strings.Repeat("y", n))
	}))
	host = "api.test:" + port(exact)
	got, _ := small.fetch(t, grant(true, host), req("", "http://"+host+"/exact"))
	if _, r := parse(t, got); len(*r.Body) != 1024 {
		t.Errorf("exactly at the limit: %.100q", got)
	}
	got, _ = small.fetch(t, grant(true, host), req("", "http://"+host+"/over"))
	wantError(t, got, abi.ErrTooLarge, "over the limit of 1KiB")
	small.normal(t)
}

func TestResponseHeadersBounded(t *testing.T) {
	s := server(t, nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Header().Set("X-Big", strings.Repeat("h", 100<<10))
	}))
	e := newEnv(t, nil)
	host := "api.test:" + port(s)
	got, _ := e.fetch(t, grant(true, host), req("", "http://"+host+"/"))
	wantError(t, got, abi.ErrFailed, "header")
	e.normal(t)
}

func TestRequestTooLarge(t *testing.T) {
	s := server(t, nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, n)
	}))
	e := newEnv(t, nil)
	host := "api.test:" + port(s)
	g := grant(true, host)
	limit := int(DefaultMaxRequestBody)

	got, _ := e.fetch(t, g, req("POST", "http://"+host+"/", "body", strings.Repeat("b", limit)))
	if _, r := parse(t, got); *r.Body != fmt.Sprint(limit) {
		t.Errorf("a body at the limit: %q", got)
	}
	got, _ = e.fetch(t, g, req("POST", "http://"+host+"/", "body", strings.Repeat("b", limit+1)))
	wantError(t, got, abi.ErrTooLarge, "the request body is 1048577 bytes, over the limit of 1MiB")
	got, _ = e.fetch(t, g, req("POST", "http://"+host+"/", "bodyBase64", strings.Repeat("AAAA", limit/3+1)))
	wantError(t, got, abi.ErrTooLarge, "over the limit of 1MiB")
	got, _ = e.fetch(t, g, req("POST", "http://"+host+"/", "body", strings.Repeat("b", 3*limit)))
	wantError(t, got, abi.ErrTooLarge, "the request is 3145", "over the limit of 2.06MiB")
	got, _ = e.fetch(t, g, req("", "http://"+host+"/"+strings.Repeat("p", MaxURLLen)))
	wantError(t, got, abi.ErrTooLarge, "the url is 8", "over the limit of 8192")

	// A huge length is refused before guest memory is read.
	out := e.callArgs(t, g, runtime.Limits{}, map[string]any{"op": "hugelen"})
	if out.Err != nil {
		t.Fatal(out.Err)
	}
	wantError(t, text(out.Result), abi.ErrTooLarge, "the request is 2147483647 bytes")
	e.normal(t)
}

// A request that is not the JSON expected is invalid, with a message
// that says what is wrong.
func TestMalformedRequest(t *testing.T) {
	e := newEnv(t, nil)
	s, hits := counter(t)
	host := "api.test:" + port(s)
	u := "http://" + host + "/"
	tests := []struct {
		name, request string
		want          string
	}{
		{"empty", "", "not the JSON object expected"},
		{"not JSON", "{url:", "not the JSON object expected"},
		{"array", `["GET", "` + u + `"]`, "not the JSON object expected"},
		{"string", `"` + u + `"`, "not the JSON object expected"},
		{"null", `null`, "the request has no url"},
		{"no url", `{"method":"GET"}`, "the request has no url"},
		{"unknown field", `{"url":"` + u + `","timeout":5}`, `unknown field "timeout"`},
		{"url not a string", `{"url":5}`, "not the JSON object expected"},
		{"trailing data", `{"url":"` + u + `"} {"url":"` + u + `"}`, "more after its JSON object"},
		{"bad URL", `{"url":"http://api.test:` + port(s) + `/%zz"}`, "invalid URL escape"},
		{"space in host", `{"url":"http://api test/"}`, "invalid character"},
		{"both bodies", `{"url":"` + u + `","body":"a","bodyBase64":"YQ=="}`, "both body and bodyBase64"},
		{"bad base64", `{"url":"` + u + `","bodyBase64":"not base64!"}`, "bodyBase64 is not standard base64"},
		{"bad method", `{"url":"` + u + `","method":"GET /admin HTTP/1.1\r\nX:"}`, "is not an HTTP method"},
		{"CONNECT", `{"url":"` + u + `","method":"connect"}`, "CONNECT is not supported"},
		{"header CRLF", `{"url":"` + u + `","headers":{"X-A":"a\r\nHost: evil.test"}}`, `header X-A has the control character '\r'`},
		{"header NUL", `{"url":"` + u + `","headers":{"X-A":"a\u0000"}}`, "control character"},
		{"header name", `{"url":"` + u + `","headers":{"X A":"a"}}`, `header name "X A" is not a valid`},
		{"Host header", `{"url":"` + u + `","headers":{"host":"evil.test"}}`, "header Host cannot be set"},
		{"Content-Length header", `{"url":"` + u + `","headers":{"Content-Length":"0"}}`, "header Content-Length cannot be set"},
		{"Transfer-Encoding header", `{"url":"` + u + `","headers":{"Transfer-Encoding":"chunked"}}`, "cannot be set"},
		{"headers not strings", `{"url":"` + u + `","headers":{"X-A":1}}`, "not the JSON object expected"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, out := e.fetch(t, grant(true, host), tc.request)
			wantError(t, got, abi.ErrInvalid, "http_request: ", tc.want)
			if len(out.Denied) != 0 || len(out.Hosts) != 0 {
				t.Errorf("denied %q, hosts %q", out.Denied, out.Hosts)
			}
			e.normal(t)
		})
	}
	if hits.Load() != 0 {
		t.Errorf("the server was reached %d times", hits.Load())
	}
}

// Pointers outside memory break the calling convention: the call is
// aborted with host_misuse, granted or not.
func TestMisuse(t *testing.T) {
	e := newEnv(t, nil)
	for _, g := range []*runtime.Grant{nil, grant(true, e.okHost)} {
		for _, args := range []map[string]any{
			{"op": "badptr"},
			{"op": "raw", "a": 131000, "b": 1000}, // across the end of the guest's 2 pages
			{"op": "raw", "a": 4294967295, "b": 2},
		} {
			out := e.callArgs(t, g, runtime.Limits{}, args)
			if out.Err == nil || out.Err.Kind != runtime.KindHostMisuse || !strings.Contains(out.Err.Message, "http_request: bytes [") {
				t.Errorf("%v: %v %q", args, out.Err, text(out.Result))
			}
			e.normal(t)
		}
	}
	// An empty request is merely invalid.
	out := e.callArgs(t, grant(true, e.okHost), runtime.Limits{}, map[string]any{"op": "raw", "a": 0, "b": 0})
	wantError(t, text(out.Result), abi.ErrInvalid, "not the JSON object expected")
}

// A request never outlives its call: a server that does not answer is
// abandoned at the call's deadline, and at the request's own timeout.
func TestTimeouts(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	arrived := make(chan struct{}, 1)
	s := server(t, nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if r.URL.Path == "/arrived" {
			arrived <- struct{}{}
		}
		if r.URL.Path == "/slow-body" {
			w.Header().Set("Content-Length", "100")
			io.WriteString(w, "partial")
			w.(nethttp.Flusher).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	e := newEnv(t, nil)
	host := "api.test:" + port(s)
	for _, path := range []string{"/slow", "/slow-body"} {
		out := e.callArgs(t, grant(true, host), runtime.Limits{Timeout: 300 * time.Millisecond}, map[string]any{"request": req("", "http://"+host+path)})
		if out.Err == nil || out.Err.Kind != runtime.KindTimeout {
			t.Errorf("%s: %v", path, out.Err)
		}
		if out.Duration > 2*time.Second {
			t.Errorf("%s: the call took %v", path, out.Duration)
		}
		e.normal(t)
	}

	short := newEnv(t, &Options{Timeout: 200 * time.Millisecond})
	for _, path := range []string{"/slow", "/slow-body"} {
		out := short.callArgs(t, grant(true, host), runtime.Limits{}, map[string]any{"request": req("", "http://"+host+path)})
		if out.Err != nil {
			t.Fatal(out.Err)
		}
		wantError(t, text(out.Result), abi.ErrFailed, "http://"+host+path+"\" did not finish within 200ms")
		if out.Duration > 2*time.Second {
			t.Errorf("%s: the call took %v", path, out.Duration)
		}
		short.normal(t)
	}

	// Cancelling the call stops the request too.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *runtime.Outcome)
	go func() {
		b, _ := json.Marshal(map[string]any{"request": req("", "http://"+host+"/arrived")})
		out, _ := e.m.Call(ctx, runtime.Call{Tool: "fetch", Arguments: b, Grant: grant(true, host)})
		done <- out
	}()
	<-arrived
	cancel()
	out := <-done
	if out.Err == nil || out.Err.Kind != runtime.KindCancelled {
		t.Errorf("cancelled: %v", out.Err)
	}
	e.normal(t)
}

// Nothing is carried between calls or taken from the environment: no
// cookie jar, no proxy.
func TestNoCookiesNoProxy(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:1")
	t.Setenv("http_proxy", "http://127.0.0.1:1")
	s := server(t, nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		nethttp.SetCookie(w, &nethttp.Cookie{Name: "session", Value: "secret"})
		fmt.Fprintf(w, "cookie=%q", r.Header.Get("Cookie"))
	}))
	e := newEnv(t, nil)
	host := "api.test:" + port(s)
	u := req("", "http://"+host+"/")
	for i := 0; i < 2; i++ {
		out := e.callArgs(t, grant(true, host), runtime.Limits{}, map[string]any{"request": u, "then": u})
		if out.Err != nil {
			t.Fatal(out.Err)
		}
		first, second, _ := strings.Cut(text(out.Result), "\n---\n")
		for _, got := range []string{first, second} {
			_, r := parse(t, got)
			if *r.Body != `cookie=""` || !strings.Contains(r.Headers["Set-Cookie"], "session=secret") {
				t.Errorf("call %d: %q", i, got)
			}
		}
	}
}

// A pooled connection is never handed to a call that could not have
// opened it: not to a call without private addresses, not to another
// module.
func TestConnectionsNotShared(t *testing.T) {
	e := newEnv(t, nil)
	s, hits := counter(t)
	host := "api.test:" + port(s)
	got, _ := e.fetch(t, grant(true, host), req("", "http://"+host+"/"))
	if _, r := parse(t, got); *r.Body != "reached" {
		t.Fatalf("private: %q", got)
	}
	dials := len(e.dialed())
	got, _ = e.fetch(t, grant(true, host), req("", "http://"+host+"/"))
	parse(t, got)
	if len(e.dialed()) != dials {
		t.Errorf("the same module and grant did not reuse its connection: %q", e.dialed())
	}

	got, _ = e.fetch(t, grant(false, host), req("", "http://"+host+"/"))
	wantError(t, got, abi.ErrDenied, "in the loopback range")
	if hits.Load() != 2 {
		t.Errorf("the server was reached %d times, want 2", hits.Load())
	}

	other := loadAs(t, e.r, "other")
	b, _ := json.Marshal(map[string]any{"request": req("", "http://"+host+"/")})
	out, err := other.Call(context.Background(), runtime.Call{Tool: "fetch", Arguments: b, Grant: grant(true, host)})
	if err != nil || out.Err != nil {
		t.Fatal(err, out.Err)
	}
	if len(e.dialed()) != dials+1 {
		t.Errorf("another module did not dial its own connection: %q", e.dialed())
	}
}

// Many calls at once, granted and hostile mixed, each get their own
// answer.
func TestConcurrent(t *testing.T) {
	e := newEnv(t, nil)
	e.dns.set("meta.test", "169.254.169.254")
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var g *runtime.Grant
			var r, want string
			switch i % 3 {
			case 0:
				g, r, want = grant(true, e.okHost), req("", "http://"+e.okHost+"/"), `"body":"hello"`
			case 1:
				g, r, want = grant(false, "meta.test"), req("", "http://meta.test/"), "error -2: network access to meta.test:80 (which resolves to 169.254.169.254, in the cloud metadata range)"
			case 2:
				g, r, want = nil, req("", "http://"+e.okHost+"/"), "error -2: network access to "+e.okHost+" is not granted"
			}
			b, _ := json.Marshal(map[string]any{"request": r})
			out, err := e.m.Call(context.Background(), runtime.Call{Tool: "fetch", Arguments: b, Grant: g})
			if err != nil || out.Err != nil {
				errs <- fmt.Sprint(err, out.Err)
				return
			}
			if got := text(out.Result); !strings.Contains(got, want) {
				errs <- fmt.Sprintf("call %d: %.200q", i, got)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// gzipZeros returns n zero bytes, gzipped.
func gzipZeros(t testing.TB, n int) []byte {
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for ; n > 0; n -= len(zeros) {
		w.Write(zeros[:min(n, len(zeros))])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
