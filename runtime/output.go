package runtime

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
)

var errOutputLimit = errors.New("output limit reached")

// errStopped fails writes to stderr once the call must stop.
var errStopped = errors.New("the call was stopped")

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

// tailWriter keeps the last limit bytes written and counts the rest. It
// fails only once done is closed (the call must stop: one fd_write can carry
// millions of iovecs), so a chatty guest keeps running; it only loses its
// oldest log.
type tailWriter struct {
	done    <-chan struct{}
	mu      sync.Mutex
	buf     []byte // ring of len limit once full
	start   int
	full    bool
	limit   int
	dropped int64
}

func (w *tailWriter) Write(p []byte) (int, error) {
	select {
	case <-w.done:
		return 0, errStopped
	default:
	}
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

// randChunk is the most random_get fills before it checks that its call may
// go on: the guest chooses the length, up to all of its memory.
const randChunk = 64 << 10

// randReader is a call's random source: crypto/rand, read in chunks that
// stop once ctx is done (random_get then fails with EIO and the guest is
// stopped at its next check).
type randReader struct{ ctx context.Context }

func (r randReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return rand.Read(p[:min(len(p), randChunk)])
}
