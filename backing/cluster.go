// Package backing puts Redis Cluster behind tcached's tenants as the store
// of record (L2): it implements backed.Backend with go-redis v9's
// ClusterClient. cmd/tcached builds it from config and hands it to the
// server; nothing here knows about connections, commands or tenants'
// partitions.
//
// # Key layout
//
// A tenant's key is stored in L2 as <prefix><tenant>:<db>:<key>. Neither
// the prefix nor a tenant id may hold '{' or '}', so the slot of a key is
// decided by the user's own hash tag when it has one (multi-key commands
// on {tagged} keys stay on one slot) and by the whole name otherwise (a
// tenant is spread over every slot, never pinned to one hot slot).
//
// # Atomic reads and accounted writes
//
// Every read of a value is one Lua script (GET and PEXPIRETIME together),
// so L1 is filled with a value and the expiry it really had. Every write is
// one script that runs the user's command between two looks at each of its
// keys (length and expiry before and after): the size change of the write
// is exact and atomic with it, and it feeds the tenant's L2 usage counters
// (usage.go). The same script gives a key that the command left without a
// TTL the tier's default TTL, as the embedded store does.
//
// # The raw path
//
// The collection commands (and the one-key string writes) do not go
// through a script or go-redis, which both reshape replies: coll.go sends
// the command on a pooled connection of the client's own protocol to the
// slot's master (following MOVED) and hands back the reply's bytes; a
// write is MULTI, a script noting sizes (MEMORY USAGE for collections,
// STRLEN for strings) and expiries in a scratch key of the slot, the
// command, a script comparing them and applying the default TTL, EXEC.
// LoadColl reads a small collection's DUMP payload for an L1 copy.
//
// # Failures
//
// Each call carries the tenant tier's timeout as its context deadline.
// Network errors, timeouts and the cluster's own trouble replies
// (CLUSTERDOWN, TRYAGAIN, MASTERDOWN, LOADING, READONLY) count as
// failures; BreakerFailures of them in a row open a circuit breaker that
// refuses calls for BreakerCooloff, then lets one probe through
// (breaker.go). Key commands have one breaker per master (by the key's
// slot owner), so a failing master does not stop the others' slots;
// cluster-wide scans share one more. Ordinary error replies (WRONGTYPE,
// ...) are answers, not failures.
//
// # Coherence
//
// One connection per master runs CLIENT TRACKING ON BCAST PREFIX <prefix>
// in RESP3 (tracking.go): every change of a key under the prefix, by any
// tcached node, reaches every node as an invalidation push. While any
// master is untracked (dropped connection, missed pings, topology change)
// Ready is false and the server serves nothing from L1.
package backing

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/tcached/tcached/backed"
	"github.com/tcached/tcached/metrics"
)

// Options configure a Cluster. Zero durations take the defaults below.
type Options struct {
	Addrs              []string
	Username, Password string
	TLS                *tls.Config
	// KeyPrefix starts every L2 key; it must not contain '{' or '}'.
	KeyPrefix         string
	ScanTimeout       time.Duration // KEYS, SCAN, DBSIZE, RANDOMKEY, flushes; default 5s
	BreakerFailures   int           // default 5
	BreakerCooloff    time.Duration // default 1s
	ReconcileInterval time.Duration // 0: never
	// UsageInterval is how often usage deltas are flushed to the cluster
	// and the tenants' totals read back; default 100ms.
	UsageInterval time.Duration
	// TrackInterval is how often the topology is checked and tracking
	// connections are pinged; a connection silent for 5 intervals (at
	// least 1s) is dropped. Default 200ms.
	TrackInterval time.Duration
	Logger        *slog.Logger
}

// Cluster is a backed.Backend over Redis Cluster.
type Cluster struct {
	opt    Options
	rdb    *redis.ClusterClient
	prefix string
	log    *slog.Logger

	br   breaker  // cluster-wide calls: scans, flushes
	brs  breakers // per master: key commands
	inv  func(backed.Invalidation)
	hist *metrics.Histogram

	calls, errs, timeouts, hits, misses, rejected atomic.Uint64
	invalidations, invalidateAll                  atomic.Uint64
	slotInvalidations                             atomic.Uint64
	reconcileRuns, reconciled                     atomic.Uint64

	use usageTable
	tr  tracker
	ext extras // scripts and pub/sub (script.go, pubsub.go)

	nodesMu sync.Mutex
	nodes   map[string]*redis.Client

	raw rawPool // the collection commands' connections (coll.go)

	warnMu   sync.Mutex
	warnings []string
	reached  atomic.Pointer[Reached]

	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

var (
	_ backed.Backend   = (*Cluster)(nil)
	_ backed.Forwarder = (*Cluster)(nil)
)

// New checks o and builds the client; Start connects.
func New(o Options) (*Cluster, error) {
	if len(o.Addrs) == 0 {
		return nil, errors.New("backing: no cluster addresses")
	}
	if o.KeyPrefix == "" || strings.ContainsAny(o.KeyPrefix, "{}") {
		return nil, fmt.Errorf("backing: key prefix %q must be non-empty and hold no '{' or '}'", o.KeyPrefix)
	}
	if o.ScanTimeout <= 0 {
		o.ScanTimeout = 5 * time.Second
	}
	if o.BreakerFailures <= 0 {
		o.BreakerFailures = 5
	}
	if o.BreakerCooloff <= 0 {
		o.BreakerCooloff = time.Second
	}
	if o.UsageInterval <= 0 {
		o.UsageInterval = 100 * time.Millisecond
	}
	if o.TrackInterval <= 0 {
		o.TrackInterval = 200 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	c := &Cluster{
		opt:    o,
		prefix: o.KeyPrefix,
		log:    o.Logger,
		hist:   metrics.NewHistogram(metrics.LatencyBuckets),
		nodes:  map[string]*redis.Client{},
		stop:   make(chan struct{}),
		inv:    func(backed.Invalidation) {},
	}
	c.br.init(o.BreakerFailures, o.BreakerCooloff)
	c.brs.init(o.BreakerFailures, o.BreakerCooloff)
	c.use.init()
	c.tr.init()
	c.rdb = redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:     o.Addrs,
		Username:  o.Username,
		Password:  o.Password,
		TLSConfig: o.TLS,
		Protocol:  2,
		// The tier timeout arrives as each call's context deadline; the
		// socket timeouts only bound calls made without one.
		ContextTimeoutEnabled:  true,
		DialTimeout:            time.Second,
		ReadTimeout:            3 * time.Second,
		WriteTimeout:           3 * time.Second,
		MaxRetries:             3,
		MinRetryBackoff:        8 * time.Millisecond,
		MaxRetryBackoff:        64 * time.Millisecond,
		DisableRoutingPolicies: true,
		// go-redis reloads the slot map on MOVED/ASK and otherwise every
		// 60s: a dead master answers neither. Failures and the tracker
		// also ask for a reload (classify, trackOnce).
		ClusterStateReloadInterval: time.Second,
		DisableIdentity:            true, // Redis 7.0 has no CLIENT SETINFO
		ClientName:                 "tcached",
		// Redis 7.0 has no CLIENT MAINT_NOTIFICATIONS either.
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
	return c, nil
}

// SetInvalidator implements backed.Backend.
func (c *Cluster) SetInvalidator(fn func(backed.Invalidation)) { c.inv = fn }

// Start checks that the cluster answers within ctx, warns about eviction
// policies that would let Redis evict one tenant's keys for another's
// writes, loads the scripts and starts the tracking and usage loops.
func (c *Cluster) Start(ctx context.Context) error {
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("backing: cluster at %v does not answer: %w", c.opt.Addrs, err)
	}
	masters, err := c.fetchMasters(ctx)
	if err != nil {
		return fmt.Errorf("backing: reading the cluster's slots: %w", err)
	}
	warnings := c.CheckPolicy(ctx)
	for _, w := range warnings {
		c.log.Warn("backing: "+w, "consequence", "Redis may evict one tenant's keys because of another tenant's writes")
	}
	if err := c.startRelay(ctx); err != nil { // pubsub.go
		return fmt.Errorf("backing: subscribing for pub/sub across nodes: %w", err)
	}
	c.logReached(ctx, masters, len(warnings))
	c.loop(c.opt.TrackInterval, c.trackOnce, c.tr.closeAll) // closing the connections ends their readers
	c.loop(c.opt.UsageInterval, c.usageRound, nil)
	if c.opt.ReconcileInterval > 0 {
		c.loop(c.opt.ReconcileInterval, c.reconcileAll, nil)
	}
	return nil
}

// loop runs fn at once and then every d until Close, then done (if any).
func (c *Cluster) loop(d time.Duration, fn, done func()) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if done != nil {
			defer done()
		}
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			fn()
			select {
			case <-c.stop:
				return
			case <-t.C:
			}
		}
	}()
}

// Close stops the loops and closes every connection.
func (c *Cluster) Close() error {
	c.once.Do(func() {
		close(c.stop)
		c.wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c.use.sync.Lock()
		c.flushUsage(ctx) // the last deltas, bounded if the cluster is gone
		c.use.sync.Unlock()
		cancel()
		c.nodesMu.Lock()
		for _, n := range c.nodes {
			n.Close()
		}
		c.nodesMu.Unlock()
		c.raw.close()
	})
	return c.rdb.Close()
}

// CheckPolicy asks every master for its maxmemory-policy. noeviction and
// the volatile-* policies are accepted (every key tcached writes without
// an explicit TTL gets its tier's default TTL, so a volatile policy
// evicts keys that would expire soon anyway); anything else can evict a
// tenant's keys because another tenant wrote, and is reported.
func (c *Cluster) CheckPolicy(ctx context.Context) []string {
	var mu sync.Mutex
	var out []string
	err := c.rdb.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		addr := n.Options().Addr
		v, err := n.ConfigGet(ctx, "maxmemory-policy").Result()
		mu.Lock()
		defer mu.Unlock()
		switch p := v["maxmemory-policy"]; {
		case err != nil:
			out = append(out, fmt.Sprintf("cannot read maxmemory-policy of %s: %v", addr, err))
		case p == "noeviction" || strings.HasPrefix(p, "volatile-"):
		default:
			out = append(out, fmt.Sprintf("master %s runs maxmemory-policy %s; tenants need noeviction (or a volatile-* policy sized for the tier TTLs)", addr, p))
		}
		return nil
	})
	if err != nil {
		out = append(out, "cannot check maxmemory-policy: "+err.Error())
	}
	sort.Strings(out)
	c.warnMu.Lock()
	c.warnings = out
	c.warnMu.Unlock()
	return out
}

// name is the L2 name of a tenant's key.
func (c *Cluster) name(tenant string, db int, key []byte) string {
	b := make([]byte, 0, len(c.prefix)+len(tenant)+4+len(key))
	b = append(b, c.prefix...)
	b = append(b, tenant...)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(db), 10)
	b = append(b, ':')
	b = append(b, key...)
	return string(b)
}

// dbPrefix is the L2 name prefix of a tenant's db (every db when db < 0).
func (c *Cluster) dbPrefix(tenant string, db int) string {
	s := c.prefix + tenant + ":"
	if db >= 0 {
		s += strconv.Itoa(db) + ":"
	}
	return s
}

// parse splits an L2 name into tenant, db and key; ok is false for names
// that are not tenant keys.
func (c *Cluster) parse(name []byte) (tenant string, db int, key []byte, ok bool) {
	if len(name) < len(c.prefix) || string(name[:len(c.prefix)]) != c.prefix {
		return "", 0, nil, false
	}
	rest := name[len(c.prefix):]
	i := indexByte(rest, ':')
	if i <= 0 {
		return "", 0, nil, false
	}
	tenant, rest = string(rest[:i]), rest[i+1:]
	j := indexByte(rest, ':')
	if j <= 0 || j > 2 {
		return "", 0, nil, false
	}
	for _, d := range rest[:j] {
		if d < '0' || d > '9' {
			return "", 0, nil, false
		}
		db = db*10 + int(d-'0')
	}
	return tenant, db, rest[j+1:], true
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// globEscape escapes s so that a Redis glob matches it literally.
func globEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// node returns a client for one master address (for per-node SCAN).
func (c *Cluster) node(addr string) *redis.Client {
	c.nodesMu.Lock()
	defer c.nodesMu.Unlock()
	n := c.nodes[addr]
	if n == nil {
		n = redis.NewClient(&redis.Options{
			Addr: addr, Username: c.opt.Username, Password: c.opt.Password, TLSConfig: c.opt.TLS,
			Protocol: 2, ContextTimeoutEnabled: true, DialTimeout: time.Second,
			MaxRetries: 1, PoolSize: 4, DisableIdentity: true,
			MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
		})
		c.nodes[addr] = n
	}
	return n
}

// breakerFor is the breaker of the master serving an L2 name's slot.
func (c *Cluster) breakerFor(name string) *breaker {
	slot := SlotString(name)
	c.tr.mu.Lock()
	addr := ""
	if c.tr.owners != nil {
		addr = c.tr.owners[slot]
	}
	c.tr.mu.Unlock()
	return c.brs.get(addr)
}

// failure reports whether a classified error counts against a breaker.
func failure(err error) bool {
	if err == nil {
		return false
	}
	_, answer := err.(backed.ReplyError)
	return !answer
}

// gate asks the breaker of the master serving name for one call: nil
// when it refuses (the call is counted as rejected).
func (c *Cluster) gate(now time.Time, name string) *breaker {
	b := c.breakerFor(name)
	if !b.allow(now) {
		c.rejected.Add(1)
		return nil
	}
	return b
}

// settle classifies one command's outcome and records it on the breaker
// that let it through.
func (c *Cluster) settle(b *breaker, end time.Time, err error) error {
	err = c.classify(err)
	b.record(end, failure(err))
	return err
}

// begin asks the cluster-wide breaker for a call; end records it.
func (c *Cluster) begin() error {
	if !c.br.allow(time.Now()) {
		c.rejected.Add(1)
		return backed.ErrBackendUnavailable
	}
	c.calls.Add(1)
	return nil
}

// end classifies the outcome of a call started at start and returns the
// error to hand up: nil, a backed.ReplyError (an answer), or a failure.
func (c *Cluster) end(start time.Time, err error) error {
	c.hist.Observe(time.Since(start))
	return c.settle(&c.br, time.Now(), err)
}

// classify counts a failure and turns Redis error replies into
// backed.ReplyError; redis.Nil is no error.
func (c *Cluster) classify(err error) error {
	if err == nil || err == redis.Nil {
		return nil
	}
	if isTimeout(err) {
		c.timeouts.Add(1)
		c.rdb.ReloadState(context.Background()) // a failover may be under way
		return fmt.Errorf("backing tier timeout: %w", context.DeadlineExceeded)
	}
	var re redis.Error
	if errors.As(err, &re) {
		msg := re.Error()
		for _, p := range []string{"CLUSTERDOWN", "TRYAGAIN", "MASTERDOWN", "LOADING", "READONLY", "MOVED", "ASK"} {
			if strings.HasPrefix(msg, p+" ") {
				c.errs.Add(1)
				c.rdb.ReloadState(context.Background())
				return fmt.Errorf("%w: %s", backed.ErrBackendFailed, msg)
			}
		}
		return backed.ReplyError(msg)
	}
	c.errs.Add(1)
	// A refused or broken connection usually means a dead master: have
	// the client re-read the slot map (at most every 200ms, in the
	// background) rather than wait for its periodic reload.
	c.rdb.ReloadState(context.Background())
	return fmt.Errorf("%w: %v", backed.ErrBackendFailed, err)
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Stats implements backed.Backend.
func (c *Cluster) Stats() backed.BackendStats {
	h := c.hist.Snapshot()
	masters, conns := c.tr.counts()
	c.warnMu.Lock()
	w := append([]string(nil), c.warnings...)
	c.warnMu.Unlock()
	open, trips := c.br.state(time.Now())
	o2, t2 := c.brs.state(time.Now())
	open, trips = open || o2, trips+t2
	return backed.BackendStats{
		Calls: c.calls.Load(), Errors: c.errs.Load(), Timeouts: c.timeouts.Load(),
		L2Hits: c.hits.Load(), L2Misses: c.misses.Load(),
		BreakerOpen: open, BreakerTrips: trips, BreakerRejected: c.rejected.Load(),
		Invalidations: c.invalidations.Load(), InvalidateAll: c.invalidateAll.Load(),
		SlotInvalidations: c.slotInvalidations.Load(),
		TrackingConns:     conns, Masters: masters, Ready: c.Ready(),
		LatencyCount: h.Count, LatencySum: h.Sum, LatencyBuckets: h.Buckets,
		PolicyWarnings: w, ReconcileRuns: c.reconcileRuns.Load(), Reconciled: c.reconciled.Load(),
	}
}
