package config

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tcached/tcached/tiers"
)

// Defaults and bounds of keys, named for callers and for the rows of
// table.go that use them.
const (
	DefaultListen               = "127.0.0.1:6380"       // listen
	DefaultMetricsListen        = "127.0.0.1:9380"       // metrics_listen
	DefaultMaxInFlight          = 4096                   // max_inflight; REFERENCE.md, Admission, says why
	DefaultHotTenantShare       = 0.30                   // hot_tenant_share
	DefaultHotTenantInterval    = 10 * time.Second       // hot_tenant_interval
	DefaultFairShareDelayTarget = 200 * time.Microsecond // fair_share_delay_target; measured in admission (DefaultDelayTarget)
	MaxWeight                   = 1000                   // the largest weight
	// MaxRateLimit is the largest rate_limit: admission keeps the token
	// interval in whole nanoseconds. 0 is no limit.
	MaxRateLimit = 1e9

	DefaultKeyPrefix         = "tcached:"       // backing.key_prefix
	MaxKeyPrefixLen          = 64               // the longest backing.key_prefix, in bytes
	DefaultL1MaxTTL          = 10 * time.Second // backing.l1_max_ttl
	MaxL1MaxTTL              = 24 * time.Hour   // the largest backing.l1_max_ttl
	DefaultScanTimeout       = 5 * time.Second  // backing.scan_timeout
	DefaultBreakerFailures   = 5                // backing.breaker_failures
	DefaultBreakerCooloff    = time.Second      // backing.breaker_cooloff
	DefaultReconcileInterval = 5 * time.Minute  // backing.reconcile_interval

	DefaultSnapshotInterval = 5 * time.Minute // snapshot_interval
)

// Client memory: what connections make the server hold, beside what
// tenants store. The package documentation's Memory section says why.
const (
	// ClientMemoryQuotaDivisor: a tenant's default client_memory is its
	// quota divided by this (25%), but at least MinDefaultClientMemory.
	ClientMemoryQuotaDivisor = 4
	// MinDefaultClientMemory is the floor of the default client_memory:
	// room for a few MiB-sized requests and replies in flight at once
	// even for a tenant with a tiny quota, and for one request as large as
	// a small tenant's whole quota (a read buffer is part of the budget,
	// so client_memory also caps the largest request, as Redis's
	// client-query-buffer-limit does).
	MinDefaultClientMemory = 8 << 20
	// DefaultUnattributedClientMemory is the part of the default
	// maxmemory_clients left to connections bound to no tenant (before
	// AUTH, operators): 16 pre-AUTH clients at their 1MiB query limit.
	DefaultUnattributedClientMemory = 16 << 20
	// ServerOverheadBase is what maxmemory reserves for the process itself
	// (Go runtime, code, tables, metrics) whatever the load.
	ServerOverheadBase = 16 << 20
	// ConnOverhead is what maxmemory reserves per maxclients for each
	// connection's fixed cost outside the client-memory budgets: its
	// goroutine stack (8KiB to start), its first 4KiB read buffer, client
	// state and socket. (TestIdleConnectionsMemory measures an idle
	// connection, client side included, under 32KiB.)
	ConnOverhead = 12 << 10
)

// DefaultClientMemory is the client_memory of a tenant with the given
// quota that sets none (nor does its tier).
func DefaultClientMemory(quota int64) int64 {
	return max(quota/ClientMemoryQuotaDivisor, MinDefaultClientMemory)
}

// DefaultMaxMemoryClients is the maxmemory_clients of a file that sets
// none: the tenants' client_memory budgets plus the unattributed pool,
// DefaultUnattributedClientMemory but at least one pre-AUTH client's
// preauth_query_buffer_limit. The server recomputes it with the same
// arithmetic when TENANT QUOTA rescales a derived budget, as a reload of
// the file with the new quota would.
func DefaultMaxMemoryClients(budgets, preAuthQueryBufferLimit int64) int64 {
	return sumCapped(budgets, max(DefaultUnattributedClientMemory, preAuthQueryBufferLimit))
}

// ServerOverhead is the part of maxmemory reserved for the process itself
// with maxClients connections: ServerOverheadBase plus ConnOverhead each.
func ServerOverhead(maxClients int) int64 {
	return ServerOverheadBase + int64(maxClients)*ConnOverhead
}

// Role is what an authenticated connection may do. The zero value is not a
// valid role, so a User built by hand without a role is caught by the server.
type Role uint8

const (
	RoleReadOnly  Role = iota + 1 // read commands only
	RoleReadWrite                 // read and write commands on the tenant's keys
	RoleAdmin                     // also tenant-scoped administrative commands
)

// String returns the role as spelled in the configuration file.
func (r Role) String() string {
	switch r {
	case RoleReadOnly:
		return "readonly"
	case RoleReadWrite:
		return "readwrite"
	case RoleAdmin:
		return "admin"
	}
	return "Role(" + strconv.Itoa(int(r)) + ")"
}

// Eviction is what a tenant's partition does when a write would exceed its
// quota.
type Eviction uint8

const (
	EvictLRU   Eviction = iota // evict the tenant's least recently used keys
	NoEviction                 // refuse the write (Redis's OOM error)
)

// String returns the policy as spelled in the configuration file.
func (e Eviction) String() string {
	switch e {
	case EvictLRU:
		return "lru"
	case NoEviction:
		return "noeviction"
	}
	return "Eviction(" + strconv.Itoa(int(e)) + ")"
}

// User is one credential. Only the SHA-256 digest of the password is kept,
// even when the file held the plaintext.
type User struct {
	Name           string
	PasswordSHA256 [32]byte
	Role           Role
	// Plaintext reports that the file held the password in clear (Parse
	// also returns a warning for it).
	Plaintext bool
}

// Operator is a platform operator: it authenticates with AUTH like a User,
// but is bound to no tenant (the server decides what it may do across
// tenants). Operator names share one namespace with user names, and
// operator passwords are unique among all user and operator passwords, so
// both AUTH forms resolve to exactly one identity.
type Operator struct {
	Name           string
	PasswordSHA256 [32]byte
	// Plaintext reports that the file held the password in clear (Parse
	// also returns a warning for it).
	Plaintext bool
	// TokenSHA256 is the SHA-256 of the operator's bearer token for the
	// HTTP admin API; meaningful only when HasToken is set. Tokens are
	// unique among operators.
	TokenSHA256 [32]byte
	HasToken    bool
}

// Tenant is one isolated keyspace with a memory guarantee.
type Tenant struct {
	ID       string
	TierName string
	// Tier is the tenant's tier (after any top-level tier overrides) with the
	// tenant's own overrides applied; Tier.Name equals TierName.
	Tier     tiers.Tier
	Quota    int64 // bytes, > 0; the sum over tenants is <= Config.MaxMemory
	Eviction Eviction
	// ShedReadsAsMiss makes a read refused by priority shedding (and only
	// by shedding) answer as a cache miss instead of an error, for clients
	// that treat a miss as "go to the database". Default false.
	ShedReadsAsMiss bool
	// ClientMemory is the tenant's client-memory budget in bytes, > 0:
	// Tier.ClientMemory when set (by the tier or the tenant), else
	// DefaultClientMemory(Quota). A Config built in code may leave it 0;
	// the server then applies DefaultClientMemory itself.
	ClientMemory int64
	// Users may be empty only for Config.DefaultTenant.
	Users []User
}

// ClientMemoryDerived reports whether the tenant's client_memory follows
// its quota (neither the tenant nor its tier sets it): TENANT QUOTA then
// rescales the budget with the quota, as a reload of the file with the new
// quota would. A Config built in code that sets ClientMemory to anything
// but DefaultClientMemory(Quota) counts as explicit.
func (t *Tenant) ClientMemoryDerived() bool {
	return t.Tier.ClientMemory == 0 && (t.ClientMemory == 0 || t.ClientMemory == DefaultClientMemory(t.Quota))
}

// Limits bound what one client may cost the server: connections, idle and
// unauthenticated time, request and reply sizes, and AUTH guessing. Each
// field is one top-level key (limitFields has its bounds, default and
// description). The preauth_* limits apply to a connection until it is
// authenticated (or bound to default_tenant); Parse guarantees each is no
// looser than its authenticated counterpart.
type Limits struct {
	MaxClients               int           // maxclients: open connections across all tenants, >= 1
	Timeout                  time.Duration // timeout: idle time before a client is closed; 0 = never
	AuthTimeout              time.Duration // auth_timeout: time to authenticate after accept; 0 = never
	WriteTimeout             time.Duration // write_timeout: deadline of every socket write, > 0
	ProtoMaxBulkLen          int64         // proto_max_bulk_len: longest bulk string of a request, >= 1KiB
	ClientQueryBufferLimit   int64         // client_query_buffer_limit: unprocessed request bytes, >= 1KiB
	ClientOutputBufferLimit  int64         // client_output_buffer_limit: buffered reply bytes; 0 = unlimited
	PreAuthMaxArgs           int           // preauth_max_args: arguments of one request before AUTH, >= 1
	PreAuthMaxBulkLen        int64         // preauth_max_bulk_len: 1 to ProtoMaxBulkLen
	PreAuthQueryBufferLimit  int64         // preauth_query_buffer_limit: 1 to ClientQueryBufferLimit
	PreAuthOutputBufferLimit int64         // preauth_output_buffer_limit: > 0, <= ClientOutputBufferLimit unless that is 0
	MaxInlineLen             int64         // max_inline_len: longest inline command or '*'/'$' header line, > 0
	AuthMaxFailures          int           // auth_max_failures: failed AUTHs per IP and per user before a lockout; 0 = no throttling
	AuthLockout              time.Duration // auth_lockout: the first lockout, doubled per further failure; > 0
	AuthLockoutMax           time.Duration // auth_lockout_max: the cap on the lockout, >= AuthLockout
}

// DefaultLimits returns the limits of a file that sets none of them (the
// defaults of limitFields). When only an authenticated limit is set below
// a preauth default, Parse lowers that preauth default to match, and
// likewise auth_lockout to auth_lockout_max.
func DefaultLimits() Limits {
	var l Limits
	setDefaults(limitFields(&l))
	return l
}

// Backing configures Redis Cluster as the store of record (L2) behind the
// tenants' partitions (L1). Parse returns it only with every field valid
// and every default applied (backingFields).
type Backing struct {
	KeyPrefix         string        // starts every L2 key: <KeyPrefix><tenant>:<db>:<key>; no '{' or '}'
	L1MaxTTL          time.Duration // longest an L1 copy is served without asking L2; (0, MaxL1MaxTTL]
	ScanTimeout       time.Duration // bound on the cluster-wide scans (KEYS, SCAN, DBSIZE, ...); > 0
	BreakerFailures   int           // consecutive L2 failures that open the circuit breaker; >= 1
	BreakerCooloff    time.Duration // how long an open breaker waits before one probe; > 0
	ReconcileInterval time.Duration // how often L2 usage is recomputed by a scan; 0 = never
	Cluster           RedisCluster
}

// RedisCluster is how to reach and authenticate to the cluster.
type RedisCluster struct {
	Addrs    []string    // seed nodes as written, host:port each; at least one, no two the same
	Username string      // ACL user; "" is the default user. Set only with Password.
	Password string      // sent with AUTH, so held in clear; "" means the cluster has no AUTH
	TLS      *BackingTLS // nil: plaintext
}

// BackingTLS is TLS to the cluster. The zero value verifies the cluster's
// certificate against the system roots. Parse reads the files (relative
// paths are relative to the working directory) and refuses unreadable or
// invalid ones; the server loads them again when it connects.
type BackingTLS struct {
	CAFile             string // PEM bundle of CAs that verify the cluster; "" means the system roots
	CertFile, KeyFile  string // PEM client certificate and its key, both or neither
	ServerName         string // name verified against the cluster's certificate; "" means the host dialled
	InsecureSkipVerify bool   // accept any certificate (Parse warns); for development only
}

// Config is a parsed and validated configuration. Every Config returned by
// Parse satisfies each key's row (table.go) and the rules among keys
// (package documentation). A field that is a key says so below only where
// a caller must know more than REFERENCE.md tells operators.
type Config struct {
	// Listen is the host:port of the plain Redis-protocol listener; "" means
	// none, which Parse allows only when TLSListen is set.
	Listen string
	// MetricsListen is the host:port of the HTTP metrics listener; "" means
	// disabled.
	MetricsListen string
	// TLSListen is the host:port of the TLS Redis-protocol listener; ""
	// means none. When set, TLSCertFile and TLSKeyFile are set too; when
	// not, all three files are "". Parse does not read the files.
	TLSListen   string
	TLSCertFile string // PEM certificate chain of the TLS listener
	TLSKeyFile  string // PEM private key of TLSCertFile
	// TLSCAFile is a PEM bundle of CAs; when set, TLS clients must present
	// a certificate that verifies against it. "" means client certificates
	// are not requested.
	TLSCAFile string
	MaxMemory int64 // bytes, > 0
	// MaxMemoryClients caps the memory all connections make the server
	// hold: the tenants' ClientMemory budgets plus the pool of connections
	// bound to no tenant (pre-AUTH, operators), which is what is left of
	// it. Parse guarantees it holds the budgets plus at least one pre-AUTH
	// client's PreAuthQueryBufferLimit, and that the quotas, it and
	// ServerOverhead(Limits.MaxClients) fit in MaxMemory. Default: the sum
	// of the budgets plus DefaultUnattributedClientMemory. A Config built
	// in code may leave it 0; the server then applies that default.
	MaxMemoryClients int64
	// MaxMemoryClientsDerived is set by Parse when the file has no
	// maxmemory_clients: MaxMemoryClients is then DefaultMaxMemoryClients
	// of the budgets, and follows them when TENANT QUOTA rescales a
	// derived client_memory (an explicit maxmemory_clients stays).
	MaxMemoryClientsDerived bool
	// DefaultTenant is the tenant unauthenticated connections are bound to;
	// "" means connections must AUTH.
	DefaultTenant string
	DefaultRole   Role // role of connections bound to DefaultTenant
	// ProtectedMode, while DefaultTenant is set, makes the server refuse
	// clients that do not connect from a loopback address, so that an open
	// tenant is not exposed to the network by accident.
	ProtectedMode bool
	Limits        Limits
	// MaxInFlight is the global capacity, in commands in flight across all
	// tenants, above which admission sheds tenants by tier priority
	// (lowest first, from 70% of it; see package admission). 0 disables
	// shedding.
	MaxInFlight int
	// FairShare enables fair sharing of a contended server by tier weight
	// (package admission). A Config built in code leaves it off.
	FairShare bool
	// FairShareDelayTarget is the scheduling delay above which the server
	// counts as contended.
	FairShareDelayTarget time.Duration
	// Tiers holds every tier: the built-ins with top-level overrides applied,
	// plus custom tiers.
	Tiers   map[string]tiers.Tier
	Tenants []Tenant // in file order
	// Operators are the operator identities, in file order; empty when the
	// file has none.
	Operators []Operator
	// AuditLog is where audit records go: "stderr", "stdout" or a file
	// path (as written; relative to the server's working directory). ""
	// means off. Parse does not open the file.
	AuditLog string
	// HotTenantShare flags a tenant as hot when its share of the total used
	// memory, or of the commands per second, exceeds it; in (0, 1].
	HotTenantShare float64
	// HotTenantInterval is how often hot tenants are looked for; > 0.
	HotTenantInterval time.Duration
	// SnapshotPath is the warm-restart file (package snapshot); "" means
	// no snapshots.
	SnapshotPath string
	// SnapshotInterval is how often a snapshot is written while serving;
	// 0 means only on shutdown.
	SnapshotInterval time.Duration
	// Backing makes a Redis Cluster the store of record (L2) behind the
	// tenants' partitions; nil (no backing key) means the embedded store
	// alone, exactly as without the feature.
	Backing *Backing
}

// Tenant returns the tenant with the given id, pointing into c.Tenants,
// and false if there is none.
func (c *Config) Tenant(id string) (*Tenant, bool) {
	for i := range c.Tenants {
		if c.Tenants[i].ID == id {
			return &c.Tenants[i], true
		}
	}
	return nil, false
}

// Error is a configuration error located in the source file. Parse and
// Load return *Error for every problem with the file's content.
type Error struct {
	Source string // file name as given to Parse or Load
	Line   int    // 1-based; 0 when unknown (e.g. a required key is absent)
	Field  string // path such as tenants[2].users[0].password_sha256; may be empty
	Msg    string
}

// Error formats as source:line: field: msg, omitting the parts that are
// unknown, e.g. `tcached.yaml:12: tenants[1].quota: invalid size "12XB"`.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Line > 0 {
		if e.Source != "" {
			b.WriteByte(':')
		} else {
			b.WriteString("line ")
		}
		b.WriteString(strconv.Itoa(e.Line))
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// HashPassword returns the SHA-256 digest of p, the form in which passwords
// are stored and compared.
func HashPassword(p string) [32]byte { return sha256.Sum256([]byte(p)) }

// Load reads and parses the file at path, using path as the error source.
// Errors reading the file are returned as they come from the os package.
func Load(path string) (*Config, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return Parse(data, path)
}

// Parse parses and validates a YAML configuration. source names the input in
// errors and warnings. Warnings describe accepted but discouraged settings
// (plaintext passwords); the caller decides whether to log them. Every
// error is an *Error.
func Parse(data []byte, source string) (*Config, []string, error) {
	root, err := parseYAML(data, source)
	if err != nil {
		return nil, nil, err
	}
	d := &decoder{source: source, budget: 2*len(data) + 64}
	if err := d.document(root); err != nil {
		return nil, nil, err
	}
	return validate(root, source)
}

// HexSHA256 is password_sha256's form of p: 64 lower-case hex digits.
func HexSHA256(p string) string {
	h := HashPassword(p)
	return hex.EncodeToString(h[:])
}
