package runtime

import (
	"os"
	"strconv"
	"strings"
)

// DefaultMaxMemory is the memory budget of all calls together when none is
// configured: half of the memory this process may use, which is the
// cgroup's limit when one is set (a container) and the machine's memory
// otherwise. The other half is left to the server itself: compiled code,
// the Go heap, connections. When neither can be read it is 4GiB.
func DefaultMaxMemory() int64 {
	avail := physicalMemory()
	if c := cgroupMemoryLimit(); c > 0 && (avail == 0 || c < avail) {
		avail = c
	}
	if avail <= 0 {
		return 4 << 30
	}
	return avail / 2
}

// cgroupMemoryLimit reads the memory limit of this process's cgroup (v2,
// then v1); 0 means none was found.
func cgroupMemoryLimit() int64 {
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || v <= 0 || v >= 1<<60 { // "max", or v1's "unlimited"
			continue
		}
		return v
	}
	return 0
}
