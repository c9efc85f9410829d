// Command summary prints the result of a conformance suite run: each server
// scenario passed or failed (with the failed or warning checks, or the
// reason an expected failure is listed), and a total line. As in the
// suite's own baseline, a scenario with a warning counts as failing.
//
//	go run ./test/conformance/summary -version V -expected FILE RESULTS_DIR
//
// RESULTS_DIR is the suite's -o directory (one server-SCENARIO-TIME/
// folder with a checks.json per scenario); RESULTS_DIR.log, the suite's
// output, names every scenario run, so one that crashed before writing its
// checks counts as failed too.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

type check struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	ErrorMessage string `json:"errorMessage"`
}

var (
	dirRE   = regexp.MustCompile(`^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$`)
	runRE   = regexp.MustCompile(`=== Running scenario: (\S+) ===`)
	entryRE = regexp.MustCompile(`^\s*-\s*([\w./-]+)\s*(?:#\s*(.*))?$`)
)

func main() {
	version := flag.String("version", "", "the suite's version, for the total line")
	expectedFile := flag.String("expected", "", "the expected-failures YAML file (server: list, reasons as comments)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: summary -version V -expected FILE RESULTS_DIR")
		os.Exit(2)
	}
	dir := flag.Arg(0)
	expected, err := readExpected(*expectedFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "summary:", err)
		os.Exit(2)
	}

	results := map[string][]check{}
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		fmt.Fprintln(os.Stderr, "summary:", err)
		os.Exit(2)
	}
	for _, e := range entries {
		m := dirRE.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), "checks.json"))
		if err != nil {
			continue
		}
		var cs []check
		if err := json.Unmarshal(b, &cs); err != nil {
			fmt.Fprintf(os.Stderr, "summary: %s: %v\n", e.Name(), err)
			os.Exit(2)
		}
		results[m[1]] = cs
	}
	order := scenariosRun(dir + ".log")
	for name := range results {
		if !slices.Contains(order, name) {
			order = append(order, name)
		}
	}

	// The suite's baseline counts a scenario as failing when any check
	// failed or warned; so does this summary, saying which.
	passed, unexpected, expectedFailed, warnedOnly := 0, 0, 0, 0
	for _, name := range order {
		cs, ok := results[name]
		var failures, warnings []string
		if !ok {
			failures = append(failures, "the scenario did not run to the end (see the suite's log)")
		}
		for _, c := range cs {
			switch c.Status {
			case "FAILURE":
				failures = append(failures, fmt.Sprintf("%s: %s", c.ID, oneLine(c.ErrorMessage)))
			case "WARNING":
				warnings = append(warnings, fmt.Sprintf("%s: %s", c.ID, oneLine(c.ErrorMessage)))
			}
		}
		reason, listed := expected[name]
		what := ""
		switch {
		case len(failures) > 0:
			what = plural(len(failures), "failed check")
		case len(warnings) > 0:
			what = "no failed check, " + plural(len(warnings), "warning")
			warnedOnly++
		}
		switch {
		case what == "" && listed:
			unexpected++
			fmt.Printf("  passed  %s, but expected-failures lists it: remove it\n", name)
		case what == "":
			passed++
			fmt.Printf("  passed  %s\n", name)
		case listed:
			expectedFailed++
			fmt.Printf("  failed  %s (%s; expected: %s)\n", name, what, reason)
		default:
			unexpected++
			fmt.Printf("  FAILED  %s (%s)\n", name, what)
			for _, f := range append(failures, warnings...) {
				fmt.Printf("          %s\n", f)
			}
		}
	}
	fmt.Printf("conformance %s: %d scenarios, %d passed, %d failed as expected (%d of them with warnings only, no failed check), %d failed unexpectedly\n",
		*version, len(order), passed, expectedFailed, warnedOnly, unexpected)
	if unexpected > 0 {
		os.Exit(1)
	}
}

// scenariosRun lists the scenarios the suite's output says it ran, in order.
func scenariosRun(log string) []string {
	f, err := os.Open(log)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if m := runRE.FindStringSubmatch(sc.Text()); m != nil && !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	return out
}

// readExpected reads the server entries of an expected-failures file and
// the comment after each, its reason.
func readExpected(path string) (map[string]string, error) {
	out := map[string]string{}
	if path == "" {
		return out, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	inServer := false
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
		case !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "-"):
			inServer = strings.HasPrefix(trimmed, "server:")
		case inServer:
			if m := entryRE.FindStringSubmatch(line); m != nil {
				reason := m[2]
				if reason == "" {
					reason = "no reason given"
				}
				out[m[1]] = reason
			}
		}
	}
	return out, nil
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
