package backed

import (
	"errors"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/shard"
)

// Scripts in backed mode.
//
// A tenant's EVAL script or function runs in L2, atomically, as one Lua
// script on the slot of its declared keys (all of them must share one,
// else CROSSSLOT, as Redis Cluster answers; a script without keys runs on
// any master). The tenant's Lua is not trusted: the backend wraps it in a
// sandbox (package backing, script.go) whose redis.call and redis.pcall
// accept only the commands listed here, map every key argument (at the
// command's key positions) to its namespaced L2 name, and refuse a key
// that was not declared in KEYS, so a script can reach nothing but its
// own tenant's declared keys. The script sees KEYS unprefixed and runs
// with a restricted global environment (no loadstring, getfenv, setfenv:
// nothing that reaches the wrapper's own redis table).
//
// The scripts and function libraries stay per tenant on each tcached node
// (SCRIPT LOAD, FUNCTION LOAD): the body is sent with every call and
// compiled in L2, so L2 holds no tenant's code and no tenant can call
// another's.

// ScriptCommand is a command a backed script may call: its name and key
// positions (Redis's first, last, step; last < 0 counts from the end) and
// whether it writes (refused to read-only scripts).
type ScriptCommand struct {
	Name              string
	First, Last, Step int
	Write             bool
}

// noteScriptable adds r to the script allowlist when a script may call it
// in L2: a command with a backed handler that scripts may run (not
// noscript), whose keys are at fixed positions, and none of whose
// arguments names a key another way (SORT's BY and GET patterns, MOVE's
// and COPY ... DB's db, MIGRATE). Commands without keys are left out:
// none of them is useful to a script in L2.
func (m *Mode) noteScriptable(r *command.Spec) {
	if r.Flags&(command.NoScript|command.Admin|command.Operator) != 0 || r.KeysOf != nil ||
		r.FirstKey <= 0 || r.Step <= 0 {
		return
	}
	switch r.Name {
	case "sort", "sort_ro", "move", "migrate":
		return
	}
	m.scriptable = append(m.scriptable, ScriptCommand{Name: r.Name, First: r.FirstKey, Last: r.LastKey, Step: r.Step, Write: r.Flags&command.Write != 0})
}

// Atomic is the backend's transactions, scripts and pub/sub; nil when it
// has none (the server then refuses them).
func (m *Mode) Atomic() Atomic { return m.at }

// RunScript runs a script (req: body or library, keys, args) in L2 for
// the connection and answers its reply. req.DB, DefaultTTL and Grow are
// filled here.
func (m *Mode) RunScript(x *command.Ctx, req ScriptReq) {
	c := m.call(x)
	req.DB = x.DB
	req.DefaultTTL = c.defaultTTL().Milliseconds()
	if !req.ReadOnly {
		for _, a := range req.Args {
			req.Grow += int64(len(a))
		}
		for _, k := range req.Keys {
			req.Grow += int64(len(k))
		}
	}
	keys := make([]shard.Key, len(req.Keys))
	for i, k := range req.Keys {
		keys[i] = shard.Key{DB: x.DB, Name: k}
	}
	drop := func() {
		for _, k := range keys {
			m.Drop(c.t.ID, x.Part, k.DB, k.Name)
		}
	}
	drop()
	ctx, cancel := c.l2ctx()
	r := m.at.Script(ctx, c.t.ID, c.t.Quota, req)
	cancel()
	drop()
	c.writeTxReply(r)
}

// writeTxReply answers one reply of a transaction or a script.
func (c call) writeTxReply(r TxReply) {
	if r.Err != nil {
		if errors.Is(r.Err, ErrL2OverQuota) {
			c.t.Stats.OverQuota.Add(1)
		}
		c.x.StoreErr(r.Err)
		return
	}
	c.writeReply(r.Reply, r.Status)
}
