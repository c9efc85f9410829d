package abi

import (
	"fmt"
	"strconv"
	"strings"
)

// HostPattern is a network permission: a host name ("api.example.com") or
// every subdomain of one ("*.example.org", which does not match
// example.org itself), on one port (":8443") or, without a port, on 80 and
// 443.
type HostPattern struct {
	Host     string // lower case, without "*." and without a trailing dot
	Wildcard bool
	Port     int // 0 means 80 and 443
}

// AnyHost, as a manifest's only permissions.network entry, asks for
// whatever hosts the operator allows: the grant is then exactly the
// operator's allow list (private addresses still need the operator's
// private: true). It is not a HostPattern: an operator always names the
// hosts, so no grant ever covers every host.
const AnyHost = "*"

// ParseHostPattern parses a pattern of the form [*.]host[:port].
func ParseHostPattern(s string) (HostPattern, error) {
	if s == AnyHost {
		return HostPattern{}, fmt.Errorf("%q is not a host pattern: name the hosts (a module's manifest may ask for %q, meaning whatever hosts the operator allows, but a grant names them)", s, AnyHost)
	}
	if !hostRE.MatchString(s) {
		return HostPattern{}, fmt.Errorf("%q is not a host pattern: use a host name, *.domain, or either with :PORT", s)
	}
	var p HostPattern
	host, port, hasPort := strings.Cut(s, ":")
	if hasPort {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return HostPattern{}, fmt.Errorf("%q: port %s is out of range 1-65535", s, port)
		}
		p.Port = n
	}
	if rest, ok := strings.CutPrefix(host, "*."); ok {
		p.Wildcard, host = true, rest
	}
	p.Host = strings.ToLower(strings.TrimSuffix(host, "."))
	return p, nil
}

// CheckHostPattern reports whether s is a valid HostPattern.
func CheckHostPattern(s string) error {
	_, err := ParseHostPattern(s)
	return err
}

// String formats the pattern as it is written.
func (p HostPattern) String() string {
	s := p.Host
	if p.Wildcard {
		s = "*." + s
	}
	if p.Port != 0 {
		s += ":" + strconv.Itoa(p.Port)
	}
	return s
}

// MatchHost reports whether host (lower case, no trailing dot) is covered.
func (p HostPattern) MatchHost(host string) bool {
	if p.Wildcard {
		return strings.HasSuffix(host, "."+p.Host)
	}
	return host == p.Host
}

// MatchPort reports whether port is covered.
func (p HostPattern) MatchPort(port int) bool {
	if p.Port == 0 {
		return port == 80 || port == 443
	}
	return port == p.Port
}

// Intersect returns the pattern covering exactly what both a and b cover, if
// that is expressible as one pattern and not empty.
func (a HostPattern) Intersect(b HostPattern) (HostPattern, bool) {
	var out HostPattern
	switch {
	case a.Port == b.Port || b.Port == 0 && (a.Port == 80 || a.Port == 443):
		out.Port = a.Port
	case a.Port == 0 && (b.Port == 80 || b.Port == 443):
		out.Port = b.Port
	default:
		return HostPattern{}, false
	}
	switch {
	case !a.Wildcard && !b.Wildcard && a.Host == b.Host,
		!a.Wildcard && b.Wildcard && b.MatchHost(a.Host):
		out.Host = a.Host
	case a.Wildcard && !b.Wildcard && a.MatchHost(b.Host):
		out.Host = b.Host
	case a.Wildcard && b.Wildcard && (a.Host == b.Host || strings.HasSuffix(a.Host, "."+b.Host)):
		out.Host, out.Wildcard = a.Host, true
	case a.Wildcard && b.Wildcard && strings.HasSuffix(b.Host, "."+a.Host):
		out.Host, out.Wildcard = b.Host, true
	default:
		return HostPattern{}, false
	}
	return out, true
}
