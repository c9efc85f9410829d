// Package http provides the http_request host function of abi/ABI.md:
// outbound HTTP and HTTPS for calls granted the network.
//
//	import hosthttp "github.com/wasmgate/wasmgate/host/http"
//
//	c := hosthttp.New(nil)
//	defer c.CloseIdleConnections()
//	cfg := runtime.NewConfig().WithHostFunctions(c.HostFuncs()...)
//
// Every request, and every redirect it is sent, passes these checks:
//
//   - the call has a network grant (Grant); without one
//     the request is denied and the attempt recorded for the audit log;
//   - the URL is absolute http or https, without user information, and
//     its host is an ASCII host name or an IP address written the usual
//     way (0x7f000001, 2130706433, 0177.0.0.1 and 127.1 are refused);
//   - a pattern of the grant's allowlist covers the host and port
//     (abi.HostPattern; an IP address only by a pattern naming it);
//   - at dial time every address the host resolves to is public, unless
//     the grant allows private addresses, and the connection goes to an
//     address that was checked (see privateKind for the ranges).
//
// Nothing comes from the host's environment: no proxy, no cookie jar, no
// credentials. Connections are reused only between calls of the same
// module under the same private-address setting, so a connection one call
// opened is never handed to a call that could not have opened it.
package http

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/engine"
	"github.com/wasmgate/wasmgate/runtime"
)

// FuncRequest is http_request(req_ptr, req_len) -> i32: sends the request
// described by the JSON at req_ptr and holds the response as JSON.
const FuncRequest = "http_request"

// Defaults of Options.
const (
	DefaultTimeout            = 30 * time.Second
	DefaultMaxRequestBody     = abi.Size(1 << 20)
	DefaultMaxResponseBody    = abi.Size(4 << 20)
	DefaultMaxResponseHeaders = abi.Size(64 << 10)
	DefaultMaxRedirects       = 5
)

// Options configures a Client. The zero value, like a nil *Options, gives
// every default.
type Options struct {
	// Timeout bounds one request, from its first dial to the last byte of
	// the response body, redirects included. The call's own deadline
	// applies as well, so a request never outlives its call. If zero,
	// defaults to DefaultTimeout (30s).
	Timeout time.Duration
	// MaxRequestBody caps the body a guest may send. If zero, defaults to
	// DefaultMaxRequestBody (1MiB).
	MaxRequestBody abi.Size
	// MaxResponseBody caps the body a guest may receive. A larger body
	// fails the request with too_large; a body is never cut short
	// silently. If zero, defaults to DefaultMaxResponseBody (4MiB).
	MaxResponseBody abi.Size
	// MaxResponseHeaders caps the size of a response's header block. If
	// zero, defaults to DefaultMaxResponseHeaders (64KiB).
	MaxResponseHeaders abi.Size
	// MaxRedirects is how many redirects one request follows; one more
	// fails the request. If zero, defaults to DefaultMaxRedirects (5). If
	// negative, none is followed and the guest receives the redirect
	// response itself.
	MaxRedirects int
	// RootCAs are the certificate authorities servers are verified
	// against. If nil, defaults to the host's. Verification cannot be
	// turned off.
	RootCAs *x509.CertPool
	// Resolver looks up host names. If nil, defaults to a net.Resolver
	// with the host's configuration. Tests make a name resolve to any
	// address with it.
	Resolver Resolver
	// Dial connects to an address that passed the checks: always an IP
	// address and a port. If nil, defaults to a net.Dialer, which checks
	// the address once more just before connecting.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// Client sends the guests' requests. It is safe for concurrent use by
// many calls and modules.
type Client struct {
	opts Options

	mu         sync.Mutex
	transports map[transportKey]*nethttp.Transport
}

// transportKey is what a pooled connection may be shared by: a module's
// calls with the same private-address setting. Calls of another module
// never see it (nothing connection-bound, such as a server's
// per-connection authentication, crosses modules), and a connection to a
// private address is never reused by a call not allowed to dial one.
type transportKey struct {
	module  string
	private bool
}

// New returns a Client configured by opts, which may be nil.
func New(opts *Options) *Client {
	c := &Client{transports: map[transportKey]*nethttp.Transport{}}
	if opts != nil {
		c.opts = *opts
	}
	o := &c.opts
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxRequestBody <= 0 {
		o.MaxRequestBody = DefaultMaxRequestBody
	}
	if o.MaxResponseBody <= 0 {
		o.MaxResponseBody = DefaultMaxResponseBody
	}
	if o.MaxResponseHeaders <= 0 {
		o.MaxResponseHeaders = DefaultMaxResponseHeaders
	}
	if o.MaxRedirects == 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	return c
}

// HostFuncs returns http_request, for runtime.Config.WithHostFunctions.
func (c *Client) HostFuncs() []runtime.HostFunc {
	i32 := engine.I32
	return []runtime.HostFunc{{
		Name:    FuncRequest,
		Params:  []engine.ValueType{i32, i32},
		Results: []engine.ValueType{i32},
		Fn: func(ctx context.Context, h *runtime.HostCall, stack []uint64) {
			stack[0] = engine.EncodeI32(c.request(ctx, h, engine.DecodeU32(stack[0]), engine.DecodeU32(stack[1])))
		},
	}}
}

// CloseIdleConnections closes the connections kept for reuse. The Client
// stays usable.
func (c *Client) CloseIdleConnections() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, t := range c.transports {
		t.CloseIdleConnections()
		delete(c.transports, k)
	}
}

// maxRequest is the largest request JSON read from the guest: room for
// the largest body as escaped text or base64, and for the rest.
func (c *Client) maxRequest() int64 { return 2*int64(c.opts.MaxRequestBody) + 64<<10 }

// request runs http_request. In order: the length against the limit
// (too_large, memory not read), the request (a range outside memory aborts
// the call), the grant (denied, naming the host when the URL could be
// read), the request's own checks, the allowlist, then the exchange.
func (c *Client) request(ctx context.Context, h *runtime.HostCall, ptr, n uint32) int32 {
	if limit := c.maxRequest(); int64(n) > limit {
		return h.Fail(abi.ErrTooLarge, fmt.Sprintf("%s: the request is %d bytes, over the limit of %s (bodies may be up to %s)", FuncRequest, n, abi.Size(limit), c.opts.MaxRequestBody))
	}
	out, err := decodeRequest(h.Read(FuncRequest, ptr, n), int64(c.opts.MaxRequestBody))
	g, ok := runtime.Granted[*Grant](h, Name)
	if !ok {
		if out == nil {
			m := h.Module()
			return h.Deny(fmt.Sprintf("network access is not granted to module %s: the operator can allow hosts in the policy's modules.%s.network.allow, and the module must list them in its manifest's permissions.network", m, m))
		}
		return h.Deny(notGranted(h.Module(), out.target, nil))
	}
	if err != nil {
		var ce *codedError
		errors.As(err, &ce)
		return h.Fail(ce.code, ce.msg)
	}
	if !allowed(g.Allow, out.target) {
		return h.Deny(notGranted(h.Module(), out.target, g.Allow))
	}
	return c.do(ctx, h, g, out)
}

// notGranted is the message for a host the grant does not cover.
func notGranted(module string, t target, allow []string) string {
	msg := fmt.Sprintf("network access to %s is not granted to module %s: ", t, module)
	if strings.Contains(t.host, ":") {
		msg += "IPv6 addresses cannot be allowed; use a host name"
	} else {
		pattern := t.host
		if t.port != 80 && t.port != 443 {
			pattern = t.String()
		}
		msg += fmt.Sprintf("the operator can allow %s in the policy's modules.%s.network.allow, and the module must list it in its manifest's permissions.network", pattern, module)
	}
	if len(allow) > 0 {
		msg += fmt.Sprintf(" (granted: %s)", strings.Join(allow, ", "))
	}
	return msg
}

var errRequestTimeout = errors.New("request timed out")

func (c *Client) do(ctx context.Context, h *runtime.HostCall, g *Grant, out *outbound) int32 {
	rctx, cancel := context.WithTimeoutCause(ctx, c.opts.Timeout, errRequestTimeout)
	defer cancel()

	// The host being talked to, for the audit log: set before each hop,
	// noted once a connection to it is in hand.
	var mu sync.Mutex
	hop := out.target.String()
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) {
		mu.Lock()
		hp := hop
		mu.Unlock()
		h.NoteHost(hp)
	}}
	req, err := nethttp.NewRequestWithContext(httptrace.WithClientTrace(rctx, trace), out.method, "", bytes.NewReader(out.body))
	if err != nil {
		return h.Fail(abi.ErrInvalid, fmt.Sprintf("%s: %v", FuncRequest, err))
	}
	req.URL, req.Host = out.url, "" // the URL that was checked, and its host in the Host header
	req.Header = out.header
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "wasmgate")
	}

	client := &nethttp.Client{
		Transport: c.transport(h.Module(), g.Private),
		CheckRedirect: func(next *nethttp.Request, via []*nethttp.Request) error {
			if c.opts.MaxRedirects < 0 {
				return nethttp.ErrUseLastResponse
			}
			n, from, to := len(via), shorten(via[len(via)-1].URL.String()), shorten(next.URL.String())
			if n > c.opts.MaxRedirects {
				followed := fmt.Sprintf("at most %d redirects are followed", c.opts.MaxRedirects)
				if c.opts.MaxRedirects == 1 {
					followed = "at most 1 redirect is followed"
				}
				return errorf(abi.ErrFailed, "%s: stopped at redirect %d, from %s to %s: %s", FuncRequest, n, from, to, followed)
			}
			t, err := checkURL(next.URL)
			if err != nil {
				return errorf(abi.ErrFailed, "%s: redirect %d, from %s to %s, was refused: the new url %v", FuncRequest, n, from, to, err)
			}
			if !allowed(g.Allow, t) {
				return errorf(abi.ErrDenied, "redirect %d, from %s to %s, was refused: %s", n, from, to, notGranted(h.Module(), t, g.Allow))
			}
			mu.Lock()
			hop = t.String()
			mu.Unlock()
			return nil
		},
	}
	resp, err := client.Do(req)
	if err != nil {
		return c.fail(ctx, rctx, h, out, err)
	}
	defer resp.Body.Close()
	limit := int64(c.opts.MaxResponseBody)
	where := shorten(resp.Request.URL.String())
	if resp.ContentLength > limit {
		return h.Fail(abi.ErrTooLarge, fmt.Sprintf("%s: the response from %s has a body of %d bytes, over the limit of %s; ask for less (a smaller page or a Range header)", FuncRequest, where, resp.ContentLength, c.opts.MaxResponseBody))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return c.fail(ctx, rctx, h, out, err)
	}
	if int64(len(body)) > limit {
		return h.Fail(abi.ErrTooLarge, fmt.Sprintf("%s: the response from %s has a body over the limit of %s; ask for less (a smaller page or a Range header)", FuncRequest, where, c.opts.MaxResponseBody))
	}
	return h.Respond(encodeResponse(resp, body))
}

// fail turns a failed exchange into a status and a message for the guest.
func (c *Client) fail(ctx, rctx context.Context, h *runtime.HostCall, out *outbound, err error) int32 {
	var ce *codedError
	var be *blockedError
	switch {
	case errors.As(err, &ce):
		if ce.code == abi.ErrDenied {
			return h.Deny(ce.msg)
		}
		return h.Fail(ce.code, ce.msg)
	case errors.As(err, &be):
		what := fmt.Sprintf("network access to %s, in the %s range,", be.hostport, be.kind)
		if be.addr.String() != hostOf(be.hostport) {
			what = fmt.Sprintf("network access to %s (which resolves to %s, in the %s range)", be.hostport, be.addr, be.kind)
		}
		return h.Deny(fmt.Sprintf("%s is not granted to module %s: loopback, private, link-local, CGNAT and cloud-metadata addresses are refused unless the operator allows them in the policy's modules.%s.network.private: true", what, h.Module(), h.Module()))
	case ctx.Err() != nil:
		return h.Fail(abi.ErrCancelled, fmt.Sprintf("%s: %s %s: the call was cancelled or ran out of time", FuncRequest, out.method, shorten(out.url.String())))
	case errors.Is(context.Cause(rctx), errRequestTimeout):
		return h.Fail(abi.ErrFailed, fmt.Sprintf("%s: %s %s did not finish within %s", FuncRequest, out.method, shorten(out.url.String()), c.opts.Timeout))
	}
	return h.Fail(abi.ErrFailed, fmt.Sprintf("%s: %v", FuncRequest, err))
}

// transport returns the Transport of a module's calls with a
// private-address setting, creating it on first use.
func (c *Client) transport(module string, private bool) *nethttp.Transport {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := transportKey{module, private}
	if t := c.transports[key]; t != nil {
		return t
	}
	t := &nethttp.Transport{
		Proxy:                  nil, // never from the environment
		DialContext:            newDialer(&c.opts, private).DialContext,
		TLSClientConfig:        &tls.Config{RootCAs: c.opts.RootCAs, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    10 * time.Second,
		MaxIdleConns:           32,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        30 * time.Second,
		MaxResponseHeaderBytes: int64(c.opts.MaxResponseHeaders),
	}
	c.transports[key] = t
	return t
}

// response is what http_request holds for the guest.
type response struct {
	Status     int               `json:"status"`
	URL        string            `json:"url"`
	Headers    map[string]string `json:"headers"`
	Body       *string           `json:"body,omitempty"`
	BodyBase64 *string           `json:"bodyBase64,omitempty"`
}

func encodeResponse(resp *nethttp.Response, body []byte) []byte {
	r := response{Status: resp.StatusCode, URL: resp.Request.URL.String(), Headers: make(map[string]string, len(resp.Header))}
	for k, vs := range resp.Header {
		r.Headers[k] = strings.Join(vs, ", ")
	}
	if utf8.Valid(body) {
		s := string(body)
		r.Body = &s
	} else {
		s := base64.StdEncoding.EncodeToString(body)
		r.BodyBase64 = &s
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		panic(err) // strings, an int and a map of strings always encode
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
