// Package capability is the seam between wasmgate and each thing a module
// may be granted beyond the bare sandbox: the network, directories, the
// environment, secrets, key-value storage, questions to the client. A
// Capability owns all of its own: the keys it reads in a manifest's
// permissions and in a policy module entry, how the two are intersected
// into its typed grant, its lines in the report inspect and serve print,
// its effect on tool annotations, its host functions and what a call
// needs set up. Policy, server and command know capabilities only through
// this package, so a new one is one package and one call of Register.
//
// The manifest's request, the operator's offer and the grant are values
// of the capability's own types, passed through this interface as any: a
// capability is only ever handed back what it produced.
package capability

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/runtime"
)

// Capability is one kind of access a module may be granted.
type Capability interface {
	// Name names the capability: the key of its grant in a runtime.Grant
	// and, for a capability with one key, that key.
	Name() string
	// Keys are the keys it reads in a manifest's permissions and in a
	// policy module entry; no two capabilities share one.
	Keys() []string

	// Request decodes what a manifest asks for: raw holds the manifest's
	// permissions under the capability's keys, only those present. It
	// returns nil when the manifest asks for nothing.
	Request(raw map[string]json.RawMessage) (any, error)
	// Offer decodes what the operator grants in one policy module or tool
	// entry (or the command line's equivalent): entry holds the entry's
	// values under the capability's keys, at least one. Errors name the
	// line or the place (at.Path plus the key) that is wrong.
	Offer(entry map[string]*yaml.Node, at Place) (any, error)
	// Union combines two offers for one module, the policy's and the
	// command line's: it grants what either grants.
	Union(a, b any) any
	// Narrow applies a tool's offer to its module's (which may be nil): it
	// can only take away.
	Narrow(module, tool any) any
	// Grant intersects a request and an offer (either may be nil, not
	// both) into the call's grant, nil when nothing is granted. What the
	// operator offers and the module did not ask for is not granted, and
	// is reported through c.Warn.
	Grant(request, offer any, c *Context) (runtime.CapabilityGrant, error)
	// Report lists, for each of its keys the request or the grant (either
	// may be nil) concerns, what was requested and what is granted.
	Report(request any, grant runtime.CapabilityGrant) []Line
	// Effects says what a tool with this grant may do, for its
	// annotations.
	Effects(grant runtime.CapabilityGrant) Effects
	// Open prepares what the capability's host functions need in one
	// runtime, such as a store or a connection pool.
	Open(s *Setup) (*Provision, error)
}

// Place is where an offer is written, for messages and relative paths.
type Place struct {
	// Path is the entry's path in the policy, such as "modules.fetch" or
	// "modules.fetch.tools.get"; its keys follow it.
	Path string
	// Dir resolves relative host paths: the policy file's directory.
	Dir string
}

// Context is what Grant may need beyond the request and the offer.
type Context struct {
	// Module is the name of the module being granted.
	Module string
	// Warn reports a grant the operator gave that the module did not ask
	// for. It is never nil.
	Warn func(format string, a ...any)
	// ResolveSecret turns a reference to a value kept outside the policy
	// (env:NAME, file:PATH) into the value; nil when there is no way to.
	ResolveSecret func(ref string) (string, error)
}

// Line is one key's requested and granted values, as inspect shows them;
// "-" is nothing.
type Line struct {
	Capability string
	Requested  string
	Granted    string
}

// Effects is what a grant lets a tool do that its annotations must admit.
type Effects struct {
	// OpenWorld: the tool can reach things outside the sandbox and the
	// client (openWorldHint).
	OpenWorld bool
	// Writes names what the tool can change, such as "key-value storage";
	// empty when it changes nothing (readOnlyHint).
	Writes string
}

// Setup is what Open is given.
type Setup struct {
	// Offered says whether the policy offers the capability to some
	// module: a capability whose resources cost something (a store on
	// disk) opens them only then, and otherwise refuses every call.
	Offered bool
	// StateDir returns the directory where capabilities keep what
	// persists between runs; only those that need it call it.
	StateDir func() (string, error)
	// Logger receives what the capability reports; never nil.
	Logger *slog.Logger
}

// Provision is what Open prepared for one runtime.
type Provision struct {
	// HostFuncs are added to the runtime's import module. They are there
	// for every module, whether granted or not: each call may use them
	// only as its grant allows.
	HostFuncs []runtime.HostFunc
	// Close, if not nil, releases what Open opened, once the runtime is
	// closed.
	Close func()
}

var registry struct {
	mu    sync.Mutex
	caps  []Capability
	byKey map[string]Capability
}

// Register makes c known to policies, manifests, reports and gateways. The
// order of registration is the order of reports. It panics if c's name or
// one of its keys is taken, or if c has no keys.
func Register(c Capability) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if len(c.Keys()) == 0 {
		panic(fmt.Sprintf("capability: %s has no keys", c.Name()))
	}
	for _, o := range registry.caps {
		if o.Name() == c.Name() {
			panic(fmt.Sprintf("capability: %s is registered twice", c.Name()))
		}
	}
	if registry.byKey == nil {
		registry.byKey = map[string]Capability{}
	}
	for _, k := range c.Keys() {
		if o := registry.byKey[k]; o != nil || k == "limits" || k == "tools" {
			panic(fmt.Sprintf("capability: key %s of %s is taken", k, c.Name()))
		}
	}
	for _, k := range c.Keys() {
		registry.byKey[k] = c
		abi.RegisterPermission(k)
	}
	registry.caps = append(registry.caps, c)
}

// Registered lists the registered capabilities in registration order.
func Registered() []Capability {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	return slices.Clone(registry.caps)
}

// Lookup returns the capability named name, or nil.
func Lookup(name string) Capability {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	for _, c := range registry.caps {
		if c.Name() == name {
			return c
		}
	}
	return nil
}

// ForKey returns the capability that reads key, or nil.
func ForKey(key string) Capability {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	return registry.byKey[key]
}

// Keys lists every registered capability's keys, in registration order.
func Keys() []string {
	var keys []string
	for _, c := range Registered() {
		keys = append(keys, c.Keys()...)
	}
	return keys
}

// EffectsOf sums up what g lets a tool do: whether it reaches the open
// world, and what it can change. A grant of a capability that is not
// registered is taken to do both, so that no safety claim rests on it.
func EffectsOf(g *runtime.Grant) (openWorld bool, writes []string) {
	for _, name := range g.Names() {
		c := Lookup(name)
		if c == nil {
			openWorld = true
			writes = append(writes, "capability "+name)
			continue
		}
		e := c.Effects(g.Get(name))
		openWorld = openWorld || e.OpenWorld
		if e.Writes != "" {
			writes = append(writes, e.Writes)
		}
	}
	return openWorld, writes
}

// Listed shows a list in a report line: its items joined by ", ", or "-"
// when it is empty.
func Listed(ss []string) string {
	if len(ss) == 0 {
		return "-"
	}
	return strings.Join(ss, ", ")
}

// Yes shows a yes-or-no request or grant in a report line: "yes" or "-".
func Yes(b bool) string {
	if b {
		return "yes"
	}
	return "-"
}
