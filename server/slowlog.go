package server

// SLOWLOG and LATENCY, per tenant, and the tenant's debugging settings
// (CONFIG SET slowlog-log-slower-than, slowlog-max-len,
// latency-monitor-threshold, tracking-table-max-keys).
//
// # Scope
//
// Each tenant has its own slow log and latency events, fed only by its
// own commands and read and reset only by its own connections: SLOWLOG
// GET never shows another tenant's commands, arguments or addresses, and
// another tenant's SLOWLOG RESET cannot erase them. The thresholds are the
// tenant's own, with Redis's defaults, until the process ends (like
// Redis's CONFIG SET without REWRITE).
//
// # Cost
//
// dispatch compares each finished command's duration with one atomic per
// tenant, diag.watch: the smaller of the two thresholds (math.MaxInt64
// when both are off). Only a command at least that slow takes the lock.
//
// # Memory
//
// Entries hold at most 32 arguments of at most 128 bytes each, as
// Redis's, and are charged to the tenant's client_memory (they are state
// the server holds for the tenant, like its connections' buffers): an
// entry that does not fit the budget pushes out the oldest ones, and is
// not logged if it still does not fit. slowlog-max-len is thus bounded by
// the budget, whatever a tenant sets. The latency events are two fixed
// series of 160 samples.

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tcached/tcached/command"
)

// Redis's slow log bounds (slowlog.h) and latency history (latency.h).
const (
	slowlogMaxArgc   = 32
	slowlogMaxString = 128
	latencyTSLen     = 160
	// slowEntryOverhead approximates an entry's bookkeeping beyond its
	// argument, address and name bytes (slice headers, the entry), for
	// its client_memory charge.
	slowEntryOverhead = 128
)

// Redis's defaults.
const (
	defaultSlowlogSlowerThan = 10000 // µs
	defaultSlowlogMaxLen     = 128
	defaultTrackingMaxKeys   = 1000000
)

// diagSetting is one of the tenant's CONFIG SET debugging parameters.
type diagSetting struct {
	name     string
	min, def int64
}

// diagSettings are the parameters, in tenantDiag.vals order, with
// Redis 7.0's ranges and defaults (config.c).
func diagSettings() [4]diagSetting {
	return [...]diagSetting{
		{"slowlog-log-slower-than", -1, defaultSlowlogSlowerThan},
		{"slowlog-max-len", 0, defaultSlowlogMaxLen},
		{"latency-monitor-threshold", 0, 0},
		{"tracking-table-max-keys", 0, defaultTrackingMaxKeys},
	}
}

const (
	diagSlowerThan = iota
	diagMaxLen
	diagLatency
	diagTrackingMax
)

type slowEntry struct {
	id, unix, micros int64
	args             []string
	addr, name       string
	bytes            int64 // charged to the tenant's client_memory
}

type latencySample struct{ unix, ms int64 }

type latencySeries struct {
	samples [latencyTSLen]latencySample
	idx     int
	max     int64
}

// tenantDiag is a tenant's slow log, latency events and their settings.
type tenantDiag struct {
	vals [4]atomic.Int64 // diagSettings order
	// watch is the shortest duration (ns) dispatch must report: the
	// smaller of the enabled thresholds, math.MaxInt64 if none is.
	watch atomic.Int64

	mu      sync.Mutex  // guards the fields below
	slow    []slowEntry // newest first
	nextID  int64
	charged int64
	events  map[string]*latencySeries
}

func (d *tenantDiag) init() {
	for i, s := range diagSettings() {
		d.vals[i].Store(s.def)
	}
	d.rewatch()
}

// rewatch recomputes watch after a setting changed.
func (d *tenantDiag) rewatch() {
	w := int64(math.MaxInt64)
	if v := d.vals[diagSlowerThan].Load(); v >= 0 {
		w = min(w, v*int64(time.Microsecond))
	}
	if v := d.vals[diagLatency].Load(); v > 0 {
		w = min(w, v*int64(time.Millisecond))
	}
	d.watch.Store(w)
}

// lookupDiag finds a debugging parameter by name (case-insensitive).
func (t *tenant) lookupDiag(name []byte) (*atomic.Int64, diagSetting, bool) {
	for i, s := range diagSettings() {
		if command.EqFold(name, s.name) {
			return &t.diag.vals[i], s, true
		}
	}
	return nil, diagSetting{}, false
}

// diagChanged applies the consequences of a CONFIG SET of the tenant's
// debugging parameters: thresholds, a shorter slow log, a smaller
// tracking table.
func (s *Server) diagChanged(t *tenant) {
	t.diag.rewatch()
	t.diag.mu.Lock()
	t.diag.trim(&t.cmem, t.diag.vals[diagMaxLen].Load())
	t.diag.mu.Unlock()
	s.trackLimit(t)
}

// trim drops the oldest entries past n (mu held).
func (d *tenantDiag) trim(pool *memPool, n int64) {
	for int64(len(d.slow)) > n {
		last := d.slow[len(d.slow)-1]
		d.slow[len(d.slow)-1] = slowEntry{}
		d.slow = d.slow[:len(d.slow)-1]
		d.charged -= last.bytes
		pool.used.Add(-last.bytes)
	}
	if len(d.slow) == 0 {
		d.slow = nil
	}
}

// noteSlow is called by dispatch for a command of t that took at least
// t.diag.watch: it logs it (slowlog-log-slower-than) and samples its
// latency (latency-monitor-threshold).
func (s *Server) noteSlow(c *client, t *tenant, cmd *command.Spec, args [][]byte, d time.Duration) {
	if lt := t.diag.vals[diagLatency].Load(); lt > 0 && d.Milliseconds() >= lt {
		event := "command"
		if cmd.Flags&command.Fast != 0 {
			event = "fast-command"
		}
		t.diag.addLatency(event, d.Milliseconds(), s.now().Unix())
	}
	// EXEC is not logged itself (Redis's skip_slowlog): its commands are.
	if lim := t.diag.vals[diagSlowerThan].Load(); lim < 0 || d.Microseconds() < lim || cmd.Flags&command.Exec != 0 {
		return
	}
	e := slowEntry{unix: s.now().Unix(), micros: d.Microseconds(), addr: c.addr}
	c.mu.Lock()
	e.name = c.name
	c.mu.Unlock()
	argc := min(len(args), slowlogMaxArgc)
	e.args = make([]string, argc)
	secret := secretArgs(cmd, args)
	for i := range argc {
		switch {
		case argc != len(args) && i == argc-1:
			e.args[i] = fmt.Sprintf("... (%d more arguments)", len(args)-argc+1)
		case secret[i]:
			e.args[i] = redacted
		case len(args[i]) > slowlogMaxString:
			e.args[i] = fmt.Sprintf("%s... (%d more bytes)", args[i][:slowlogMaxString], len(args[i])-slowlogMaxString)
		default:
			e.args[i] = string(args[i])
		}
		e.bytes += int64(len(e.args[i]))
	}
	e.bytes += int64(len(e.addr)+len(e.name)) + slowEntryOverhead
	d2 := &t.diag
	d2.mu.Lock()
	defer d2.mu.Unlock()
	max := d2.vals[diagMaxLen].Load()
	if max == 0 {
		return
	}
	pool := &t.cmem
	for !pool.reserve(e.bytes) {
		if len(d2.slow) == 0 {
			// The budget is held by others: not logged. Not counted in
			// pool.refused either, which counts refused commands.
			return
		}
		d2.trim(pool, int64(len(d2.slow)-1))
	}
	d2.charged += e.bytes
	e.id = d2.nextID
	d2.nextID++
	d2.slow = append(d2.slow, slowEntry{})
	copy(d2.slow[1:], d2.slow)
	d2.slow[0] = e
	d2.trim(pool, max)
}

func (d *tenantDiag) addLatency(event string, ms, now int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.events == nil {
		d.events = map[string]*latencySeries{}
	}
	ts := d.events[event]
	if ts == nil {
		ts = &latencySeries{}
		d.events[event] = ts
	}
	ts.max = max(ts.max, ms)
	prev := (ts.idx + latencyTSLen - 1) % latencyTSLen
	if ts.samples[prev].unix == now {
		ts.samples[prev].ms = max(ts.samples[prev].ms, ms)
		return
	}
	ts.samples[ts.idx] = latencySample{now, ms}
	ts.idx = (ts.idx + 1) % latencyTSLen
}

// redacted replaces credentials in SLOWLOG and MONITOR, as Redis's
// shared.redacted.
const redacted = "(redacted)"

// secretArgs marks the arguments of args that hold credentials (the
// row's Secrets: AUTH's, HELLO's AUTH user and password).
func secretArgs(cmd *command.Spec, args [][]byte) []bool {
	if cmd.Secrets == nil {
		return make([]bool, len(args))
	}
	out := make([]bool, len(args))
	cmd.Secrets(args, func(i int) {
		if i < len(out) {
			out[i] = true
		}
	})
	return out
}

// SLOWLOG subcommands: the caller's tenant's log.

func cmdSlowlogGet(c *client, args [][]byte) {
	if len(args) > 3 {
		c.conn.WriteError(errSubcommandSyntax(args))
		return
	}
	d := &c.tenant.diag
	d.mu.Lock()
	n := int64(10)
	if len(args) == 3 {
		v, ok := command.ParseInt(args[2])
		if !ok || v < -1 {
			d.mu.Unlock()
			c.conn.WriteError(errSlowlogCount)
			return
		}
		n = v
		if n == -1 {
			n = int64(len(d.slow))
		}
	}
	entries := d.slow[:min(int64(len(d.slow)), n)]
	entries = append([]slowEntry(nil), entries...) // written without the lock
	d.mu.Unlock()
	c.conn.WriteArray(len(entries))
	for _, e := range entries {
		c.conn.WriteArray(6)
		c.conn.WriteInt64(e.id)
		c.conn.WriteInt64(e.unix)
		c.conn.WriteInt64(e.micros)
		c.conn.WriteArray(len(e.args))
		for _, a := range e.args {
			c.conn.WriteBulkString(a)
		}
		c.conn.WriteBulkString(e.addr)
		c.conn.WriteBulkString(e.name)
	}
}

func cmdSlowlogLen(c *client, args [][]byte) {
	d := &c.tenant.diag
	d.mu.Lock()
	n := len(d.slow)
	d.mu.Unlock()
	c.conn.WriteInt(n)
}

func cmdSlowlogReset(c *client, args [][]byte) {
	d := &c.tenant.diag
	d.mu.Lock()
	d.trim(&c.tenant.cmem, 0)
	d.mu.Unlock()
	c.conn.WriteString("OK")
}

func cmdSlowlogHelp(c *client, args [][]byte) {
	command.WriteHelp(&c.conn.Writer, "SLOWLOG", []string{
		"GET [<count>]",
		"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
		"    Entries are made of:",
		"    id, timestamp, time in microseconds, arguments array, client IP and port,",
		"    client name",
		"LEN",
		"    Return the length of the slowlog.",
		"RESET",
		"    Reset the slowlog.",
	})
}

// LATENCY subcommands: the caller's tenant's events ("command" and
// "fast-command", the ones Redis samples per command).

func cmdLatencyLatest(c *client, args [][]byte) {
	d := &c.tenant.diag
	d.mu.Lock()
	type latest struct {
		event          string
		unix, ms, max_ int64
	}
	var out []latest
	for _, ev := range sortedEvents(d.events) {
		ts := d.events[ev]
		last := ts.samples[(ts.idx+latencyTSLen-1)%latencyTSLen]
		out = append(out, latest{ev, last.unix, last.ms, ts.max})
	}
	d.mu.Unlock()
	c.conn.WriteArray(len(out))
	for _, l := range out {
		c.conn.WriteArray(4)
		c.conn.WriteBulkString(l.event)
		c.conn.WriteInt64(l.unix)
		c.conn.WriteInt64(l.ms)
		c.conn.WriteInt64(l.max_)
	}
}

func sortedEvents(m map[string]*latencySeries) []string {
	out := make([]string, 0, len(m))
	for ev := range m {
		out = append(out, ev)
	}
	// "command" before "fast-command": at most two, a swap sorts them.
	if len(out) == 2 && out[0] > out[1] {
		out[0], out[1] = out[1], out[0]
	}
	return out
}

// samples is an event's history, oldest first (mu held).
func (ts *latencySeries) history() []latencySample {
	var out []latencySample
	for j := range latencyTSLen {
		s := ts.samples[(ts.idx+j)%latencyTSLen]
		if s.unix != 0 {
			out = append(out, s)
		}
	}
	return out
}

func cmdLatencyHistory(c *client, args [][]byte) {
	d := &c.tenant.diag
	d.mu.Lock()
	var h []latencySample
	if ts := d.events[string(args[2])]; ts != nil {
		h = ts.history()
	}
	d.mu.Unlock()
	c.conn.WriteArray(len(h))
	for _, s := range h {
		c.conn.WriteArray(2)
		c.conn.WriteInt64(s.unix)
		c.conn.WriteInt64(s.ms)
	}
}

func cmdLatencyReset(c *client, args [][]byte) {
	d := &c.tenant.diag
	d.mu.Lock()
	n := 0
	for ev := range d.events {
		reset := len(args) == 2
		for _, a := range args[2:] {
			reset = reset || strings.EqualFold(string(a), ev)
		}
		if reset {
			delete(d.events, ev)
			n++
		}
	}
	d.mu.Unlock()
	c.conn.WriteInt(n)
}

// cmdLatencyDoctor is a short report on the tenant's events, in the
// spirit of Redis's (which also advises on the OS and persistence,
// which are the operator's, not the tenant's).
func cmdLatencyDoctor(c *client, args [][]byte) {
	d := &c.tenant.diag
	d.mu.Lock()
	var b strings.Builder
	evs := sortedEvents(d.events)
	if len(evs) == 0 {
		b.WriteString("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep tonight.\n")
	} else {
		b.WriteString("Dave, I have observed latency spikes in this tenant. You don't mind talking about it, do you Dave?\n\n")
		for i, ev := range evs {
			h := d.events[ev].history()
			var sum, lo int64
			lo = math.MaxInt64
			for _, s := range h {
				sum += s.ms
				lo = min(lo, s.ms)
			}
			fmt.Fprintf(&b, "%d. %s: %d latency spikes (average %dms, min %dms, all time high %dms).\n",
				i+1, ev, len(h), sum/int64(max(len(h), 1)), lo, d.events[ev].max)
		}
		fmt.Fprintf(&b, "\nI have a few advices for you:\n\n- Check your slow log (SLOWLOG GET) for the commands behind the spikes: %s.\n",
			"expensive commands (KEYS, SORT, large LRANGE/HGETALL/SMEMBERS, long scripts) run as this tenant's own work")
	}
	d.mu.Unlock()
	c.conn.WriteVerbatim("txt", b.String())
}

func cmdLatencyHelp(c *client, args [][]byte) {
	command.WriteHelp(&c.conn.Writer, "LATENCY", []string{
		"DOCTOR",
		"    Return a human readable latency analysis report.",
		"HISTORY <event>",
		"    Return time-latency samples for the <event> class.",
		"LATEST",
		"    Return the latest latency samples for all events.",
		"RESET [<event> ...]",
		"    Reset latency data of one or more <event> classes.",
		"    (default: reset all data for all event classes)",
	})
}

// diagConfig lists the debugging parameters for CONFIG GET.
func diagConfig(t *tenant, params map[string]string) {
	for i, s := range diagSettings() {
		params[s.name] = strconv.FormatInt(t.diag.vals[i].Load(), 10)
	}
}
