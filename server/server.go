// Package server speaks RESP to Redis clients and binds each connection to a
// tenant. It owns the lifecycle (New, Serve, Close, Reload), the
// connection loop (conn.go, wire.go), each client's state (client.go),
// dispatch (dispatch.go), blocked clients (block.go), transactions
// (multi.go), pub/sub's commands and queues (pubsub.go), client memory
// (clientmem.go), fair-share accounting (fair.go), scripting (script.go,
// over package scripting), the connection, server
// and operator commands (cmd_*.go, operator.go), the admin HTTP API and
// the tenant registry. The data commands live in family/..., backed mode
// in package backed; table.go assembles their rows with the server's own.
// evloop_linux.go is a prototype epoll front end over the same loop steps
// (issue 15), reachable only from binaries built with -tags evloop;
// bench/README.md ("Connection model") records why it is not the default.
//
// # Flow of one command
//
// The connection goroutine reads into its buffer, and resp.Parser cuts
// complete commands out of it under Redis's protocol limits (tighter
// before AUTH). dispatch then runs every check from the command's row,
// in Redis's order (processCommand): unknown command or subcommand,
// arity, authentication, role permission, RESP2's subscribed context,
// admission (rate, concurrency, argument bytes, shedding, fair share),
// client memory for a denyoom command, then the handler, or the MULTI
// queue. The handler runs against the caller's tenant partition only:
// every key a handler sees is resolved inside c.tenant.part, so the
// namespace is structural. No key, pattern, cursor or byte sequence can
// name another tenant's partition, because nothing maps a key to a
// partition: the connection's AUTH binding does.
//
// # Errors
//
// Reply strings live in errors.go, spelled as Redis spells them (the
// families' in command/errors.go). Lower layers return sentinel errors
// (shard.ErrOOM, backed.ErrBackendFailed) that storeError maps.
//
// # Concurrency
//
// A client is used by its connection goroutine only, except for the fields
// that CLIENT LIST reads from other goroutines, which client.mu guards.
// Tenants and users are immutable after New; their counters are atomics.
package server

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tcached/tcached/admission"
	"github.com/tcached/tcached/backed"
	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/config"
	"github.com/tcached/tcached/family/list"
	"github.com/tcached/tcached/metrics"
	"github.com/tcached/tcached/pubsub"
	"github.com/tcached/tcached/resp"
	"github.com/tcached/tcached/scripting"
	"github.com/tcached/tcached/shard"
)

// Version is tcached's own version, reported in INFO as tcached_version.
const Version = "0.1.0"

// redisVersion is what INFO and HELLO report as the Redis version whose
// semantics tcached follows; clients gate features on it.
const redisVersion = "7.0.15"

// Options are the dependencies a Server takes from its composition root.
type Options struct {
	Logger *slog.Logger
	// Now is the clock for TTLs and INFO; nil means time.Now.
	Now func() time.Time
	// ExpireInterval is how often active expiry runs; 0 means 100ms.
	ExpireInterval time.Duration
	// Shards forces the number of sub-shards per tenant (0 = auto).
	Shards int
	// HotShare is the share (0..1) of total used memory or of commands per
	// second above which a tenant is flagged hot; 0 means 0.30.
	HotShare float64
	// HotInterval is how often hot tenants are evaluated; 0 means 10s.
	HotInterval time.Duration
	// AdmissionClock is admission's clock and sleep; nil is the real one.
	AdmissionClock admission.Clock
	// MaxBlock caps how long a blocking command (BLPOP, BRPOP, BLMOVE)
	// waits, timeout 0 included; 0 means one hour (list.MaxBlockWait).
	MaxBlock time.Duration
	// NewTimer starts the timer of a blocking command's timeout, which is
	// measured on Now's clock; nil means time.NewTimer. A test that injects
	// a fake Now injects timers that fire as it moves that clock, so a
	// timeout passes without the test waiting for it.
	NewTimer func(d time.Duration) (c <-chan time.Time, stop func() bool)
	// Audit receives audit records (use a JSON handler); nil disables them.
	Audit *slog.Logger
	// Reload loads the config anew for TENANT RELOAD and ReloadFromSource
	// (cmd/tcached re-reads the file); nil makes reloading an error.
	Reload func() (*config.Config, []string, error)
	// ConfigPath is the config file the runtime tenant commands (TENANT
	// CREATE, SET, DELETE, USER) rewrite; "" refuses them. Reload should
	// read the same file.
	ConfigPath string
	// Backend, when set, is the store of record behind the tenants'
	// partitions, which become their L1 caches (backed.go). The caller
	// starts and closes it; New installs the invalidation callback, so
	// start it after New.
	Backend backed.Backend
	// L1MaxTTL caps how long an L1 copy is served without asking L2 again;
	// 0 means 10s. Only with Backend.
	L1MaxTTL time.Duration
	// ScanTimeout bounds the cluster-wide scans of backed KEYS, DBSIZE,
	// RANDOMKEY and flushes; 0 means 5s.
	ScanTimeout time.Duration
	// FairDelay replaces fair sharing's measured scheduling delay (tests).
	FairDelay func() time.Duration
	// FairTick is how often fair sharing re-evaluates; 0 means
	// admission.FairTick.
	FairTick time.Duration
	// unprivileged makes the server behave as if it could not move a
	// thread back from SCHED_IDLE (tests of that path, run as root).
	unprivileged bool
}

type tenant struct {
	id           string // immutable
	backed       bool   // immutable: the partition is an L1 cache (backed.go)
	conf         atomic.Pointer[config.Tenant]
	part         *shard.Partition
	adm          *admission.Tenant
	defaultTTLms atomic.Int64
	// enc is the tenant's collection-encoding thresholds (CONFIG SET
	// hash-max-listpack-entries ...); like Redis's CONFIG SET they live
	// until the process ends and are not in the config file.
	enc *command.Encodings
	// types is the tenant's other per-type parameters
	// (hll-sparse-max-bytes, stream-node-max-*), CONFIG SET like enc.
	types         *command.TypeParams
	clients       atomic.Int64
	connsReceived atomic.Int64 // connections ever bound to the tenant (INFO total_connections_received)
	authFailures  atomic.Int64 // failed AUTH naming one of the tenant's users
	latency       *metrics.Histogram

	// The per-command counters, which every command of the tenant writes
	// on whichever core it runs, sit on a cache line of their own: beside
	// part, adm and conf (read by every command) each write made the other
	// core fetch those again.
	_         [64]byte
	commands  atomic.Int64 // all executed commands
	cmdErrors atomic.Int64 // finished commands that replied with an error
	cmdOK     atomic.Int64 // finished commands that did not (counted at the end, so a scrape never sees ok go down)
	_         [64]byte

	// diag is the tenant's slow log, latency events and their CONFIG SET
	// settings (slowlog.go).
	diag tenantDiag

	// txMu makes EXEC atomic: dispatch holds it shared around every
	// handler of the tenant, EXEC exclusively (multi.go). watch is the
	// registry of WATCHed keys.
	txMu  txLock
	watch watchRegistry
	// gate and excl order the exclusive holders of txMu (EXEC, scripts)
	// and publish the current one, so that commands waiting for the lock
	// can be answered BUSY while a script is busy (script.go).
	gate chan struct{}
	excl atomic.Pointer[exclusive]

	// scripts is the tenant's scripting engine (script.go), created on
	// first use.
	scriptsOnce sync.Once
	scripts     *scripting.Engine
	// busyOverride is the tenant's CONFIG SET busy-reply-threshold (ns;
	// 0: its tier's script_time_limit), until the next reload.
	busyOverride atomic.Int64

	pubsub  pubsub.Registry[*subscriber] // the tenant's channels and patterns (pubsub.go)
	spubsub pubsub.Registry[*subscriber] // the tenant's shard channels (pubsub_shard.go)

	// hooks says what dispatch does after the tenant's commands beyond
	// their handlers (monitor.go): 0 while nobody monitors the tenant and
	// none of its connections tracks keys. monitors are its MONITOR
	// connections, trk its client-side caching state (tracking.go).
	hooks    atomic.Uint32
	monitors monitorSet
	trk      tenantTracking

	// cmem is the tenant's client-memory budget and what its connections
	// hold against it (clientmem.go).
	cmem memPool

	// blocked holds the tenant's clients blocked in BLPOP, BRPOP, BLMOVE
	// (block.go); heavy caps its expensive commands running at once
	// (fair.go, "Long commands").
	blocked blockRegistry
	heavy   heavySlots
	// heavySeen is when (Server.mono) one of the tenant's commands last
	// ran past heavyAfter: its next ones may run on the idle pool
	// (fair.go, runPredicted).
	heavySeen atomic.Int64

	// Hot-tenant flags, set by evaluateHot (see hot.go).
	hotMemory, hotCommands atomic.Bool
	lastCommands           int64 // evaluateHot's previous sample; evaluateHot only

	// l2 is the tenant's backed-mode counters (package backed).
	l2 backed.Stats

	// dirty counts the keys the tenant's writes changed (and its keyless
	// write commands); savedDirty is
	// its value when the last snapshot started (snapshot.go, INFO
	// rdb_changes_since_last_save).
	dirty, savedDirty atomic.Int64
}

// user is a tenant's user, or an operator (tenant nil): operators
// authenticate like users but are bound to no tenant.
type user struct {
	cfg      config.User
	tenant   *tenant
	operator bool
}

// Server is one tcached instance. Create it with New, serve with Serve, stop
// with Close. Several Servers can live in one process (tests do).
type Server struct {
	log     *slog.Logger
	now     func() time.Time
	table   map[string]*command.Spec
	ordered []*command.Spec // table rows in name order, for COMMAND

	reg       atomic.Pointer[registry]
	shards    int // forced sub-shards per tenant (tests); 0 = auto
	dummyHash [32]byte

	started time.Time
	nextID  atomic.Int64 // connection counter; ids are its permutation (clientid.go)
	ids     idCipher
	panics  atomic.Int64
	guard   *admission.AuthGuard

	admission    *admission.Controller
	auditLog     *slog.Logger
	loader       func() (*config.Config, []string, error)
	maxBlock     time.Duration // longest wait of a blocking command
	reloadMu     sync.Mutex    // serialises reloads
	configPath   string        // rewritten by the runtime tenant commands
	editMu       sync.Mutex    // serialises their read-edit-write-reload
	quotaMu      sync.Mutex    // serialises TENANT QUOTA's sum check and change
	authFailures atomic.Int64
	rejected     [numRejectReasons]atomic.Int64
	hotShare     float64
	hotIv        time.Duration

	// unattributed is the client-memory pool of connections bound to no
	// tenant (clientmem.go): maxmemory_clients minus the tenants' budgets.
	unattributed memPool

	// allMonitors are operators' MONITORs of every tenant (monitor.go).
	allMonitors monitorSet
	// deadQueue is what a closed connection's psRef holds: deliveries to
	// it are dropped (pubsub.go, tracking.go).
	deadQueue *subscriber

	limits     Limits
	preLimits  resp.Limits
	authLimits resp.Limits
	protected  bool

	mu        sync.Mutex // guards clients, listeners, closed
	clients   map[int64]*client
	listeners []net.Listener
	closed    bool

	closing   atomic.Bool  // set by Close: connections finish their command and exit
	conns     atomic.Int64 // open connections (maxclients)
	connWG    sync.WaitGroup
	startOnce sync.Once

	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
	expireIv time.Duration
	fairIv   time.Duration

	heavyNice bool // expensive commands move their thread to SCHED_IDLE (fair.go, heavy_linux.go)
	idlePool  bool // and those predicted start on the idle pool (fair.go, runHandler)
	// heavyRetire: expensive commands move their thread to SCHED_IDLE
	// though it cannot move back (no CAP_SYS_NICE): the connection then
	// goes on on a new goroutine and the thread ends (conn.go, runConn).
	heavyRetire bool
	retired     atomic.Int64 // connections moved to a new goroutine so (tests)
	idleRuns    atomic.Int64 // commands run on the idle pool (INFO heavy_pool_commands)

	newTimer func(time.Duration) (<-chan time.Time, func() bool) // a blocking command's timeout, on now's clock (Options.NewTimer)

	// realWall says the TTL clock (now) and mono are both real, so wallMs
	// may derive wall time from mono and wallOff (ns, refreshed by
	// syncWall every expiry round).
	realWall bool
	wallOff  atomic.Int64

	backend backed.Backend // nil: the embedded store (backed.go)
	l2      *backed.Mode   // the backed mode over backend; nil when embedded

	snap snapState // warm restarts (snapshot.go)
}

// New builds a server for cfg. It does not listen yet.
func New(cfg *config.Config, opts Options) (*Server, error) {
	s := &Server{
		log:      opts.Logger,
		now:      opts.Now,
		shards:   opts.Shards,
		clients:  make(map[int64]*client),
		stop:     make(chan struct{}),
		expireIv: opts.ExpireInterval,
		fairIv:   opts.FairTick,
	}
	if s.fairIv <= 0 {
		s.fairIv = admission.FairTick
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if s.now == nil {
		s.now = time.Now
		s.realWall = opts.AdmissionClock == nil
	}
	if s.expireIv <= 0 {
		s.expireIv = 100 * time.Millisecond
	}
	s.auditLog, s.loader, s.configPath = opts.Audit, opts.Reload, opts.ConfigPath
	if opts.Backend != nil {
		s.backend = opts.Backend
		s.l2 = backed.New(opts.Backend, backed.Options{L1MaxTTL: opts.L1MaxTTL, ScanTimeout: opts.ScanTimeout})
	}
	s.heavyNice = probeHeavyNice() && !opts.unprivileged
	s.idlePool = probeIdlePool()
	s.heavyRetire = !s.heavyNice && s.idlePool // the pool's probe: a thread may enter SCHED_IDLE
	switch {
	case s.heavyNice:
		s.log.Info("expensive commands run on idle-priority threads (SCHED_IDLE)", "heavy_thread_nice", true, "heavy_thread_pool", s.idlePool)
	case s.heavyRetire:
		s.log.Info("expensive commands run on idle-priority threads (SCHED_IDLE); without CAP_SYS_NICE a thread cannot come back, so each ends after its command",
			"heavy_thread_nice", false, "heavy_thread_pool", true)
	default:
		s.log.Warn("expensive commands run at normal priority: this process may not move a thread to SCHED_IDLE; see README, Hostile input and hostile tenants",
			"heavy_thread_nice", false, "heavy_thread_pool", false)
	}
	s.newTimer = opts.NewTimer
	if s.newTimer == nil {
		s.newTimer = func(d time.Duration) (<-chan time.Time, func() bool) {
			t := time.NewTimer(d)
			return t.C, t.Stop
		}
	}
	s.maxBlock = opts.MaxBlock
	if s.maxBlock <= 0 {
		s.maxBlock = list.MaxBlockWait
	}
	s.hotShare, s.hotIv = opts.HotShare, opts.HotInterval
	if s.hotShare <= 0 {
		s.hotShare = cfg.HotTenantShare
	}
	if s.hotIv <= 0 {
		s.hotIv = cfg.HotTenantInterval
	}
	if s.hotShare <= 0 {
		s.hotShare = 0.30
	}
	if s.hotIv <= 0 {
		s.hotIv = 10 * time.Second
	}
	// A Config built in code rather than parsed may leave Limits zero.
	s.limits = cfg.Limits
	if s.limits.MaxClients == 0 {
		s.limits = config.DefaultLimits()
	}
	s.preLimits, s.authLimits = protoFor(s.limits)
	s.protected = cfg.ProtectedMode
	s.guard = admission.NewAuthGuard(s.limits.AuthMaxFailures, s.limits.AuthLockout, s.limits.AuthLockoutMax, s.now)
	s.started = s.now()
	s.dummyHash = config.HashPassword("tcached-dummy-password-for-constant-time")
	s.ids = newIDCipher()
	s.allMonitors.all = true
	s.deadQueue = &subscriber{dead: true}
	s.admission = admission.NewController(admission.Options{
		MaxInFlight: cfg.MaxInFlight,
		Clock:       opts.AdmissionClock,
		Fair: admission.FairOptions{
			Enabled:     cfg.FairShare,
			DelayTarget: cfg.FairShareDelayTarget,
			Delay:       opts.FairDelay,
		},
	})
	s.syncWall()
	reg, _, err := s.buildRegistry(cfg, nil)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.reg.Store(reg)
	s.setBudgets(reg)
	s.refreshAllHooks()
	s.buildTable()
	if s.backend != nil {
		s.backend.SetInvalidator(s.invalidate)
		if at := s.l2.Atomic(); at != nil {
			at.SetRelay(s.relay) // pubsub_backed.go
		}
	}
	s.initSnapshots(cfg.SnapshotPath, cfg.SnapshotInterval) // loads before any Serve
	return s, nil
}

// Serve accepts connections on ln until Close; call it once per listener
// (plain and TLS listeners may run side by side). Active expiry starts with
// the first Serve.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return net.ErrClosed
	}
	s.listeners = append(s.listeners, ln)
	s.mu.Unlock()
	s.startBackground()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Out of file descriptors and the like: back off, as net/http does.
			if backoff == 0 {
				backoff = 5 * time.Millisecond
			} else if backoff *= 2; backoff > time.Second {
				backoff = time.Second
			}
			s.log.Warn("accept failed", "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-s.stop:
				return nil
			}
			continue
		}
		backoff = 0
		if s.conns.Add(1) > int64(s.limits.MaxClients) {
			s.conns.Add(-1)
			s.rejected[rejectMaxClients].Add(1)
			go s.refuse(nc, errMaxClients)
			continue
		}
		if s.protected && s.reg.Load().defTenant != nil && !isLoopback(nc.RemoteAddr()) {
			s.conns.Add(-1)
			s.rejected[rejectProtected].Add(1)
			go s.refuse(nc, errDenied)
			continue
		}
		s.connWG.Add(1)
		go s.serveConn(nc)
	}
}

// startBackground starts active expiry, hot-tenant evaluation and fair
// sharing, once, with the first listener served. It runs under s.mu and
// not once Close has begun: Close marks the server closed under s.mu
// before it waits for the background goroutines, so their wg.Add never
// races that Wait (a SIGTERM right after start did, under the race
// detector: TestKillDuringSave).
func (s *Server) startBackground() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.startOnce.Do(func() {
		s.every(s.expireIv, s.expireRound)
		s.every(s.hotIv, s.evaluateHot) // see hot.go
		if s.admission.FairStatus().Enabled {
			s.every(s.fairIv, s.fairTick) // see fair.go
		}
		if s.snap.path != "" && s.snap.interval > 0 {
			s.every(s.snap.interval, func() { s.saveSnapshot("periodic") }) // snapshot.go
		}
	})
}

// Close shuts down gracefully: it stops accepting, lets every connection
// finish the command it is executing and flush its replies, then closes
// them. Connections still busy after 5 seconds are closed hard.
func (s *Server) Close() error {
	s.closing.Store(true)
	s.stopOnce.Do(func() { close(s.stop) })
	s.mu.Lock()
	s.closed = true
	lns := s.listeners
	conns := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	var err error
	for _, ln := range lns {
		if e := ln.Close(); e != nil && err == nil && !errors.Is(e, net.ErrClosed) {
			err = e
		}
	}
	// Wake connections blocked in Read; one executing a command finishes it.
	for _, c := range conns {
		c.conn.nc.SetReadDeadline(time.Now())
	}
	done := make(chan struct{})
	go func() { s.connWG.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		for _, c := range conns {
			c.conn.nc.Close()
		}
		<-done
	}
	s.wg.Wait()
	// Every connection has finished: the last snapshot holds every
	// acknowledged write (snapshot.go).
	s.snap.final.Do(func() { s.saveSnapshot("shutdown") })
	return err
}

// expireRound is one round of active expiry over every tenant.
func (s *Server) expireRound() {
	s.syncWall()
	for _, tn := range s.reg.Load().order {
		tn.part.ExpireCycle(2000)
		if tn.trk.pendingN.Load() != 0 {
			s.drainTracking(tn) // expired keys' invalidations (tracking.go)
		}
	}
}

// every runs fn every d until Close.
func (s *Server) every(d time.Duration, fn func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				fn()
			}
		}
	}()
}

func (s *Server) newClient(nc net.Conn) *client {
	c := &client{
		srv:       s,
		id:        s.ids.id(uint64(s.nextID.Add(1))),
		addr:      nc.RemoteAddr().String(),
		laddr:     nc.LocalAddr().String(),
		created:   s.now(),
		connected: time.Now(),
		killCh:    make(chan struct{}),
		unblock:   make(chan bool, 1),
	}
	// The connection's setup is its first charged span (fair.go): without
	// a mark, the first flush would charge the time since year 1.
	c.mark = s.mono()
	c.hold.Conn = nc
	c.mem.pool.Store(&s.unattributed)
	c.hold.c = c
	c.conn = newWire(&c.hold, s.limits.WriteTimeout, c.addr, c)
	c.x = command.Ctx{W: &c.conn.Writer, Ms: s.wallMs, Conn: c}
	c.lastActive.Store(c.mark)
	s.mu.Lock()
	s.clients[c.id] = c
	s.mu.Unlock()
	return c
}

func (s *Server) dropClient(c *client) {
	s.mu.Lock()
	delete(s.clients, c.id)
	s.mu.Unlock()
	c.unwatch()
	c.endMulti()
	c.releaseMem()
	c.bind(nil, "", 0, false)
	if c.preAuth > 0 { // it never authenticated: the server's time
		s.admission.ChargeServer(int64(c.preAuth))
		c.preAuth = 0
	}
}

// bindDefault binds c to default_tenant, or leaves it unauthenticated. It
// reports false when default_tenant is at its connection cap.
func (s *Server) bindDefault(c *client) bool {
	if reg := s.reg.Load(); reg.defTenant != nil {
		return c.bind(reg.defTenant, "default", reg.cfg.DefaultRole, false)
	}
	c.bind(nil, "", 0, false)
	return true
}

// authenticate resolves credentials to a user. name "" or "default" means
// password-only AUTH, which is unambiguous because passwords are unique.
// Unknown user and wrong password cost the same hash-and-compare.
//
// Failed attempts are throttled per client IP and per user name (admission.AuthGuard);
// a locked-out attempt does the same work and gets the same answer.
func (s *Server) authenticate(addr string, name, pass []byte) *user {
	reg := s.reg.Load()
	locked := s.guard.Locked(addr, string(name))
	u := s.checkPassword(reg, name, pass)
	if locked || u == nil {
		s.authFailures.Add(1)
		if named := reg.users[string(name)]; named != nil && named.tenant != nil {
			named.tenant.authFailures.Add(1)
		}
	}
	if locked {
		return nil
	}
	if u == nil {
		s.guard.Failure(addr, string(name))
		return nil
	}
	s.guard.Success(addr, string(name))
	return u
}

func (s *Server) checkPassword(reg *registry, name, pass []byte) *user {
	h := config.HashPassword(string(pass))
	if len(name) == 0 || string(name) == "default" {
		u := reg.byHash[h]
		if u == nil {
			subtle.ConstantTimeCompare(h[:], s.dummyHash[:])
		}
		return u
	}
	u := reg.users[string(name)]
	want := s.dummyHash
	if u != nil {
		want = u.cfg.PasswordSHA256
	}
	if subtle.ConstantTimeCompare(h[:], want[:]) != 1 || u == nil {
		return nil
	}
	return u
}

// TenantStats is a per-tenant snapshot for metrics and operators.
type TenantStats struct {
	ID, Tier string
	Clients  int64
	Commands int64
	shard.Stats
}

// Stats returns a snapshot of every tenant, in config order.
func (s *Server) Stats() []TenantStats {
	order := s.reg.Load().order
	out := make([]TenantStats, 0, len(order))
	for _, t := range order {
		out = append(out, TenantStats{
			ID:       t.id,
			Tier:     t.cfg().TierName,
			Clients:  t.clients.Load(),
			Commands: t.commands.Load(),
			Stats:    t.part.Stats(),
		})
	}
	return out
}

// Panics reports how many handler panics were recovered.
func (s *Server) Panics() int64 { return s.panics.Load() }

// clientsOf lists the tenant's connections sorted by id (CLIENT LIST).
func (s *Server) clientsOf(t *tenant) []*client {
	s.mu.Lock()
	out := make([]*client, 0, 8)
	for _, c := range s.clients {
		if c.tenantSnapshot() == t {
			out = append(out, c)
		}
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

func (s *Server) port() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.listeners) == 0 {
		return "0"
	}
	_, p, _ := net.SplitHostPort(s.listeners[0].Addr().String())
	if _, err := strconv.Atoi(p); err != nil {
		return "0"
	}
	return p
}
