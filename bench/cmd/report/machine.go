package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"time"
)

type machine struct {
	commit    string // of the tree measured
	date      string
	cores     int
	cpu       string
	memory    string
	goVersion string
	wazero    string
	loadAt    string // load averages when the run began
	loadAfter string // and when it ended
	took      time.Duration
}

func describeMachine(root string) machine {
	commit := "?"
	if out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output(); err == nil {
		commit = strings.TrimSpace(string(out))
	}
	return machine{
		commit:    commit,
		date:      time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		cores:     goruntime.NumCPU(),
		cpu:       procField("/proc/cpuinfo", "model name"),
		memory:    procField("/proc/meminfo", "MemTotal"),
		goVersion: goruntime.Version(),
		wazero:    depVersion("github.com/tetratelabs/wazero"),
		loadAt:    loadAverage(),
	}
}

func (m machine) summary() string {
	s := fmt.Sprintf("%d cores (%s), %s of memory, %s/%s, %s, wazero %s", m.cores, orUnknown(m.cpu), orUnknown(m.memory),
		goruntime.GOOS, goruntime.GOARCH, m.goVersion, m.wazero)
	if m.loadAt != "" {
		s += ", load average " + m.loadAt + " at the start"
		if m.loadAfter != "" {
			s += " and " + m.loadAfter + " at the end"
		}
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// procField is the value of the first "key: value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			v = strings.Join(strings.Fields(v), " ")
			if strings.HasSuffix(v, " kB") {
				var kb float64
				if _, err := fmt.Sscanf(v, "%f kB", &kb); err == nil {
					return fmt.Sprintf("%.0f GiB", kb/(1<<20))
				}
			}
			return v
		}
	}
	return ""
}

// loadAverage is the 1-minute load average, or "".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return ""
}

// depVersion is the version of a module this program was built with.
func depVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "?"
	}
	for _, d := range bi.Deps {
		if d.Path == path {
			if d.Replace != nil && d.Replace.Version != "" {
				return d.Replace.Version
			}
			return d.Version
		}
	}
	return "?"
}

func extismVersion() string { return depVersion("github.com/extism/go-sdk") }
