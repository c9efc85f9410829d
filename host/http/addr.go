package http

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// A range of addresses a call reaches only with Grant.Private, and
// the name the guest is told.
type addrRange struct {
	prefix netip.Prefix
	kind   string
}

// Special-purpose ranges (RFC 6890 and the IANA registries). Anything not
// globally routable is refused: a tool with network access must not be a
// way into the operator's own machine or network.
var privateRanges = func() []addrRange {
	table := []struct{ prefix, kind string }{
		{"0.0.0.0/8", "unspecified (this network)"},
		{"10.0.0.0/8", "private"},
		{"100.64.0.0/10", "shared (CGNAT)"},
		{"127.0.0.0/8", "loopback"},
		{"169.254.169.254/32", "cloud metadata"},
		{"169.254.0.0/16", "link-local"},
		{"172.16.0.0/12", "private"},
		{"192.0.0.0/24", "IETF protocol assignment"},
		{"192.0.2.0/24", "documentation"},
		{"192.88.99.0/24", "6to4 relay"},
		{"192.168.0.0/16", "private"},
		{"198.18.0.0/15", "benchmarking"},
		{"198.51.100.0/24", "documentation"},
		{"203.0.113.0/24", "documentation"},
		{"224.0.0.0/4", "multicast"},
		{"240.0.0.0/4", "reserved"}, // 255.255.255.255 included

		{"::/128", "unspecified"},
		{"::1/128", "loopback"},
		{"::/96", "IPv4-compatible"}, // deprecated; never routed
		{"100::/64", "discard"},
		{"64:ff9b:1::/48", "local NAT64"},
		{"2001::/32", "Teredo"},
		{"2001:2::/48", "benchmarking"},
		{"2001:db8::/32", "documentation"},
		{"3fff::/20", "documentation"},
		{"fd00:ec2::254/128", "cloud metadata"},
		{"fc00::/7", "unique local (private)"},
		{"fe80::/10", "link-local"},
		{"fec0::/10", "site-local"},
		{"ff00::/8", "multicast"},
	}
	out := make([]addrRange, len(table))
	for i, r := range table {
		out[i] = addrRange{netip.MustParsePrefix(r.prefix), r.kind}
	}
	return out
}()

// IPv6 ranges that embed an IPv4 address which decides where a packet
// ends up: NAT64 (RFC 6052) in the last four bytes, 6to4 (RFC 3056) in
// bytes 2 to 5.
var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

// privateKind says why a may not be dialed without Grant.Private,
// or returns "" when a is a public address. IPv4-mapped, NAT64 and 6to4
// forms are judged by the IPv4 address they carry.
func privateKind(a netip.Addr) string {
	if !a.IsValid() {
		return "invalid"
	}
	a = a.WithZone("")
	if a.Is4In6() {
		if k := privateKind(a.Unmap()); k != "" {
			return k + " (IPv4-mapped)"
		}
		return ""
	}
	if a.Is6() {
		b := a.As16()
		switch {
		case nat64.Contains(a):
			if k := privateKind(netip.AddrFrom4([4]byte(b[12:16]))); k != "" {
				return k + " (NAT64)"
			}
			return ""
		case sixTo4.Contains(a):
			if k := privateKind(netip.AddrFrom4([4]byte(b[2:6]))); k != "" {
				return k + " (6to4)"
			}
			return ""
		}
	}
	for _, r := range privateRanges {
		if r.prefix.Contains(a) {
			return r.kind
		}
	}
	return ""
}

// blockedError is a dial refused because the address is not public.
type blockedError struct {
	hostport string // as the URL names it
	addr     netip.Addr
	kind     string
}

func (e *blockedError) Error() string {
	if e.addr.String() == hostOf(e.hostport) {
		return fmt.Sprintf("%s is in the %s range", e.hostport, e.kind)
	}
	return fmt.Sprintf("%s resolves to %s, in the %s range", e.hostport, e.addr, e.kind)
}

func hostOf(hostport string) string {
	h, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	return h
}

// Resolver looks up the addresses of a host name. *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// dialer resolves a host name, checks every address it resolves to, and
// connects to a checked address: the address checked is the address
// dialed, so neither a DNS answer that changes between a check and the
// connection nor an unusual spelling of an IP address gets past it.
type dialer struct {
	resolver Resolver
	dial     func(ctx context.Context, network, address string) (net.Conn, error)
	private  bool // Grant.Private: every address is allowed
}

func newDialer(opts *Options, private bool) *dialer {
	d := &dialer{resolver: opts.Resolver, dial: opts.Dial, private: private}
	if d.resolver == nil {
		d.resolver = &net.Resolver{}
	}
	if d.dial == nil {
		nd := &net.Dialer{}
		if !private {
			// A second check on the socket's own address, just before
			// connect: nothing that reaches the kernel skips it.
			nd.Control = controlPublic
		}
		d.dial = nd.DialContext
	}
	return d
}

func (d *dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		addrs, err = d.resolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, err
		}
		if len(addrs) == 0 {
			return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
		}
	}
	if !d.private {
		// One private address among public ones refuses the name: a
		// resolver the guest influences must not get to pick.
		for _, a := range addrs {
			if k := privateKind(a); k != "" {
				return nil, &blockedError{hostport: address, addr: a.WithZone(""), kind: k}
			}
		}
	}
	var errs []error
	for _, a := range addrs {
		c, err := d.dial(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// controlPublic refuses to connect a socket to a non-public address.
func controlPublic(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("refusing to connect to %q: not an address", address)
	}
	if k := privateKind(ap.Addr()); k != "" {
		return &blockedError{hostport: address, addr: ap.Addr().WithZone(""), kind: k}
	}
	return nil
}
