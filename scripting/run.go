package scripting

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/tcached/tcached/resp"
)

// # The hook
//
// gopher-lua has no debug.sethook, but with a context set it polls the
// context's Done before every instruction. The engine's context is that
// poll: every checkEvery instructions it checks the clock (busy
// threshold, script_max_time), SCRIPT KILL, the heap estimate, and calls
// the host's fair-share checkpoint. Once the script must stop, Done
// returns a closed channel before every instruction, so the error it
// raises cannot be caught by pcall for long: the next instruction raises
// it again, as Redis's hook does by switching to a per-line hook.

// checkEvery is how many instructions run between two checks (a power of
// two): a check reads the clock, so this keeps it under 1% of the run.
const checkEvery = 1 << 10

type hook struct {
	r *runState
	n uint32
}

func (h *hook) Deadline() (time.Time, bool) { return time.Time{}, false }
func (h *hook) Value(any) any               { return nil }

func (h *hook) Err() error {
	if h.r.stopErr != nil {
		return h.r.stopErr
	}
	return errors.New("script stopped")
}

func (h *hook) Done() <-chan struct{} {
	h.n++
	if h.r.stop != "" {
		return h.r.done
	}
	if h.n&(checkEvery-1) != 0 {
		return nil
	}
	return h.r.check()
}

// check is one checkpoint: it returns a closed channel when the script
// must stop, nil otherwise.
func (r *runState) check() <-chan struct{} {
	c := r.c
	now := c.Now()
	if r.killed.Load() {
		r.halt(errKilled)
		return r.done
	}
	elapsed := time.Duration(now - r.start)
	if !r.busy && c.BusyAfter > 0 && elapsed >= c.BusyAfter {
		r.busy = true
		c.Host.Busy()
	}
	if c.StopAfter > 0 && elapsed >= c.StopAfter {
		r.halt(errMaxTime)
		return r.done
	}
	if c.Host.Yield() {
		r.halt(errShutdown)
		return r.done
	}
	if now >= r.walkAt || r.allocd > r.e.budget.Free() {
		r.e.walkHeap(r, now)
		if r.stop != "" {
			return r.done
		}
	}
	return nil
}

// halt makes the script stop at its next instruction with msg.
func (r *runState) halt(msg string) {
	if r.stop == "" {
		r.stop = msg
		r.stopErr = errors.New(msg)
		close(r.done)
	}
}

// stopped raises the stop error from Go code (redis.call after a kill).
func (r *runState) raiseIfStopped(L *lua.LState) {
	if r.stop == "" && r.killed.Load() {
		r.halt(errKilled)
	}
	if r.stop != "" {
		L.RaiseError("%s", r.stop)
	}
}

// allocCheck is called before a guarded function allocates n bytes
// (string.rep, table.concat, cjson.encode, ...): it refuses an
// allocation that cannot fit what the budget has left, and schedules a
// heap walk once such allocations add up to what is left.
func (e *Engine) allocCheck(L *lua.LState, n int64) {
	r := e.run
	if r == nil {
		return
	}
	free := e.budget.Free()
	if n > free {
		L.RaiseError(errAlloc)
	}
	r.allocd += n
	if r.allocd > free {
		r.walkAt = 0
	}
}

func (e *Engine) heapEstimate() int64 {
	if r := e.run; r != nil {
		return r.heap
	}
	return 0
}

// start begins a run on v.
func (e *Engine) start(v *vm, c *Call, isEval bool) *runState {
	now := c.Now()
	r := &runState{e: e, c: c, isEval: isEval, start: now, walkAt: now + int64(time.Millisecond), lastYld: now,
		done: make(chan struct{})}
	e.run = r
	e.running.Store(r)
	v.L.SetContext(&hook{r: r})
	return r
}

// finish ends a run: the state is reset for the next one and the heap
// charge given back.
func (e *Engine) finish(v *vm, r *runState) {
	L := v.L
	L.RemoveContext()
	L.SetTop(0)
	L.Env = v.env
	if v.globals != nil {
		v.globals.RawSetString("KEYS", L.NewTable())
		v.globals.RawSetString("ARGV", L.NewTable())
	}
	if r.heap > 0 {
		e.budget.Release(r.heap)
		r.heap = 0
	}
	e.run = nil
	e.running.Store(nil)
}

// evalVM is the EVAL state, created (and charged) on first use.
func (e *Engine) evalVM() (*vm, bool) {
	if e.eval != nil {
		return e.eval, true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.budget.Reserve(stateBase) {
		return nil, false
	}
	e.charged += stateBase
	e.eval = newVM(e, false)
	e.eval.globals.RawSetString("KEYS", e.eval.L.NewTable())
	e.eval.globals.RawSetString("ARGV", e.eval.L.NewTable())
	return e.eval, true
}

// RunScript runs s with c's keys and arguments and writes its reply (or
// error) to w.
func (e *Engine) RunScript(c *Call, s *Script, w *resp.Writer) {
	v, ok := e.evalVM()
	if !ok {
		w.WriteError(e.oom)
		return
	}
	L := v.L
	v.globals.RawSetString("KEYS", stringArray(L, c.Keys))
	v.globals.RawSetString("ARGV", stringArray(L, c.Args))
	fn := L.NewFunctionFromProto(s.proto)
	fn.Env = v.env
	r := e.start(v, c, true)
	defer e.finish(v, r)
	L.Push(fn)
	err := L.PCall(0, 1, nil)
	e.reply(v, r, err, "f_"+s.SHA, w)
}

func stringArray(L *lua.LState, items [][]byte) *lua.LTable {
	t := L.CreateTable(len(items), 0)
	for i, it := range items {
		t.RawSetInt(i+1, lua.LString(it))
	}
	return t
}

// reply writes the outcome of a run: the returned value converted, or
// the error with the script's name and position, as luaCallFunction
// does.
func (e *Engine) reply(v *vm, r *runState, err error, name string, w *resp.Writer) {
	L := v.L
	if err != nil {
		// What Redis's error handler (__redis__err__handler) builds: an
		// error table's err, or "ERR " and the value; and the position
		// of the Lua code that raised it, which is in the message of an
		// error raised with one, else noted when Go code raised it.
		obj := errorObject(err)
		msg, source, line := "", r.errSource, r.errLine
		switch x := obj.(type) {
		case *lua.LTable:
			if s, ok := x.RawGetString("err").(lua.LString); ok {
				msg = string(s)
			}
		case lua.LString:
			msg = "ERR " + string(x)
			if m := posPrefix.FindStringSubmatch(string(x)); m != nil {
				source, line = "@"+m[1], m[2]
			}
		case lua.LNumber:
			msg = "ERR " + numberString(float64(x))
		case *lua.LNilType:
			msg = "ERR nil"
		default:
			msg = "ERR " + lua.LVAsString(obj)
		}
		if strings.Contains(msg, "callstack overflow") {
			// Past the call stack; Redis's Lua says "stack overflow".
			msg = "ERR " + strings.TrimPrefix(source, "@") + ":" + line + ": stack overflow"
		}
		if r.stop != "" {
			// Stopped by the hook: the message gopher-lua raised carries
			// its position; Redis's carries the stop reason alone.
			msg = r.stop
		}
		if msg == "" {
			w.WriteError("ERR Error running script " + name + ", execution failure")
			return
		}
		if line != "" && source != "" {
			msg += " script: " + strings.TrimPrefix(name, "f_") + ", on " + source + ":" + line + "."
		}
		w.WriteError(sanitizeError(msg))
		return
	}
	ret := L.Get(-1)
	tmp := resp.Writer{RESP3: w.RESP3}
	limit := r.c.MaxReply
	if free := e.budget.Free(); limit <= 0 || free < limit {
		limit = free
	}
	if limit < 64<<10 {
		limit = 64 << 10 // a small reply is always possible: output is charged when written
	}
	if !writeLua(&tmp, ret, r.resp3, limit, 0) {
		w.WriteError(errReplyTooLarge)
		return
	}
	w.Errs += tmp.Errs
	w.WriteRaw(tmp.Out)
}

// posPrefix is the position gopher-lua puts before a message it raises.
var posPrefix = regexp.MustCompile(`^(user_(?:script|function)):(\d+): `)

// notePos records the position of the innermost Lua code on L's stack,
// before Go code raises an error (Redis's error handler adds it to every
// error: getinfo of the raising function, or of its caller when that is a
// C function).
func (e *Engine) notePos(L *lua.LState) {
	r := e.run
	if r == nil {
		return
	}
	for level := 0; level < 4; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			return
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err == nil && dbg.What != "G" && dbg.CurrentLine >= 0 {
			r.errSource, r.errLine = "@"+dbg.Source, strconv.Itoa(dbg.CurrentLine)
			return
		}
	}
}

// sanitizeError is what addReplyErrorLength does to a message: CR and LF
// become spaces.
func sanitizeError(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		s = strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
	}
	return s
}

// maxReplyDepth bounds the nesting of a returned table (a self-referencing
// table would otherwise recurse forever; Redis's C stack limit answers
// "reached lua stack limit").
const maxReplyDepth = 1000

// writeLua converts a script's return value to RESP (luaReplyToRedisReply).
// It reports false when the encoding would pass limit bytes.
func writeLua(w *resp.Writer, v lua.LValue, scriptResp3 bool, limit int64, depth int) bool {
	if int64(len(w.Out)) > limit {
		return false
	}
	if depth > maxReplyDepth {
		w.WriteError("ERR reached lua stack limit")
		return true
	}
	switch x := v.(type) {
	case lua.LString:
		if int64(len(w.Out)+len(x)) > limit {
			return false
		}
		w.WriteBulkString(string(x))
	case lua.LBool:
		if !scriptResp3 {
			if x {
				w.WriteInt(1)
			} else {
				w.WriteNull()
			}
		} else {
			w.WriteBool(bool(x))
		}
	case lua.LNumber:
		w.WriteInt64(luaToInt64(float64(x)))
	case *lua.LTable:
		if s, ok := x.RawGetString("err").(lua.LString); ok {
			w.WriteError(sanitizeError(string(s)))
			return true
		}
		if s, ok := x.RawGetString("ok").(lua.LString); ok {
			w.WriteString(sanitizeError(string(s)))
			return true
		}
		if d, ok := x.RawGetString("double").(lua.LNumber); ok {
			w.WriteDouble(float64(d))
			return true
		}
		if s, ok := x.RawGetString("big_number").(lua.LString); ok {
			n := sanitizeError(string(s))
			if w.RESP3 {
				w.Out = append(w.Out, '(')
				w.Out = append(w.Out, n...)
				w.Out = append(w.Out, '\r', '\n')
			} else {
				w.WriteBulkString(n)
			}
			return true
		}
		if vt, ok := x.RawGetString("verbatim_string").(*lua.LTable); ok {
			f, fok := vt.RawGetString("format").(lua.LString)
			s, sok := vt.RawGetString("string").(lua.LString)
			if fok && sok {
				format := string(f) + "   "
				w.WriteVerbatim(format[:3], string(s))
				return true
			}
		}
		if m, ok := x.RawGetString("map").(*lua.LTable); ok {
			n := 0
			m.ForEach(func(lua.LValue, lua.LValue) { n++ })
			w.WriteMap(n)
			okAll := true
			m.ForEach(func(k, val lua.LValue) {
				if okAll {
					okAll = writeLua(w, k, scriptResp3, limit, depth+1) && writeLua(w, val, scriptResp3, limit, depth+1)
				}
			})
			return okAll
		}
		if s, ok := x.RawGetString("set").(*lua.LTable); ok {
			n := 0
			s.ForEach(func(lua.LValue, lua.LValue) { n++ })
			w.WriteSet(n)
			okAll := true
			s.ForEach(func(k, _ lua.LValue) {
				if okAll {
					okAll = writeLua(w, k, scriptResp3, limit, depth+1)
				}
			})
			return okAll
		}
		n := 0
		for x.RawGetInt(n+1) != lua.LNil {
			n++
		}
		w.WriteArray(n)
		for i := 1; i <= n; i++ {
			if !writeLua(w, x.RawGetInt(i), scriptResp3, limit, depth+1) {
				return false
			}
		}
	default:
		w.WriteNull()
	}
	return true
}

// luaToInt64 is C's (long long) cast of a Lua number: truncation toward
// zero; out of range (and NaN) gives LLONG_MIN, as x86-64 does.
func luaToInt64(f float64) int64 {
	if f != f || f >= 9.223372036854775807e18 || f < -9.223372036854775808e18 {
		return -1 << 63
	}
	return int64(f)
}

// formatNumber formats a Lua number given to redis.call as Redis does
// ("%.17g").
func formatNumber(f float64) string {
	return string(resp.AppendDouble(nil, f))
}
