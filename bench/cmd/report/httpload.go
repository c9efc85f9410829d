package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// An httpTool is a tool served by wasmgate and by the native baseline.
type httpTool struct {
	key    string // for the raw numbers
	what   string
	module string // under the repository root
	tool   string
	args   string
	want   string // in every answer's text or structured content, checked before timing
	target target
	rss    bool // also measure peak RSS at the highest concurrency
}

var httpTools = []httpTool{
	{"go-jsonq", "Go tool `jsonq` (reactor; `.items[].id` of a 2-item document)", "guests/go/jsonq/jsonq.wasm", "query",
		`{"json":"{\"items\":[{\"id\":1},{\"id\":2}]}","path":".items[].id"}`, "1\\n2", target{kind: minRatio, value: 0.5}, true},
	{"c-sha256", "C tool `sha256` (`guests/c/hash`, `{\"text\":\"hello world\"}`)", "guests/c/hash/hash.wasm", "sha256",
		`{"text":"hello world"}`, `b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9`, target{kind: minRatio, value: 0.85}, false},
}

var concurrencies = []int{1, 8, 32}

// The protocol revision the load generator speaks; the servers are
// stateless either way.
const protocolVersion = "2025-11-25"

// overHTTP measures the throughput rows and the peak RSS row.
func (b *bench) overHTTP(ctx context.Context) ([]row, error) {
	if err := b.binaries(ctx); err != nil {
		return nil, err
	}
	var rows []row
	for _, t := range httpTools {
		rs, err := b.throughput(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("%s over HTTP: %w", t.key, err)
		}
		rows = append(rows, rs...)
	}
	return rows, nil
}

// An endpoint is one server under load.
type endpoint struct {
	name   string
	proc   *proc
	url    string
	client *http.Client
}

func (b *bench) throughput(ctx context.Context, t httpTool) ([]row, error) {
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call",
		"params": map[string]any{"name": t.tool, "arguments": json.RawMessage(t.args)}})
	if err != nil {
		return nil, err
	}
	wasmAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	nativeAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	module := b.path(t.module)
	progress("http %s: starting wasmgate serve --http %s --stateless and nativemcp at %s", t.key, wasmAddr, nativeAddr)
	wp, err := startProc(b.o.root, "wasmgate serve", b.wasmgateBin, "serve", "--http", wasmAddr, "--stateless",
		"--cache-dir", filepath.Join(b.tmp, "cache-http"), module)
	if err != nil {
		return nil, err
	}
	defer wp.stop()
	np, err := startProc(b.o.root, "nativemcp", b.nativeBin, "-http", nativeAddr, "-module", module, "-tool", t.tool)
	if err != nil {
		return nil, err
	}
	defer np.stop()
	maxc := concurrencies[len(concurrencies)-1]
	newClient := func() *http.Client {
		return &http.Client{Transport: &http.Transport{MaxIdleConns: 2 * maxc, MaxIdleConnsPerHost: 2 * maxc, DisableCompression: true}}
	}
	eps := []*endpoint{
		{name: "native", proc: np, url: "http://" + nativeAddr + "/mcp", client: newClient()},
		{name: "wasmgate", proc: wp, url: "http://" + wasmAddr + "/mcp", client: newClient()},
	}
	for _, ep := range eps {
		defer ep.client.CloseIdleConnections()
		if err := ep.ready(ctx, body, t.want); err != nil {
			return nil, err
		}
	}
	warm := 500 * time.Millisecond
	if b.o.quick {
		warm = 50 * time.Millisecond
	}
	for _, ep := range eps {
		if p := ep.load(ctx, body, 8, warm); p.ok == 0 {
			return nil, fmt.Errorf("%s: warm-up: no successful call: %v", ep.name, p.err)
		}
	}

	n := b.rounds(4)
	progress("http %s: %d rounds of c=%v, %s per point, native and wasmgate alternately", t.key, n, concurrencies, b.o.httpTime)
	// rate[c][i] are endpoint i's calls/s at concurrency index c, round by round.
	rate := make([][2][]float64, len(concurrencies))
	var peak [2]float64
	var failed [2]int64 // calls that did not succeed, not counted
	peakOK := true
	for r := 0; r < n; r++ {
		for ci, c := range concurrencies {
			for k := range eps {
				i := (r + ci + k) % len(eps)
				ep := eps[i]
				measurePeak := t.rss && c == maxc
				if measurePeak {
					if err := resetPeak(ep.proc.pid()); err != nil && peakOK {
						peakOK = false
						fmt.Fprintf(b.raw, "http %s: cannot reset the peak RSS (%v): VmHWM is the process's whole life\n", t.key, err)
					}
				}
				p := ep.load(ctx, body, c, b.o.httpTime)
				if err := ep.proc.exited(); err != nil {
					return nil, err
				}
				if p.ok == 0 {
					return nil, fmt.Errorf("%s at c=%d: no call succeeded, %d failed; first failure: %v", ep.name, c, p.failed, p.err)
				}
				if p.failed > 0 {
					failed[i] += p.failed
					fmt.Fprintf(b.raw, "http %s round %d c=%d %s: %d calls failed, the first: %v\n", t.key, r+1, c, ep.name, p.failed, p.err)
				}
				rps := float64(p.ok) / p.elapsed.Seconds()
				rate[ci][i] = append(rate[ci][i], rps)
				line := fmt.Sprintf("http %s round %d c=%d %s: %d calls in %s, %.1f calls/s", t.key, r+1, c, ep.name, p.ok, p.elapsed.Round(time.Millisecond), rps)
				if measurePeak {
					hwm, err := peakRSS(ep.proc.pid())
					if err != nil {
						return nil, err
					}
					peak[i] = max(peak[i], hwm)
					line += fmt.Sprintf(", VmHWM %.1f MiB", hwm/(1<<20))
				}
				fmt.Fprintln(b.raw, line)
			}
		}
		progress("http %s: round %d of %d done", t.key, r+1, n)
	}

	var bases, subjs, rats []string
	var values []float64
	for ci := range concurrencies {
		base, subj := median(rate[ci][0]), median(rate[ci][1])
		ratio := median(ratios(rate[ci][1], rate[ci][0]))
		bases, subjs = append(bases, fmt.Sprintf("%.0f", base)), append(subjs, fmt.Sprintf("%.0f", subj))
		rats, values = append(rats, fmt.Sprintf("%.2f", ratio)), append(values, ratio)
	}
	progress("http %s: native %s calls/s, wasmgate %s calls/s, ratios %s", t.key, strings.Join(bases, " / "), strings.Join(subjs, " / "), strings.Join(rats, " / "))
	for i, ep := range eps {
		if failed[i] > 0 {
			what := fmt.Sprintf(" (%d calls failed and were not counted)", failed[i])
			if i == 0 {
				bases[len(bases)-1] += what
			} else {
				subjs[len(subjs)-1] += what
			}
			progress("http %s: %s: %d calls failed", t.key, ep.name, failed[i])
		}
	}
	rows := []row{{
		what:     fmt.Sprintf("tools/call throughput over stateless HTTP, %s, c = 1 / 8 / 32 (%s per point)", t.what, b.o.httpTime),
		baseline: strings.Join(bases, " / ") + " calls/s native go-sdk handler",
		subject:  strings.Join(subjs, " / ") + " calls/s",
		ratio:    strings.Join(rats, " / "),
		target:   t.target,
		values:   values,
	}}
	if t.rss {
		progress("http %s: peak RSS at c=%d: native %.1f MiB, wasmgate %.1f MiB", t.key, maxc, peak[0]/(1<<20), peak[1]/(1<<20))
		what := fmt.Sprintf("server peak RSS (VmHWM), %s at c=%d", t.what, maxc)
		if !peakOK {
			what += " (over the process's whole life: the peak could not be reset)"
		}
		rows = append(rows, row{
			what:     what,
			baseline: fmt.Sprintf("%.1f MiB native go-sdk server", peak[0]/(1<<20)),
			subject:  fmt.Sprintf("%.1f MiB", peak[1]/(1<<20)),
			ratio:    fmt.Sprintf("%.2fx", peak[1]/peak[0]),
			target:   target{kind: maxBytes, value: 150 << 20},
			bytes:    peak[1],
		})
	}
	return rows, nil
}

// ready waits until the server answers a call with a result holding want.
func (ep *endpoint) ready(ctx context.Context, body []byte, want string) error {
	deadline := time.Now().Add(3 * time.Minute)
	for {
		res, err := ep.post(ctx, body)
		if err == nil {
			err = checkAnswer(res, want)
			if err != nil {
				return fmt.Errorf("%s: %w", ep.name, err)
			}
			return nil
		}
		if perr := ep.proc.exited(); perr != nil {
			return perr
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer within 3 minutes: %v", ep.name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// post sends one request and returns the JSON-RPC response, taken out of
// its event stream if it came as one.
func (ep *endpoint) post(ctx context.Context, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Mcp-Protocol-Version", protocolVersion)
	resp, err := ep.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s: %s", resp.Status, bytes.TrimSpace(data))
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, len(data)+1)
		for sc.Scan() {
			if d, ok := bytes.CutPrefix(sc.Bytes(), []byte("data:")); ok {
				return bytes.TrimSpace(d), nil
			}
		}
		return nil, fmt.Errorf("an event stream without data: %q", data)
	}
	return data, nil
}

// checkAnswer checks that a JSON-RPC response is a tool result without
// isError whose content holds want (a JSON-encoded substring).
func checkAnswer(resp []byte, want string) error {
	var r struct {
		Result *struct {
			Content           json.RawMessage `json:"content"`
			StructuredContent json.RawMessage `json:"structuredContent"`
			IsError           bool            `json:"isError"`
		} `json:"result"`
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(resp, &r); err != nil {
		return fmt.Errorf("answer %q: %w", resp, err)
	}
	switch {
	case r.Error != nil || r.Result == nil:
		return fmt.Errorf("answer is not a result: %s", resp)
	case r.Result.IsError:
		return fmt.Errorf("the tool failed: %s", resp)
	case !bytes.Contains(r.Result.Content, []byte(want)) && !bytes.Contains(r.Result.StructuredContent, []byte(want)):
		return fmt.Errorf("answer does not hold %s: %s", want, resp)
	}
	return nil
}

// A loadPoint is what c workers got in a fixed time.
type loadPoint struct {
	ok, failed int64
	elapsed    time.Duration
	err        error // the first failure
}

// load has c workers post body back to back for d, and counts the answers
// that are results without isError.
func (ep *endpoint) load(ctx context.Context, body []byte, c int, d time.Duration) loadPoint {
	var p loadPoint
	var ok, failed atomic.Int64
	var once sync.Once
	fail := func(err error) {
		failed.Add(1)
		once.Do(func() { p.err = err })
	}
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				res, err := ep.post(ctx, body)
				switch {
				case err != nil:
					fail(err)
				case !bytes.Contains(res, []byte(`"result":{`)) || bytes.Contains(res, []byte(`"isError":true`)):
					fail(errors.New(string(res)))
				default:
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	p.elapsed = time.Since(start)
	p.ok, p.failed = ok.Load(), failed.Load()
	return p
}
