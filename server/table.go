package server

import "sort"

type cmdFlags uint16

const (
	flagWrite    cmdFlags = 1 << iota // changes the keyspace: refused to readonly users
	flagRead                          // reads the keyspace
	flagAdmin                         // needs the admin role (FLUSHDB, FLUSHALL)
	flagNoAuth                        // allowed before AUTH
	flagDenyOOM                       // may grow memory
	flagFast                          // O(1) or O(log n)
	flagTx                            // transaction control: never queued inside MULTI
	flagOperator                      // runs on an operator connection (bound to no tenant)
	flagExec                          // EXEC: takes its tenant's txMu exclusively itself
)

var flagNames = []struct {
	f    cmdFlags
	name string
}{
	{flagWrite, "write"}, {flagRead, "readonly"}, {flagAdmin, "admin"},
	{flagNoAuth, "no_auth"}, {flagDenyOOM, "denyoom"}, {flagFast, "fast"},
}

// command is one row of the command table: every property of a command is
// declared here once and dispatch, permissions and COMMAND derive from it.
type command struct {
	name     string // lower case; subcommands use Redis's "parent|sub"
	arity    int    // Redis convention: n exact, -n at least n (name included)
	flags    cmdFlags
	firstKey int // key positions for COMMAND (and namespace rewriting)
	lastKey  int
	step     int
	handler  func(c *client, args [][]byte)
	subs     map[string]*command // container commands (CLIENT, CONFIG, ...)
	// miss answers the command as if its keys were missing, for tenants
	// with shed_reads_as_miss whose read is shed under overload (nil:
	// shedding answers an error).
	miss func(c *client, args [][]byte)
}

func missNull(c *client, args [][]byte)   { c.conn.WriteNull() }
func missZero(c *client, args [][]byte)   { c.conn.WriteInt(0) }
func missEmpty(c *client, args [][]byte)  { c.conn.WriteBulkString("") }
func missNone(c *client, args [][]byte)   { c.conn.WriteString("none") }
func missAbsent(c *client, args [][]byte) { c.conn.WriteInt(-2) }
func missNulls(c *client, args [][]byte) {
	c.conn.WriteArray(len(args) - 1)
	for range args[1:] {
		c.conn.WriteNull()
	}
}

func (c *command) fullName() string { return c.name }

func (c *command) flagNames() []string {
	var out []string
	for _, fn := range flagNames {
		if c.flags&fn.f != 0 {
			out = append(out, fn.name)
		}
	}
	return out
}

func (c *command) aclCategories() []string {
	var out []string
	switch {
	case c.flags&flagWrite != 0:
		out = append(out, "@write")
	case c.flags&flagRead != 0:
		out = append(out, "@read")
	}
	if c.flags&flagAdmin != 0 {
		out = append(out, "@dangerous")
	}
	if c.flags&flagFast != 0 {
		out = append(out, "@fast")
	} else {
		out = append(out, "@slow")
	}
	if c.firstKey > 0 {
		out = append(out, "@keyspace")
	}
	return out
}

func (c *command) sortedSubs() []*command {
	out := make([]*command, 0, len(c.subs))
	for _, s := range c.subs {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// key shapes: one key at 1, all args keys, key/value pairs, two keys.
const (
	wr  = flagWrite | flagDenyOOM
	rdf = flagRead | flagFast
)

func (s *Server) buildTable() {
	k1 := [3]int{1, 1, 1}
	kAll := [3]int{1, -1, 1}
	kPairs := [3]int{1, -1, 2}
	k12 := [3]int{1, 2, 1}
	none := [3]int{0, 0, 0}
	row := func(name string, arity int, flags cmdFlags, keys [3]int, h func(*client, [][]byte)) *command {
		return &command{name: name, arity: arity, flags: flags, firstKey: keys[0], lastKey: keys[1], step: keys[2], handler: h}
	}
	container := func(name string, arity int, flags cmdFlags, subs ...*command) *command {
		c := row(name, arity, flags, none, nil)
		c.subs = make(map[string]*command, len(subs))
		for _, sc := range subs {
			short := sc.name
			sc.name = name + "|" + sc.name
			c.subs[short] = sc
		}
		return c
	}
	rows := []*command{
		// connection
		row("auth", -2, flagNoAuth|flagFast, none, cmdAuth),
		row("hello", -1, flagNoAuth|flagFast, none, cmdHello),
		row("ping", -1, flagFast|flagOperator, none, cmdPing),
		row("echo", 2, flagFast|flagOperator, none, cmdEcho),
		row("quit", -1, flagNoAuth|flagFast|flagTx, none, cmdQuit),
		row("reset", 1, flagNoAuth|flagFast|flagTx, none, cmdResetTx),
		row("multi", 1, flagFast|flagTx, none, cmdMulti),
		row("exec", 1, flagTx|flagExec, none, cmdExec),
		row("discard", 1, flagFast|flagTx, none, cmdDiscard),
		row("watch", -2, flagFast|flagTx, kAll, cmdWatch),
		row("unwatch", 1, flagFast, none, cmdUnwatch),
		row("select", 2, flagFast, none, cmdSelect),
		container("client", -2, 0,
			row("id", 2, flagFast|flagOperator, none, cmdClientID),
			row("setname", 3, flagFast|flagOperator, none, cmdClientSetName),
			row("getname", 2, flagFast|flagOperator, none, cmdClientGetName),
			row("setinfo", 4, flagFast|flagOperator, none, cmdClientSetInfo),
			row("info", 2, flagOperator, none, cmdClientInfo),
			row("list", -2, 0, none, cmdClientList),
			row("help", 2, flagOperator, none, cmdClientHelp),
			row("kill", -3, 0, none, cmdClientKill),
			row("no-evict", 3, flagFast, none, cmdOK),
			row("no-touch", 3, flagFast, none, cmdOK),
			row("pause", -3, 0, none, cmdRefused),
			row("unpause", 2, 0, none, cmdRefused),
		),
		container("command", -1, flagOperator,
			row("count", 2, flagOperator, none, cmdCommandCount),
			row("info", -2, flagOperator, none, cmdCommandInfo),
			row("docs", -2, flagOperator, none, cmdCommandDocs),
			row("list", -2, flagOperator, none, cmdCommandList),
			row("help", 2, flagOperator, none, cmdCommandHelp),
		),
		container("tenant", -2, flagOperator,
			row("list", 2, flagOperator, none, cmdTenantList),
			row("info", 3, flagOperator, none, cmdTenantInfo),
			row("flush", 3, flagOperator|flagWrite, none, cmdTenantFlush),
			row("quota", 4, flagOperator, none, cmdTenantQuota),
			row("reload", 2, flagOperator, none, cmdTenantReload),
			row("help", 2, flagOperator, none, cmdTenantHelp),
		),
		// strings
		row("get", 2, rdf, k1, cmdGet),
		row("set", -3, wr, k1, cmdSet),
		row("setnx", 3, wr|flagFast, k1, cmdSetNX),
		row("setex", 4, wr, k1, cmdSetEX),
		row("psetex", 4, wr, k1, cmdSetEX),
		row("mget", -2, rdf, kAll, cmdMGet),
		row("mset", -3, wr, kPairs, cmdMSet),
		row("msetnx", -3, wr, kPairs, cmdMSetNX),
		row("getset", 3, wr|flagFast, k1, cmdGetSet),
		row("getdel", 2, flagWrite|flagFast, k1, cmdGetDel),
		row("getex", -2, flagWrite|flagFast, k1, cmdGetEx),
		row("incr", 2, wr|flagFast, k1, cmdIncr),
		row("incrby", 3, wr|flagFast, k1, cmdIncrBy),
		row("decr", 2, wr|flagFast, k1, cmdDecr),
		row("decrby", 3, wr|flagFast, k1, cmdDecrBy),
		row("incrbyfloat", 3, wr|flagFast, k1, cmdIncrByFloat),
		row("append", 3, wr|flagFast, k1, cmdAppend),
		row("strlen", 2, rdf, k1, cmdStrlen),
		row("getrange", 4, flagRead, k1, cmdGetRange),
		row("setrange", 4, wr, k1, cmdSetRange),
		// hashes (cmd_hash.go)
		row("hset", -4, wr|flagFast, k1, cmdHSet),
		row("hsetnx", 4, wr|flagFast, k1, cmdHSetNX),
		row("hmset", -4, wr|flagFast, k1, cmdHMSet),
		withMiss(row("hget", 3, rdf, k1, cmdHGet), missNull),
		withMiss(row("hmget", -3, rdf, k1, cmdHMGet), missHMGet),
		withMiss(row("hgetall", 2, flagRead, k1, cmdHGetAll), missEmptyMap),
		row("hdel", -3, flagWrite|flagFast, k1, cmdHDel),
		withMiss(row("hexists", 3, rdf, k1, cmdHExists), missZero),
		withMiss(row("hlen", 2, rdf, k1, cmdHLen), missZero),
		withMiss(row("hkeys", 2, flagRead, k1, cmdHKeys), missEmptyArray),
		withMiss(row("hvals", 2, flagRead, k1, cmdHVals), missEmptyArray),
		row("hincrby", 4, wr|flagFast, k1, cmdHIncrBy),
		row("hincrbyfloat", 4, wr|flagFast, k1, cmdHIncrByFloat),
		withMiss(row("hstrlen", 3, rdf, k1, cmdHStrlen), missZero),
		withMiss(row("hscan", -3, flagRead, k1, cmdHScan), missEmptyScan),
		withMiss(row("hrandfield", -2, flagRead, k1, cmdHRandField), missHRandField),
		// lists (cmd_list.go)
		row("lpush", -3, wr|flagFast, k1, cmdLPush),
		row("rpush", -3, wr|flagFast, k1, cmdRPush),
		row("lpushx", -3, wr|flagFast, k1, cmdLPushX),
		row("rpushx", -3, wr|flagFast, k1, cmdRPushX),
		row("lpop", -2, flagWrite|flagFast, k1, cmdLPop),
		row("rpop", -2, flagWrite|flagFast, k1, cmdRPop),
		withMiss(row("llen", 2, rdf, k1, cmdLLen), missZero),
		withMiss(row("lrange", 4, flagRead, k1, cmdLRange), missEmptyArray),
		withMiss(row("lindex", 3, flagRead, k1, cmdLIndex), missNull),
		row("lset", 4, wr, k1, cmdLSet),
		row("lrem", 4, flagWrite, k1, cmdLRem),
		row("ltrim", 4, flagWrite, k1, cmdLTrim),
		row("linsert", 5, wr, k1, cmdLInsert),
		withMiss(row("lpos", -3, flagRead, k1, cmdLPos), missLPos),
		row("lmove", 5, wr, k12, cmdLMove),
		row("blpop", -3, flagWrite, [3]int{1, -2, 1}, cmdBLPop),
		row("brpop", -3, flagWrite, [3]int{1, -2, 1}, cmdBRPop),
		row("blmove", 6, wr, k12, cmdBLMove),
		// sets (cmd_set.go)
		row("sadd", -3, wr|flagFast, k1, cmdSAdd),
		row("srem", -3, flagWrite|flagFast, k1, cmdSRem),
		withMiss(row("smembers", 2, flagRead, k1, cmdSMembers), missSEmptySet),
		withMiss(row("sismember", 3, rdf, k1, cmdSIsMember), missZero),
		withMiss(row("smismember", -3, rdf, k1, cmdSMIsMember), missSMIsMember),
		withMiss(row("scard", 2, rdf, k1, cmdSCard), missZero),
		row("spop", -2, flagWrite|flagFast, k1, cmdSPop),
		withMiss(row("srandmember", -2, flagRead, k1, cmdSRandMember), missHRandField),
		withMiss(row("sinter", -2, flagRead, kAll, cmdSInter), missSEmptySet),
		withMiss(row("sunion", -2, flagRead, kAll, cmdSUnion), missSEmptySet),
		withMiss(row("sdiff", -2, flagRead, kAll, cmdSDiff), missSEmptySet),
		row("sinterstore", -3, wr, kAll, cmdSInterStore),
		row("sunionstore", -3, wr, kAll, cmdSUnionStore),
		row("sdiffstore", -3, wr, kAll, cmdSDiffStore),
		withMiss(row("sscan", -3, flagRead, k1, cmdSScan), missEmptyScan),
		row("smove", 4, flagWrite|flagFast, k12, cmdSMove),
		// keys
		row("del", -2, flagWrite, kAll, cmdDel),
		row("unlink", -2, flagWrite|flagFast, kAll, cmdDel),
		row("exists", -2, rdf, kAll, cmdExists),
		row("expire", -3, flagWrite|flagFast, k1, cmdExpire),
		row("pexpire", -3, flagWrite|flagFast, k1, cmdPExpire),
		row("expireat", -3, flagWrite|flagFast, k1, cmdExpireAt),
		row("pexpireat", -3, flagWrite|flagFast, k1, cmdPExpireAt),
		row("expiretime", 2, rdf, k1, cmdExpireTime),
		row("pexpiretime", 2, rdf, k1, cmdPExpireTime),
		row("ttl", 2, rdf, k1, cmdTTL),
		row("pttl", 2, rdf, k1, cmdPTTL),
		row("persist", 2, flagWrite|flagFast, k1, cmdPersist),
		row("type", 2, rdf, k1, cmdType),
		row("rename", 3, flagWrite, k12, cmdRename),
		row("renamenx", 3, flagWrite|flagFast, k12, cmdRenameNX),
		row("copy", -3, wr, k12, cmdCopy),
		row("keys", 2, flagRead, none, cmdKeys),
		row("scan", -2, flagRead, none, cmdScan),
		row("randomkey", 1, flagRead, none, cmdRandomKey),
		row("touch", -2, rdf, kAll, cmdTouch),
		// sorted sets (cmd_zset.go)
		row("zadd", -4, wr|flagFast, k1, cmdZAdd),
		row("zincrby", 4, wr|flagFast, k1, cmdZIncrBy),
		row("zrem", -3, flagWrite|flagFast, k1, cmdZRem),
		withMiss(row("zscore", 3, rdf, k1, cmdZScore), missNull),
		withMiss(row("zmscore", -3, rdf, k1, cmdZMScore), missZMScore),
		withMiss(row("zcard", 2, rdf, k1, cmdZCard), missZero),
		withMiss(row("zcount", 4, rdf, k1, cmdZCount), missZero),
		withMiss(row("zrange", -4, flagRead, k1, cmdZRange), missEmptyArray),
		withMiss(row("zrangebyscore", -4, flagRead, k1, cmdZRangeByScore), missEmptyArray),
		withMiss(row("zrevrange", -4, flagRead, k1, cmdZRevRange), missEmptyArray),
		withMiss(row("zrank", 3, rdf, k1, cmdZRank), missNull),
		withMiss(row("zrevrank", 3, rdf, k1, cmdZRevRank), missNull),
		row("zpopmin", -2, flagWrite|flagFast, k1, cmdZPopMin),
		row("zpopmax", -2, flagWrite|flagFast, k1, cmdZPopMax),
		row("zremrangebyscore", 4, flagWrite, k1, cmdZRemRangeByScore),
		row("zremrangebyrank", 4, flagWrite, k1, cmdZRemRangeByRank),
		withMiss(row("zscan", -3, flagRead, k1, cmdZScan), missEmptyScan),
		// server
		row("dbsize", 1, rdf, none, cmdDBSize),
		row("flushdb", -1, flagWrite|flagAdmin, none, cmdFlushDB),
		row("flushall", -1, flagWrite|flagAdmin, none, cmdFlushAll),
		row("info", -1, flagOperator, none, cmdInfo),
		row("time", 1, flagFast|flagOperator, none, cmdTime),
		container("config", -2, 0,
			row("get", -3, 0, none, cmdConfigGet),
			row("set", -4, 0, none, cmdConfigSet),
			row("rewrite", 2, 0, none, cmdRefused),
			row("resetstat", 2, 0, none, cmdRefused),
			row("help", 2, 0, none, cmdConfigHelp),
		),
		container("memory", -2, 0,
			row("usage", -3, flagRead, [3]int{2, 2, 1}, cmdMemoryUsage),
			row("help", 2, 0, none, cmdMemoryHelp),
		),
		// The privileged surface (cmd_admin.go): scoped or refused.
		row("move", 3, flagWrite|flagFast, k1, cmdMove),
		container("object", -2, 0,
			row("encoding", 3, flagRead, [3]int{2, 2, 1}, cmdObjectEncoding),
			row("refcount", 3, flagRead, [3]int{2, 2, 1}, cmdObjectRefcount),
			row("idletime", 3, flagRead, [3]int{2, 2, 1}, cmdRefused),
			row("freq", 3, flagRead, [3]int{2, 2, 1}, cmdRefused),
			row("help", 2, 0, none, cmdObjectHelp),
		),
		row("sort", -2, wr, k1, cmdSort),
		row("sort_ro", -2, flagRead, k1, cmdSort),
		row("debug", -2, 0, none, cmdDebug),
		row("acl", -2, 0, none, cmdACL),
		row("script", -2, 0, none, flushNoop("script")),
		row("function", -2, 0, none, flushNoop("function")),
		row("cluster", -2, 0, none, cmdCluster),
		row("shutdown", -1, 0, none, cmdRefused),
		row("monitor", 1, 0, none, cmdRefused),
		row("save", 1, 0, none, cmdRefused),
		row("bgsave", -1, 0, none, cmdRefused),
		row("bgrewriteaof", 1, 0, none, cmdRefused),
		row("replicaof", 3, 0, none, cmdRefused),
		row("slaveof", 3, 0, none, cmdRefused),
		row("sync", 1, 0, none, cmdRefused),
		row("psync", -3, 0, none, cmdRefused),
		row("failover", -1, 0, none, cmdRefused),
		row("migrate", -6, 0, none, cmdRefused),
		row("swapdb", 3, 0, none, cmdRefused),
		row("module", -2, 0, none, cmdRefused),
		row("slowlog", -2, 0, none, cmdRefused),
		row("latency", -2, 0, none, cmdRefused),
		row("eval", -3, 0, none, cmdRefused),
		row("evalsha", -3, 0, none, cmdRefused),
		row("eval_ro", -3, 0, none, cmdRefused),
		row("evalsha_ro", -3, 0, none, cmdRefused),
		row("fcall", -3, 0, none, cmdRefused),
		row("fcall_ro", -3, 0, none, cmdRefused),
		// pub/sub (pubsub.go): channels live in the tenant's namespace
		row("subscribe", -2, 0, none, cmdSubscribe),
		row("unsubscribe", -1, 0, none, cmdUnsubscribe),
		row("psubscribe", -2, 0, none, cmdPSubscribe),
		row("punsubscribe", -1, 0, none, cmdPUnsubscribe),
		row("publish", 3, flagWrite|flagFast, none, cmdPublish),
		container("pubsub", -2, 0,
			row("channels", -2, 0, none, cmdPubsubChannels),
			row("numsub", -2, 0, none, cmdPubsubNumsub),
			row("numpat", 2, 0, none, cmdPubsubNumpat),
			row("help", 2, 0, none, cmdPubsubHelp),
		),
	}
	for name, miss := range map[string]func(*client, [][]byte){
		"get": missNull, "mget": missNulls, "exists": missZero, "strlen": missZero, "getrange": missEmpty,
		"ttl": missAbsent, "pttl": missAbsent, "expiretime": missAbsent, "pexpiretime": missAbsent,
		"type": missNone, "touch": missZero,
	} {
		for _, r := range rows {
			if r.name == name {
				r.miss = miss
			}
		}
	}
	if s.backend != nil {
		s.applyBacked(rows)
	}
	s.table = make(map[string]*command, len(rows))
	for _, r := range rows {
		if r.handler == nil && r.subs != nil {
			// A container called without a subcommand (COMMAND) uses its
			// own handler when it has one; others fail arity first.
			switch r.name {
			case "command":
				r.handler = cmdCommand
			}
		}
		s.table[r.name] = r
		s.ordered = append(s.ordered, r)
	}
	sort.Slice(s.ordered, func(i, j int) bool { return s.ordered[i].name < s.ordered[j].name })
}
