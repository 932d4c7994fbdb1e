package server

// Scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT, FCALL, FCALL_RO
// and FUNCTION, on the tenant's scripting.Engine, with Redis 7.0's
// semantics.
//
// # Atomicity, per tenant
//
// A script runs as EXEC runs a transaction: under its tenant's txMu taken
// exclusively, so no other command of the tenant runs while it does, and
// other tenants never wait (their locks are their own). The rows that
// run a script, and those that change a Lua state (SCRIPT FLUSH,
// FUNCTION LOAD, DELETE, FLUSH, RESTORE), are Exclusive: dispatch takes
// the lock for them (lockExclusive); inside EXEC, which holds it already,
// they just run. The tenant's blocked clients (BLPOP...) hold no lock
// while they wait and take it shared when woken, so they wait for a
// script like any command; a heavy slot is only waited for at a
// checkpoint, where nothing else of the tenant holds one, so a script's
// checkpoints cannot deadlock with them (fair.go, "Lock order").
//
// # Busy scripts
//
// Redis answers every client BUSY once a script has run for
// busy-reply-threshold (here the tenant's script_time_limit), except the
// allow_busy commands (SCRIPT KILL, FUNCTION KILL/STATS, AUTH, HELLO,
// MULTI, DISCARD, WATCH, UNWATCH, RESET, QUIT). Here only the script's
// tenant is busy. The holder of a tenant's exclusive lock (an EXEC or a
// script) publishes itself (tenant.excl) before it asks for the lock; a
// command that finds the lock taken (TryRLock fails) waits on the
// holder's done and busy channels instead of blocking on the lock, so
// when the script becomes busy the waiting commands are answered BUSY at
// once and the allow_busy ones run without the lock (as Redis runs them
// from inside the script's event-loop call). A command that arrives while
// a script is already busy is answered before admission. A second
// exclusive holder (another script, EXEC) waits for the first on the
// tenant's gate, the same way.
//
// After script_max_time the engine stops the script even if it wrote
// (tcached's own limit); SCRIPT KILL and FUNCTION KILL stop it earlier
// unless it wrote (UNKILLABLE, as Redis).
//
// # The redis.call bridge
//
// redis.call runs a command through the same table and the same checks,
// in Redis's scriptCall order: unknown command, arity, noscript, the
// user's role ("The user executing the script can't run..."), writes from
// a read-only script, client memory for a denyoom command before the
// first write, a token of the tenant's rate_limit (without waiting:
// concurrency, argument bytes and shedding were the EVAL's); then the
// row's handler, on the caller's connection (its
// tenant's partition, the script's db: SELECT inside a script does not
// change the caller's), with the connection's reply writer switched to
// a buffer in the protocol the script chose (redis.setresp). A write
// marks WATCHers as it does outside scripts. The script's work is charged
// to the tenant as it runs (scripting.Host.Yield is the fair-share
// checkpoint); the EVAL counts as one command in the tenant's metrics.
//
// # Memory
//
// A tenant's scripting memory counts against its client_memory, not its
// quota: the quota is what the tenant stores and what LRU eviction
// frees, while scripts, the script cache and function libraries are
// state the server holds for the tenant's connections, which eviction
// cannot free; charging them to the quota would make a running script
// evict the tenant's keys. The engine charges its Lua states (a fixed
// estimate each), the cached scripts and libraries (their code and
// compiled form), and a running script's heap estimate; past the budget
// a new script or library is refused with OOM, and a running script is
// stopped.

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/config"
	"github.com/tcached/tcached/scripting"
	"github.com/tcached/tcached/tiers"
)

// exclusive is the holder of a tenant's txMu taken exclusively: an EXEC
// or a script.
type exclusive struct {
	done     chan struct{} // closed when the lock is released
	busy     chan struct{} // closed once a script under it passes its busy threshold
	busyOnce sync.Once
	eval     atomic.Bool // the busy script is an EVAL (BUSY's wording)
}

func (x *exclusive) isBusy() bool {
	select {
	case <-x.busy:
		return true
	default:
		return false
	}
}

// busyText is the BUSY reply while x's script is busy.
func (x *exclusive) busyText() string {
	if x.eval.Load() {
		return errBusyEval
	}
	return errBusyFunction
}

func (x *exclusive) markBusy(eval bool) {
	x.busyOnce.Do(func() {
		x.eval.Store(eval)
		close(x.busy)
	})
}

// lockExclusive takes t.txMu exclusively for an EXEC or a script. It
// returns the holder, or, when the tenant's current holder is a busy
// script, that holder (busy) and nothing taken.
func (t *tenant) lockExclusive() (x, busy *exclusive) {
	for {
		select {
		case t.gate <- struct{}{}:
			x := &exclusive{done: make(chan struct{}), busy: make(chan struct{})}
			t.excl.Store(x)
			t.txMu.Lock()
			return x, nil
		default:
		}
		w := t.excl.Load()
		if w == nil {
			runtime.Gosched() // between another holder's gate and its publication
			continue
		}
		select {
		case t.gate <- struct{}{}:
			<-t.gate // taken on the next turn of the loop, published
		case <-w.done:
		case <-w.busy:
			return nil, w
		}
	}
}

func (t *tenant) unlockExclusive(x *exclusive) {
	t.txMu.Unlock()
	t.excl.Store(nil)
	close(x.done)
	<-t.gate
}

// lockShared takes t.txMu shared for one command. When the lock is held
// exclusively it waits for the holder; if the holder is (or becomes) a
// busy script, an allow_busy command runs without the lock (locked false)
// and any other gets busy (the holder, to answer BUSY).
func (t *tenant) lockShared(c *client, cmd *command.Spec) (locked bool, busy *exclusive) {
	for {
		if t.txMu.TryRLock(c.id) {
			return true, nil
		}
		w := t.excl.Load()
		if w == nil {
			runtime.Gosched()
			continue
		}
		select {
		case <-w.done:
		case <-w.busy:
			if cmd.Flags&command.AllowBusy != 0 {
				return false, nil
			}
			return false, w
		}
	}
}

// engine is the tenant's scripting engine, created on first use.
func (t *tenant) engine() *scripting.Engine {
	t.scriptsOnce.Do(func() {
		t.scripts = scripting.New(poolBudget{&t.cmem}, errClientOOM)
	})
	return t.scripts
}

// poolBudget charges the engine to a client-memory pool (clientmem.go).
type poolBudget struct{ p *memPool }

func (b poolBudget) Reserve(n int64) bool { return b.p.reserve(n) }
func (b poolBudget) Release(n int64)      { b.p.used.Add(-n) }
func (b poolBudget) Free() int64          { return b.p.limit.Load() - b.p.used.Load() }

// runExclusive runs an Exclusive row under its tenant's exclusive lock
// (dispatch). It reports false, having run nothing, when the tenant is
// busy with a script: busy answers.
func (c *client) runExclusive(t *tenant, cmd *command.Spec, args [][]byte) (busy *exclusive) {
	x, busy := t.lockExclusive()
	if busy != nil {
		return busy
	}
	c.excl = x
	c.hold.start(c.conn.outLimit)
	defer func() {
		c.excl = nil
		t.unlockExclusive(x)
		if held := c.hold.stop(); len(held) > 0 && c.conn.err == nil {
			c.conn.Out = append(held, c.conn.Out...)
		}
	}()
	c.run(cmd, cmd.Handler, args)
	return nil
}

// scriptLimits are the tenant's busy threshold and stop time.
func scriptLimits(t *tenant) (busy, stop time.Duration) {
	tier := t.cfg().Tier
	busy, stop = tier.ScriptTimeLimit, tier.ScriptMaxTime
	if busy <= 0 {
		busy = tiers.DefaultScriptTimeLimit
	}
	if stop <= 0 {
		stop = tiers.DefaultScriptMaxTime
	}
	if o := time.Duration(t.busyOverride.Load()); o > 0 {
		busy = o // CONFIG SET busy-reply-threshold
	}
	return min(busy, stop), stop
}

func cmdEval(c *client, args [][]byte)      { c.eval(args, false, false) }
func cmdEvalSHA(c *client, args [][]byte)   { c.eval(args, true, false) }
func cmdEvalRO(c *client, args [][]byte)    { c.eval(args, false, true) }
func cmdEvalSHARO(c *client, args [][]byte) { c.eval(args, true, true) }
func cmdFCall(c *client, args [][]byte)     { c.fcall(args, false) }
func cmdFCallRO(c *client, args [][]byte)   { c.fcall(args, true) }

// feedScriptCall shows EVAL and FCALL to MONITOR before their script's
// commands, as Redis feeds them from their handlers (their rows are
// NoMonitor, so they are not shown again after).
func (c *client) feedScriptCall(args [][]byte) {
	if t := c.tenant; t.hooks.Load()&hookMonitor != 0 {
		c.srv.feedMonitorLine(c, t, c.x.Spec, args, c.db, false)
	}
}

// numKeys reads EVAL's and FCALL's numkeys (evalGenericCommand).
func numKeys(args [][]byte, bad string) (int, string) {
	n, ok := command.ParseInt(args[2])
	if !ok {
		return 0, bad
	}
	if n > int64(len(args)-3) {
		return 0, errNumKeysGreater
	}
	if n < 0 {
		return 0, errNumKeysNegative
	}
	return int(n), ""
}

func (c *client) eval(args [][]byte, sha, ro bool) {
	c.feedScriptCall(args)
	e := c.tenant.engine()
	if sha && len(args[1]) != 40 {
		c.conn.WriteError(errNoScript)
		return
	}
	nk, msg := numKeys(args, command.ErrNotInteger)
	if msg != "" {
		c.conn.WriteError(msg)
		return
	}
	var s *scripting.Script
	if sha {
		if s = e.Lookup(args[1]); s == nil {
			c.conn.WriteError(errNoScript)
			return
		}
	} else if s, msg = e.Load(args[1]); msg != "" {
		c.conn.WriteError(msg)
		return
	}
	if msg := c.scriptPrepare(s.Flags, ro); msg != "" {
		c.conn.WriteError(msg)
		return
	}
	if c.srv.l2 != nil {
		c.runL2(args, nk, string(s.Body), "", s.Flags, ro) // script_backed.go
		return
	}
	call := c.scriptCall(args, nk, s.SHA, s.Flags, ro, true)
	e.RunScript(call, s, &c.conn.Writer)
	c.scriptDone()
}

func (c *client) fcall(args [][]byte, ro bool) {
	c.feedScriptCall(args)
	e := c.tenant.engine()
	f := e.LookupFunction(args[1])
	if f == nil {
		c.conn.WriteError(errFunctionNotFound)
		return
	}
	nk, msg := numKeys(args, errBadNumKeys)
	if msg != "" {
		c.conn.WriteError(msg)
		return
	}
	if msg := c.scriptPrepare(f.Flags, ro); msg != "" {
		c.conn.WriteError(msg)
		return
	}
	if c.srv.l2 != nil {
		c.runL2(args, nk, f.LibraryCode(), f.Name, f.Flags, ro) // script_backed.go
		return
	}
	call := c.scriptCall(args, nk, f.Name, f.Flags, ro, false)
	// FUNCTION STATS shows the command from other connections: a copy.
	cp := make([][]byte, len(args))
	for i, a := range args {
		cp[i] = append([]byte(nil), a...)
	}
	call.Command = cp
	e.RunFunction(call, f, &c.conn.Writer)
	c.scriptDone()
}

// scriptPrepare is scriptPrepareForRun's checks of a script's flags.
func (c *client) scriptPrepare(flags scripting.Flags, ro bool) string {
	if flags&scripting.FlagEvalCompat != 0 {
		return ""
	}
	if flags&scripting.FlagNoWrites == 0 && ro {
		return errScriptWriteRO
	}
	if flags&(scripting.FlagAllowOOM|scripting.FlagNoWrites) == 0 && c.mem.tight() {
		return errScriptOOM
	}
	return ""
}

// scriptCall prepares a run on this connection: the bridge (scriptHost)
// and the tenant's limits.
func (c *client) scriptCall(args [][]byte, nk int, name string, flags scripting.Flags, ro, isEval bool) *scripting.Call {
	t := c.tenant
	h := c.scriptHost
	if h == nil {
		h = &scriptHost{c: c}
		c.scriptHost = h
	}
	compat := flags&scripting.FlagEvalCompat != 0
	h.t, h.x, h.isEval, h.name = t, c.excl, isEval, name
	h.ro = ro || !compat && flags&scripting.FlagNoWrites != 0
	h.allowOOM = !compat && flags&scripting.FlagAllowOOM != 0
	h.wrote = false
	h.db = c.db
	h.resp3 = c.conn.RESP3
	h.spec, h.args, h.tracked = c.x.Spec, args, false
	busy, stop := scriptLimits(t)
	c.inScript = true
	return &scripting.Call{Host: h, Keys: args[3 : 3+nk], Args: args[3+nk:], Name: name,
		Now: c.srv.mono, BusyAfter: busy, StopAfter: stop, MaxReply: c.conn.outLimit}
}

// scriptDone restores what a script may have changed on its connection.
func (c *client) scriptDone() {
	h := c.scriptHost
	c.inScript = false
	if c.db != h.db {
		c.setDB(h.db)
		c.db = h.db
	}
	c.conn.RESP3 = h.resp3
	h.x = nil
	if cap(h.buf) > command.MaxPooled {
		h.buf = nil
	}
}

// scriptHost is the server's side of a running script (scripting.Host),
// one per connection, reused.
type scriptHost struct {
	c        *client
	t        *tenant
	x        *exclusive
	name     string
	isEval   bool
	ro       bool
	allowOOM bool
	wrote    bool
	db       int  // the caller's db, put back after the script
	resp3    bool // the caller's protocol, put back after the script
	buf      []byte
	// The EVAL or FCALL running the script, for client-side caching: its
	// declared keys are remembered at the script's first read (tracked).
	spec    *command.Spec
	args    [][]byte
	tracked bool
}

// resolve finds a command's row for the bridge, subcommand included;
// noScript is set when the command or its container is noscript.
func (h *scriptHost) resolve(args [][]byte) (cmd *command.Spec, noScript bool) {
	c := h.c
	cmd = c.srv.lookup(c, args[0])
	if cmd == nil {
		return nil, false
	}
	noScript = cmd.Flags&command.NoScript != 0
	if cmd.Subs != nil && len(args) >= 2 {
		cmd = c.srv.lookupSub(c, cmd, args[1])
		if cmd == nil {
			return nil, false
		}
	}
	return cmd, noScript || cmd.Flags&command.NoScript != 0
}

func (h *scriptHost) permitted(cmd *command.Spec) bool {
	role := h.c.role
	return !(cmd.Flags&command.Write != 0 && role == config.RoleReadOnly ||
		cmd.Flags&command.Admin != 0 && role != config.RoleAdmin)
}

// Call is redis.call's command: scriptCall's checks, then the row's
// handler with the reply captured.
func (h *scriptHost) Call(args [][]byte, resp3 bool) (reply []byte, refusal string, wrote bool) {
	c, t := h.c, h.t
	cmd, noScript := h.resolve(args)
	switch {
	case cmd == nil:
		return nil, errScriptUnknown, false
	case cmd.Arity >= 0 && len(args) != cmd.Arity || cmd.Arity < 0 && len(args) < -cmd.Arity:
		return nil, errScriptArity, false
	case noScript:
		return nil, errScriptNoScript, false
	case !h.permitted(cmd):
		return nil, errScriptACL, false
	case h.ro && cmd.Flags&command.Write != 0:
		return nil, errScriptWriteFromRO, false
	case cmd.Flags&command.DenyOOM != 0 && !h.allowOOM && !h.wrote && c.mem.tight():
		return nil, "-" + errClientOOM, false
	case !t.adm.TakeToken(c.srv.mono()):
		// Each call takes a token of the tenant's rate_limit, without
		// waiting (the script holds the tenant's lock): a script is not a
		// way around the tenant's rate.
		return nil, "-" + errRateLimited, false
	}
	if cmd.Flags&command.Write != 0 {
		h.wrote = true
		wrote = true
	}
	w := &c.conn.Writer
	out, r3, sink, errs := w.Out, w.RESP3, w.Sink, w.Errs
	w.Out, w.RESP3, w.Sink = h.buf[:0], resp3, nil
	defer func() {
		if r := recover(); r != nil {
			// A handler's panic inside a script: counted and logged as
			// dispatch does, answered as the command's error.
			c.srv.panics.Add(1)
			c.srv.log.Error("panic in command handler called from a script", "command", cmd.Name, "panic", panicText(r))
			reply, refusal = nil, errInternal
		}
		h.buf = w.Out
		w.Out, w.RESP3, w.Sink, w.Errs = out, r3, sink, errs
	}()
	if c.trk != nil && cmd.Flags&command.Read != 0 && !h.tracked {
		// Redis tracks a script's declared keys once it reads (tracking.go).
		h.tracked = true
		c.srv.trackRead(c, h.spec, h.args)
	}
	c.run(cmd, cmd.Handler, args)
	if cmd.Flags&command.Write != 0 && t.writeHooks() {
		t.touchWrite(c, cmd, args)
	}
	if hk := t.hooks.Load(); hk != 0 {
		c.srv.afterCommand(c, t, cmd, args, hk, false, true) // invalidations, MONITOR's [db lua] line
	}
	return w.Out, "", wrote
}

// Yield is the script's fair-share checkpoint; a script stops when the
// server shuts down.
func (h *scriptHost) Yield() bool {
	h.c.yield()
	return h.c.srv.closing.Load()
}

// Busy marks the tenant busy: its other commands are answered BUSY.
func (h *scriptHost) Busy() {
	if x := h.x; x != nil {
		x.markBusy(h.isEval)
	}
	kill := "FUNCTION KILL"
	if h.isEval {
		kill = "SCRIPT KILL"
	}
	h.c.srv.log.Warn("Slow script detected: still in execution. You can try killing the script using the "+kill+" command.",
		"tenant", h.t.id, "script", h.name)
}

// Log is redis.log: the server log, tagged with the tenant.
func (h *scriptHost) Log(level int, msg string) {
	l := h.c.srv.log
	attrs := []any{"tenant", h.t.id, "script", h.name}
	switch level {
	case scripting.LogWarning:
		l.Warn(msg, attrs...)
	case scripting.LogNotice:
		l.Info(msg, attrs...)
	default:
		l.Debug(msg, attrs...)
	}
}

// Permitted is redis.acl_check_cmd.
func (h *scriptHost) Permitted(args [][]byte) (allowed, known bool) {
	cmd, _ := h.resolve(args)
	if cmd == nil {
		return false, false
	}
	return h.permitted(cmd), true
}
