package backing

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tcached/tcached/backed"
)

// loadScript reads a string and its absolute expiry atomically: nil when
// the key is missing, else {value, pexpiretime}. pcall passes WRONGTYPE on
// as a plain error reply.
var loadScript = redis.NewScript(`
local v = redis.pcall('GET', KEYS[1])
if type(v) == 'table' and v.err then return v end
if not v then return false end
return {v, redis.call('PEXPIRETIME', KEYS[1])}
`)

// execScript runs ARGV[2..] (a command on KEYS) between two looks at each
// key: it returns {reply, then per key: old length, old expiry, new length,
// new expiry}, with length -1 and expiry -2 for a missing key, and a
// collection's MEMORY USAGE (coll.go's measure) for a key that is not a
// string. A key the command left without a TTL
// although it had one before (or did not exist) gets ARGV[1] ms when > 0:
// the tier's default TTL, as the embedded store gives it.
var execScript = redis.NewScript(lookLua + `
local old = looks(KEYS, 1)
local r = redis.pcall(unpack(ARGV, 2))
if type(r) == 'table' and r.err then return r end
local ttl = tonumber(ARGV[1])
local out = {r}
for i = 1, #KEYS do
  settle(out, KEYS[i], old[2*i-1], old[2*i], ttl)
end
return out
`)

type scriptCall struct {
	keys []string
	args []any
}

// runScripts runs s once per call, pipelined (the cluster client splits
// the pipeline per node and sends the parts in parallel). A node that
// lacks the script (a replica just promoted has an empty script cache)
// gets EVAL instead.
func (c *Cluster) runScripts(ctx context.Context, s *redis.Script, calls []scriptCall) []*redis.Cmd {
	cmds := make([]*redis.Cmd, len(calls))
	if len(calls) == 1 {
		cmds[0] = s.Run(ctx, c.rdb, calls[0].keys, calls[0].args...)
		return cmds
	}
	pipe := c.rdb.Pipeline()
	for i, sc := range calls {
		cmds[i] = s.EvalSha(ctx, pipe, sc.keys, sc.args...)
	}
	pipe.Exec(ctx) // errors are per command
	var retry []int
	for i, cmd := range cmds {
		if err := cmd.Err(); err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
			retry = append(retry, i)
		}
	}
	if len(retry) > 0 {
		pipe = c.rdb.Pipeline()
		for _, i := range retry {
			cmds[i] = s.Eval(ctx, pipe, calls[i].keys, calls[i].args...)
		}
		pipe.Exec(ctx)
	}
	return cmds
}

// Ready implements backed.Backend.
func (c *Cluster) Ready() bool { return c.tr.ready.Load() }

// Load implements backed.Backend.
func (c *Cluster) Load(ctx context.Context, tenant string, db int, key []byte) backed.Loaded {
	return c.LoadMany(ctx, tenant, db, [][]byte{key})[0]
}

// LoadMany implements backed.Backend.
func (c *Cluster) LoadMany(ctx context.Context, tenant string, db int, keys [][]byte) []backed.Loaded {
	out := make([]backed.Loaded, len(keys))
	now := time.Now()
	var calls []scriptCall
	var idx []int
	var brs []*breaker
	for i, k := range keys {
		name := c.name(tenant, db, k)
		b := c.gate(now, name)
		if b == nil {
			out[i].Err = backed.ErrBackendUnavailable
			continue
		}
		calls = append(calls, scriptCall{keys: []string{name}})
		idx = append(idx, i)
		brs = append(brs, b)
	}
	if len(calls) == 0 {
		return out
	}
	c.calls.Add(1)
	cmds := c.runScripts(ctx, loadScript, calls)
	end := time.Now()
	c.hist.Observe(end.Sub(now))
	for j, cmd := range cmds {
		i := idx[j]
		v, err := cmd.Result()
		if err = c.settle(brs[j], end, err); err != nil {
			out[i].Err = err
			continue
		}
		a, _ := v.([]any)
		if len(a) != 2 {
			c.misses.Add(1)
			continue
		}
		s, _ := a[0].(string)
		exp, _ := a[1].(int64)
		if exp < 0 {
			exp = 0
		}
		out[i] = backed.Loaded{Val: []byte(s), ExpireAt: exp, Found: true}
		c.hits.Add(1)
	}
	return out
}

// Exec implements backed.Backend.
func (c *Cluster) Exec(ctx context.Context, tenant string, quota int64, db int, reqs []backed.ExecReq) []backed.Result {
	out := make([]backed.Result, len(reqs))
	fail := func(err error) []backed.Result {
		for i := range out {
			out[i].Err = err
		}
		return out
	}
	var grow int64
	for _, r := range reqs {
		grow += r.Grow
	}
	if quota > 0 && grow > 0 && c.use.total(tenant)+grow > quota {
		return fail(backed.ErrL2OverQuota)
	}
	now := time.Now()
	calls := make([]scriptCall, len(reqs))
	valid := make([]bool, len(reqs))
	brs := make([]*breaker, len(reqs))
	for i, r := range reqs {
		keys := make([]string, len(r.KeyPos))
		args := make([]any, 0, len(r.Args)+1)
		args = append(args, r.DefaultTTL.Milliseconds())
		for _, a := range r.Args {
			args = append(args, string(a))
		}
		slot := -1
		cross := false
		for j, p := range r.KeyPos {
			kdb := db
			if d, ok := r.DstDB[p]; ok {
				kdb = d
			}
			keys[j] = c.name(tenant, kdb, r.Args[p])
			args[p+1] = keys[j]
			s := SlotString(keys[j])
			if slot >= 0 && s != slot {
				cross = true
			}
			slot = s
		}
		if cross {
			out[i].Err = backed.ErrCrossSlot
			continue
		}
		if brs[i] = c.gate(now, keys[0]); brs[i] == nil {
			out[i].Err = backed.ErrBackendUnavailable
			continue
		}
		calls[i] = scriptCall{keys: keys, args: args}
		valid[i] = true
	}
	var run []scriptCall
	var idx []int
	for i, ok := range valid {
		if ok {
			run = append(run, calls[i])
			idx = append(idx, i)
		}
	}
	if len(run) == 0 {
		return out
	}
	c.calls.Add(1)
	cmds := c.runScripts(ctx, execScript, run)
	end := time.Now()
	c.hist.Observe(end.Sub(now))
	for j, cmd := range cmds {
		i := idx[j]
		v, err := cmd.Result()
		if err = c.settle(brs[i], end, err); err != nil {
			out[i].Err = err
			continue
		}
		a, _ := v.([]any)
		if len(a) != 1+4*len(run[j].keys) {
			out[i].Err = backed.ReplyError("ERR backing tier: unexpected script reply")
			continue
		}
		out[i].Reply = a[0]
		for k, name := range run[j].keys {
			q := a[1+4*k : 5+4*k]
			c.use.change(tenant, len(name), toInt(q[0]), toInt(q[1]), toInt(q[2]), toInt(q[3]))
		}
	}
	return out
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

// Read implements backed.Backend.
func (c *Cluster) Read(ctx context.Context, tenant string, db int, reqs []backed.ReadReq) []backed.Result {
	out := make([]backed.Result, len(reqs))
	now := time.Now()
	var idx []int
	var brs []*breaker
	var cmdArgs [][]any
	for i, r := range reqs {
		args := make([]any, len(r.Args))
		for j, a := range r.Args {
			args[j] = string(a)
		}
		name := c.name(tenant, db, r.Args[r.KeyPos])
		args[r.KeyPos] = name
		b := c.gate(now, name)
		if b == nil {
			out[i].Err = backed.ErrBackendUnavailable
			continue
		}
		idx = append(idx, i)
		brs = append(brs, b)
		cmdArgs = append(cmdArgs, args)
	}
	if len(idx) == 0 {
		return out
	}
	c.calls.Add(1)
	cmds := make([]*redis.Cmd, len(idx))
	if len(idx) == 1 {
		cmds[0] = c.rdb.Do(ctx, cmdArgs[0]...)
	} else {
		pipe := c.rdb.Pipeline()
		for j := range idx {
			cmds[j] = pipe.Do(ctx, cmdArgs[j]...)
		}
		pipe.Exec(ctx)
	}
	end := time.Now()
	c.hist.Observe(end.Sub(now))
	for j, cmd := range cmds {
		i := idx[j]
		v, err := cmd.Result() // redis.Nil: v is nil, and classify says no error
		if out[i].Err = c.settle(brs[j], end, err); out[i].Err == nil {
			out[i].Reply = v
		}
	}
	return out
}
