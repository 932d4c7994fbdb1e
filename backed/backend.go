package backed

import (
	"context"
	"errors"
	"time"
)

// Backend is a store of record behind the tenants' partitions: with one,
// a Partition is the tenant's L1 cache and the Backend (Redis Cluster, in
// package backing) holds the data (L2). Package backed, its consumer,
// declares it; backing implements it and cmd/tcached injects it, so
// neither server nor backed imports backing. The read-through and
// write-through orchestration is per command and lives in this package.
//
// Every key is named by (tenant, db, key): the Backend owns the L2 key
// layout. Errors are ErrCrossSlot, ErrL2OverQuota, ErrBackendUnavailable,
// a ReplyError (a Redis error reply, to be passed on verbatim), a context
// error (the tier timeout passed), or one wrapping ErrBackendFailed.
type Backend interface {
	// Ready reports whether invalidations are being received from every
	// master. Which slots L1 serves is decided by the slot-scoped
	// invalidations (slots.go); a consumer that gates on Ready alone is
	// conservative (it serves nothing while any master is untracked).
	Ready() bool
	// SetInvalidator installs the function told about every key changed in
	// L2 by anyone, and about the slots whose changes may go unseen (or are
	// seen again): see Invalidation. It is called before Start, once. The
	// backend delivers slot-scoped invalidations one at a time, in order.
	SetInvalidator(fn func(Invalidation))
	// Slot is the cluster slot of a tenant's key. It must not allocate:
	// it runs on L1 hits while some slot is suspended.
	Slot(tenant string, db int, key []byte) int
	// Load reads a string key and its absolute expiry in one atomic step.
	Load(ctx context.Context, tenant string, db int, key []byte) Loaded
	// LoadMany is Load for many keys, pipelined per node (not atomic across
	// keys).
	LoadMany(ctx context.Context, tenant string, db int, keys [][]byte) []Loaded
	// Exec runs write commands; each one atomically on its keys (which
	// must share a slot, or it fails with ErrCrossSlot), pipelined per
	// node. Before any runs, the sum of their Grow is checked against the
	// tenant's L2 quota (0: none) and all are refused with ErrL2OverQuota
	// when it does not fit.
	Exec(ctx context.Context, tenant string, quota int64, db int, reqs []ExecReq) []Result
	// Read runs read-only commands on one key each (KeyPos), pipelined.
	Read(ctx context.Context, tenant string, db int, reqs []ReadReq) []Result
	// Scan is one step of a cluster-wide SCAN of the tenant's db. match nil
	// and typ "" are no filter (an empty match is the pattern "").
	Scan(ctx context.Context, tenant string, db int, cursor uint64, match []byte, count int64, typ string) (next uint64, keys [][]byte, err error)
	// Keys lists the tenant's db keys matching pattern (a Redis glob).
	Keys(ctx context.Context, tenant string, db int, pattern []byte) ([][]byte, error)
	// DBSize counts the tenant's keys in db.
	DBSize(ctx context.Context, tenant string, db int) (int64, error)
	// RandomKey returns one of the tenant's db keys (found false if none).
	RandomKey(ctx context.Context, tenant string, db int) (key []byte, found bool, err error)
	// Flush deletes the tenant's keys of db, or of every db when db < 0,
	// on every master.
	Flush(ctx context.Context, tenant string, db int) (deleted int64, err error)
	// Usage is the tenant's L2 usage as last known to this node, in bytes.
	Usage(tenant string) int64
	// UsageKeys is the tenant's L2 key count as last known to this node
	// (kept like Usage, without a scan).
	UsageKeys(tenant string) int64
	// Stats is a snapshot of the backend's counters.
	Stats() BackendStats
}

// Invalidation tells L1 that a key changed in L2, or that the keys of
// some slots may change unseen (Suspend) or may be served again once
// their L1 copies are dropped (see slots.go).
type Invalidation struct {
	All     bool     // every key of every tenant
	Slots   *SlotSet // every key of these slots, of every tenant
	Suspend bool     // with Slots: stop serving them rather than drop them
	Tenant  string
	DB      int
	Key     []byte
}

// Loaded is one key read from L2. ExpireAt is unix ms, 0 for none.
type Loaded struct {
	Val      []byte
	ExpireAt int64
	Found    bool
	Err      error
}

// ExecReq is one write command. Args[0] is the command name and the
// arguments at KeyPos are key names, rewritten into the tenant's
// namespace (db for all but DstDB positions). A key that the command
// leaves without a TTL while it had one before (or did not exist) gets
// DefaultTTL, when > 0, like the embedded store's tier default. Grow is
// how many bytes the command may add to the tenant's L2 usage.
type ExecReq struct {
	Args       [][]byte
	KeyPos     []int
	DstDB      map[int]int // key position -> db, when not the request's db (COPY ... DB n)
	DefaultTTL time.Duration
	Grow       int64
}

// ReadReq is one read-only command on the key at Args[KeyPos].
type ReadReq struct {
	Args   [][]byte
	KeyPos int
}

// Result is one command's reply: nil, int64, string, float64 or []any
// (as a script returns it: status and bulk replies are both strings), or
// an error.
type Result struct {
	Reply any
	Err   error
}

// ReplyError is an error reply from Redis, to be passed on verbatim
// (including its code, e.g. "WRONGTYPE ...").
type ReplyError string

func (e ReplyError) Error() string { return string(e) }

var (
	// ErrCrossSlot refuses a command whose keys do not share a slot.
	ErrCrossSlot = ReplyError("CROSSSLOT Keys in request don't hash to the same slot")
	// ErrL2OverQuota refuses a write that would take the tenant over its
	// L2 quota.
	ErrL2OverQuota = ReplyError("OOM command not allowed when used memory > 'maxmemory'.")
	// ErrReplyTooBig refuses a forwarded reply larger than the bound on
	// what is held in memory before it is written (coll.go).
	ErrReplyTooBig = ReplyError("ERR reply too large for backed mode (over 64 MiB or the client's output limit): read it in parts")
	// ErrBackendUnavailable is returned while the circuit breaker is open.
	ErrBackendUnavailable = errors.New("backing tier unavailable (circuit breaker open)")
	// ErrBackendFailed wraps every failure of the cluster other than a
	// timeout (which wraps context.DeadlineExceeded): refused or broken
	// connections, CLUSTERDOWN and the like.
	ErrBackendFailed = errors.New("backing tier error")
)

// BackendStats are a Backend's counters since start.
type BackendStats struct {
	Calls, Errors, Timeouts   uint64
	L2Hits, L2Misses          uint64
	BreakerOpen               bool
	BreakerTrips              uint64
	BreakerRejected           uint64
	Invalidations             uint64 // keys
	InvalidateAll             uint64 // flush-all events
	SlotInvalidations         uint64 // slots dropped (a master re-tracked, slots moved, a master flushed)
	TrackingConns, Masters    int
	Ready                     bool
	LatencyCount              uint64
	LatencySum                float64 // seconds
	LatencyBuckets            map[float64]uint64
	PolicyWarnings            []string
	ReconcileRuns, Reconciled uint64
}
