// Command report measures wasmgate against a baseline for each of the
// performance targets and rewrites the generated table at the top of
// BENCHMARKS.md. It is what `make bench` runs:
//
//	cd bench && go run ./cmd/report -root .. -o ../BENCHMARKS.md -raw ../bench.out
//
// Every row is a ratio to a baseline measured in the same run, the two
// measured alternately over several rounds (these machines drift by up to
// 2x within minutes) and summarised by medians. -quick makes every
// measurement tiny, for a smoke run whose numbers mean nothing; -only runs
// some groups of rows (percall, extism, http, startup).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"
)

type options struct {
	root     string        // repository root
	out      string        // markdown file to rewrite
	raw      string        // file the raw numbers are appended to
	quick    bool          // smoke run
	rounds   int           // alternations of baseline and subject
	callTime time.Duration // per side per round, in-process rows
	httpTime time.Duration // per side per round per concurrency, HTTP rows
	only     map[string]bool
}

func (o *options) want(group string) bool { return len(o.only) == 0 || o.only[group] }

var groups = []string{"percall", "extism", "http", "startup"}

func main() {
	log.SetFlags(0)
	log.SetPrefix("bench: ")
	var o options
	var only string
	flag.StringVar(&o.root, "root", "..", "the wasmgate repository root")
	flag.StringVar(&o.out, "o", "", "markdown file whose generated section to rewrite (default ROOT/BENCHMARKS.md; - prints the section)")
	flag.StringVar(&o.raw, "raw", "", "append the raw numbers of every round to this file (default: none)")
	flag.BoolVar(&o.quick, "quick", false, "tiny measurements: a smoke run, the numbers mean nothing")
	flag.IntVar(&o.rounds, "rounds", 0, "rounds of alternating baseline and subject (default 16 per-call, 15 Extism, 4 over HTTP, 6 start-ups; 2 with -quick)")
	flag.DurationVar(&o.callTime, "call-time", 200*time.Millisecond, "time per side per round of an in-process row")
	flag.DurationVar(&o.httpTime, "http-time", 3*time.Second, "time per side per round per concurrency of an HTTP row")
	flag.StringVar(&only, "only", "", "comma-separated groups to run: "+strings.Join(groups, ", ")+" (default all)")
	flag.Parse()
	if only != "" {
		o.only = map[string]bool{}
		for _, g := range strings.Split(only, ",") {
			if !contains(groups, g) {
				log.Fatalf("-only: unknown group %q (have %s)", g, strings.Join(groups, ", "))
			}
			o.only[g] = true
		}
	}
	if o.quick {
		o.callTime, o.httpTime = 20*time.Millisecond, 300*time.Millisecond
	}
	root, err := filepath.Abs(o.root)
	if err != nil {
		log.Fatal(err)
	}
	o.root = root
	if o.out == "" {
		o.out = filepath.Join(root, "BENCHMARKS.md")
	}
	if err := run(context.Background(), &o); err != nil {
		log.Fatal(err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// progress prints what is being measured, with the time since the start.
var begun = time.Now()

func progress(format string, args ...any) {
	log.Printf("[%5.1fs] %s", time.Since(begun).Seconds(), fmt.Sprintf(format, args...))
}

func run(ctx context.Context, o *options) error {
	var raw io.Writer = io.Discard
	if o.raw != "" {
		f, err := os.OpenFile(o.raw, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		raw = f
	}
	tmp, err := os.MkdirTemp("", "wasmgate-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	m := describeMachine(o.root)
	fmt.Fprintf(raw, "# wasmgate bench report, %s, commit %s\n# %s\n", m.date, m.commit, m.summary())
	b := &bench{o: o, tmp: tmp, raw: raw}
	var rows []row
	if o.want("percall") || o.want("extism") {
		rs, err := b.inProcess(ctx)
		if err != nil {
			return err
		}
		rows = append(rows, rs...)
	}
	if o.want("http") {
		rs, err := b.overHTTP(ctx)
		if err != nil {
			return err
		}
		rows = append(rows, rs...)
	}
	if o.want("startup") {
		rs, err := b.startup(ctx)
		if err != nil {
			return err
		}
		rows = append(rows, rs...)
	}
	m.loadAfter = loadAverage()
	m.took = time.Since(begun)
	section := render(m, o, rows)
	fmt.Fprintf(raw, "# took %s\n\n", m.took.Round(time.Second))
	if o.out == "-" {
		_, err := os.Stdout.WriteString(section)
		return err
	}
	if err := rewriteFile(o.out, section); err != nil {
		return err
	}
	progress("wrote %s", o.out)
	return nil
}

// bench holds what the measurements share.
type bench struct {
	o   *options
	tmp string
	raw io.Writer

	wasmgateBin string // built on first use
	nativeBin   string
}

// path is a path under the repository root.
func (b *bench) path(rel string) string { return filepath.Join(b.o.root, filepath.FromSlash(rel)) }

// rounds is o.rounds, or def (2 for a smoke run).
func (b *bench) rounds(def int) int {
	switch {
	case b.o.rounds > 0:
		return b.o.rounds
	case b.o.quick:
		return 2
	}
	return def
}
