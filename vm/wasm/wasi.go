package wasm

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/accord-chain/accord/vm/wasm/instrument"
)

// wasiModule is the WASI host module name Go's wasip1 port imports.
const wasiModule = "wasi_snapshot_preview1"

const (
	errnoSuccess = 0
	errnoBadf    = 8
)

var (
	i32 = instrument.I32
	i64 = instrument.I64
)

func sig(params string, results string) instrument.FuncType {
	conv := func(s string) []instrument.ValType {
		var v []instrument.ValType
		for _, c := range s {
			if c == 'I' {
				v = append(v, i64)
			} else {
				v = append(v, i32)
			}
		}
		return v
	}
	return instrument.FuncType{Params: conv(params), Results: conv(results)}
}

// wasiSigs is every wasi_snapshot_preview1 function with its signature
// ('i' i32, 'I' i64). Contracts may import any of them, so that a standard
// toolchain's output links; only the ones in wasiImpl do anything, the rest
// fail the call with ErrWASI naming the function.
var wasiSigs = []struct {
	name string
	sig  instrument.FuncType
}{
	{"args_get", sig("ii", "i")}, {"args_sizes_get", sig("ii", "i")},
	{"environ_get", sig("ii", "i")}, {"environ_sizes_get", sig("ii", "i")},
	{"clock_res_get", sig("ii", "i")}, {"clock_time_get", sig("iIi", "i")},
	{"fd_advise", sig("iIIi", "i")}, {"fd_allocate", sig("iII", "i")},
	{"fd_close", sig("i", "i")}, {"fd_datasync", sig("i", "i")},
	{"fd_fdstat_get", sig("ii", "i")}, {"fd_fdstat_set_flags", sig("ii", "i")},
	{"fd_fdstat_set_rights", sig("iII", "i")}, {"fd_filestat_get", sig("ii", "i")},
	{"fd_filestat_set_size", sig("iI", "i")}, {"fd_filestat_set_times", sig("iIIi", "i")},
	{"fd_pread", sig("iiiIi", "i")}, {"fd_prestat_get", sig("ii", "i")},
	{"fd_prestat_dir_name", sig("iii", "i")}, {"fd_pwrite", sig("iiiIi", "i")},
	{"fd_read", sig("iiii", "i")}, {"fd_readdir", sig("iiiIi", "i")},
	{"fd_renumber", sig("ii", "i")}, {"fd_seek", sig("iIii", "i")},
	{"fd_sync", sig("i", "i")}, {"fd_tell", sig("ii", "i")},
	{"fd_write", sig("iiii", "i")}, {"path_create_directory", sig("iii", "i")},
	{"path_filestat_get", sig("iiiii", "i")}, {"path_filestat_set_times", sig("iiiiIIi", "i")},
	{"path_link", sig("iiiiiii", "i")}, {"path_open", sig("iiiiiIIii", "i")},
	{"path_readlink", sig("iiiiii", "i")}, {"path_remove_directory", sig("iii", "i")},
	{"path_rename", sig("iiiiii", "i")}, {"path_symlink", sig("iiiii", "i")},
	{"path_unlink_file", sig("iii", "i")}, {"poll_oneoff", sig("iiii", "i")},
	{"proc_exit", sig("i", "")}, {"proc_raise", sig("i", "i")},
	{"sched_yield", sig("", "i")}, {"random_get", sig("ii", "i")},
	{"sock_accept", sig("iii", "i")}, {"sock_recv", sig("iiiiii", "i")},
	{"sock_send", sig("iiiii", "i")}, {"sock_shutdown", sig("ii", "i")},
}

// wasiImpl are the deterministic implementations: no arguments or
// environment, clocks that read the block time, randomness derived from the
// transaction id, stdout and stderr into the call's capped log.
var wasiImpl = map[string]api.GoModuleFunc{
	"args_get":          zeroes(0),
	"environ_get":       zeroes(0),
	"args_sizes_get":    zeroes(2),
	"environ_sizes_get": zeroes(2),
	"clock_res_get": func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx)
		st.charge(0)
		st.write(m, uint32(s[1]), binary.LittleEndian.AppendUint64(nil, 1_000_000)) // 1 ms, the block time's unit
		s[0] = errnoSuccess
	},
	"clock_time_get": func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx)
		st.charge(0)
		st.write(m, uint32(s[2]), binary.LittleEndian.AppendUint64(nil, st.nanos()))
		s[0] = errnoSuccess
	},
	"random_get": func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx)
		ptr, n := uint32(s[0]), uint32(s[1])
		st.charge(uint64(n))
		if uint64(ptr)+uint64(n) > uint64(m.Memory().Size()) {
			st.fail(fmt.Errorf("%w: random_get of %d bytes at %d", ErrBadPointer, n, ptr))
		}
		buf := make([]byte, 0, n+sha256.Size)
		for uint32(len(buf)) < n {
			// SHA-256(tx id || counter): a stream every node derives alike.
			h := sha256.New()
			h.Write(st.call.TxID)
			h.Write(binary.BigEndian.AppendUint64(nil, st.randCounter))
			st.randCounter++
			buf = h.Sum(buf)
		}
		st.write(m, ptr, buf[:n])
		s[0] = errnoSuccess
	},
	"fd_write": func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx)
		fd, iovs, n, out := uint32(s[0]), uint32(s[1]), uint32(s[2]), uint32(s[3])
		if fd != 1 && fd != 2 {
			st.charge(0)
			s[0] = errnoBadf
			return
		}
		vec := st.read(m, iovs, uint64(n)*8)
		var total uint32
		for i := uint32(0); i < n; i++ {
			p := binary.LittleEndian.Uint32(vec[i*8:])
			l := binary.LittleEndian.Uint32(vec[i*8+4:])
			b := st.read(m, p, uint64(l))
			total += l
			if room := st.logLimit - len(st.log); room > 0 {
				st.log = append(st.log, b[:min(len(b), room)]...)
			}
		}
		st.charge(uint64(total))
		st.write(m, out, binary.LittleEndian.AppendUint32(nil, total))
		s[0] = errnoSuccess
	},
	// poll_oneoff never waits: the clock is the block time and does not
	// move within a call. Clock subscriptions are answered as due at once,
	// so a Go runtime crashing (it sleeps a few times before it exits) gets
	// to print and exit; a contract waiting for time (time.Sleep, a timer)
	// would spin, so after maxClockWaits answers the call fails. Waiting
	// on a descriptor fails the call at once.
	"poll_oneoff": func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx)
		in, out, n, nevents := uint32(s[0]), uint32(s[1]), uint32(s[2]), uint32(s[3])
		st.charge(uint64(n) * 48)
		subs := st.read(m, in, uint64(n)*48)
		events := make([]byte, 32*n)
		st.clockWaits++
		for i := uint32(0); i < n; i++ {
			sub := subs[i*48 : i*48+48]
			if sub[8] != 0 || st.clockWaits > maxClockWaits {
				st.fail(fmt.Errorf("%w: %s.poll_oneoff waiting for I/O or for time to pass (contracts cannot sleep or wait)%s", ErrWASI, wasiModule, st.logSuffix()))
			}
			copy(events[i*32:], sub[:8]) // userdata; error 0; type clock (0)
		}
		st.write(m, out, events)
		st.write(m, nevents, binary.LittleEndian.AppendUint32(nil, n))
		s[0] = errnoSuccess
	},
	// Go's os package asks about the standard descriptors and preopened
	// directories at init. Contracts have three character devices (stdin is
	// empty; stdout and stderr go to the log) and no directories.
	"fd_fdstat_get": func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx)
		st.charge(0)
		if fd := uint32(s[0]); fd > 2 {
			s[0] = errnoBadf
			return
		}
		stat := make([]byte, 24)
		stat[0] = 2                                        // character device
		binary.LittleEndian.PutUint64(stat[8:], 1<<1|1<<6) // fd_read, fd_write
		st.write(m, uint32(s[1]), stat)
		s[0] = errnoSuccess
	},
	"fd_fdstat_set_flags": func(ctx context.Context, m api.Module, s []uint64) {
		state(ctx).charge(0)
		s[0] = errnoSuccess
		if uint32(s[0]) > 2 {
			s[0] = errnoBadf
		}
	},
	"fd_prestat_get":      badf,
	"fd_prestat_dir_name": badf,
	"proc_exit": func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx)
		st.fail(&ExitError{Code: uint32(s[0]), Log: st.logHead()})
	},
}

// maxClockWaits is how many clock waits poll_oneoff answers in one call.
// Go's runtime sleeps up to eight times while it crashes.
const maxClockWaits = 16

// nanos is the block time in nanoseconds, which both WASI clocks read. It
// is never 0: Go's runtime refuses a zero clock, and initialisation runs
// before any block.
func (st *callState) nanos() uint64 { return max(st.call.Time*1_000_000, 1) }

// badf answers "no such descriptor".
func badf(ctx context.Context, m api.Module, s []uint64) {
	state(ctx).charge(0)
	s[0] = errnoBadf
}

// zeroes writes n zero u32s to the pointers in its parameters and succeeds:
// the empty argument and environment lists.
func zeroes(n int) api.GoModuleFunc {
	return func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx)
		st.charge(0)
		for i := 0; i < n; i++ {
			st.write(m, uint32(s[i]), []byte{0, 0, 0, 0})
		}
		s[0] = errnoSuccess
	}
}

func unsupportedWASI(name string) api.GoModuleFunc {
	return func(ctx context.Context, m api.Module, s []uint64) {
		st := state(ctx)
		st.fail(fmt.Errorf("%w: %s.%s (contracts have no files, sockets, sleep or scheduler)%s", ErrWASI, wasiModule, name, st.logSuffix()))
	}
}

func wasiTypes(t instrument.FuncType) (params, results []api.ValueType) {
	for _, p := range t.Params {
		params = append(params, api.ValueType(p))
	}
	for _, r := range t.Results {
		results = append(results, api.ValueType(r))
	}
	return params, results
}

func instantiateWASI(ctx context.Context, rt wazero.Runtime) error {
	b := rt.NewHostModuleBuilder(wasiModule)
	for _, f := range wasiSigs {
		fn, ok := wasiImpl[f.name]
		if !ok {
			fn = unsupportedWASI(f.name)
		}
		p, r := wasiTypes(f.sig)
		b.NewFunctionBuilder().WithGoModuleFunction(fn, p, r).Export(f.name)
	}
	_, err := b.Instantiate(ctx)
	return err
}
