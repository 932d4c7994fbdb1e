package server

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/tcached/tcached/admission"
	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/config"
)

// dispatch executes one command: exactly one reply per command.
//
// Inside MULTI the checks run as usual, a refusal flags the transaction,
// and a command that passes them (admission included) is queued instead
// of run; see multi.go.
func (s *Server) dispatch(c *client, args [][]byte) {
	conn := c.conn
	cmd := s.lookup(c, args[0])
	defer func() {
		if r := recover(); r != nil {
			name := "?"
			if cmd != nil {
				name = cmd.Name
			}
			s.panics.Add(1)
			c.endWork() // or the tenant's heavy slot leaks
			if t := c.admitted; t != nil {
				c.admitted = nil
				t.adm.Done(c.ticket) // or the tenant's in-flight count leaks
			}
			if t := c.txHeld; t != nil {
				c.txHeld = nil
				t.txMu.RUnlock(c.id) // or the tenant's EXECs block forever
			}
			if x := c.excl; x != nil && c.tenant != nil {
				c.excl = nil
				c.tenant.unlockExclusive(x) // or the tenant is locked forever
			}
			s.log.Error("panic in command handler", "command", name, "panic", panicText(r), "stack", string(debug.Stack()))
			conn.WriteError(errInternal)
			conn.Close()
		}
	}()
	if cmd == nil {
		c.reject(nil, errUnknownCommand(args))
		return
	}
	if cmd.Subs != nil && len(args) >= 2 {
		// Redis resolves container subcommands before any other check.
		sub := s.lookupSub(c, cmd, args[1])
		if sub == nil {
			c.reject(cmd, errUnknownSubcommand(args[1], cmd.Name))
			return
		}
		cmd = sub
	}
	start := c.cmdStart // set by the connection loop just before dispatch
	if start == 0 {
		start = s.mono() // dispatched by a test, not the loop
	}
	c.touch(start, cmd)
	if cmd.Arity >= 0 && len(args) != cmd.Arity || cmd.Arity < 0 && len(args) < -cmd.Arity {
		c.reject(cmd, command.ErrWrongArgs(cmd.Name))
		return
	}
	t := c.tenant
	if t == nil && cmd.Flags&command.NoAuth == 0 {
		if !c.operator {
			c.reject(cmd, errNoAuth)
			return
		}
		if cmd.Flags&command.Operator == 0 {
			c.reject(cmd, errOperatorNoTenant)
			return
		}
	}
	if c.multi && cmd.Flags&(command.Tx|command.Exec) == command.Tx {
		// MULTI, DISCARD, WATCH, RESET, QUIT inside a transaction: never
		// queued, and not subject to admission, so a client can always
		// leave the transaction. They touch no keys.
		c.run(cmd, cmd.Handler, args)
		if t != nil && t.hooks.Load()&hookMonitor != 0 {
			s.feedMonitors(c, t, cmd, args, c.db, false)
		}
		return
	}
	if t != nil {
		if cmd.Flags&command.Write != 0 && c.role == config.RoleReadOnly ||
			cmd.Flags&command.Admin != 0 && c.role != config.RoleAdmin {
			c.reject(cmd, command.ErrNoPerm(cmd.Name))
			return
		}
		if c.ps != nil && c.pubsubRefuses(cmd) { // RESP2 subscribed context (pubsub.go)
			return
		}
		// A script of the tenant past its busy threshold answers BUSY to
		// the tenant's other commands but the allow_busy ones, queued or
		// not (script.go).
		if x := t.excl.Load(); x != nil && cmd.Flags&command.AllowBusy == 0 && x.isBusy() {
			c.reject(cmd, x.busyText())
			return
		}
		// Admission happens before anything of the command runs, so a
		// refusal is never a partial write.
		var argBytes int64
		for _, a := range args {
			argBytes += int64(len(a))
		}
		tk, reason, ok := t.adm.AdmitLeased(&c.lease, argBytes, start, time.Duration(start-c.readAt))
		if !ok {
			if reason == admission.ReasonShed && !c.multi && t.cfg().ShedReadsAsMiss && cmd.Miss != nil {
				c.run(cmd, cmd.Miss, args)
				return
			}
			c.reject(cmd, refusal(reason))
			if reason == admission.ReasonRate {
				// Read nothing more from this connection for a while: a
				// closed-loop client that is over its rate then waits in its
				// own socket instead of costing the server a refusal per
				// command (the refusal itself is sent at once).
				c.backoff = t.cfg().Tier.Timeout
				if c.backoff <= 0 || c.backoff > time.Second {
					c.backoff = 10 * time.Millisecond
				}
			}
			return
		}
		if cmd.Flags&command.DenyOOM != 0 {
			// Client memory (clientmem.go): a write that may grow memory is
			// refused while the tenant's connections hold its whole budget,
			// not counting this command's own read buffer (freed next).
			if p := c.mem.pool.Load(); p.used.Load()-c.mem.query > p.limit.Load() {
				t.adm.Done(tk)
				p.refused.Add(1)
				c.reject(cmd, errClientOOM)
				return
			}
		}
		if c.multi && cmd.Flags&command.Exec == 0 {
			// Admitted at queue time (multi.go): counted and run by EXEC.
			c.queue(cmd, args)
			t.adm.Done(tk)
			return
		}
		c.ticket, c.admitted = tk, t
		if cmd.Flags&command.Fast == 0 {
			// What reads the counters (INFO, TENANT INFO, a script) sees
			// the commands pipelined before it, as in Redis.
			c.cnt.flush()
		}
		errs := conn.Errs
		switch {
		case cmd.Flags&command.Exec != 0:
			c.run(cmd, cmd.Handler, args) // takes t.txMu exclusively
		case cmd.Flags&command.Exclusive != 0:
			if busy := c.runExclusive(t, cmd, args); busy != nil { // script.go
				c.reject(cmd, busy.busyText())
			}
		default:
			locked, busy := t.lockShared(c, cmd)
			if busy != nil {
				c.reject(cmd, busy.busyText())
				break
			}
			if locked {
				c.txHeld = t
			}
			// A script's keys are remembered when it reads (script.go),
			// not because EVAL_RO is a read.
			if c.trk != nil && cmd.Flags&(command.Read|command.Exclusive) == command.Read {
				s.trackRead(c, cmd, args) // before the read: tracking.go
			}
			c.runHandler(t, cmd, args)
			if cmd.Flags&command.Write != 0 && t.writeHooks() {
				t.touchWrite(c, cmd, args) // before unlocking: see multi.go
			}
			if locked {
				c.txHeld = nil
				t.txMu.RUnlock(c.id)
			}
		}
		// Tracking's invalidations and MONITOR (tracking.go, monitor.go):
		// one atomic load for a tenant nobody tracks or monitors.
		if h := t.hooks.Load(); h != 0 {
			s.afterCommand(c, t, cmd, args, h, true, false)
		}
		c.endWork() // a heavy slot goes to the next expensive command (fair.go)
		end := s.mono()
		c.lat.Observe(t.latency, time.Duration(end-start)) // flushed with the replies (flushBatch)
		// SLOWLOG and LATENCY (slowlog.go): one atomic load unless slow.
		// A blocking command's wait is not its work (Redis logs it as
		// unblocked, without the wait).
		if d := end - start - c.blockWait; d >= t.diag.watch.Load() {
			s.noteSlow(c, t, cmd, args, time.Duration(d))
		}
		c.blockWait = 0
		c.now = end // the next pipelined command's start (fair.go)
		// Counted for the tenant with the replies (flushBatch).
		c.cnt.count(t, conn.Errs != errs)
		if conn.Errs == errs {
			// INFO rdb_changes_since_last_save: a write to keys counts
			// the keys it changed (tenant.onModify), as Redis counts
			// changes; one without keys (FLUSHALL, FUNCTION LOAD) counts 1,
			// and so does each write in backed mode (no onModify there).
			if cmd.Flags&command.Write != 0 && (!cmd.HasKeys() || t.backed) {
				t.dirty.Add(1)
			}
		}
		c.admitted = nil
		// c.ticket, not tk: a blocking command (BLPOP...) hands its ticket
		// back while it waits and takes a new one when woken, so its SLA
		// clock covers the work after the wake-up, not the wait.
		t.adm.DoneLeased(&c.lease, c.ticket, end) // kept for the batch's next command
		c.ticket = admission.Ticket{}
		return
	}
	if c.multi {
		// Unreachable (MULTI needs a tenant and a queued AUTH runs only at
		// EXEC), but never run a command of a transaction outside it.
		c.reject(cmd, errNoAuth)
		return
	}
	c.run(cmd, cmd.Handler, args)
	// An AUTH or HELLO that bound the connection shows in its new
	// tenant's MONITOR (redacted).
	if t := c.tenant; t != nil && t.hooks.Load()&hookMonitor != 0 {
		s.feedMonitors(c, t, cmd, args, c.db, false)
	}
}

// panicText describes a recovered panic without echoing data: a runtime
// error's message (index out of range, nil dereference) carries no values,
// anything else may, so only its type is logged.
func panicText(r any) string {
	if re, ok := r.(runtime.Error); ok {
		return re.Error()
	}
	return fmt.Sprintf("panic value of type %T", r)
}

// lookup finds the table row for a command name without allocating. The
// connection's previous row is reused when name is its name in any case
// (the table never changes after New).
func (s *Server) lookup(c *client, name []byte) *command.Spec {
	if last := c.lastSpec; last != nil && command.EqFold(name, last.Name) {
		return last
	}
	if len(name) > len(c.nameBuf) {
		return nil
	}
	cmd := s.table[string(command.LowerInto(c.nameBuf[:0], name))]
	if cmd != nil {
		c.lastSpec = cmd
	}
	return cmd
}

func (s *Server) lookupSub(c *client, parent *command.Spec, name []byte) *command.Spec {
	if len(name) > len(c.nameBuf) {
		return nil
	}
	return parent.Subs[string(command.LowerInto(c.nameBuf[:0], name))]
}
