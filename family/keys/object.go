package keys

import (
	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

// cmdMove: MOVE key db, within the caller's tenant (its 16 dbs).
func cmdMove(c *command.Ctx, args [][]byte) {
	db, bad := command.ParseDB(args[2])
	if bad != "" {
		c.W.WriteError(bad)
		return
	}
	if int(db) == c.DB {
		c.W.WriteError(command.ErrSameObject)
		return
	}
	keys := []shard.Key{{DB: c.DB, Name: args[1]}, {DB: int(db), Name: args[1]}}
	moved, isList := false, false
	err := c.Part.Apply(keys, func(cur []shard.Entry, exists []bool) ([]shard.Entry, []shard.Action, error) {
		moved = exists[0] && !exists[1]
		if !moved {
			return cur, []shard.Action{shard.Keep, shard.Keep}, nil
		}
		isList = command.Poppable(cur[0].Type)
		return []shard.Entry{{}, cur[0]}, []shard.Action{shard.Delete, shard.Put}, nil
	})
	if err != nil {
		c.StoreErr(err)
		return
	}
	c.SignalDB(int(db), args[1], moved && isList) // blocked clients of the destination db
	c.W.WriteInt(command.B2i(moved))
}

// cmdObjectEncoding answers Redis 7.0's name for the key's encoding: a
// string's int/embstr/raw; "listpack" or "hashtable" for a hash (compact
// or value.HashTable); "intset" for a compact set of integers and
// "hashtable" for any other set (7.0 has no listpack sets, see
// family/set); "listpack" or "skiplist" for a sorted set (compact or
// value.ZSetTree); and for a list, whose single serialized encoding is
// listpack-like at every size, "quicklist", as 7.0 answers for every list.
func cmdObjectEncoding(c *command.Ctx, args [][]byte) {
	enc := ""
	c.Part.View(c.DB, args[2], 0, func(e shard.Entry) {
		switch e.Type {
		case shard.TypeHash:
			enc = "listpack"
			if e.Obj != nil {
				enc = "hashtable"
			}
			return
		case shard.TypeZSet:
			enc = "listpack"
			if e.Obj != nil {
				enc = "skiplist"
			}
			return
		case shard.TypeList:
			enc = "quicklist"
			return
		case shard.TypeStream:
			enc = "stream"
			return
		case shard.TypeSet:
			enc = "hashtable"
			if e.Obj == nil && e.Enc == value.SetTagIntset {
				enc = "intset"
			}
			return
		}
		switch _, isInt := command.ParseInt(e.Value); {
		case isInt:
			enc = "int"
		case len(e.Value) <= 44:
			enc = "embstr"
		default:
			enc = "raw"
		}
	})
	if enc == "" {
		c.W.WriteNull()
		return
	}
	c.W.WriteBulkString(enc)
}

func cmdObjectRefcount(c *command.Ctx, args [][]byte) {
	if !c.Part.View(c.DB, args[2], 0, func(shard.Entry) {}) {
		c.W.WriteNull()
		return
	}
	c.W.WriteInt(1)
}

// cmdObjectIdletime: OBJECT IDLETIME key -> nil for a missing key, else
// the seconds since the key was last accessed, from its access clock
// (shard's "Idle time"); reading it does not touch the key, as Redis's
// LOOKUP_NOTOUCH.
func cmdObjectIdletime(c *command.Ctx, args [][]byte) {
	ms, ok := c.Part.Idle(c.DB, args[2])
	if !ok {
		c.W.WriteNull()
		return
	}
	c.W.WriteInt64(ms / 1000)
}

// cmdObjectFreq: OBJECT FREQ key -> nil for a missing key, else Redis's
// error for a maxmemory policy that is not LFU: a tenant's eviction is LRU
// or none, never LFU.
func cmdObjectFreq(c *command.Ctx, args [][]byte) {
	if !c.Part.View(c.DB, args[2], 0, nil) {
		c.W.WriteNull()
		return
	}
	c.W.WriteError(command.ErrNoLFU)
}

func cmdObjectHelp(c *command.Ctx, args [][]byte) {
	command.WriteHelp(c.W, "OBJECT", []string{
		"ENCODING <key>",
		"    Return the kind of internal representation used in order to store the value",
		"    associated with a <key>.",
		"FREQ <key>",
		"    Return the access frequency index of the <key>. The returned integer is",
		"    proportional to the logarithm of the recent access frequency of the key.",
		"IDLETIME <key>",
		"    Return the idle time of the <key>, that is the approximated number of",
		"    seconds elapsed since the last access to the key.",
		"REFCOUNT <key>",
		"    Return the number of references of the value associated with the specified",
		"    <key>.",
	})
}
