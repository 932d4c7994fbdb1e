package command

import (
	"sort"

	"github.com/tcached/tcached/resp"
)

// Flags are a command's properties that dispatch, permissions and COMMAND
// derive from.
type Flags uint16

const (
	Write    Flags = 1 << iota // changes the keyspace: refused to readonly users
	Read                       // reads the keyspace
	Admin                      // needs the admin role (FLUSHDB, FLUSHALL)
	NoAuth                     // allowed before AUTH
	DenyOOM                    // may grow memory
	Fast                       // O(1) or O(log n)
	Tx                         // transaction control: never queued inside MULTI
	Operator                   // runs on an operator connection (bound to no tenant)
	Exec                       // EXEC: takes its tenant's txMu exclusively itself
	// Subscribed marks the commands a RESP2 connection may send while it
	// has subscriptions (Redis's "only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE /
	// PING / QUIT / RESET are allowed in this context").
	Subscribed
	// NoScript: refused inside scripts (Redis's "noscript": blocking,
	// transaction, connection and server commands).
	NoScript
	// AllowBusy: runs while a script of the tenant is past its busy
	// threshold (Redis's "allow_busy": SCRIPT KILL, FUNCTION KILL and
	// STATS, and the connection and transaction commands).
	AllowBusy
	// Exclusive: runs under its tenant's txMu taken exclusively, as EXEC
	// does (scripts, and the commands that change the Lua states).
	Exclusive
	// NoMonitor: not shown to MONITOR after it runs (Redis's
	// skip_monitor and admin commands: MONITOR, SLOWLOG, LATENCY, ...;
	// EVAL and FCALL show themselves before their script's commands).
	NoMonitor
)

// Common flag sets.
const (
	WriteGrow = Write | DenyOOM // a write that may grow memory
	ReadFast  = Read | Fast
)

var flagNames = []struct {
	f    Flags
	name string
}{
	{Write, "write"}, {Read, "readonly"}, {Admin, "admin"},
	{NoAuth, "no_auth"}, {DenyOOM, "denyoom"}, {Fast, "fast"},
	{NoScript, "noscript"}, {AllowBusy, "allow_busy"}, {NoMonitor, "skip_monitor"},
}

// Handler runs one command and writes exactly one reply to c.W (a
// blocking command may write it after waiting). args[0] is the command
// name as sent; a handler learns which command it runs from c.Spec.
type Handler func(c *Ctx, args [][]byte)

// Spec is one row of the command table: every property of a command is
// declared here once, and dispatch, permissions, WATCH, backed mode,
// shedding and COMMAND derive from it.
type Spec struct {
	Name  string // lower case; subcommands use Redis's "parent|sub"
	Arity int    // Redis convention: n exact, -n at least n (name included)
	Flags Flags
	// Key positions (Redis's first/last/step; last < 0 counts from the
	// end), for COMMAND, WATCH and backed mode's slot checks.
	FirstKey, LastKey, Step int
	Handler                 Handler
	Subs                    map[string]*Spec // container commands (CLIENT, CONFIG, ...)
	// Miss answers the command as if its keys were missing, for tenants
	// with shed_reads_as_miss whose read is shed under overload (nil:
	// shedding answers an error).
	Miss Handler
	// KeysOf, when set, locates the key arguments instead of the key
	// positions (Redis's getkeys_proc, for commands whose keys a range
	// cannot describe, such as EVAL's numkeys): it calls each with the
	// index in args of every key. COMMAND GETKEYS and client-side
	// tracking read keys through EachKey.
	KeysOf func(args [][]byte, each func(i int))
	// Secrets, when set, names the arguments that hold credentials
	// (AUTH's, HELLO's AUTH user and password): MONITOR and SLOWLOG show
	// them as "(redacted)", as Redis does.
	Secrets func(args [][]byte, each func(i int))
	// WriteKeys, when set, names the keys the command writes instead of
	// the key positions (COPY and SORT only read their source; COPY ... DB
	// and MOVE write another db), for WATCH: it calls mark for each.
	WriteKeys func(db int, args [][]byte, mark func(db int, key []byte))
	// Backed says how the command runs when tcached fronts Redis Cluster.
	Backed BackedMode
}

// BackedMode is how a command runs when tcached fronts Redis Cluster:
// package backed implements each mode against L2, and the mode is all a
// row says about it. The zero value, BackedLocal, runs a command that
// names no key as on the embedded store (PING, CLIENT ..., FLUSHDB, whose
// handler reaches L2 itself) and refuses one that names keys.
type BackedMode uint8

const (
	BackedLocal       BackedMode = iota
	BackedRefused                // refused although it names no key (SWAPDB); subcommands inherit it
	BackedServer                 // package server's handler serves it, asking package backed for L2 (WATCH, EVAL, FCALL)
	BackedGet                    // GET: L1, else L2 with a fill
	BackedMGet                   // MGET: L1 per key, the misses from L2 in one batch
	BackedSet                    // SET: the tier's TTL added unless the command sets one
	BackedWrite                  // a one-key write with the tier's TTL; a string reply is bulk
	BackedWriteStatus            // as BackedWrite, a string reply is a status (SETEX, PSETEX)
	BackedWriteNoTTL             // a one-key write that sets the TTL itself (EXPIRE, PERSIST, GETEX, GETDEL)
	BackedSetRange               // SETRANGE: may grow by its offset
	BackedMSet                   // MSET: one SET per key (atomicity across slots is lost)
	BackedMSetNX                 // MSETNX: atomic, so its keys must share a slot
	BackedDelete                 // DEL, UNLINK: per key, summed
	BackedCount                  // EXISTS, TOUCH: per key, summed; a failure counts as missing
	BackedRename                 // RENAME: both keys in one slot, status reply
	BackedRenameNX               // RENAMENX: both keys in one slot
	BackedCopy                   // COPY, with DB as the destination's name
	BackedKeys                   // KEYS over every master
	BackedScan                   // SCAN over every master
	BackedRandomKey              // RANDOMKEY over every master
	BackedDBSize                 // DBSIZE over every master
	BackedRead                   // a read forwarded as it is (key at FirstKey); a failure answers Miss
	BackedReadStatus             // as BackedRead, a string reply is a status (TYPE)
	// The collection modes (package backed's coll.go). A keyed row that
	// declares no mode gets BackedFwdWrite when it has the Write flag and
	// BackedFwdRead otherwise, so every data command of the embedded
	// store runs backed; these are for rows whose keys KeysOf finds
	// (numkeys, STREAMS) or that block.
	BackedFwdRead  // a read forwarded verbatim in the client's protocol (L1 serves cached small collections)
	BackedFwdWrite // a write run atomically in L2 with its size and expiry changes reported
	BackedBlock    // a blocking command, timeout last: the non-blocking form in L2, parked locally until an invalidation of a key
	BackedBlockNum // as BackedBlock, timeout first (BLMPOP, BZMPOP)
	BackedBlockXRd // as BackedBlock, the BLOCK option's milliseconds, $ resolved first (XREAD, XREADGROUP)

	NumBackedModes // the number of modes; keep it last
)

// Keys shapes for rows.
var (
	NoKeys   = [3]int{0, 0, 0}
	Key1     = [3]int{1, 1, 1}  // one key at 1
	AllKeys  = [3]int{1, -1, 1} // every argument is a key
	KeyPairs = [3]int{1, -1, 2} // key value [key value ...]
	Key12    = [3]int{1, 2, 1}  // source destination
	Key2     = [3]int{2, 2, 1}  // OBJECT ENCODING key, MEMORY USAGE key
	Blocks   = [3]int{1, -2, 1} // key [key ...] timeout
)

// Row builds a Spec.
func Row(name string, arity int, flags Flags, keys [3]int, h Handler) *Spec {
	return &Spec{Name: name, Arity: arity, Flags: flags, FirstKey: keys[0], LastKey: keys[1], Step: keys[2], Handler: h}
}

// WithMiss sets a row's shed-read answer.
func (s *Spec) WithMiss(miss Handler) *Spec { s.Miss = miss; return s }

// WithBacked sets a row's backed mode.
func (s *Spec) WithBacked(m BackedMode) *Spec { s.Backed = m; return s }

// WithKeysOf sets a row's KeysOf.
func (s *Spec) WithKeysOf(fn func(args [][]byte, each func(i int))) *Spec {
	s.KeysOf = fn
	return s
}

// WithSecrets sets a row's Secrets.
func (s *Spec) WithSecrets(fn func(args [][]byte, each func(i int))) *Spec {
	s.Secrets = fn
	return s
}

// WithWriteKeys sets a row's WriteKeys.
func (s *Spec) WithWriteKeys(fn func(db int, args [][]byte, mark func(db int, key []byte))) *Spec {
	s.WriteKeys = fn
	return s
}

// Container builds a command with subcommands (CLIENT, CONFIG, ...); each
// sub is renamed "parent|sub". h, when set, answers the container called
// without a subcommand (COMMAND).
func Container(name string, arity int, flags Flags, h Handler, subs ...*Spec) *Spec {
	c := Row(name, arity, flags, NoKeys, h)
	c.Subs = make(map[string]*Spec, len(subs))
	for _, sc := range subs {
		short := sc.Name
		sc.Name = name + "|" + sc.Name
		c.Subs[short] = sc
	}
	return c
}

// FlagNames are the flags COMMAND INFO lists.
func (s *Spec) FlagNames() []string {
	var out []string
	for _, fn := range flagNames {
		if s.Flags&fn.f != 0 {
			out = append(out, fn.name)
		}
	}
	return out
}

// ACLCategories are the categories COMMAND INFO lists.
func (s *Spec) ACLCategories() []string {
	var out []string
	switch {
	case s.Flags&Write != 0:
		out = append(out, "@write")
	case s.Flags&Read != 0:
		out = append(out, "@read")
	}
	if s.Flags&Admin != 0 {
		out = append(out, "@dangerous")
	}
	if s.Flags&Fast != 0 {
		out = append(out, "@fast")
	} else {
		out = append(out, "@slow")
	}
	if s.FirstKey > 0 {
		out = append(out, "@keyspace")
	}
	return out
}

// SortedSubs are the subcommands by name.
func (s *Spec) SortedSubs() []*Spec {
	out := make([]*Spec, 0, len(s.Subs))
	for _, sc := range s.Subs {
		out = append(out, sc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// HasKeys reports whether the command takes key arguments at all.
func (s *Spec) HasKeys() bool { return s.KeysOf != nil || s.FirstKey > 0 && s.Step > 0 }

// EachKey calls fn with the index in args of every key the command names
// (KeysOf where set, else the key positions), in order.
func (s *Spec) EachKey(args [][]byte, fn func(i int)) {
	if s.KeysOf != nil {
		s.KeysOf(args, fn)
		return
	}
	if s.FirstKey <= 0 || s.Step <= 0 {
		return
	}
	last := s.LastKey
	if last < 0 {
		last += len(args)
	}
	for i := s.FirstKey; i <= last && i < len(args); i += s.Step {
		fn(i)
	}
}

// EachWrittenKey calls mark for every key the command writes, in db
// (WriteKeys where set, else the key positions).
func (s *Spec) EachWrittenKey(db int, args [][]byte, mark func(db int, key []byte)) {
	if s.WriteKeys != nil {
		s.WriteKeys(db, args, mark)
		return
	}
	if s.FirstKey <= 0 || s.Step <= 0 {
		return
	}
	last := s.LastKey
	if last < 0 {
		last += len(args)
	}
	for i := s.FirstKey; i <= last && i < len(args); i += s.Step {
		mark(db, args[i])
	}
}

// Refused answers NOPERM with Redis's ACL wording: the command exists in
// Redis but would reach beyond the caller's tenant (SHUTDOWN, MONITOR,
// SAVE, REPLICAOF, MIGRATE, SWAPDB, ...).
func Refused(c *Ctx, args [][]byte) { c.W.WriteError(ErrNoPerm(c.Spec.Name)) }

// WriteInfo writes the row's COMMAND entry in Redis 7's 10-field shape.
// In RESP3 flags and categories are sets, and so are the (empty) tips, key
// specs and, for a command without any, subcommands, as Redis 7.0 sends.
func (s *Spec) WriteInfo(w *resp.Writer) {
	w.WriteArray(10)
	w.WriteBulkString(s.Name)
	w.WriteInt(s.Arity)
	flags := s.FlagNames()
	w.WriteSet(len(flags))
	for _, f := range flags {
		w.WriteString(f)
	}
	w.WriteInt(s.FirstKey)
	w.WriteInt(s.LastKey)
	w.WriteInt(s.Step)
	cats := s.ACLCategories()
	w.WriteSet(len(cats))
	for _, a := range cats {
		w.WriteString(a)
	}
	w.WriteSet(0) // tips
	w.WriteSet(0) // key specs
	subs := s.SortedSubs()
	if len(subs) == 0 {
		w.WriteSet(0)
		return
	}
	w.WriteArray(len(subs))
	for _, sc := range subs {
		sc.WriteInfo(w)
	}
}

// NumKeysOf is the KeysOf of a command whose numkeys argument is at
// position at, its keys right after it (Redis's genericGetKeys): none
// when numkeys is not an integer from 1 to the arguments left.
func NumKeysOf(at int) func(args [][]byte, each func(i int)) {
	return func(args [][]byte, each func(i int)) {
		if at >= len(args) {
			return
		}
		n, ok := ParseInt(args[at])
		if !ok || n < 1 || n > int64(len(args)-at-1) {
			return
		}
		for i := range int(n) {
			each(at + 1 + i)
		}
	}
}
