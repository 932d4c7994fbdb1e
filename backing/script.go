package backing

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tcached/tcached/backed"
)

// Scripts (backed.Atomic.Script): a tenant's Lua runs inside a sandbox
// script, generated once from the command allowlist the server derives
// from its command table (SetScriptCommands).
//
// The sandbox compiles the tenant's body with loadstring as a separate
// chunk (no text of the body can reach the wrapper's locals) that starts
// with a header declaring locals named redis, _G, loadstring, load,
// __redis__err__handler, KEYS and ARGV: they shadow those globals for the
// whole text of the chunk, whatever the text does, and the wrapper passes
// its own values (its redis table, a _G holding only the pure libraries,
// nil for the compilers, the unprefixed KEYS and ARGV). Redis 7.0 gives
// scripts no getfenv, setfenv or debug, and its globals are read-only, so
// nothing else reaches the real redis table or the real KEYS. Its redis.call and redis.pcall accept a command only when it is
// on the allowlist, refuse writes to a read-only script, and replace each
// argument at the command's key positions by the namespaced L2 name of a
// key declared in KEYS, refusing any other key; KEYS holds the
// unprefixed names. Every declared key is looked at before and after the
// body (size changes for the L2 quota; a key left without a TTL gets the
// tier's default). The body runs under pcall so that the looks happen
// even when it fails (Redis keeps a failed script's writes).
//
// For FCALL the body is the library's code (shebang dropped): it runs
// with a redis.register_function that records the functions, and then
// the called one runs with (keys, args).

type extras struct {
	mu      sync.Mutex
	sandbox *redis.Script
	relay   func(tenant string, sharded bool, channel, msg []byte)
	nodeID  string
	psCh    string
}

// SetScriptCommands implements backed.Atomic.
func (c *Cluster) SetScriptCommands(cmds []backed.ScriptCommand) {
	var b strings.Builder
	sorted := append([]backed.ScriptCommand(nil), cmds...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	b.WriteString("local SPEC = {\n")
	for _, sc := range sorted {
		fmt.Fprintf(&b, "  [%q] = {%d, %d, %d, %v},\n", sc.Name, sc.First, sc.Last, sc.Step, sc.Write)
	}
	b.WriteString("}\n")
	c.ext.mu.Lock()
	c.ext.sandbox = redis.NewScript(b.String() + sandboxLua)
	c.ext.mu.Unlock()
}

const sandboxLua = lookLua + `
local prefix, body, fname, ro, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4] == '1', tonumber(ARGV[5])
local rcall, rpcall, sub, lower, tostr, typ, sel, unpk = redis.call, redis.pcall, string.sub, string.lower, tostring, type, select, unpack
local err, pc, compile, find = error, pcall, loadstring, string.find
-- The tenant's code is compiled as its own chunk behind this header, on
-- the first line (so its line numbers stay its own): every global that
-- could reach the real redis table or compile code with the real globals
-- is shadowed by a local of the chunk, in scope for all of its text
-- whatever that text does ('end' included).
local HEADER = 'local redis, _G, loadstring, load, __redis__err__handler, KEYS, ARGV = ... '
local np = #prefix
local ukeys, map = {}, {}
for i = 1, #KEYS do
  local u = sub(KEYS[i], np + 1)
  ukeys[i] = u
  map[u] = KEYS[i]
end
local uargv = {}
for i = 6, #ARGV do uargv[i - 5] = ARGV[i] end
local old = looks(KEYS, 1)

local function refuse(msg) err({err = msg}) end
local function check(...)
  local n = sel('#', ...)
  if n == 0 then refuse('ERR Please specify at least one argument for this redis lib call') end
  local a = {...}
  for i = 1, n do
    local t = typ(a[i])
    if t == 'number' then a[i] = tostr(a[i])
    elseif t ~= 'string' then refuse('ERR Lua redis lib command arguments must be strings or integers') end
  end
  local name = lower(a[1])
  local s = SPEC[name]
  if not s then refuse("ERR '" .. name .. "' is not available to scripts when tcached fronts Redis Cluster") end
  if ro and s[4] then refuse('ERR Write commands are not allowed from read-only scripts.') end
  if name == 'copy' then
    for i = 4, n do
      if lower(a[i]) == 'db' then refuse("ERR 'copy' with DB is not available to scripts when tcached fronts Redis Cluster") end
    end
  end
  local last = s[2]
  if last < 0 then last = n + last end
  if last > n - 1 then last = n - 1 end
  for i = s[1], last, s[3] do
    local m = map[a[i+1]]
    if not m then refuse("ERR key '" .. a[i+1] .. "' is not declared in KEYS: a script in tcached's backed mode may only access the keys it declares") end
    a[i+1] = m
  end
  return a, n
end

local fns = {}
local R = {
  call = function(...)
    local a, n = check(...)
    return rcall(unpk(a, 1, n))
  end,
  pcall = function(...)
    local ok, a, n = pc(check, ...)
    if not ok then
      if typ(a) == 'table' then return a end
      return {err = tostr(a)}
    end
    return rpcall(unpk(a, 1, n))
  end,
  sha1hex = redis.sha1hex, error_reply = redis.error_reply, status_reply = redis.status_reply,
  setresp = redis.setresp, log = function() end,
  LOG_DEBUG = redis.LOG_DEBUG, LOG_VERBOSE = redis.LOG_VERBOSE, LOG_NOTICE = redis.LOG_NOTICE, LOG_WARNING = redis.LOG_WARNING,
  REPL_NONE = redis.REPL_NONE, REPL_AOF = redis.REPL_AOF, REPL_SLAVE = redis.REPL_SLAVE, REPL_REPLICA = redis.REPL_REPLICA, REPL_ALL = redis.REPL_ALL,
  set_repl = function() end, replicate_commands = function() return true end,
  breakpoint = function() return false end, debug = function() end,
  REDIS_VERSION = redis.REDIS_VERSION, REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
  register_function = function(a, b)
    if typ(a) == 'table' then fns[a.function_name] = a.callback else fns[a] = b end
  end,
}
local safe = {}
for _, n in ipairs({'string', 'table', 'math', 'cjson', 'cmsgpack', 'bit', 'struct', 'tostring', 'tonumber',
    'type', 'pairs', 'ipairs', 'next', 'select', 'unpack', 'error', 'assert', 'pcall', 'xpcall',
    'rawequal', 'rawget', 'rawset', 'setmetatable', 'getmetatable', 'coroutine', '_VERSION'}) do
  safe[n] = _G[n]
end
safe.redis = R
local chunk
if fname == '' then
  safe.KEYS, safe.ARGV = ukeys, uargv
  chunk = HEADER .. 'return function() ' .. body .. '\nend'
else
  chunk = HEADER .. body
end

local kind, res = 'v', nil
local f, cerr = compile(chunk, '@user_script')
if not f then
  kind, res = 'e', 'ERR Error compiling script (new function): ' .. tostr(cerr)
else
  local ok, r
  if fname == '' then
    ok, r = pc(f, R, safe, nil, nil, nil, ukeys, uargv)
    if ok then ok, r = pc(r) end
  else
    ok, r = pc(f, R, safe, nil, nil, nil, nil, nil)
    if ok then
      local fn = fns[fname]
      if typ(fn) ~= 'function' then
        ok, r = false, {err = 'ERR Function not found'}
      else
        ok, r = pc(fn, ukeys, uargv)
      end
    end
  end
  if not ok then
    kind = 'e'
    -- Redis 7's pcall hands over an error reply's message (a string
    -- starting with its code); a Lua error is 'user_script:<line>: ...'.
    if typ(r) == 'table' and r.err then res = tostr(r.err) else res = tostr(r) end
    if not find(res, '^[A-Z]+ ') then res = 'ERR ' .. res end
  elseif typ(r) == 'table' and r.ok then
    kind, res = 's', r.ok
  elseif typ(r) == 'table' and r.err then
    kind, res = 'e', r.err
  elseif r == nil then
    kind, res = 'n', false
  else
    res = r
  end
end
local sizes = {}
for i = 1, #KEYS do
  settle(sizes, KEYS[i], old[2*i-1], old[2*i], ttl)
end
return {kind, res, sizes}
`

// stripShebang drops a "#!lua ..." first line (EVAL flags, a library's
// name), which loadstring would not accept, keeping the line count.
func stripShebang(body string) string {
	if strings.HasPrefix(body, "#!") {
		if i := strings.IndexByte(body, '\n'); i >= 0 {
			return body[i:]
		}
		return ""
	}
	return body
}

// Script implements backed.Atomic.
func (c *Cluster) Script(ctx context.Context, tenant string, quota int64, s backed.ScriptReq) backed.TxReply {
	c.ext.mu.Lock()
	sb := c.ext.sandbox
	c.ext.mu.Unlock()
	if sb == nil {
		c.SetScriptCommands(nil)
		c.ext.mu.Lock()
		sb = c.ext.sandbox
		c.ext.mu.Unlock()
	}
	if quota > 0 && s.Grow > 0 && c.use.total(tenant)+s.Grow > quota {
		return backed.TxReply{Err: backed.ErrL2OverQuota}
	}
	keys := make([]string, len(s.Keys))
	for i, k := range s.Keys {
		keys[i] = c.name(tenant, s.DB, k)
		if SlotString(keys[i]) != SlotString(keys[0]) {
			return backed.TxReply{Err: backed.ErrCrossSlot}
		}
	}
	ro := "0"
	if s.ReadOnly {
		ro = "1"
	}
	args := make([]any, 0, 5+len(s.Args))
	args = append(args, c.name(tenant, s.DB, nil), stripShebang(s.Body), s.Function, ro, s.DefaultTTL)
	for _, a := range s.Args {
		args = append(args, string(a))
	}
	// A script without keys runs on the master of the tenant's own name
	// (the cluster client would pick any node), so that a script past its
	// timeout can be killed where it runs.
	route := c.prefix + tenant
	if len(keys) > 0 {
		route = keys[0]
	}
	var v any
	var err error
	if len(keys) == 0 {
		if n, e := c.rdb.MasterForKey(ctx, route); e == nil {
			v, err = c.runOn(ctx, n, sb, route, nil, args)
		} else {
			v, err = c.runOne(ctx, sb, nil, args)
		}
	} else {
		v, err = c.runOne(ctx, sb, keys, args)
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			c.killScript(route)
		}
		return backed.TxReply{Err: err}
	}
	a, _ := v.([]any)
	if len(a) < 2 {
		return backed.TxReply{Err: backed.ReplyError("ERR backing tier: unexpected script reply")}
	}
	if len(a) == 3 {
		if sizes, _ := a[2].([]any); len(sizes) == 4*len(keys) {
			for i, name := range keys {
				q := sizes[4*i : 4*i+4]
				c.use.change(tenant, len(name), toInt(q[0]), toInt(q[1]), toInt(q[2]), toInt(q[3]))
			}
		}
	}
	kind, _ := a[0].(string)
	switch kind {
	case "s":
		return backed.TxReply{Reply: a[1], Status: true}
	case "e":
		msg, _ := a[1].(string)
		return backed.TxReply{Err: backed.ReplyError(msg)}
	case "n":
		return backed.TxReply{}
	}
	return backed.TxReply{Reply: a[1]}
}

// runOn is runOne on one node's client.
func (c *Cluster) runOn(ctx context.Context, n *redis.Client, s *redis.Script, gateName string, keys []string, args []any) (any, error) {
	now := time.Now()
	b := c.gate(now, gateName)
	if b == nil {
		return nil, backed.ErrBackendUnavailable
	}
	c.calls.Add(1)
	v, err := s.Run(ctx, n, keys, args...).Result()
	end := time.Now()
	c.hist.Observe(end.Sub(now))
	if err = c.settle(b, end, err); err != nil {
		return nil, err
	}
	return v, nil
}

// killScript sends SCRIPT KILL to the master of route's slot, in the
// background, after a tenant's script outlived its tier timeout: Redis
// handles it once the script passes busy-reply-threshold (5s by
// default), and refuses it (UNKILLABLE) if the script has written, which
// only SHUTDOWN NOSAVE on that master can then stop (README, backed mode).
func (c *Cluster) killScript(route string) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		go func() {
			select {
			case <-c.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		m, err := c.rdb.MasterForKey(ctx, route)
		if err != nil {
			c.log.Warn("backing: no master to kill a tenant's script on", "err", err)
			return
		}
		// A plain client: the cluster client's connections start with
		// CLIENT SETNAME, which a busy master refuses.
		n := c.node(m.Options().Addr)
		for ctx.Err() == nil {
			err := n.ScriptKill(ctx).Err()
			if err == nil || !strings.HasPrefix(err.Error(), "BUSY") && !isTimeout(err) {
				if err != nil {
					c.log.Warn("backing: a tenant's script outlived its timeout and could not be killed", "err", err)
				}
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
}
