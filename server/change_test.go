package server_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wasmgate/wasmgate/host/client"
	"github.com/wasmgate/wasmgate/runtime"
	"github.com/wasmgate/wasmgate/server"
)

// listWatcher is a client that records the list_changed notifications it
// receives.
type listWatcher struct {
	changed chan string
}

func newListWatcher() *listWatcher { return &listWatcher{changed: make(chan string, 100)} }

func (w *listWatcher) options() *mcp.ClientOptions {
	return &mcp.ClientOptions{
		ToolListChangedHandler:     func(context.Context, *mcp.ToolListChangedRequest) { w.changed <- "tools" },
		ResourceListChangedHandler: func(context.Context, *mcp.ResourceListChangedRequest) { w.changed <- "resources" },
		PromptListChangedHandler:   func(context.Context, *mcp.PromptListChangedRequest) { w.changed <- "prompts" },
	}
}

// waitTools waits for tools/list_changed notifications until the client
// lists exactly want (in any order): the go-sdk gathers the notifications
// of changes made close together into one, so one notification may stand
// for several changes.
func (w *listWatcher) waitTools(t *testing.T, cs *mcp.ClientSession, want ...string) {
	t.Helper()
	slices.Sort(want)
	var got []string
	for {
		select {
		case kind := <-w.changed:
			if kind != "tools" {
				continue
			}
		case <-time.After(time.Minute):
			t.Fatalf("no tools/list_changed after a minute bringing the list %q; the client lists %q", want, got)
		}
		res, err := cs.ListTools(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, tool := range res.Tools {
			got = append(got, tool.Name)
		}
		slices.Sort(got)
		if slices.Equal(got, want) {
			return
		}
	}
}

func registryNames(reg *server.Registry) []string {
	var names []string
	for _, t := range reg.Tools() {
		names = append(names, t.Name)
	}
	slices.Sort(names)
	return names
}

// TestAddRemoveReplace: modules added, removed and replaced on a live
// server reach a connected client as tools/list_changed and a new list, and
// names follow the prefixing rules as if the modules served had been given
// at once.
func TestAddRemoveReplace(t *testing.T) {
	alpha := echoModule(t, "alpha", "echo", "one")
	s, reg, err := server.New(nil, []*runtime.Module{alpha}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := newListWatcher()
	cs := connectTo(t, s, w.options(), &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})

	// A second module declaring echo: both are prefixed, alpha's included.
	beta := echoModule(t, "beta", "echo", "two")
	if err := reg.Add(beta); err != nil {
		t.Fatal(err)
	}
	w.waitTools(t, cs, "alpha_echo", "beta_echo", "one", "two")
	if got, want := registryNames(reg), []string{"alpha_echo", "beta_echo", "one", "two"}; !slices.Equal(got, want) {
		t.Errorf("registry tools %q, want %q", got, want)
	}
	if ws := reg.Warnings(); len(ws) != 1 || !strings.Contains(ws[0], `"echo" is declared by modules alpha, beta`) {
		t.Errorf("warnings %q", ws)
	}
	wantOK(t, call(t, cs, "alpha_echo", nil))
	wantOK(t, call(t, cs, "beta_echo", nil))

	// beta's new version no longer declares echo: alpha's gets its name
	// back.
	beta2 := echoModule(t, "beta", "three")
	idle, err := reg.Replace(beta, beta2)
	if err != nil {
		t.Fatal(err)
	}
	waitClosed(t, idle, "beta's idle channel (no call was running)")
	w.waitTools(t, cs, "echo", "one", "three")
	if ws := reg.Warnings(); len(ws) != 0 {
		t.Errorf("warnings after the collision ended: %q", ws)
	}
	if mods := reg.Modules(); len(mods) != 2 || mods[0] != alpha || mods[1] != beta2 {
		t.Errorf("modules after replace: %v", mods)
	}

	// A module removed takes its tools along; the others stay.
	idle, ok := reg.Remove(alpha)
	if !ok {
		t.Fatal("Remove(alpha) = false")
	}
	waitClosed(t, idle, "alpha's idle channel")
	w.waitTools(t, cs, "three")
	wantOK(t, call(t, cs, "three", nil))
	if _, ok := reg.Remove(alpha); ok {
		t.Error("Remove of a module no longer served reported true")
	}

	// Refusals: a name served already, a module removed, a replacement
	// named like another module. Nothing changes.
	if err := reg.Add(echoModule(t, "beta", "four")); err == nil || !strings.Contains(err.Error(), "has the same name") {
		t.Errorf("Add of a second module beta: %v", err)
	}
	if err := reg.Add(alpha); err == nil || !strings.Contains(err.Error(), "was removed from this server") {
		t.Errorf("Add of a removed module: %v", err)
	}
	gamma := echoModule(t, "gamma", "five")
	if err := reg.Add(gamma); err != nil {
		t.Fatal(err)
	}
	if idle, err := reg.Replace(gamma, echoModule(t, "beta", "six")); err == nil || idle != nil {
		t.Errorf("Replace with a module named like another: %v, idle %v", err, idle)
	}
	if _, err := reg.Replace(alpha, echoModule(t, "alpha", "x")); err == nil || !strings.Contains(err.Error(), "not served") {
		t.Errorf("Replace of a module not served: %v", err)
	}
	w.waitTools(t, cs, "five", "three")
}

// TestChangeWithResourcesAndPrompts: a module with resources, templates and
// prompts added and removed on a live server reaches the client as
// resources and prompts list_changed.
func TestChangeWithResourcesAndPrompts(t *testing.T) {
	ctx := context.Background()
	s, reg, err := server.New(nil, []*runtime.Module{testModules["hash"]}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := newListWatcher()
	cs := connectTo(t, s, w.options(), &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	notes := loadNotes(t)
	if err := reg.Add(notes); err != nil {
		t.Fatal(err)
	}
	waitKinds(t, w, "tools", "resources", "prompts")
	res, err := cs.ListResources(ctx, nil)
	if err != nil || len(res.Resources) == 0 {
		t.Fatalf("resources after adding notes: %+v %v", res, err)
	}
	prompts, err := cs.ListPrompts(ctx, nil)
	if err != nil || len(prompts.Prompts) == 0 {
		t.Fatalf("prompts after adding notes: %+v %v", prompts, err)
	}
	// The module answers (it is granted no storage, which it says).
	if _, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: res.Resources[0].URI}); err == nil || !strings.Contains(err.Error(), "module notes") {
		t.Errorf("read %s: %v, want notes' refusal for want of storage", res.Resources[0].URI, err)
	}
	if _, ok := reg.Remove(notes); !ok {
		t.Fatal("Remove(notes) = false")
	}
	waitKinds(t, w, "tools", "resources", "prompts")
	if res, err := cs.ListResources(ctx, nil); err != nil || len(res.Resources) != 0 {
		t.Errorf("resources after removing notes: %+v %v", res, err)
	}
	if res, err := cs.ListResourceTemplates(ctx, nil); err != nil || len(res.ResourceTemplates) != 0 {
		t.Errorf("templates after removing notes: %+v %v", res, err)
	}
	if res, err := cs.ListPrompts(ctx, nil); err != nil || len(res.Prompts) != 0 {
		t.Errorf("prompts after removing notes: %+v %v", res, err)
	}
	if len(reg.Resources()) != 0 || len(reg.Prompts()) != 0 {
		t.Errorf("registry after removing notes: %v %v", reg.Resources(), reg.Prompts())
	}
}

// waitKinds waits until notifications of every kind have arrived.
func waitKinds(t *testing.T, w *listWatcher, kinds ...string) {
	t.Helper()
	got := map[string]bool{}
	for !allOf(got, kinds) {
		select {
		case k := <-w.changed:
			got[k] = true
		case <-time.After(time.Minute):
			t.Fatalf("list_changed notifications after a minute: %v, want %v", got, kinds)
		}
	}
}

func allOf(got map[string]bool, kinds []string) bool {
	for _, k := range kinds {
		if !got[k] {
			return false
		}
	}
	return true
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(time.Minute):
		t.Fatalf("%s not closed after a minute", what)
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// heldClient is a client whose answers to elicitation wait until release
// is closed, which holds the tool call that asked.
type heldClient struct {
	asked   chan struct{}
	release chan struct{}
}

func (h *heldClient) options() *mcp.ClientOptions {
	return &mcp.ClientOptions{
		ElicitationHandler: func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			h.asked <- struct{}{}
			<-h.release
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"username": "ada", "email": "ada@example.com"}}, nil
		},
	}
}

// TestCallInFlightDuringChange: a call running on a module that is
// replaced, or removed, finishes on that module with its own answer; the
// module's idle channel closes only after it; and calls made after a
// replace run on the new module.
func TestCallInFlightDuringChange(t *testing.T) {
	for _, change := range []string{"replace", "remove"} {
		t.Run(change, func(t *testing.T) {
			old := testModules["conftools"]
			s, reg, err := server.New(nil, []*runtime.Module{old}, &server.Options{
				Configure: func(server.Tool) server.ToolConfig {
					return server.ToolConfig{Grant: runtime.NewGrant(&client.Grant{Elicitation: true})}
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			h := &heldClient{asked: make(chan struct{}, 1), release: make(chan struct{})}
			cs := connectTo(t, s, h.options(), &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})

			result := make(chan *mcp.CallToolResult, 1)
			failed := make(chan error, 1)
			go func() {
				res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "test_elicitation", Arguments: map[string]any{"message": "Who?"}})
				if err != nil {
					failed <- err
					return
				}
				result <- res
			}()
			select {
			case <-h.asked:
			case err := <-failed:
				t.Fatal(err)
			case <-time.After(time.Minute):
				t.Fatal("the call did not ask its question within a minute")
			}

			var idle <-chan struct{}
			if change == "replace" {
				// The new version answers "ok" to every tool.
				idle, err = reg.Replace(old, echoModule(t, old.Name(), "test_elicitation"))
				if err != nil {
					t.Fatal(err)
				}
				if got := text(call(t, cs, "test_elicitation", nil)); got != "ok" {
					t.Errorf("a call after the replace answered %q, want the new module's ok", got)
				}
			} else {
				var ok bool
				if idle, ok = reg.Remove(old); !ok {
					t.Fatal("Remove = false")
				}
				tools, err := cs.ListTools(context.Background(), nil)
				if err != nil || len(tools.Tools) != 0 {
					t.Errorf("tools after removing the only module: %+v %v", tools, err)
				}
			}
			if isClosed(idle) {
				t.Fatal("the old module is idle while its call is running")
			}

			close(h.release)
			select {
			case res := <-result:
				if got := text(res); res.IsError || !strings.Contains(got, "ada@example.com") {
					t.Errorf("the call in flight answered %q (error %t), want its elicitation's answer", got, res.IsError)
				}
			case err := <-failed:
				t.Fatalf("the call in flight failed: %v", err)
			case <-time.After(time.Minute):
				t.Fatal("the call in flight did not finish within a minute of its answer")
			}
			waitClosed(t, idle, "the old module's idle channel after its call ended")
		})
	}
}
