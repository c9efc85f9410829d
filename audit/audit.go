// Package audit writes one JSON line per tool call: who called what, how it
// ended, what it touched and what it was refused. Argument values are not
// recorded.
package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/wasmgate/wasmgate/runtime"
)

// Entry is one call.
type Entry struct {
	Time    time.Time `json:"time"`
	Session string    `json:"session,omitempty"`
	Module  string    `json:"module"`
	SHA256  string    `json:"sha256"`
	// Tool is the tool called; empty for the other methods.
	Tool string `json:"tool,omitempty"`
	// Method is the MCP method of a request other than tools/call
	// (resources/read, prompts/get, completion/complete) and Name what it
	// was for: the resource URI, the prompt, the completed argument.
	Method     string  `json:"method,omitempty"`
	Name       string  `json:"name,omitempty"`
	DurationMS float64 `json:"durationMs"`
	// Outcome is "ok", or the runtime.ErrorKind of the failure.
	Outcome  string   `json:"outcome"`
	BytesIn  int      `json:"bytesIn"`
	BytesOut int      `json:"bytesOut"`
	Hosts    []string `json:"hosts,omitempty"`
	Denied   []string `json:"denied,omitempty"`
}

// Log appends entries to a writer. It is safe for concurrent use; a nil
// *Log records nothing.
type Log struct {
	mu  sync.Mutex
	w   io.Writer
	c   io.Closer
	err error
}

// Open appends to the file at path, creating it with mode 0600.
func Open(path string) (*Log, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return &Log{w: f, c: f}, nil
}

// New writes entries to w.
func New(w io.Writer) *Log { return &Log{w: w} }

// EntryFor builds the entry of a finished call.
func EntryFor(session string, m *runtime.Module, tool string, out *runtime.Outcome) Entry {
	e := Entry{
		Time: time.Now().UTC(), Session: session, Module: m.Name(), SHA256: m.SHA256(), Tool: tool,
		Outcome: "ok",
	}
	if out != nil {
		e.DurationMS = float64(out.Duration.Microseconds()) / 1000
		e.BytesIn, e.BytesOut, e.Hosts, e.Denied = out.BytesIn, out.BytesOut, out.Hosts, out.Denied
		if out.Err != nil {
			e.Outcome = string(out.Err.Kind)
		}
	}
	return e
}

// EntryForRequest builds the entry of a finished resources/read,
// prompts/get or completion/complete.
func EntryForRequest(session string, m *runtime.Module, method, name string, out *runtime.Outcome) Entry {
	e := EntryFor(session, m, "", out)
	e.Method, e.Name = method, name
	return e
}

// Record writes one entry as a JSON line. The first write error is kept
// and returned by Close; recording never blocks a call on a broken log.
func (l *Log) Record(e Entry) {
	if l == nil {
		return
	}
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return
	}
	if _, err := l.w.Write(append(b, '\n')); err != nil {
		l.err = fmt.Errorf("audit log: %w", err)
	}
}

// Close closes the file and reports the first write error, if any.
func (l *Log) Close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.c != nil {
		if err := l.c.Close(); err != nil && l.err == nil {
			l.err = err
		}
	}
	return l.err
}
