package backing

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tcached/tcached/backed"
)

// Transactions (backed.Atomic.Transaction) and WATCH's fingerprints.
//
// A transaction is one script on the slot of all its keys: it compares
// the watched keys' fingerprints (SHA1 of DUMP, and PEXPIRETIME) with
// those read at WATCH and returns false (EXEC's null array) if one moved;
// then it runs each command through redis.pcall between two looks at its
// keys, as execScript runs one, and returns {replies, kinds, sizes}:
// kinds has one letter per command, 's' for a status reply (returned as
// its string), 'e' for an error (its message), 'v' for anything else.
// A nested status or error reply stays what Lua makes of it.

// lookLua, the size measure, is coll.go's: STRLEN for strings, MEMORY
// USAGE ... SAMPLES 5 for the other types.

const fpLua = `
local function fp(k)
  local d = redis.call('DUMP', k)
  if not d then return '-' end
  return redis.sha1hex(d) .. ':' .. redis.call('PEXPIRETIME', k)
end
`

var fpScript = redis.NewScript(fpLua + `
local out = {}
for i = 1, #KEYS do out[i] = fp(KEYS[i]) end
return out
`)

var txScript = redis.NewScript(lookLua + fpLua + `
local nw = tonumber(ARGV[1])
for i = 1, nw do
  if fp(KEYS[i]) ~= ARGV[1+i] then return false end
end
local p = nw + 2
local nc = tonumber(ARGV[p])
p = p + 1
local replies, kinds, sizes = {}, {}, {}
for c = 1, nc do
  local ttl, na, nk = tonumber(ARGV[p]), tonumber(ARGV[p+1]), tonumber(ARGV[p+2])
  p = p + 3
  local args = {}
  for j = 1, na do args[j] = ARGV[p+j-1] end
  p = p + na
  local ks = {}
  for j = 1, nk do ks[j] = KEYS[tonumber(ARGV[p+j-1])] end
  p = p + nk
  local old = looks(ks, 1)
  local r = redis.pcall(unpack(args))
  local kind = 'v'
  if type(r) == 'table' and r.ok then
    kind = 's'
    r = r.ok
  elseif type(r) == 'table' and r.err then
    kind = 'e'
    r = r.err
  end
  replies[c] = r
  kinds[c] = kind
  for j = 1, nk do
    settle(sizes, ks[j], old[2*j-1], old[2*j], ttl)
  end
end
return {replies, table.concat(kinds), sizes}
`)

var _ backed.Atomic = (*Cluster)(nil)

// Fingerprints implements backed.Atomic.
func (c *Cluster) Fingerprints(ctx context.Context, tenant string, keys []backed.Key) ([]string, error) {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = c.name(tenant, k.DB, k.Name)
		if SlotString(names[i]) != SlotString(names[0]) {
			return nil, backed.ErrCrossSlot
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	v, err := c.runOne(ctx, fpScript, names, nil)
	if err != nil {
		return nil, err
	}
	a, _ := v.([]any)
	if len(a) != len(names) {
		return nil, backed.ReplyError("ERR backing tier: unexpected script reply")
	}
	out := make([]string, len(a))
	for i, x := range a {
		out[i], _ = x.(string)
	}
	return out, nil
}

// runOne runs one script call through the breaker of its first key's
// master (of a random master when it has no keys), counted and timed.
func (c *Cluster) runOne(ctx context.Context, s *redis.Script, keys []string, args []any) (any, error) {
	now := time.Now()
	gateName := c.prefix
	if len(keys) > 0 {
		gateName = keys[0]
	}
	b := c.gate(now, gateName)
	if b == nil {
		return nil, backed.ErrBackendUnavailable
	}
	c.calls.Add(1)
	v, err := s.Run(ctx, c.rdb, keys, args...).Result()
	end := time.Now()
	c.hist.Observe(end.Sub(now))
	if err = c.settle(b, end, err); err != nil {
		return nil, err
	}
	return v, nil
}

// Transaction implements backed.Atomic.
func (c *Cluster) Transaction(ctx context.Context, tenant string, quota int64, tx backed.Tx) backed.TxResult {
	var grow int64
	for _, r := range tx.Cmds {
		grow += r.Grow
	}
	if quota > 0 && grow > 0 && c.use.total(tenant)+grow > quota {
		return backed.TxResult{Err: backed.ErrL2OverQuota}
	}
	var keys []string
	index := map[string]int{} // L2 name -> 1-based index in KEYS
	slot := -1
	cross := false
	add := func(name string) int {
		if i, ok := index[name]; ok {
			return i
		}
		s := SlotString(name)
		if slot >= 0 && s != slot {
			cross = true
		}
		slot = s
		keys = append(keys, name)
		index[name] = len(keys)
		return len(keys)
	}
	args := []any{len(tx.Watch)}
	for i, k := range tx.Watch {
		name := c.name(tenant, k.DB, k.Name)
		keys = append(keys, name) // watched keys first: KEYS[i] has ARGV[1+i]
		if s := SlotString(name); slot >= 0 && s != slot {
			cross = true
		} else {
			slot = s
		}
		args = append(args, tx.FPs[i])
	}
	args = append(args, len(tx.Cmds))
	cmdKeys := make([][]string, len(tx.Cmds))
	for ci, r := range tx.Cmds {
		a := make([]any, len(r.Args))
		for j, x := range r.Args {
			a[j] = string(x)
		}
		ids := make([]any, len(r.KeyPos))
		for j, p := range r.KeyPos {
			kdb := r.DB
			if d, ok := r.DstDB[p]; ok {
				kdb = d
			}
			name := c.name(tenant, kdb, r.Args[p])
			a[p] = name
			ids[j] = add(name)
			cmdKeys[ci] = append(cmdKeys[ci], name)
		}
		args = append(args, r.DefaultTTL.Milliseconds(), len(a), len(ids))
		args = append(args, a...)
		args = append(args, ids...)
	}
	if cross {
		return backed.TxResult{Err: backed.ErrCrossSlot}
	}
	v, err := c.runOne(ctx, txScript, keys, args)
	if err != nil {
		return backed.TxResult{Err: err}
	}
	if v == nil {
		return backed.TxResult{Aborted: true}
	}
	a, _ := v.([]any)
	var replies []any
	var kinds string
	var sizes []any
	if len(a) == 3 {
		replies, _ = a[0].([]any)
		kinds, _ = a[1].(string)
		sizes, _ = a[2].([]any)
	}
	if len(replies) != len(tx.Cmds) || len(kinds) != len(tx.Cmds) {
		return backed.TxResult{Err: backed.ReplyError("ERR backing tier: unexpected script reply")}
	}
	out := backed.TxResult{Replies: make([]backed.TxReply, len(tx.Cmds))}
	q := 0
	for ci := range tx.Cmds {
		switch kinds[ci] {
		case 's':
			out.Replies[ci] = backed.TxReply{Reply: replies[ci], Status: true}
		case 'e':
			msg, _ := replies[ci].(string)
			out.Replies[ci] = backed.TxReply{Err: backed.ReplyError(msg)}
		default:
			out.Replies[ci] = backed.TxReply{Reply: replies[ci]}
		}
		for _, name := range cmdKeys[ci] {
			if q+4 > len(sizes) {
				break
			}
			s := sizes[q : q+4]
			c.use.change(tenant, len(name), toInt(s[0]), toInt(s[1]), toInt(s[2]), toInt(s[3]))
			q += 4
		}
	}
	return out
}
