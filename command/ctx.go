package command

import (
	"sync/atomic"
	"time"

	"github.com/tcached/tcached/resp"
	"github.com/tcached/tcached/shard"
)

// Ctx is what a handler gets: the connection's reply writer, its tenant's
// partition and db, the clock, a scratch buffer, and the connection for
// what only the server can do (checkpoints, blocking, wake-ups). One Ctx
// lives in each connection and dispatch refreshes it before every command,
// so running a handler allocates nothing.
type Ctx struct {
	W    *resp.Writer
	Part *shard.Partition // the tenant's partition
	DB   int
	Spec *Spec // the row being run
	// Scratch is reused for replies and number formatting; a handler that
	// grows it keeps it with KeepScratch.
	Scratch []byte
	Ms      func() int64 // the server's TTL clock, unix ms (fake in tests)
	// TTL is the tenant tier's default TTL in ms (0: none).
	TTL *atomic.Int64
	// Enc is the tenant's collection-encoding thresholds (nil: Redis's
	// defaults); read them with Limits.
	Enc *Encodings
	// Types is the tenant's other per-type parameters (nil: Redis's
	// defaults); read them with Types.Get.
	Types *TypeParams
	Conn  Conn
}

// Conn is the connection behind a Ctx: the server's side of a command,
// for what a handler cannot do with the partition alone.
type Conn interface {
	// Yield is a long command's checkpoint: its work so far is charged to
	// the tenant and a throttled tenant waits out its fair-share debt.
	// Call it inside loops over many elements; it costs a clock read.
	Yield()
	// CanBlock reports whether the command may block (not inside MULTI,
	// not in a script).
	CanBlock() bool
	// MaxBlock bounds a blocking command's wait (0: none besides Redis's).
	MaxBlock() time.Duration
	// Block waits for one of keys (in the connection's db) to be
	// signalled, then runs try with the indexes of the keys signalled, in
	// signal order (nil: every key), until try has answered; after wait,
	// timedOut answers. try runs as a handler does (tenant lock and
	// admission held); both are released while waiting.
	Block(args, keys [][]byte, wait time.Duration, try func(which []int32) bool, timedOut func())
	// Signal wakes the tenant's clients blocked on key in db: a write left
	// a list there.
	Signal(db int, key []byte)
	// StoreError is the reply for an error from the partition or a
	// callback (a ReplyErr, the quota's OOM, ...).
	StoreError(err error) string
	// OutputLimit is the connection's reply buffer limit (0: none).
	OutputLimit() int64
	// Transient charges n bytes of working memory the command holds only
	// while it runs (LCS's table) to the tenant's client_memory, as its
	// connections' buffers are; n < 0 gives them back. A growth that does
	// not fit is refused, charging nothing: the command answers
	// ClientOOM() and allocates nothing.
	Transient(n int64) bool
	// ClientOOM is the reply of a command refused for client memory.
	ClientOOM() string
	// WriteErr is the connection's write error, once its socket failed: a
	// long reply can stop building.
	WriteErr() error
}

// NowMs is the clock in unix milliseconds.
func (c *Ctx) NowMs() int64 { return c.Ms() }

// DefaultExpire is the absolute expiry (unix ms) a key written at now
// without a TTL gets: the tier's default TTL, or 0 (none).
func (c *Ctx) DefaultExpire(now int64) int64 {
	if ttl := c.TTL.Load(); ttl > 0 {
		return now + ttl
	}
	return 0
}

// RetentionErr is the refusal of an expiry a command asks for explicitly
// (unix ms; 0: none, as PERSIST asks) past the tenant's max_ttl under the
// refuse policy, or "" when the write may go ahead (the partition caps
// whatever it stores under the cap policy). An expiry already past is
// never refused: it deletes.
func (c *Ctx) RetentionErr(expireAt int64, cmd string) string {
	maxMs, refuse := c.Part.MaxTTL()
	if !refuse || maxMs == 0 {
		return ""
	}
	if expireAt != 0 && expireAt <= c.NowMs()+maxMs {
		return ""
	}
	return ErrMaxTTL(cmd, maxMs)
}

// StoreErr answers err (see Conn.StoreError).
func (c *Ctx) StoreErr(err error) { c.W.WriteError(c.Conn.StoreError(err)) }

// Yield is Conn.Yield.
func (c *Ctx) Yield() { c.Conn.Yield() }

// Signal wakes the clients blocked on key in the connection's db.
func (c *Ctx) Signal(key []byte) { c.Conn.Signal(c.DB, key) }

// SignalDB wakes the clients blocked on key in db when isList (a list or
// another Poppable type landed there): RENAME, COPY, MOVE and SORT ...
// STORE, which can put a list or a sorted set at a key without a push. Redis 7.0 signals such a key when the command adds it (dbAdd);
// tcached signals whenever a list lands on it, which also covers a list
// written over a key of another type (the woken client only pops from a
// list, so the difference is a wake-up Redis would postpone to the next
// push).
func (c *Ctx) SignalDB(db int, key []byte, isList bool) {
	if isList {
		c.Conn.Signal(db, key)
	}
}

// Poppable reports whether a blocked command pops from values of type t
// (BLPOP and BLMOVE from lists, BZPOPMIN and BZMPOP from sorted sets):
// the writes that land such a value on a key signal it (SignalDB).
func Poppable(t shard.Type) bool { return t == shard.TypeList || t == shard.TypeZSet }

// MaxPooled is the largest buffer a handler keeps for the next command.
const MaxPooled = 64 << 10

// KeepScratch keeps b, built on c.Scratch, for the next command when it
// is not too large.
func (c *Ctx) KeepScratch(b []byte) {
	if b != nil && cap(b) <= MaxPooled {
		c.Scratch = b[:0]
	}
}

// ReplyYieldEvery: a long reply reaches a checkpoint every
// ReplyYieldEvery+1 elements (a few µs to a few tens of µs of encoding).
const ReplyYieldEvery = 255
