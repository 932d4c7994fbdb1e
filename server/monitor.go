package server

// MONITOR, per tenant.
//
// # Scope
//
// MONITOR on a tenant's connection streams that tenant's commands only:
// each tenant has its own set of monitors (tenant.monitors), and a
// command is shown to the monitors of the tenant the connection was bound
// to when it ran (an AUTH from no tenant shows in the tenant it binds
// to). No other tenant's command, key, argument or address ever reaches
// it. An operator's MONITOR streams every tenant's commands, each line
// naming its tenant; TENANT MONITOR <id> streams one tenant's, in Redis's
// exact format.
//
// # Format
//
// Redis 7.0's: `+<unix>.<µs> [<db> <addr>] "arg" ...`, each argument
// quoted as sdscatrepr quotes it; a script's commands show `[<db> lua]`
// after the EVAL or FCALL that runs them. Credentials are redacted as
// Redis redacts them (AUTH's arguments, HELLO's AUTH user and password:
// the rows' Secrets). Commands marked NoMonitor are not shown (Redis's
// admin and skip_monitor commands: MONITOR, SLOWLOG, LATENCY, CLIENT
// KILL/LIST/UNBLOCK, ...), nor are commands refused before they run
// (unknown, arity, NOAUTH, NOPERM, admission), as in Redis.
//
// # Bounds
//
// A monitor is a connection with an output queue, the pub/sub
// subscriber's (pubsub.go): capped at client_output_buffer_limit (at most
// 32 MiB), charged to the monitoring tenant's client_memory, and
// disconnected when it passes the cap or when the tenant's budget is
// full of output nobody reads. Feeding costs the commands of a tenant
// nobody monitors one atomic load (tenant.hooks); a monitored tenant's
// commands build one line each, appended to every monitor's queue
// without waiting.

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tcached/tcached/command"
)

// Bits of tenant.hooks: what dispatch must do after a command of the
// tenant, beyond its handler.
const (
	hookMonitor uint32 = 1 << iota // someone monitors the tenant (or every tenant)
	hookTrack                      // the tenant has connections tracking keys (tracking.go)
)

// monitorSet is a set of monitoring connections: a tenant's, or the
// operators' of every tenant (Server.allMonitors).
type monitorSet struct {
	mu   sync.Mutex
	list []*client
	n    atomic.Int32
	// all marks the operators' set: lines name their tenant.
	all bool
}

func (m *monitorSet) add(c *client) {
	m.mu.Lock()
	m.list = append(m.list, c)
	m.n.Store(int32(len(m.list)))
	m.mu.Unlock()
}

func (m *monitorSet) remove(c *client) {
	m.mu.Lock()
	for i, o := range m.list {
		if o == c {
			m.list[i] = m.list[len(m.list)-1]
			m.list[len(m.list)-1] = nil
			m.list = m.list[:len(m.list)-1]
			break
		}
	}
	if len(m.list) == 0 {
		m.list = nil
	}
	m.n.Store(int32(len(m.list)))
	m.mu.Unlock()
}

// refreshHooks recomputes t.hooks from its monitors, the operators'
// monitors and its tracking clients.
func (s *Server) refreshHooks(t *tenant) {
	var h uint32
	if t.monitors.n.Load() > 0 || s.allMonitors.n.Load() > 0 {
		h |= hookMonitor
	}
	if t.trk.clients.Load() > 0 {
		h |= hookTrack
	}
	t.hooks.Store(h)
}

func (s *Server) refreshAllHooks() {
	for _, t := range s.reg.Load().order {
		s.refreshHooks(t)
	}
}

// cmdMonitor: MONITOR. On a tenant's connection, that tenant's commands;
// on an operator's, every tenant's. MONITOR again on a monitoring
// connection answers OK and changes nothing (Redis answers nothing).
func cmdMonitor(c *client, args [][]byte) {
	if c.hold.hold || c.inScript {
		// Inside EXEC (or a script) a client must get one reply per
		// command: Redis's DENY_BLOCKING refusal.
		c.conn.WriteError(errMonitorDenyBlocking)
		return
	}
	if c.tenant == nil {
		c.startMonitor(&c.srv.allMonitors, nil)
		return
	}
	c.startMonitor(&c.tenant.monitors, c.tenant)
}

// cmdTenantMonitor: TENANT MONITOR <id>, an operator's MONITOR of one
// tenant (operator connections only).
func cmdTenantMonitor(c *client, args [][]byte) {
	if !operatorOnly(c, args) {
		return
	}
	t := c.srv.reg.Load().tenants[string(args[2])]
	if t == nil {
		c.conn.WriteError(errNoSuchTenant(string(args[2])))
		return
	}
	c.startMonitor(&t.monitors, t)
}

// startMonitor adds the connection to m, the set of tenant t (nil: the
// operators' set of every tenant).
func (c *client) startMonitor(m *monitorSet, t *tenant) {
	if c.monitor == nil {
		c.pubsub() // the output queue (pubsub.go), kept while monitoring
		c.monitor, c.monitorOf = m, t
		c.monitoring.Store(true)
		m.add(c)
		if t == nil {
			c.srv.refreshAllHooks()
		} else {
			c.srv.refreshHooks(t)
		}
	}
	c.conn.WriteString("OK")
}

// stopMonitor ends MONITOR (RESET, a rebinding AUTH, close).
func (c *client) stopMonitor() {
	m, t := c.monitor, c.monitorOf
	if m == nil {
		return
	}
	m.remove(c)
	c.monitor, c.monitorOf = nil, nil
	c.monitoring.Store(false)
	if t == nil {
		c.srv.refreshAllHooks()
	} else {
		c.srv.refreshHooks(t)
	}
}

// feedMonitors shows a command c ran in tenant t (db db) to t's monitors
// and the operators'. lua marks a command run by a script.
func (s *Server) feedMonitors(c *client, t *tenant, cmd *command.Spec, args [][]byte, db int, lua bool) {
	if cmd.Flags&command.NoMonitor != 0 {
		return
	}
	s.feedMonitorLine(c, t, cmd, args, db, lua)
}

// feedMonitorLine shows the command whatever its row says (EVAL and
// FCALL, from their handlers).
func (s *Server) feedMonitorLine(c *client, t *tenant, cmd *command.Spec, args [][]byte, db int, lua bool) {
	line := monitorLine(s.now(), db, c.addr, "", lua, cmd, args)
	t.monitors.deliver(line)
	if s.allMonitors.n.Load() > 0 {
		s.allMonitors.deliver(monitorLine(s.now(), db, c.addr, t.id, lua, cmd, args))
	}
}

func (m *monitorSet) deliver(line []byte) {
	if m.n.Load() == 0 {
		return
	}
	m.mu.Lock()
	list := append([]*client(nil), m.list...)
	m.mu.Unlock()
	for _, o := range list {
		if q := o.psRef.Load(); q != nil {
			q.deliverFrame(line)
		}
	}
}

// monitorLine is replicationFeedMonitors' line; tenant, when set, is
// added for the operators' view of every tenant.
func monitorLine(now time.Time, db int, addr, tenant string, lua bool, cmd *command.Spec, args [][]byte) []byte {
	b := make([]byte, 0, 64+16*len(args))
	b = append(b, '+')
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, '.')
	us := now.Nanosecond() / 1000
	for d := 100000; d > 1 && us < d; d /= 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, int64(us), 10)
	b = append(b, " ["...)
	b = strconv.AppendInt(b, int64(db), 10)
	b = append(b, ' ')
	if lua {
		b = append(b, "lua"...)
	} else {
		b = append(b, addr...)
	}
	if tenant != "" {
		b = append(b, " tenant="...)
		b = append(b, tenant...)
	}
	b = append(b, "] "...)
	secret := secretArgs(cmd, args)
	for i, a := range args {
		if i > 0 {
			b = append(b, ' ')
		}
		if secret[i] {
			a = []byte(redacted)
		}
		b = appendRepr(b, a)
	}
	return append(b, '\r', '\n')
}

// appendRepr quotes a as Redis's sdscatrepr does.
func appendRepr(b, a []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, ch := range a {
		switch ch {
		case '\\', '"':
			b = append(b, '\\', ch)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\a':
			b = append(b, '\\', 'a')
		case '\b':
			b = append(b, '\\', 'b')
		default:
			if ch >= 0x20 && ch <= 0x7e {
				b = append(b, ch)
			} else {
				b = append(b, '\\', 'x', hex[ch>>4], hex[ch&15])
			}
		}
	}
	return append(b, '"')
}
