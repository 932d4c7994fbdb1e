package server

import (
	"sort"
	"strconv"
	"strings"

	"github.com/tcached/tcached/config"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

// The privileged surface of Redis, decided command by command. Each is
// either refused (NOPERM, with Redis's ACL wording, so clients and
// operators recognise it) or scoped to the caller's tenant. Harmless
// no-op answers keep Redis's own test harness runnable (it sends FUNCTION
// FLUSH, CONFIG SET of encoding knobs and DEBUG LOG).

// cmdRefused answers NOPERM: the command exists in Redis but would reach
// beyond the caller's tenant (SHUTDOWN, MONITOR, SAVE, REPLICAOF, MIGRATE,
// SWAPDB, scripting, ...).
func cmdRefused(c *client, args [][]byte) {
	name := strings.ToLower(string(args[0]))
	if cmd := c.lastCmd.Load(); cmd != nil {
		name = cmd.name
	}
	c.conn.WriteError(errNoPerm(name))
}

func cmdOK(c *client, args [][]byte) { c.conn.WriteString("OK") }

// harmlessConfig lists CONFIG SET parameters that only tune Redis's
// internal encodings or background work: accepted and ignored, because
// they cannot change what a tenant observes or reaches.
func harmlessConfig(name string) bool {
	name = strings.ToLower(name)
	switch {
	case strings.Contains(name, "-max-") && (strings.HasSuffix(name, "-entries") || strings.HasSuffix(name, "-value") || strings.HasSuffix(name, "-size") || strings.HasSuffix(name, "-bytes")),
		strings.HasPrefix(name, "list-compress-depth"),
		strings.HasPrefix(name, "lazyfree-"),
		name == "activerehashing", name == "active-expire-effort", name == "hz",
		strings.HasPrefix(name, "lfu-"), name == "latency-tracking", name == "slowlog-log-slower-than":
		return true
	}
	return false
}

// cmdConfigSet accepts only encoding/housekeeping knobs (as no-ops);
// anything that would change the shared server is refused.
func cmdConfigSet(c *client, args [][]byte) {
	if len(args)%2 != 0 {
		c.conn.WriteError(errWrongArgs("config|set"))
		return
	}
	for i := 2; i < len(args); i += 2 {
		if !harmlessConfig(string(args[i])) {
			c.conn.WriteError("NOPERM CONFIG SET of '" + string(args[i]) + "' is not available to tenants: the operator's config file sets it")
			return
		}
	}
	c.conn.WriteString("OK")
}

// cmdDebug: DEBUG LOG and DEBUG SET-ACTIVE-EXPIRE are accepted as no-ops;
// every other DEBUG subcommand (SEGFAULT, RELOAD, SLEEP, ...) is refused.
func cmdDebug(c *client, args [][]byte) {
	if eqFold(args[1], "log") || eqFold(args[1], "set-active-expire") {
		c.conn.WriteString("OK")
		return
	}
	c.conn.WriteError(errNoPerm("debug"))
}

// cmdACLWhoami is the one ACL subcommand a tenant may run: it names itself.
func cmdACLWhoami(c *client, args [][]byte) { c.conn.WriteBulkString(c.user) }

// cmdMove: MOVE key db, within the caller's tenant (its 16 dbs).
func cmdMove(c *client, args [][]byte) {
	db, ok := parseInt(args[2])
	if !ok {
		c.conn.WriteError(errNotInteger)
		return
	}
	if db < 0 || db >= numDBs {
		c.conn.WriteError(errDBRange)
		return
	}
	if int(db) == c.db {
		c.conn.WriteError(errSameObject)
		return
	}
	keys := []shard.Key{{DB: c.db, Name: args[1]}, {DB: int(db), Name: args[1]}}
	moved, isList := false, false
	err := c.part().Apply(keys, func(cur []shard.Entry, exists []bool) ([]shard.Entry, []shard.Action, error) {
		moved = exists[0] && !exists[1]
		if !moved {
			return cur, []shard.Action{shard.Keep, shard.Keep}, nil
		}
		isList = cur[0].Type == shard.TypeList
		return []shard.Entry{{}, cur[0]}, []shard.Action{shard.Delete, shard.Put}, nil
	})
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	listSignalDB(c, int(db), args[1], moved && isList) // blocked clients of the destination db
	c.conn.WriteInt(b2i(moved))
}

// cmdObjectEncoding reports the encoding Redis would use for a string, and
// "listpack" for a hash (tcached's hash encoding is a listpack-like
// serialized buffer at every size; see value/hash.go).
func cmdObjectEncoding(c *client, args [][]byte) {
	enc := ""
	c.part().View(c.db, args[2], 0, func(e shard.Entry) {
		// Collections are serialized buffers at every size (value/hash.go);
		// the names are Redis 7.0's for the closest encoding.
		switch e.Type {
		case shard.TypeHash, shard.TypeZSet:
			enc = "listpack"
			return
		case shard.TypeList:
			enc = "quicklist"
			return
		case shard.TypeSet:
			enc = "hashtable"
			return
		}
		switch _, isInt := parseInt(e.Value); {
		case isInt:
			enc = "int"
		case len(e.Value) <= 44:
			enc = "embstr"
		default:
			enc = "raw"
		}
	})
	if enc == "" {
		c.conn.WriteNull()
		return
	}
	c.conn.WriteBulkString(enc)
}

func cmdObjectRefcount(c *client, args [][]byte) {
	if !c.part().View(c.db, args[2], 0, func(shard.Entry) {}) {
		c.conn.WriteNull()
		return
	}
	c.conn.WriteInt(1)
}

func cmdObjectHelp(c *client, args [][]byte) {
	writeHelp(c, "OBJECT", []string{
		"ENCODING <key>", "    Return the kind of internal representation used in order to store the value associated with a <key>.",
		"REFCOUNT <key>", "    Return the number of references of the value associated with the specified <key>.",
	})
}

// cmdSort: SORT key [BY pattern] [LIMIT offset count] [GET pattern ...]
// [ASC|DESC] [ALPHA] [STORE destination], for lists, sets and sorted sets
// (their elements; a sorted set's members, not its scores), as Redis does.
// BY and GET patterns are refused: they read keys the command does not
// declare. Numeric sorting needs every element to parse as a double.
func cmdSort(c *client, args [][]byte) {
	var store []byte
	desc, alpha := false, false
	offset, count := int64(0), int64(-1)
	for i := 2; i < len(args); i++ {
		a := args[i]
		switch {
		case eqFold(a, "by") || eqFold(a, "get"):
			c.conn.WriteError("NOPERM SORT BY and GET patterns are not available: they read keys outside the command's declared keys")
			return
		case eqFold(a, "asc"):
			desc = false
		case eqFold(a, "desc"):
			desc = true
		case eqFold(a, "alpha"):
			alpha = true
		case eqFold(a, "limit") && i+2 < len(args):
			o, ok1 := parseInt(args[i+1])
			n, ok2 := parseInt(args[i+2])
			if !ok1 || !ok2 {
				c.conn.WriteError(errNotInteger)
				return
			}
			offset, count = o, n
			i += 2
		case eqFold(a, "store") && i+1 < len(args) && eqFold(args[0], "sort"):
			store = args[i+1]
			i++
		default:
			c.conn.WriteError(errSyntax)
			return
		}
	}
	// Only the encoding is copied under the sub-shard lock; decoding,
	// parsing and sorting run after it, with checkpoints (fair.go, "Long
	// commands"): a SORT of a million elements is charged and paced as it
	// runs.
	var enc []byte
	var typ shard.Type
	found := c.part().View(c.db, args[1], 0, func(e shard.Entry) {
		switch typ = e.Type; typ {
		case shard.TypeList, shard.TypeSet, shard.TypeZSet:
			enc = append([]byte(nil), e.Value...)
		}
	})
	var elems [][]byte // slices of enc
	add := func(x []byte) {
		if elems = append(elems, x); len(elems)&replyYieldEvery == 0 {
			c.yield()
		}
	}
	switch {
	case !found: // no elements
	case typ == shard.TypeList:
		it := value.ListElems(enc)
		for x, ok := it.Next(); ok; x, ok = it.Next() {
			add(x)
		}
	case typ == shard.TypeSet:
		it := value.SetMembers(enc)
		for x, ok := it.Next(); ok; x, ok = it.Next() {
			add(x)
		}
	case typ == shard.TypeZSet:
		it := value.ZSetMembers(enc)
		for z, ok := it.Next(); ok; z, ok = it.Next() {
			add(z.Member)
		}
	default:
		c.conn.WriteError(errWrongType)
		return
	}
	compares := 0
	tick := func() {
		if compares++; compares&4095 == 0 {
			c.yield()
		}
	}
	if alpha {
		sort.SliceStable(elems, func(i, j int) bool { tick(); return string(elems[i]) < string(elems[j]) })
	} else {
		nums := make([]float64, len(elems))
		for i, e := range elems {
			// strtod as Redis calls it: leading spaces are fine, anything
			// left over, an overflow or NaN is not.
			f, err := strconv.ParseFloat(strings.TrimLeft(string(e), " \t\n\v\f\r"), 64)
			if err != nil || f != f {
				c.conn.WriteError("ERR One or more scores can't be converted into double")
				return
			}
			nums[i] = f
			if i&replyYieldEvery == replyYieldEvery {
				c.yield()
			}
		}
		idx := make([]int, len(elems))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool {
			tick()
			if nums[idx[a]] != nums[idx[b]] {
				return nums[idx[a]] < nums[idx[b]]
			}
			return string(elems[idx[a]]) < string(elems[idx[b]])
		})
		sorted := make([][]byte, len(elems))
		for i, k := range idx {
			sorted[i] = elems[k]
		}
		elems = sorted
	}
	if desc {
		for i, j := 0, len(elems)-1; i < j; i, j = i+1, j-1 {
			elems[i], elems[j] = elems[j], elems[i]
		}
	}
	// LIMIT as Redis clamps it: a negative offset is 0, a negative count
	// means to the end.
	n := int64(len(elems))
	if offset < 0 {
		offset = 0
	}
	if offset > n {
		offset = n
	}
	end := n
	if count >= 0 && offset+count < n {
		end = offset + count
	}
	elems = elems[offset:end]
	if store != nil {
		if c.role == config.RoleReadOnly {
			c.conn.WriteError(errNoPerm("sort"))
			return
		}
		if len(elems) == 0 {
			c.part().Delete(c.db, store)
			c.conn.WriteInt(0)
			return
		}
		buf := value.ListAppendHeader(nil, len(elems))
		for i, e := range elems {
			buf = value.ListAppendElem(buf, e)
			if i&replyYieldEvery == replyYieldEvery {
				c.yield()
			}
		}
		now := c.nowMs()
		err := c.part().Mutate(c.db, store, func(cur shard.Entry, exists bool) (shard.Entry, shard.Action, error) {
			return shard.Entry{Value: buf, ExpireAt: c.defaultExpire(now), Type: shard.TypeList}, shard.Put, nil
		})
		if err != nil {
			c.replyStoreErr(err)
			return
		}
		listSignalDB(c, c.db, store, true)
		c.conn.WriteInt(len(elems))
		return
	}
	c.conn.WriteArray(len(elems))
	for i, e := range elems {
		if i&replyYieldEvery == replyYieldEvery {
			c.yield()
		}
		c.conn.WriteBulk(e)
	}
}

// cmdClientKill: CLIENT KILL addr:port, or CLIENT KILL [ID id] [ADDR a]
// [LADDR a] [USER u] [SKIPME yes|no] [TYPE normal]. Only the caller's
// tenant's connections can match: another tenant's are invisible.
func cmdClientKill(c *client, args [][]byte) {
	var id int64
	var addr, laddr, user string
	skipMe := true
	old := len(args) == 3
	if old {
		addr = string(args[2])
	} else {
		if len(args)%2 != 0 {
			c.conn.WriteError(errSyntax)
			return
		}
		for i := 2; i < len(args); i += 2 {
			v := args[i+1]
			switch {
			case eqFold(args[i], "id"):
				n, ok := parseInt(v)
				if !ok || n <= 0 {
					c.conn.WriteError("ERR client-id should be greater than 0")
					return
				}
				id = n
			case eqFold(args[i], "addr"):
				addr = string(v)
			case eqFold(args[i], "laddr"):
				laddr = string(v)
			case eqFold(args[i], "user"):
				user = string(v)
			case eqFold(args[i], "type"):
				if !eqFold(v, "normal") && !eqFold(v, "pubsub") && !eqFold(v, "master") && !eqFold(v, "replica") && !eqFold(v, "slave") {
					c.conn.WriteError("ERR Unknown client type '" + string(v) + "'")
					return
				}
				if !eqFold(v, "normal") {
					c.conn.WriteInt(0)
					return
				}
			case eqFold(args[i], "skipme"):
				switch {
				case eqFold(v, "yes"):
					skipMe = true
				case eqFold(v, "no"):
					skipMe = false
				default:
					c.conn.WriteError(errSyntax)
					return
				}
			default:
				c.conn.WriteError(errSyntax)
				return
			}
		}
	}
	killed := 0
	for _, o := range c.srv.clientsOf(c.tenant) {
		if id != 0 && o.id != id || addr != "" && o.addr != addr || laddr != "" && o.laddr != laddr {
			continue
		}
		if user != "" && o.userName() != user {
			continue
		}
		if o == c && (skipMe || old) {
			if old {
				// Redis lets CLIENT KILL addr close the caller itself.
				killed++
				c.conn.closeAfter = true
			}
			continue
		}
		o.kill()
		killed++
	}
	if old {
		if killed == 0 {
			c.conn.WriteError("ERR No such client")
			return
		}
		c.conn.WriteString("OK")
		return
	}
	c.conn.WriteInt(killed)
}

// cmdACL: ACL WHOAMI names the caller; every other ACL subcommand would
// read or change other tenants' users and is refused.
func cmdACL(c *client, args [][]byte) {
	if eqFold(args[1], "whoami") && len(args) == 2 {
		cmdACLWhoami(c, args)
		return
	}
	c.conn.WriteError(errNoPerm("acl|" + strings.ToLower(string(args[1]))))
}

// flushNoop answers SCRIPT FLUSH / FUNCTION FLUSH: a tenant has no scripts
// or functions, so flushing them is trivially done.
func flushNoop(parent string) func(c *client, args [][]byte) {
	return func(c *client, args [][]byte) {
		if eqFold(args[1], "flush") && len(args) <= 3 {
			c.conn.WriteString("OK")
			return
		}
		c.conn.WriteError(errNoPerm(parent + "|" + strings.ToLower(string(args[1]))))
	}
}

func cmdCluster(c *client, args [][]byte) {
	c.conn.WriteError("ERR This instance has cluster support disabled")
}
