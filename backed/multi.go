package backed

import (
	"strings"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/family/keys"
	"github.com/tcached/tcached/shard"
)

// Transactions in backed mode.
//
// MULTI queues commands on the tcached node as on the embedded store. At
// EXEC the commands that name keys run in L2 as one Lua script
// (Atomic.Transaction), in order, each through redis.pcall with its keys
// in the tenant's namespace, between two looks at each key (so the size
// change of every command reaches the tenant's L2 usage, and a key left
// without a TTL gets the tier's default, as a backed write does). The
// script is atomic on its master, so every key of the transaction, and
// every watched key, must share one slot: otherwise EXEC answers
// CROSSSLOT and runs nothing, as Redis Cluster does. Commands that name
// no key (PING, ECHO, SELECT, PUBLISH, ...) run on the tcached node in
// their place among the replies; a SELECT changes the db of the keyed
// commands after it. Refused at queue time (the transaction then answers
// EXECABORT): commands not served in backed mode, the cluster-wide ones
// (KEYS, SCAN, RANDOMKEY, DBSIZE, FLUSHDB, FLUSHALL), scripts, and
// SORT with BY or GET.
//
// WATCH reads a fingerprint of each key in L2 (the SHA1 of its DUMP and
// its expiry time, in one script per WATCH); the EXEC script compares
// them before running anything and answers a null array if one changed,
// whichever node changed it. The server also marks a watcher dirty on a
// write through its own node (not on L2 invalidations, which may echo a
// write made before the WATCH: server/multi_backed.go). While it
// watches, a connection's reads skip L1 (Tenant.Watching): what it reads
// between WATCH and EXEC is then never older than the fingerprints.

// TxPart says where a queued command runs.
type TxPart uint8

const (
	TxL2    TxPart = iota // in the EXEC script
	TxLocal               // on this node, in its place
	TxError               // answered an error without running (Reply holds it)
)

// TxRefusal is the queue-time refusal of a command inside MULTI in
// backed mode ("" when it may be queued).
func (m *Mode) TxRefusal(cmd *command.Spec, args [][]byte) string {
	name := cmd.Name
	if m.at == nil {
		return ErrNotBacked("multi")
	}
	switch cmd.Backed {
	case command.BackedKeys, command.BackedScan, command.BackedRandomKey, command.BackedDBSize:
		return errNotInMulti(name)
	case command.BackedServer, command.BackedRefused:
		return errNotInMulti(name)
	}
	if cmd.Flags&command.Exclusive != 0 {
		return errNotInMulti(name)
	}
	if !cmd.HasKeys() {
		if cmd.Flags&(command.Write|command.Admin) != 0 && name != "publish" && name != "spublish" {
			return errNotInMulti(name) // FLUSHDB, FLUSHALL: not ordered with the L2 part
		}
		return ""
	}
	if cmd.Backed == command.BackedLocal {
		return ErrNotBacked(name)
	}
	if name == "sort" || name == "sort_ro" {
		for _, a := range args[2:] {
			if command.EqFold(a, "by") || command.EqFold(a, "get") {
				return errNotInMulti(name + " with BY or GET")
			}
		}
	}
	return ""
}

func errNotInMulti(name string) string {
	name, _, _ = strings.Cut(name, "|") // a subcommand is named by its command, as Redis names it
	return "ERR '" + name + "' is not available inside MULTI when tcached fronts Redis Cluster"
}

// TxEntry is one queued command.
type TxEntry struct {
	Spec *command.Spec
	Args [][]byte
}

// TxOutcome is EXEC's result: Err (the whole EXEC's error reply), Aborted
// (a watched key changed: a null array), else per entry where it runs
// and, for L2 ones, the reply.
type TxOutcome struct {
	Err     error
	Aborted bool
	Parts   []TxPart
	Replies []TxReply
}

// Exec runs a transaction's queue for the connection: the keyed commands
// in one L2 script, after checking the watched keys' fingerprints. The
// caller runs the TxLocal entries and writes the replies (WriteTxReply).
func (m *Mode) Exec(x *command.Ctx, queue []TxEntry, watch []shard.Key, fps []string) TxOutcome {
	c := m.call(x)
	out := TxOutcome{Parts: make([]TxPart, len(queue)), Replies: make([]TxReply, len(queue))}
	db := x.DB
	var reqs []TxReq
	var idx []int
	var touched []shard.Key
	for i, e := range queue {
		if !e.Spec.HasKeys() {
			out.Parts[i] = TxLocal
			if e.Spec.Name == "select" {
				if n, bad := command.ParseDB(e.Args[1]); bad == "" {
					db = n
				}
			}
			continue
		}
		req, msg := c.txReq(e.Spec, e.Args, db)
		if msg != "" {
			out.Parts[i] = TxError
			out.Replies[i] = TxReply{Err: ReplyError(msg)}
			continue
		}
		for _, p := range req.KeyPos {
			kdb := db
			if d, ok := req.DstDB[p]; ok {
				kdb = d
			}
			touched = append(touched, shard.Key{DB: kdb, Name: req.Args[p]})
		}
		reqs = append(reqs, req)
		idx = append(idx, i)
	}
	if len(reqs) == 0 && len(watch) == 0 {
		return out
	}
	drop := func() {
		for _, k := range touched {
			m.Drop(c.t.ID, x.Part, k.DB, k.Name)
		}
	}
	drop()
	ctx, cancel := c.l2ctx()
	res := m.at.Transaction(ctx, c.t.ID, c.t.Quota, Tx{Watch: watch, FPs: fps, Cmds: reqs})
	cancel()
	drop()
	switch {
	case res.Err != nil:
		out.Err = res.Err
	case res.Aborted:
		out.Aborted = true
	default:
		for j, i := range idx {
			out.Replies[i] = res.Replies[j]
		}
	}
	return out
}

// WriteTxReply answers one L2 reply of EXEC.
func (m *Mode) WriteTxReply(x *command.Ctx, r TxReply) { m.call(x).writeTxReply(r) }

// Fingerprints reads the watched keys' fingerprints for WATCH.
func (m *Mode) Fingerprints(x *command.Ctx, keys []shard.Key) ([]string, error) {
	c := m.call(x)
	ctx, cancel := c.l2ctx()
	defer cancel()
	return m.at.Fingerprints(ctx, c.t.ID, keys)
}

// Slot is the slot of a key of the connection's tenant.
func (m *Mode) Slot(x *command.Ctx, db int, key []byte) int {
	return m.at.Slot(m.call(x).t.ID, db, key)
}

// txReq is the L2 form of a queued keyed command in db, as its backed
// handler would send it; msg is an error reply that answers it without
// running it.
func (c call) txReq(cmd *command.Spec, args [][]byte, db int) (TxReq, string) {
	ttl := c.defaultTTL()
	r := TxReq{DB: db}
	r.Args = args
	switch cmd.Backed {
	case command.BackedSet:
		r.Args = withDefaultTTL(args, ttl)
		r.KeyPos, r.DefaultTTL, r.Grow = k1pos, ttl, argBytes(args)
		return r, ""
	case command.BackedCopy:
		dst, replace, bad := keys.ParseCopy(args, db)
		if bad != "" {
			return r, bad
		}
		r.Args = [][]byte{args[0], args[1], args[2]}
		if replace {
			r.Args = append(r.Args, []byte("REPLACE"))
		}
		r.KeyPos, r.DstDB, r.Grow = []int{1, 2}, map[int]int{2: dst}, argBytes(args)
		return r, ""
	case command.BackedSetRange:
		r.Grow = argBytes(args)
		if off, _ := command.ParseInt(args[2]); off > 0 && off <= command.MaxStringLen {
			r.Grow += off
		}
		r.DefaultTTL = ttl
	case command.BackedWriteNoTTL, command.BackedRename, command.BackedRenameNX, command.BackedDelete:
	default:
		if cmd.Flags&command.Write != 0 {
			r.DefaultTTL, r.Grow = ttl, argBytes(args)
		}
	}
	cmd.EachKey(args, func(i int) { r.KeyPos = append(r.KeyPos, i) })
	return r, ""
}
