package scripting

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Host is the server's side of a running script.
type Host interface {
	// Call runs one command for redis.call or redis.pcall, through the
	// command table and its checks, and returns its reply, RESP-encoded
	// (RESP3 when resp3), or the refusal of a check before the command
	// ran, as Redis builds it: plain text, which becomes an ERR error,
	// or "-CODE text". wrote reports a write command that ran.
	Call(args [][]byte, resp3 bool) (reply []byte, refusal string, wrote bool)
	// Yield is a checkpoint of a long script (fair-share charging and
	// pacing): called every few hundred microseconds of Lua. It reports
	// true when the script must stop because the server is shutting down.
	Yield() (shutdown bool)
	// Busy is called once, when the script has run for BusyAfter.
	Busy()
	// Log writes redis.log's message, at Redis's level (0 debug .. 3
	// warning).
	Log(level int, msg string)
	// Permitted reports whether the script's user may run the command
	// (redis.acl_check_cmd), and whether the command exists.
	Permitted(args [][]byte) (allowed, known bool)
}

// Budget is the tenant memory the engine's state is charged to (the
// server passes its tenant's client_memory pool).
type Budget interface {
	// Reserve charges n bytes if they fit.
	Reserve(n int64) bool
	// Release gives n bytes back.
	Release(n int64)
	// Free is what could still be reserved.
	Free() int64
}

// Flags are a script's or a function's flags (its shebang's flags=, or
// register_function's flags).
type Flags uint8

const (
	FlagNoWrites       Flags = 1 << iota // no-writes
	FlagAllowOOM                         // allow-oom
	FlagAllowStale                       // allow-stale
	FlagNoCluster                        // no-cluster
	FlagAllowCrossSlot                   // allow-cross-slot-keys
	// FlagEvalCompat marks an EVAL script without a shebang: Redis's
	// compatibility mode, in which the flags above do not apply.
	FlagEvalCompat
)

var flagNames = []struct {
	f    Flags
	name string
}{
	{FlagNoWrites, "no-writes"}, {FlagAllowOOM, "allow-oom"}, {FlagAllowStale, "allow-stale"},
	{FlagNoCluster, "no-cluster"}, {FlagAllowCrossSlot, "allow-cross-slot-keys"},
}

// Names lists the flags set, in Redis's order (FUNCTION LIST).
func (f Flags) Names() []string {
	var out []string
	for _, fn := range flagNames {
		if f&fn.f != 0 {
			out = append(out, fn.name)
		}
	}
	return out
}

// Script is a cached EVAL script.
type Script struct {
	SHA   string // lower-case hex SHA1 of the body
	Body  []byte
	Flags Flags
	proto *lua.FunctionProto
	cost  int64
}

// Engine is one tenant's scripting state: its EVAL script cache and Lua
// state, and its function libraries and their Lua state. The server runs
// scripts, FUNCTION LOAD, DELETE, FLUSH and RESTORE under its tenant's
// exclusive lock, so one Lua state runs one thing at a time; the caches
// are read by SCRIPT EXISTS, FUNCTION LIST and friends concurrently, under
// mu.
type Engine struct {
	budget Budget
	// oom is the error reply when the budget cannot hold a new Lua
	// state, script or library (the server's, from New).
	oom string

	mu      sync.Mutex // guards scripts, libs, funcs and the charges below
	scripts map[string]*Script
	libs    map[string]*Library
	funcs   map[string]*Function
	// charged is what the caches and the states cost, against budget.
	charged int64

	eval, fn *vm // created on first use
	rand     lrand48

	// run is the running script (nil between runs); running is the same
	// for other goroutines (SCRIPT KILL, FUNCTION STATS).
	run     *runState
	running atomic.Pointer[runState]
	// loading is the library being loaded (FUNCTION LOAD), for
	// redis.register_function.
	loading *Library
}

// New returns an empty engine charging budget; oom is the error reply
// when the budget is full.
func New(budget Budget, oom string) *Engine {
	e := &Engine{budget: budget, oom: oom, scripts: map[string]*Script{}, libs: map[string]*Library{}, funcs: map[string]*Function{}}
	e.rand.reset()
	return e
}

// SHA1Hex is Redis's sha1hex: the lower-case hex SHA1 of b.
func SHA1Hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

// Lookup returns the cached script whose SHA1 is sha (any case), or nil.
func (e *Engine) Lookup(sha []byte) *Script {
	if len(sha) != 40 {
		return nil
	}
	key := strings.ToLower(string(sha))
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.scripts[key]
}

// Exists reports whether each sha is cached (SCRIPT EXISTS).
func (e *Engine) Exists(shas [][]byte) []bool {
	out := make([]bool, len(shas))
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, s := range shas {
		out[i] = e.scripts[strings.ToLower(string(s))] != nil
	}
	return out
}

// Scripts is the number of cached scripts and what they are charged.
func (e *Engine) Scripts() (n int, bytes int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.scripts {
		bytes += s.cost
	}
	return len(e.scripts), bytes
}

// Charged is everything the engine holds against its budget.
func (e *Engine) Charged() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.charged
}

// scriptOverhead approximates a cached script's cost beyond its body:
// the compiled function (about three times the source for typical
// scripts, measured with gopher-lua's compiler) and the cache entry.
const scriptOverhead = 512

// Load compiles body and caches it (EVAL's first run, SCRIPT LOAD). It
// returns the script, or the error reply (compile error, bad shebang,
// OOM when the budget cannot hold it).
func (e *Engine) Load(body []byte) (*Script, string) {
	sha := SHA1Hex(body)
	e.mu.Lock()
	if s := e.scripts[sha]; s != nil {
		e.mu.Unlock()
		return s, ""
	}
	e.mu.Unlock()
	flags, skip, errMsg := shebangFlags(body)
	if errMsg != "" {
		return nil, errMsg
	}
	src := string(body[skip:])
	proto, err := compile(src, "user_script")
	if err != nil {
		return nil, errCompile + err.Error()
	}
	s := &Script{SHA: sha, Body: append([]byte(nil), body...), Flags: flags, proto: proto,
		cost: int64(4*len(body)) + scriptOverhead}
	e.mu.Lock()
	defer e.mu.Unlock()
	if old := e.scripts[sha]; old != nil {
		return old, ""
	}
	if !e.budget.Reserve(s.cost) {
		return nil, e.oom
	}
	e.charged += s.cost
	e.scripts[sha] = s
	return s, ""
}

// Flush empties the script cache and resets the EVAL state (SCRIPT FLUSH).
func (e *Engine) Flush() {
	e.mu.Lock()
	defer e.mu.Unlock()
	var n int64
	for _, s := range e.scripts {
		n += s.cost
	}
	e.scripts = map[string]*Script{}
	if e.eval != nil {
		n += e.eval.base
		e.eval.L.Close()
		e.eval = nil
	}
	e.charged -= n
	e.budget.Release(n)
}

// Close releases everything the engine holds (its tenant is gone).
func (e *Engine) Close() {
	e.Flush()
	e.FlushFunctions()
}

// compile parses and compiles src as a chunk named name.
func compile(src, name string) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(strings.NewReader(src), name)
	if err != nil {
		return nil, err
	}
	rewriteConcat(chunk)
	return lua.Compile(chunk, name)
}

// shebangFlags reads "#!lua flags=a,b" (evalExtractShebangFlags): the
// flags, how many bytes to skip (the line, not its newline, which keeps
// line numbers), or an error reply. No shebang: FlagEvalCompat.
func shebangFlags(body []byte) (Flags, int, string) {
	if len(body) < 2 || body[0] != '#' || body[1] != '!' {
		return FlagEvalCompat, 0, ""
	}
	end := strings.IndexByte(string(body), '\n')
	if end < 0 {
		return 0, 0, errShebang
	}
	parts, ok := splitArgs(string(body[:end]))
	if !ok || len(parts) == 0 {
		return 0, 0, "ERR Invalid engine in script shebang"
	}
	if parts[0] != "#!lua" {
		return 0, 0, errShebangEng + parts[0]
	}
	var flags Flags
	for _, p := range parts[1:] {
		if !strings.HasPrefix(p, "flags=") {
			return 0, 0, errShebangOpt + p
		}
		for _, f := range strings.Split(p[6:], ",") {
			fl, ok := flagByName(f, false)
			if !ok {
				return 0, 0, errShebangFlag + f
			}
			flags |= fl
		}
	}
	return flags, end, ""
}

func flagByName(name string, fold bool) (Flags, bool) {
	for _, fn := range flagNames {
		if name == fn.name || fold && strings.EqualFold(name, fn.name) {
			return fn.f, true
		}
	}
	return 0, false
}

// Call is one invocation's parameters.
type Call struct {
	Host Host
	Keys [][]byte
	Args [][]byte
	// Name is the script's SHA or the function's name (errors, STATS);
	// Command the invoking command's arguments (FUNCTION STATS).
	Name    string
	Command [][]byte
	// Now is a monotonic clock in ns; BusyAfter is when Host.Busy is
	// called, StopAfter when the script is stopped (0: never).
	Now                  func() int64
	BusyAfter, StopAfter time.Duration
	// MaxReply bounds the encoded reply (0: unbounded): the connection's
	// output limit.
	MaxReply int64
}

// runState is one invocation in progress.
type runState struct {
	e        *Engine
	c        *Call
	isEval   bool
	start    int64
	checks   int64 // the next check's deadline in instructions
	resp3    bool  // redis.setresp(3)
	busy     bool
	killed   atomic.Bool
	dirty    atomic.Bool
	stop     string // why the script is being stopped ("" while it runs)
	stopErr  error
	heap     int64 // the last heap estimate, charged to the budget
	walkAt   int64 // when the next heap walk may run (mono ns)
	walkCost int64 // the last walk's duration
	allocd   int64 // bytes allocated through the guarded functions since the last walk
	lastYld  int64
	done     chan struct{}
	// errSource and errLine are where Go code last raised an error
	// (notePos), for errors whose message does not carry a position.
	errSource, errLine string
}

// Running describes the script in progress, for FUNCTION STATS.
type Running struct {
	Name     string
	Command  [][]byte
	Duration time.Duration
	IsEval   bool
}

// Running returns the script in progress, if any.
func (e *Engine) Running() (Running, bool) {
	r := e.running.Load()
	if r == nil {
		return Running{}, false
	}
	return Running{Name: r.c.Name, Command: r.c.Command, IsEval: r.isEval,
		Duration: time.Duration(r.c.Now() - r.start)}, true
}

// KillResult is what SCRIPT KILL or FUNCTION KILL found.
type KillResult uint8

const (
	KillNotBusy    KillResult = iota // no script running
	KillUnkillable                   // it already wrote
	KillWrongKind                    // SCRIPT KILL of a function or FUNCTION KILL of an EVAL
	KillDone                         // it will stop at its next check
)

// Kill stops the running script (eval: SCRIPT KILL, else FUNCTION
// KILL), as Redis's scriptKill decides. Safe from any goroutine.
func (e *Engine) Kill(eval bool) (KillResult, bool) {
	r := e.running.Load()
	if r == nil {
		return KillNotBusy, false
	}
	if r.dirty.Load() {
		return KillUnkillable, r.isEval
	}
	if eval != r.isEval {
		return KillWrongKind, r.isEval
	}
	r.killed.Store(true)
	return KillDone, r.isEval
}
