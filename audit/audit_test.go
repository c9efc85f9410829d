package audit

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRecordWritesOneLinePerEntry(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.Record(Entry{Time: time.Now(), Module: "m", Tool: "t", Outcome: "ok", Hosts: []string{"a.com:443"}})
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 50 {
		t.Fatalf("%d lines, want 50", len(lines))
	}
	for _, line := range lines {
		var e Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.Module != "m" || e.Hosts[0] != "a.com:443" {
			t.Fatalf("bad line %q: %v", line, err)
		}
	}
	var nilLog *Log
	nilLog.Record(Entry{}) // must not panic
}

func TestOpenAppendsWithPrivateMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	for i := 0; i < 2; i++ {
		l, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		l.Record(Entry{Module: "m"})
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(path)
	if strings.Count(string(b), "\n") != 2 {
		t.Errorf("file has %q, want two lines", b)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	if _, err := Open(filepath.Join(t.TempDir(), "no", "such", "dir", "a.jsonl")); err == nil || !strings.Contains(err.Error(), "audit log") {
		t.Errorf("Open in a missing directory: %v", err)
	}
}
