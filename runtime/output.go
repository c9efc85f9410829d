package runtime

import (
	"errors"
	"sync"
)

var errOutputLimit = errors.New("output limit reached")

// capWriter keeps at most limit bytes; the first write past it calls
// onOverflow and fails, as does every later one.
type capWriter struct {
	buf        []byte
	limit      int
	overflowed bool
	onOverflow func()
}

func (w *capWriter) Write(p []byte) (int, error) {
	if w.overflowed {
		return 0, errOutputLimit
	}
	if len(w.buf)+len(p) > w.limit {
		w.overflowed = true
		if w.onOverflow != nil {
			w.onOverflow()
		}
		return 0, errOutputLimit
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// tailWriter keeps the last limit bytes written and counts the rest. It never
// fails, so a chatty guest keeps running; it only loses its oldest log.
type tailWriter struct {
	mu      sync.Mutex
	buf     []byte // ring of len limit once full
	start   int
	full    bool
	limit   int
	dropped int64
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	if w.limit <= 0 {
		w.dropped += int64(n)
		return n, nil
	}
	if len(p) > w.limit {
		w.dropped += int64(len(p) - w.limit)
		p = p[len(p)-w.limit:]
	}
	if !w.full {
		room := w.limit - len(w.buf)
		if len(p) <= room {
			w.buf = append(w.buf, p...)
			return n, nil
		}
		w.buf = append(w.buf, p[:room]...)
		p = p[room:]
		w.full = true
	}
	for len(p) > 0 {
		c := copy(w.buf[w.start:], p)
		w.dropped += int64(c)
		w.start = (w.start + c) % w.limit
		p = p[c:]
	}
	return n, nil
}

// Bytes returns the kept tail in order.
func (w *tailWriter) Bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.full {
		return append([]byte(nil), w.buf...)
	}
	out := make([]byte, 0, w.limit)
	out = append(out, w.buf[w.start:]...)
	return append(out, w.buf[:w.start]...)
}
