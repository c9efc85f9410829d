package server

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/sync/errgroup"

	"github.com/wasmgate/wasmgate/abi"
	"github.com/wasmgate/wasmgate/runtime"
)

// Protocol revisions that matter to how a guest's questions reach the
// client.
const (
	// protocolInputRequired is the first revision where a server asks its
	// client by returning an input-required result instead of sending it a
	// request (SEP-2322).
	protocolInputRequired = "2026-07-28"
)

// MaxRequestState is the largest requestState wasmgate hands a client: the
// answers of every round a call has had so far travel in it.
const MaxRequestState = 256 << 10

// asker is the runtime.Client of one request. On protocol revisions before
// 2026-07-28 it sends the client requests (sampling/createMessage,
// elicitation/create, roots/list) while the guest waits. From 2026-07-28
// on it replays: a guest's questions end the request with an
// input-required result, and when the client repeats the request with the
// answers the guest runs again from the start; the questions it already
// had answered are answered from the request state, in order.
type asker struct {
	session *mcp.ServerSession
	peer    peer
	replay  *replay // nil before 2026-07-28
}

// replay is the state of a request that may be asked again with answers.
type replay struct {
	sealer *sealer
	peer   peer
	// missing is the capability a question needed that the client did not
	// declare; the request then fails with CodeMissingRequiredClientCapabilities.
	missing string
	bind    string // what the request is: its method, target and arguments
	rounds  []round
	// answers are the client's inputResponses for the round pending in
	// the request state, when it had one.
	pending *round
	answers map[string]json.RawMessage

	mu    sync.Mutex
	next  int
	asked map[string]runtime.Question // the questions of a new round
	// seen is how many rounds the client has already watched this call
	// run through: until the guest gets that far again, what it reports
	// (log, progress, resource updates) was sent in an earlier request.
	seen int
}

// round is one ask: the hash of its questions and, once answered, the
// answers.
type round struct {
	Questions string                     `json:"q"`
	Answers   map[string]json.RawMessage `json:"a,omitempty"`
}

// state is what a requestState carries, sealed.
type state struct {
	Bind    string  `json:"b"`
	Rounds  []round `json:"r"`
	Pending round   `json:"p"`
}

// peer is what a request says of its client: the protocol revision and the
// capabilities it declared (per request from 2026-07-28 on, per session
// before).
type peer struct {
	version string
	caps    *mcp.ClientCapabilities
}

func peerOf[P mcp.Params](req *mcp.ServerRequest[P]) peer {
	p := peer{version: req.ProtocolVersion(), caps: req.ClientCapabilities()}
	if p.caps == nil {
		p.caps = &mcp.ClientCapabilities{}
	}
	return p
}

// asksByResult reports whether the client is asked by input-required
// results. A request that names no revision is taken as the newest, as the
// SDK takes it.
func (p peer) asksByResult() bool {
	return p.version == "" || p.version >= protocolInputRequired
}

// questionKinds are the requests a guest may put to its client: the
// capability each needs and a fresh value of its params, as an input
// request of an input-required result.
var questionKinds = map[string]struct {
	capability string
	params     func() mcp.InputRequest
}{
	abi.MethodSample: {"sampling", func() mcp.InputRequest { return &mcp.CreateMessageParams{} }},
	abi.MethodElicit: {"elicitation", func() mcp.InputRequest { return &mcp.ElicitParams{} }},
	abi.MethodRoots:  {"roots", func() mcp.InputRequest { return &mcp.ListRootsParams{} }},
}

// has reports whether the client declared the capability a question
// needs.
func (p peer) has(method string) bool {
	switch questionKinds[method].capability {
	case "sampling":
		return p.caps.Sampling != nil
	case "elicitation":
		return p.caps.Elicitation != nil
	case "roots":
		return p.caps.RootsV2 != nil || p.caps.Roots.ListChanged
	}
	return false
}

// info is what the guest is told of the client.
func (p peer) info() *abi.ClientInfo {
	ci := &abi.ClientInfo{ProtocolVersion: p.version, Capabilities: map[string]json.RawMessage{}}
	for method, k := range questionKinds {
		if p.has(method) {
			ci.Capabilities[k.capability] = json.RawMessage("{}")
		}
	}
	return ci
}

// newAsker returns the client of a request. bind identifies the request
// (method, target, arguments), so that a request state is only honoured
// for the request it was issued for. reqState and responses are the
// request's requestState and inputResponses.
func (r *Registry) newAsker(session *mcp.ServerSession, p peer, bind string, reqState string, responses mcp.InputResponseMap) (*asker, error) {
	a := &asker{session: session, peer: p}
	if !p.asksByResult() {
		return a, nil
	}
	rp := &replay{sealer: r.sealer, bind: bind, peer: p, answers: map[string]json.RawMessage{}}
	a.replay = rp
	if reqState == "" {
		// Answers without a state can only be for the first round: the
		// client answers questions it was not yet asked, or the server
		// sent no state. Nothing earlier is at stake.
		rp.pending = &round{}
	} else {
		var st state
		if err := r.sealer.open(reqState, &st); err != nil || st.Bind != bind {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "requestState is not one this server issued for this request (tampered with, from another request, or from before a restart): send the request again without requestState and inputResponses"}
		}
		rp.rounds = st.Rounds
		rp.pending = &st.Pending
		rp.seen = len(st.Rounds) + 1
	}
	for k, v := range responses {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf("inputResponses[%q] cannot be encoded: %v", k, err)}
		}
		rp.answers[k] = b
	}
	return a, nil
}

// Ask implements runtime.Client.
func (a *asker) Ask(ctx context.Context, qs map[string]runtime.Question) (map[string]json.RawMessage, error) {
	if a.replay != nil {
		return a.replay.ask(qs)
	}
	if a.session == nil {
		return nil, errors.New("the request has no client session to ask")
	}
	if err := a.supports(qs); err != nil {
		return nil, err
	}
	var mu sync.Mutex
	answers := map[string]json.RawMessage{}
	g, ctx := errgroup.WithContext(ctx)
	for k, q := range qs {
		g.Go(func() error {
			b, err := a.send(ctx, q)
			if err != nil {
				return fmt.Errorf("%s %q: %w", q.Method, k, err)
			}
			mu.Lock()
			answers[k] = b
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return answers, nil
}

// supports checks that the client declared the capability each question
// needs.
func (a *asker) supports(qs map[string]runtime.Question) error {
	for _, q := range qs {
		if !a.peer.has(q.Method) {
			return fmt.Errorf("the client does not support %s (it did not declare the capability)", q.Method)
		}
	}
	return nil
}

// send puts one question to the client as a request.
func (a *asker) send(ctx context.Context, q runtime.Question) (json.RawMessage, error) {
	var res any
	var err error
	switch q.Method {
	case abi.MethodSample:
		var p mcp.CreateMessageParams
		if err := json.Unmarshal(q.Params, &p); err != nil {
			return nil, err
		}
		res, err = a.session.CreateMessage(ctx, &p)
	case abi.MethodElicit:
		var p mcp.ElicitParams
		if err := json.Unmarshal(q.Params, &p); err != nil {
			return nil, err
		}
		res, err = a.session.Elicit(ctx, &p)
	case abi.MethodRoots:
		var p mcp.ListRootsParams
		if err := json.Unmarshal(q.Params, &p); err != nil {
			return nil, err
		}
		res, err = a.session.ListRoots(ctx, &p)
	default:
		return nil, fmt.Errorf("unknown method %q", q.Method)
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(res)
}

// ask answers the guest's next round of questions from the request state
// or the client's inputResponses, or records it as the round to ask.
func (rp *replay) ask(qs map[string]runtime.Question) (map[string]json.RawMessage, error) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	for _, q := range qs {
		if !rp.peer.has(q.Method) {
			// On 2026-07-28 a request that needs a capability the client
			// did not declare fails as a whole (SEP-2575).
			rp.missing = q.Method
			return nil, runtime.ErrInputRequired
		}
	}
	h := hashQuestions(qs)
	k := rp.next
	rp.next++
	if k < len(rp.rounds) {
		if rp.rounds[k].Questions != h {
			return nil, fmt.Errorf("the tool asked different questions when run again with the client's answers (round %d); a tool must ask the same questions in the same order on every run", k+1)
		}
		return rp.rounds[k].Answers, nil
	}
	if k == len(rp.rounds) && rp.pending != nil && (rp.pending.Questions == h || rp.pending.Questions == "" && k == 0) {
		answers := map[string]json.RawMessage{}
		for key := range qs {
			a, ok := rp.answers[key]
			if !ok {
				break
			}
			answers[key] = a
		}
		if len(answers) == len(qs) {
			rp.rounds = append(rp.rounds, round{Questions: h, Answers: answers})
			rp.pending = nil
			return answers, nil
		}
		// Some answers are missing: ask the round again.
	}
	rp.asked = qs
	return nil, runtime.ErrInputRequired
}

// inputRequired is the input-required part of a result: the questions of
// the round to ask and the sealed state to echo.
type inputRequired struct {
	requests mcp.InputRequestMap
	state    string
}

func (rp *replay) inputRequired() (*inputRequired, error) {
	if rp.missing != "" {
		// Built by hand: mcp.ClientCapabilities always encodes "roots".
		name := questionKinds[rp.missing].capability
		return nil, &jsonrpc.Error{
			Code:    mcp.CodeMissingRequiredClientCapabilities,
			Message: fmt.Sprintf("the tool needs to ask the client %s, and the client did not declare the %s capability", rp.missing, name),
			Data:    mustJSON(map[string]any{"requiredCapabilities": map[string]any{name: map[string]any{}}}),
		}
	}
	rp.mu.Lock()
	defer rp.mu.Unlock()
	reqs := mcp.InputRequestMap{}
	for k, q := range rp.asked {
		kind, ok := questionKinds[q.Method]
		if !ok {
			return nil, fmt.Errorf("unknown method %q", q.Method)
		}
		ir := kind.params()
		if err := json.Unmarshal(q.Params, ir); err != nil {
			return nil, err
		}
		reqs[k] = ir
	}
	sealed, err := rp.sealer.seal(state{Bind: rp.bind, Rounds: rp.rounds, Pending: round{Questions: hashQuestions(rp.asked)}})
	if err != nil {
		return nil, err
	}
	if len(sealed) > MaxRequestState {
		return nil, fmt.Errorf("the answers so far need a request state of %d bytes, over the limit of %d: ask fewer or smaller questions", len(sealed), MaxRequestState)
	}
	return &inputRequired{reqs, sealed}, nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// hashQuestions identifies a round of questions, keys and params.
func hashQuestions(qs map[string]runtime.Question) string {
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(qs)) {
		var buf bytes.Buffer
		_ = json.Compact(&buf, qs[k].Params)
		fmt.Fprintf(h, "%q %q %q\n", k, qs[k].Method, buf.String())
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// bindRequest identifies a request for its request state. Only a client
// that is asked by input-required results needs it (see bindFor).
func bindRequest(method, target string, args any) string {
	b, _ := json.Marshal(args)
	var v any
	_ = json.Unmarshal(b, &v)
	b, _ = json.Marshal(v) // canonical: sorted keys
	h := sha256.Sum256(fmt.Appendf(nil, "%q %q %s", method, target, b))
	return hex.EncodeToString(h[:16])
}

// bindFor is bindRequest for a client that is asked by input-required
// results, and "" for any other, whose requests carry no state: encoding
// and decoding the arguments again is then not needed.
func bindFor(p peer, method, target string, args any) string {
	if !p.asksByResult() {
		return ""
	}
	return bindRequest(method, target, args)
}

// sealer encrypts and authenticates request states with a key that lives
// as long as the server: a state is opaque to the client, and one that was
// changed, or issued by another server process, is refused.
type sealer struct{ aead cipher.AEAD }

func newSealer() *sealer {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &sealer{aead: aead}
}

func (s *sealer) seal(v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, nil)), nil
}

func (s *sealer) open(text string, v any) error {
	if len(text) > MaxRequestState*2 {
		return errors.New("too long")
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(text)
	if err != nil || len(b) < s.aead.NonceSize() {
		return errors.New("malformed")
	}
	plain, err := s.aead.Open(nil, b[:s.aead.NonceSize()], b[s.aead.NonceSize():], nil)
	if err != nil {
		return err
	}
	return json.Unmarshal(plain, v)
}

// replaying reports whether the guest is going over ground an earlier
// request of the call already covered.
func (rp *replay) replaying() bool {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return rp.next < rp.seen
}

// events returns ev, minus what a replayed guest reports again.
func (a *asker) events(ev *events) runtime.Events {
	if a.replay == nil || a.replay.seen == 0 {
		return ev
	}
	return replayEvents{ev, a.replay}
}

// replayEvents drops the log, progress and resource updates of the part of
// a run that replays earlier requests: the client has them already.
type replayEvents struct {
	ev *events
	rp *replay
}

func (r replayEvents) Log(level abi.LogLevel, msg string) {
	if !r.rp.replaying() {
		r.ev.Log(level, msg)
	}
}

func (r replayEvents) Progress(progress, total float64, msg string) {
	if !r.rp.replaying() {
		r.ev.Progress(progress, total, msg)
	}
}

func (r replayEvents) ResourceUpdated(uri string) {
	if !r.rp.replaying() {
		r.ev.ResourceUpdated(uri)
	}
}
