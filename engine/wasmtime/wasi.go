//go:build wasmtime

package wasmtime

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	wt "github.com/bytecodealliance/wasmtime-go/v39"
	"golang.org/x/sys/unix"

	"github.com/wasmgate/wasmgate/engine"
)

// WASI errno values (wasi_snapshot_preview1).
const (
	errnoSuccess = 0
	errnoAgain   = 6
	errnoBadf    = 8
	errnoFault   = 21
	errnoIntr    = 27
	errnoInval   = 28
	errnoIO      = 29
	errnoPerm    = 63
)

// wasiSignatures lists WASI preview 1's functions, all of which Wasmtime's
// WASI defines (TestWASISignatures checks them against the linker).
func wasiSignatures() map[string]engine.Signature {
	const i, l = engine.I32, engine.I64
	sig := func(params ...engine.ValueType) engine.Signature {
		return engine.Signature{Params: params, Results: []engine.ValueType{i}}
	}
	return map[string]engine.Signature{
		"args_get":                sig(i, i),
		"args_sizes_get":          sig(i, i),
		"environ_get":             sig(i, i),
		"environ_sizes_get":       sig(i, i),
		"clock_res_get":           sig(i, i),
		"clock_time_get":          sig(i, l, i),
		"fd_advise":               sig(i, l, l, i),
		"fd_allocate":             sig(i, l, l),
		"fd_close":                sig(i),
		"fd_datasync":             sig(i),
		"fd_fdstat_get":           sig(i, i),
		"fd_fdstat_set_flags":     sig(i, i),
		"fd_fdstat_set_rights":    sig(i, l, l),
		"fd_filestat_get":         sig(i, i),
		"fd_filestat_set_size":    sig(i, l),
		"fd_filestat_set_times":   sig(i, l, l, i),
		"fd_pread":                sig(i, i, i, l, i),
		"fd_prestat_get":          sig(i, i),
		"fd_prestat_dir_name":     sig(i, i, i),
		"fd_pwrite":               sig(i, i, i, l, i),
		"fd_read":                 sig(i, i, i, i),
		"fd_readdir":              sig(i, i, i, l, i),
		"fd_renumber":             sig(i, i),
		"fd_seek":                 sig(i, l, i, i),
		"fd_sync":                 sig(i),
		"fd_tell":                 sig(i, i),
		"fd_write":                sig(i, i, i, i),
		"path_create_directory":   sig(i, i, i),
		"path_filestat_get":       sig(i, i, i, i, i),
		"path_filestat_set_times": sig(i, i, i, i, l, l, i),
		"path_link":               sig(i, i, i, i, i, i, i),
		"path_open":               sig(i, i, i, i, i, l, l, i, i),
		"path_readlink":           sig(i, i, i, i, i, i),
		"path_remove_directory":   sig(i, i, i),
		"path_rename":             sig(i, i, i, i, i, i),
		"path_symlink":            sig(i, i, i, i, i),
		"path_unlink_file":        sig(i, i, i),
		"poll_oneoff":             sig(i, i, i, i),
		"proc_exit":               {Params: []engine.ValueType{i}},
		"proc_raise":              sig(i),
		"random_get":              sig(i, i),
		"sched_yield":             sig(),
		"sock_accept":             sig(i, i, i),
		"sock_recv":               sig(i, i, i, i, i, i),
		"sock_send":               sig(i, i, i, i, i),
		"sock_shutdown":           sig(i, i),
	}
}

// maxOpen bounds the descriptors one run's mounts hold at once, the mount
// roots included: engine/wazero's files.DefaultMaxOpen. A guest past it
// gets EAGAIN for its open.
const maxOpen = 128

// defaultTotalOpen bounds the descriptors all runs' mounts hold together:
// half of what the process may open (between 64 and 65,536), as
// engine/wazero's files.DefaultTotalOpen, so that the server keeps room for
// its sockets and its own files.
func defaultTotalOpen() int {
	limit := uint64(1024)
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err == nil {
		limit = rl.Cur
	}
	return int(min(max(limit/2, 64), 1<<16))
}

// ioChunk is how much random_get fills, and fd_write writes, between
// checks of the run's context.
const ioChunk = 64 << 10

// defineWASI defines the engine's own WASI functions in the linker, over
// Wasmtime's (shadowing must be allowed): the guest's stdin, stdout and
// stderr are the run's, written and read without Wasmtime's streams;
// random_get reads RunConfig.Rand; poll_oneoff sleeps until the run's
// context is done. path_open, fd_close and fd_renumber delegate to
// Wasmtime's and count the run's descriptors.
func (e *wasmtimeEngine) defineWASI() error {
	defs := []struct {
		name string
		fn   func(r *run, c *wt.Caller, args []wt.Val) (int32, *wt.Trap)
	}{
		{"fd_read", (*run).fdRead},
		{"fd_write", (*run).fdWrite},
		{"fd_pread", func(r *run, c *wt.Caller, args []wt.Val) (int32, *wt.Trap) { return r.fileIO(c, "fd_pread", args) }},
		{"fd_pwrite", func(r *run, c *wt.Caller, args []wt.Val) (int32, *wt.Trap) { return r.fileIO(c, "fd_pwrite", args) }},
		{"random_get", (*run).randomGet},
		{"poll_oneoff", (*run).pollOneoff},
		{"path_open", (*run).pathOpen},
		{"path_symlink", (*run).pathSymlink},
		{"fd_close", (*run).fdClose},
		{"fd_renumber", (*run).fdRenumber},
	}
	// proc_exit is the engine's too: Wasmtime's refuses codes past 125,
	// which a guest may use (exit(200) in C). The guest unwinds with a trap
	// and the run ends as an exit with the code.
	err := e.linker.FuncNew(engine.WASIModule, "proc_exit", funcType(e.wasi["proc_exit"]), func(c *wt.Caller, args []wt.Val) ([]wt.Val, *wt.Trap) {
		r := c.Data().(*run)
		r.exited, r.exitCode = true, uint32(args[0].I32())
		return nil, wt.NewTrap("exit with code " + strconv.FormatUint(uint64(r.exitCode), 10))
	})
	if err != nil {
		return err
	}
	for _, d := range defs {
		fn := d.fn
		sig := e.wasi[d.name]
		err := e.linker.FuncNew(engine.WASIModule, d.name, funcType(sig), func(c *wt.Caller, args []wt.Val) ([]wt.Val, *wt.Trap) {
			r := c.Data().(*run)
			errno, trap := fn(r, c, args)
			if trap != nil {
				return nil, trap
			}
			return []wt.Val{wt.ValI32(errno)}, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// delegated are the WASI functions of Wasmtime's that the engine's own
// call: for descriptors that are not the run's stdio, to count
// descriptors, and to read Wasmtime's monotonic clock.
var delegated = []string{"fd_read", "fd_write", "fd_pread", "fd_pwrite", "path_open", "path_symlink", "fd_close", "fd_renumber", "clock_time_get"}

// trampolineWAT is a module that calls Wasmtime's WASI functions for the
// engine's own. Wasmtime's WASI finds the memory it reads and writes as
// its caller's export "memory": called from the host there is no caller,
// so the host calls this module, which imports the guest's memory and
// exports it as its own.
func trampolineWAT(sigs map[string]engine.Signature) string {
	var b strings.Builder
	b.WriteString("(module\n  (import \"env\" \"memory\" (memory 0))\n")
	types := func(ts []engine.ValueType) string {
		var out []string
		for _, t := range ts {
			out = append(out, t.String())
		}
		return strings.Join(out, " ")
	}
	for _, name := range delegated {
		sig := sigs[name]
		fmt.Fprintf(&b, "  (import %q %q (func $%s (param %s) (result %s)))\n", engine.WASIModule, name, name, types(sig.Params), types(sig.Results))
	}
	b.WriteString("  (export \"memory\" (memory 0))\n")
	for _, name := range delegated {
		sig := sigs[name]
		fmt.Fprintf(&b, "  (func (export %q) (param %s) (result %s)", name, types(sig.Params), types(sig.Results))
		for i := range sig.Params {
			fmt.Fprintf(&b, " (local.get %d)", i)
		}
		fmt.Fprintf(&b, " (call $%s))\n", name)
	}
	b.WriteString(")\n")
	return b.String()
}

// delegate calls Wasmtime's own WASI function name with args, in the
// caller's store, through the trampoline (instantiated in the store the
// first time), and returns its errno. A guest without an exported memory
// gets EBADF: Wasmtime's WASI could not read its arguments.
func (r *run) delegate(c *wt.Caller, name string, args []wt.Val) (int32, *wt.Trap) {
	f := r.delegates[name]
	if f == nil {
		if r.trampoline == nil {
			mem := r.memory(c).mem
			if mem == nil {
				return errnoBadf, nil
			}
			imports := []wt.AsExtern{mem}
			for _, n := range delegated {
				ext := r.c.e.wasiOnly.Get(c, engine.WASIModule, n)
				if ext == nil || ext.Func() == nil {
					return errnoBadf, nil
				}
				imports = append(imports, ext.Func())
			}
			inst, err := wt.NewInstance(c, r.c.e.trampoline, imports)
			if err != nil {
				return 0, wt.NewTrap("cannot reach WASI: " + err.Error())
			}
			r.trampoline = inst
			r.delegates = map[string]*wt.Func{}
		}
		if f = r.trampoline.GetFunc(c, name); f == nil {
			return errnoBadf, nil
		}
		r.delegates[name] = f
	}
	in := make([]any, len(args))
	for i, a := range args {
		in[i] = a
	}
	res, err := f.Call(c, in...)
	if err != nil {
		if trap, ok := err.(*wt.Trap); ok {
			return 0, trap
		}
		return 0, wt.NewTrap(err.Error())
	}
	n, _ := res.(int32)
	return n, nil
}

// stdio reports whether fd is one of the run's own streams.
func (r *run) stdio(fd int32) bool { return fd >= 0 && fd <= 2 && r.ownStdio[fd] }

// iovecs reads an iovec list: each 8 bytes, a buffer's address and length.
func iovecs(mem []byte, iovs, n uint32) ([]byte, bool) {
	return memRange(mem, iovs, uint64(n)*8)
}

// memRange is mem[ptr:ptr+n], or false if it is not all in mem.
func memRange(mem []byte, ptr uint32, n uint64) ([]byte, bool) {
	end := uint64(ptr) + n
	if end > uint64(len(mem)) {
		return nil, false
	}
	return mem[ptr:end:end], true
}

func putU32(mem []byte, ptr uint32, v uint32) bool {
	b, ok := memRange(mem, ptr, 4)
	if ok {
		binary.LittleEndian.PutUint32(b, v)
	}
	return ok
}

// fdRead is fd_read(fd, iovs, iovs_len, nread): stdin from RunConfig.Stdin,
// other descriptors from Wasmtime's WASI.
func (r *run) fdRead(c *wt.Caller, args []wt.Val) (int32, *wt.Trap) {
	fd := args[0].I32()
	if !r.stdio(fd) {
		return r.fileIO(c, "fd_read", args)
	}
	if fd != 0 {
		return errnoBadf, nil
	}
	mem := r.memory(c).bytes()
	vecs, ok := iovecs(mem, uint32(args[1].I32()), uint32(args[2].I32()))
	if !ok {
		return errnoFault, nil
	}
	var n uint32
	for i := 0; i+8 <= len(vecs) && len(r.stdin) > 0; i += 8 {
		buf, ok := memRange(mem, binary.LittleEndian.Uint32(vecs[i:]), uint64(binary.LittleEndian.Uint32(vecs[i+4:])))
		if !ok {
			return errnoFault, nil
		}
		k := copy(buf, r.stdin)
		r.stdin = r.stdin[k:]
		n += uint32(k)
	}
	if !putU32(mem, uint32(args[3].I32()), n) {
		return errnoFault, nil
	}
	return errnoSuccess, nil
}

// fdWrite is fd_write(fd, iovs, iovs_len, nwritten): stdout and stderr to
// RunConfig's writers, other descriptors through Wasmtime's WASI. A write
// error is the guest's (EIO), and so is the run's end: a guest writing a
// million iovecs is stopped between them.
func (r *run) fdWrite(c *wt.Caller, args []wt.Val) (int32, *wt.Trap) {
	fd := args[0].I32()
	if !r.stdio(fd) {
		return r.fileIO(c, "fd_write", args)
	}
	w := r.rc.Stdout
	switch fd {
	case 0:
		return errnoBadf, nil
	case 2:
		w = r.rc.Stderr
	}
	mem := r.memory(c).bytes()
	vecs, ok := iovecs(mem, uint32(args[1].I32()), uint32(args[2].I32()))
	if !ok {
		return errnoFault, nil
	}
	var n uint32
	errno := int32(errnoSuccess)
	var since int
	for i := 0; i+8 <= len(vecs); i += 8 {
		buf, ok := memRange(mem, binary.LittleEndian.Uint32(vecs[i:]), uint64(binary.LittleEndian.Uint32(vecs[i+4:])))
		if !ok {
			errno = errnoFault
			break
		}
		if since += len(buf); since >= ioChunk || i%(8*1024) == 0 {
			since = 0
			if r.ctx.Err() != nil {
				errno = errnoIntr
				break
			}
		}
		if len(buf) == 0 || w == nil {
			n += uint32(len(buf))
			continue
		}
		k, err := w.Write(buf)
		n += uint32(k)
		if err != nil {
			errno = errnoIO
			break
		}
	}
	if !putU32(mem, uint32(args[3].I32()), n) {
		return errnoFault, nil
	}
	return errno, nil
}

// fileIO is fd_read, fd_write, fd_pread or fd_pwrite (name) on a
// descriptor of Wasmtime's WASI, one iovec at a time, checking the run's
// context between them: Wasmtime reads or writes the first non-empty iovec
// of a list only, and a guest asking for a million of them in one call is
// stopped once its context is done, not after gigabytes. A short read or
// write ends the call, as it would have in Wasmtime's.
func (r *run) fileIO(c *wt.Caller, name string, args []wt.Val) (int32, *wt.Trap) {
	positional := len(args) == 5 // fd_pread and fd_pwrite: an offset before the result
	fd, iovs, n, done := args[0], uint32(args[1].I32()), uint32(args[2].I32()), uint32(args[len(args)-1].I32())
	var offset int64
	if positional {
		offset = args[3].I64()
	}
	vecs, ok := iovecs(r.memory(c).bytes(), iovs, n)
	if !ok || n <= 1 {
		if r.ctx.Err() != nil {
			return errnoIntr, nil
		}
		return r.delegate(c, name, args)
	}
	var total uint32
	for i := uint32(0); i < n; i++ {
		want := binary.LittleEndian.Uint32(vecs[i*8+4:])
		if want == 0 {
			continue
		}
		if r.ctx.Err() != nil {
			if total > 0 {
				break
			}
			return errnoIntr, nil
		}
		call := []wt.Val{fd, wt.ValI32(int32(iovs + 8*i)), wt.ValI32(1), wt.ValI32(int32(done))}
		if positional {
			call = []wt.Val{fd, call[1], call[2], wt.ValI64(offset + int64(total)), call[3]}
		}
		errno, trap := r.delegate(c, name, call)
		if trap != nil {
			return 0, trap
		}
		if errno != errnoSuccess {
			if total > 0 {
				break
			}
			return errno, nil
		}
		b, ok := memRange(r.memory(c).bytes(), done, 4)
		if !ok {
			return errnoFault, nil
		}
		got := binary.LittleEndian.Uint32(b)
		total += got
		if got < want {
			break
		}
	}
	if !putU32(r.memory(c).bytes(), done, total) {
		return errnoFault, nil
	}
	return errnoSuccess, nil
}

// randomGet is random_get(buf, len) from RunConfig.Rand, in chunks, and
// stops once the run's context is done.
func (r *run) randomGet(c *wt.Caller, args []wt.Val) (int32, *wt.Trap) {
	buf, ok := memRange(r.memory(c).bytes(), uint32(args[0].I32()), uint64(uint32(args[1].I32())))
	if !ok {
		return errnoFault, nil
	}
	for len(buf) > 0 {
		if r.ctx.Err() != nil {
			return errnoIntr, nil
		}
		k := min(len(buf), ioChunk)
		if _, err := io.ReadFull(r.random, buf[:k]); err != nil {
			return errnoIO, nil
		}
		buf = buf[k:]
	}
	return errnoSuccess, nil
}

// pathOpen is Wasmtime's path_open within the run's and the engine's
// descriptor bounds (past either, EAGAIN), until the run's context is done.
func (r *run) pathOpen(c *wt.Caller, args []wt.Val) (int32, *wt.Trap) {
	if r.ctx.Err() != nil {
		// Past the deadline the guest opens and creates nothing more.
		return errnoIntr, nil
	}
	if r.open >= maxOpen {
		return errnoAgain, nil
	}
	if r.c.e.files.Add(1) > r.c.e.totalOpen {
		r.c.e.files.Add(-1)
		return errnoAgain, nil
	}
	errno, trap := r.delegate(c, "path_open", args)
	if trap != nil || errno != errnoSuccess {
		r.c.e.files.Add(-1)
		return errno, trap
	}
	r.open++
	return errno, nil
}

// pathSymlink is Wasmtime's path_symlink(target, target_len, fd, path,
// path_len) for targets that point below the link's own directory: a
// relative path without "..", as engine/wazero's files.SafeLinkTarget. The
// guest could not follow another out of the mount (Wasmtime resolves its
// paths within the mount), but a host program walking the directory would.
func (r *run) pathSymlink(c *wt.Caller, args []wt.Val) (int32, *wt.Trap) {
	if r.ctx.Err() != nil {
		return errnoIntr, nil
	}
	target, ok := memRange(r.memory(c).bytes(), uint32(args[0].I32()), uint64(uint32(args[1].I32())))
	if !ok {
		return errnoFault, nil
	}
	if !safeLinkTarget(string(target)) {
		return errnoPerm, nil
	}
	return r.delegate(c, "path_symlink", args)
}

// safeLinkTarget reports whether a guest may create a symbolic link with
// this target: a non-empty relative path with no ".." component and no NUL.
func safeLinkTarget(target string) bool {
	if target == "" || strings.HasPrefix(target, "/") || strings.ContainsRune(target, 0) {
		return false
	}
	for _, c := range strings.Split(target, "/") {
		if c == ".." {
			return false
		}
	}
	return true
}

// fdClose is Wasmtime's fd_close, counting the descriptor closed; a
// closed stdio stream is Wasmtime's from then on (which says EBADF).
func (r *run) fdClose(c *wt.Caller, args []wt.Val) (int32, *wt.Trap) {
	fd := args[0].I32()
	errno, trap := r.delegate(c, "fd_close", args)
	if trap != nil || errno != errnoSuccess {
		return errno, trap
	}
	if fd >= 0 && fd <= 2 {
		r.ownStdio[fd] = false
	} else {
		r.closed(1)
	}
	return errno, nil
}

// fdRenumber is Wasmtime's fd_renumber: the descriptor renumbered onto is
// closed, and a stdio stream renumbered, or renumbered onto, is Wasmtime's
// from then on.
func (r *run) fdRenumber(c *wt.Caller, args []wt.Val) (int32, *wt.Trap) {
	from, to := args[0].I32(), args[1].I32()
	errno, trap := r.delegate(c, "fd_renumber", args)
	if trap != nil || errno != errnoSuccess || from == to {
		return errno, trap
	}
	for _, fd := range []int32{from, to} {
		if fd >= 0 && fd <= 2 {
			r.ownStdio[fd] = false
		}
	}
	if to > 2 {
		r.closed(1)
	}
	return errno, nil
}

// closed counts n descriptors of the run's as closed.
func (r *run) closed(n int64) {
	n = min(n, r.open)
	r.open -= n
	r.c.e.files.Add(-n)
}

// Poll subscriptions and events (wasi_snapshot_preview1).
const (
	subscriptionSize = 48
	eventSize        = 32
	eventClock       = 0
	eventFdRead      = 1
	eventFdWrite     = 2
	clockRealtime    = 0
	clockMonotonic   = 1
	subAbstime       = 1
)

// pollOneoff is poll_oneoff(in, out, nsubscriptions, nevents). Descriptor
// subscriptions are ready at once (stdin holds all it will, writes never
// block, files are always ready); clock subscriptions, when nothing else
// is, wait for the earliest, or until the run's context is done: a guest
// sleeping past its deadline is stopped at its next check.
func (r *run) pollOneoff(c *wt.Caller, args []wt.Val) (int32, *wt.Trap) {
	in, out, n, nevents := uint32(args[0].I32()), uint32(args[1].I32()), uint32(args[2].I32()), uint32(args[3].I32())
	if n == 0 {
		return errnoInval, nil
	}
	mem := r.memory(c).bytes()
	subs, ok := memRange(mem, in, uint64(n)*subscriptionSize)
	if !ok {
		return errnoFault, nil
	}
	events, ok := memRange(mem, out, uint64(n)*eventSize)
	if !ok {
		return errnoFault, nil
	}
	type clock struct {
		userdata uint64
		wait     time.Duration
		errno    uint16
	}
	var clocks []clock
	var ready uint32
	event := func(userdata uint64, errno uint16, typ byte, nbytes uint64) {
		ev := events[ready*eventSize : (ready+1)*eventSize]
		clear(ev)
		binary.LittleEndian.PutUint64(ev[0:], userdata)
		binary.LittleEndian.PutUint16(ev[8:], errno)
		ev[10] = typ
		binary.LittleEndian.PutUint64(ev[16:], nbytes)
		ready++
	}
	// Monotonic deadlines are on Wasmtime's clock: read it once, if asked.
	var monoNow uint64
	var monoRead bool
	for i := uint32(0); i < n; i++ {
		s := subs[i*subscriptionSize : (i+1)*subscriptionSize]
		userdata := binary.LittleEndian.Uint64(s[0:])
		switch tag := s[8]; tag {
		case eventClock:
			id := binary.LittleEndian.Uint32(s[16:])
			timeout := binary.LittleEndian.Uint64(s[24:])
			flags := binary.LittleEndian.Uint16(s[40:])
			ck := clock{userdata: userdata, wait: durationOf(timeout)}
			if flags&subAbstime != 0 {
				switch id {
				case clockRealtime:
					ck.wait = durationOf(timeout) - time.Duration(time.Now().UnixNano())
				default:
					if !monoRead {
						var trap *wt.Trap
						if monoNow, trap = r.monotonicNow(c, id, out); trap != nil {
							return 0, trap
						}
						monoRead = true
						mem = r.memory(c).bytes()
					}
					ck.wait = time.Duration(int64(timeout) - int64(monoNow))
				}
			}
			clocks = append(clocks, ck)
		case eventFdRead, eventFdWrite:
			fd := int32(binary.LittleEndian.Uint32(s[16:]))
			var nbytes uint64
			if tag == eventFdRead && r.stdio(fd) && fd == 0 {
				nbytes = uint64(len(r.stdin))
			}
			event(userdata, errnoSuccess, tag, nbytes)
		default:
			event(userdata, errnoInval, tag, 0)
		}
	}
	if ready == 0 && len(clocks) > 0 {
		wait := clocks[0].wait
		for _, ck := range clocks[1:] {
			wait = min(wait, ck.wait)
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-r.ctx.Done():
			}
			t.Stop()
		}
		for _, ck := range clocks {
			if ck.wait <= wait {
				event(ck.userdata, ck.errno, eventClock, 0)
			}
		}
	}
	if !putU32(mem, nevents, ready) {
		return errnoFault, nil
	}
	return errnoSuccess, nil
}

// monotonicNow reads Wasmtime's clock id through its clock_time_get,
// using scratch (8 bytes of guest memory the events will overwrite).
func (r *run) monotonicNow(c *wt.Caller, id uint32, scratch uint32) (uint64, *wt.Trap) {
	errno, trap := r.delegate(c, "clock_time_get", []wt.Val{wt.ValI32(int32(id)), wt.ValI64(0), wt.ValI32(int32(scratch))})
	if trap != nil || errno != errnoSuccess {
		return 0, trap
	}
	b, ok := memRange(r.memory(c).bytes(), scratch, 8)
	if !ok {
		return 0, nil
	}
	return binary.LittleEndian.Uint64(b), nil
}

// durationOf is a WASI timeout in nanoseconds as a duration, saturated.
func durationOf(ns uint64) time.Duration {
	if ns > math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(ns)
}

// funcType is sig as Wasmtime's function type.
func funcType(sig engine.Signature) *wt.FuncType {
	kinds := func(ts []engine.ValueType) []*wt.ValType {
		out := make([]*wt.ValType, len(ts))
		for i, t := range ts {
			out[i] = wt.NewValType(valKind(t))
		}
		return out
	}
	return wt.NewFuncType(kinds(sig.Params), kinds(sig.Results))
}

func valKind(t engine.ValueType) wt.ValKind {
	switch t {
	case engine.I64:
		return wt.KindI64
	case engine.F32:
		return wt.KindF32
	case engine.F64:
		return wt.KindF64
	}
	return wt.KindI32
}
