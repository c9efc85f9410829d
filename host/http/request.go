package http

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/wasmgate/wasmgate/abi"
)

// request is what the guest passes to http_request (abi/ABI.md).
type request struct {
	Method     string            `json:"method"`
	URL        string            `json:"url"`
	Headers    map[string]string `json:"headers"`
	Body       *string           `json:"body"`
	BodyBase64 *string           `json:"bodyBase64"`
}

// outbound is a decoded request whose URL and headers passed the checks
// that do not depend on the grant.
type outbound struct {
	method string
	url    *url.URL
	target target
	header nethttp.Header
	body   []byte
}

// target is where a request goes, as the allowlist sees it.
type target struct {
	host string // lower case, no trailing dot; an IPv6 address has no brackets
	port int
	ip   bool // host is an IP address
}

// String returns host:port, with brackets around an IPv6 address.
func (t target) String() string { return net.JoinHostPort(t.host, strconv.Itoa(t.port)) }

// codedError is a failure with the status the guest gets for it.
type codedError struct {
	code int32
	msg  string
}

func (e *codedError) Error() string { return e.msg }

func errorf(code int32, format string, args ...any) error {
	return &codedError{code: code, msg: fmt.Sprintf(format, args...)}
}

// MaxURLLen is the longest URL http_request accepts, in bytes.
const MaxURLLen = 8 << 10

// decodeRequest decodes and checks the guest's request. When it fails
// after the URL was understood, the returned outbound still carries the
// target, so that a call without a grant can be told which host it was
// refused.
func decodeRequest(b []byte, maxBody int64) (*outbound, error) {
	var r request
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, errorf(abi.ErrInvalid, "%s: the request is not the JSON object expected (%v); send {\"method\": \"GET\", \"url\": \"https://...\", \"headers\": {...}, \"body\": \"...\"}", FuncRequest, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errorf(abi.ErrInvalid, "%s: the request has more after its JSON object; send exactly one object", FuncRequest)
	}
	if r.URL == "" {
		return nil, errorf(abi.ErrInvalid, "%s: the request has no url", FuncRequest)
	}
	if len(r.URL) > MaxURLLen {
		return nil, errorf(abi.ErrTooLarge, "%s: the url is %d bytes, over the limit of %d", FuncRequest, len(r.URL), MaxURLLen)
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		return nil, errorf(abi.ErrInvalid, "%s: %s", FuncRequest, strings.TrimPrefix(err.Error(), "parse "))
	}
	t, err := checkURL(u)
	if err != nil {
		return nil, errorf(abi.ErrInvalid, "%s: url %s %v", FuncRequest, shorten(r.URL), err)
	}
	u.Fragment, u.RawFragment = "", "" // never sent
	out := &outbound{url: u, target: t, method: r.Method, header: nethttp.Header{}}

	if out.method == "" {
		out.method = nethttp.MethodGet
	}
	if !validToken(out.method) || len(out.method) > 32 {
		return out, errorf(abi.ErrInvalid, "%s: method %q is not an HTTP method", FuncRequest, out.method)
	}
	if strings.EqualFold(out.method, nethttp.MethodConnect) {
		return out, errorf(abi.ErrInvalid, "%s: method CONNECT is not supported", FuncRequest)
	}

	switch {
	case r.Body != nil && r.BodyBase64 != nil:
		return out, errorf(abi.ErrInvalid, "%s: the request has both body and bodyBase64; send one", FuncRequest)
	case r.Body != nil:
		out.body = []byte(*r.Body)
	case r.BodyBase64 != nil:
		out.body, err = base64.StdEncoding.DecodeString(*r.BodyBase64)
		if err != nil {
			return out, errorf(abi.ErrInvalid, "%s: bodyBase64 is not standard base64 (%v)", FuncRequest, err)
		}
	}
	if int64(len(out.body)) > maxBody {
		return out, errorf(abi.ErrTooLarge, "%s: the request body is %d bytes, over the limit of %s", FuncRequest, len(out.body), abi.Size(maxBody))
	}

	names := make([]string, 0, len(r.Headers))
	for k := range r.Headers {
		names = append(names, k)
	}
	slices.Sort(names) // two spellings of one name: both values, in a stable order
	for _, k := range names {
		v := r.Headers[k]
		if !validToken(k) {
			return out, errorf(abi.ErrInvalid, "%s: header name %q is not a valid HTTP field name", FuncRequest, k)
		}
		if reservedHeaders[nethttp.CanonicalHeaderKey(k)] {
			return out, errorf(abi.ErrInvalid, "%s: header %s cannot be set: it is derived from the url and body or belongs to the connection", FuncRequest, nethttp.CanonicalHeaderKey(k))
		}
		if i := strings.IndexFunc(v, func(c rune) bool { return c < ' ' && c != '\t' || c == 0x7f }); i >= 0 {
			return out, errorf(abi.ErrInvalid, "%s: the value of header %s has the control character %q at byte %d", FuncRequest, nethttp.CanonicalHeaderKey(k), v[i], i)
		}
		out.header.Add(k, v)
	}
	return out, nil
}

// reservedHeaders are set by the HTTP client from the URL and body, or
// concern one connection. Host in particular would let a request for an
// allowed host name be routed, by a shared front end, to another.
var reservedHeaders = map[string]bool{
	"Host": true, "Content-Length": true, "Transfer-Encoding": true,
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Upgrade": true,
}

// validToken reports whether s is an RFC 9110 token: a method or a field
// name.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// checkURL checks what does not depend on the grant: an absolute http or
// https URL without user information, whose host is an ASCII host name
// or an IP address in its usual spelling. The error completes the phrase
// "url U ...".
func checkURL(u *url.URL) (target, error) {
	var t target
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return t, fmt.Errorf("has the scheme %q: only http and https URLs are supported", u.Scheme)
	case u.Opaque != "" || u.Host == "":
		return t, fmt.Errorf("has no host: write an absolute URL, %s://HOST/PATH", u.Scheme)
	case u.User != nil:
		return t, fmt.Errorf("has user information (user@ or user:password@ before the host), which is refused: send credentials in an Authorization header")
	}
	host, port := u.Hostname(), u.Port()
	t.port = 80
	if u.Scheme == "https" {
		t.port = 443
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return t, fmt.Errorf("has the port %q, outside 1-65535", port)
		}
		t.port = n
	}
	for i := 0; i < len(host); i++ {
		if host[i] >= 0x80 {
			return t, fmt.Errorf("has a host that is not ASCII: write an internationalized name in its xn-- (punycode) form")
		}
	}
	if strings.Contains(host, ":") {
		a, err := netip.ParseAddr(host)
		if err != nil {
			return t, fmt.Errorf("has the host %q, which is not an IPv6 address", host)
		}
		if a.Zone() != "" {
			return t, fmt.Errorf("has the host %q, an IPv6 address with a zone (%%25...), which names an interface of this machine: refused", host)
		}
		t.host, t.ip = a.String(), true
		return t, nil
	}
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if len(h) > 253 {
		return t, fmt.Errorf("has a host name over 253 bytes")
	}
	for l := range strings.SplitSeq(h, ".") {
		if l == "" || len(l) > 63 || strings.IndexFunc(l, func(c rune) bool {
			return !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_')
		}) >= 0 {
			return t, fmt.Errorf("has the host %q, which is not a host name", host)
		}
	}
	if endsInNumber(h) {
		// A browser reads 0x7f000001, 2130706433, 0177.0.0.1 and 127.1
		// all as 127.0.0.1, and so may a system resolver. Only the plain
		// dotted-decimal form is accepted, so the host checked is the
		// host meant.
		a, err := netip.ParseAddr(h)
		if err != nil || !a.Is4() {
			return t, fmt.Errorf("has the host %q, which reads as an IP address but is not written as four decimal numbers a.b.c.d; write the address in that form", host)
		}
		t.ip = true
	}
	t.host = h
	return t, nil
}

// endsInNumber reports whether the last label of a host name is a
// number, decimal or 0x hexadecimal: the WHATWG URL standard then parses
// the whole host as an IPv4 address.
func endsInNumber(h string) bool {
	last := h[strings.LastIndexByte(h, '.')+1:]
	if rest, ok := strings.CutPrefix(strings.ToLower(last), "0x"); ok {
		last = rest
		return strings.Trim(last, "0123456789abcdef") == ""
	}
	return last != "" && strings.Trim(last, "0123456789") == ""
}

// allowed reports whether a pattern of the grant's allowlist covers t. An
// IP address is covered only by a pattern naming it exactly.
func allowed(patterns []string, t target) bool {
	for _, s := range patterns {
		p, err := abi.ParseHostPattern(s)
		if err != nil || p.Wildcard && t.ip {
			continue
		}
		if p.MatchHost(t.host) && p.MatchPort(t.port) {
			return true
		}
	}
	return false
}

// shorten quotes a URL for a message, bounded.
func shorten(s string) string {
	const show = 200
	if len(s) > show {
		return strconv.Quote(s[:show]) + "…"
	}
	return strconv.Quote(s)
}
