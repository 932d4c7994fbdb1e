package config

import (
	"crypto/sha256"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tcached/tcached/tiers"
)

// Defaults applied when a key is absent.
const (
	DefaultListen        = "127.0.0.1:6380"
	DefaultMetricsListen = "127.0.0.1:9380"
	// DefaultMaxInFlight is max_inflight's default: the global number of
	// commands in flight that admission's priority shedding protects. See
	// the package documentation for the reasoning.
	DefaultMaxInFlight = 4096
	// DefaultHotTenantShare is hot_tenant_share's default: a tenant above
	// 30% of the total used memory, or of the commands per second, is hot.
	DefaultHotTenantShare = 0.30
	// DefaultHotTenantInterval is hot_tenant_interval's default: how often
	// the shares are measured.
	DefaultHotTenantInterval = 10 * time.Second
	// MaxRateLimit is the largest rate_limit accepted: admission keeps the
	// token interval in whole nanoseconds. Use 0 for no limit.
	MaxRateLimit = 1e9
	// DefaultFairShareDelayTarget is fair_share_delay_target's default:
	// the scheduling delay above which the server counts as contended
	// (admission.DefaultDelayTarget, where the measurements are).
	DefaultFairShareDelayTarget = 200 * time.Microsecond
	// MaxWeight is the largest weight accepted.
	MaxWeight = 1000
)

// Client memory: what connections make the server hold, beside what
// tenants store. See the package documentation's Memory section for the
// reasoning behind each figure.
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

// ServerOverhead is the part of maxmemory reserved for the process itself
// with maxClients connections: ServerOverheadBase plus ConnOverhead each.
func ServerOverhead(maxClients int) int64 {
	return ServerOverheadBase + int64(maxClients)*ConnOverhead
}

// Defaults and bounds of the backing section (Backing).
const (
	// DefaultKeyPrefix is backing.key_prefix's default.
	DefaultKeyPrefix = "tcached:"
	// MaxKeyPrefixLen is the longest backing.key_prefix, in bytes.
	MaxKeyPrefixLen = 64
	// DefaultL1MaxTTL is backing.l1_max_ttl's default.
	DefaultL1MaxTTL = 10 * time.Second
	// MaxL1MaxTTL is the largest backing.l1_max_ttl accepted.
	MaxL1MaxTTL = 24 * time.Hour
	// DefaultScanTimeout is backing.scan_timeout's default.
	DefaultScanTimeout = 5 * time.Second
	// DefaultBreakerFailures is backing.breaker_failures's default.
	DefaultBreakerFailures = 5
	// DefaultBreakerCooloff is backing.breaker_cooloff's default.
	DefaultBreakerCooloff = time.Second
	// DefaultReconcileInterval is backing.reconcile_interval's default.
	DefaultReconcileInterval = 5 * time.Minute
)

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

// Limits bound what one client may cost the server: connections, idle and
// unauthenticated time, request and reply sizes, and AUTH guessing. Keys are
// named as in redis.conf where Redis has the same knob. The preauth_* limits
// apply to a connection until it is authenticated (or bound to
// default_tenant); Parse guarantees each is no looser than its
// authenticated counterpart.
type Limits struct {
	// MaxClients caps open client connections across all tenants; >= 1.
	MaxClients int
	// Timeout closes a client idle this long; 0 means never.
	Timeout time.Duration
	// AuthTimeout closes a connection not authenticated within this long
	// of accepting it; 0 means never.
	AuthTimeout time.Duration
	// WriteTimeout is the deadline of every socket write; > 0.
	WriteTimeout time.Duration
	// ProtoMaxBulkLen is the longest bulk string a request may carry, in
	// bytes; >= 1KiB.
	ProtoMaxBulkLen int64
	// ClientQueryBufferLimit caps the bytes buffered for one client's
	// unprocessed requests; >= 1KiB.
	ClientQueryBufferLimit int64
	// ClientOutputBufferLimit caps the reply bytes buffered for one
	// authenticated client before it is disconnected; 0 means unlimited.
	ClientOutputBufferLimit int64
	// PreAuthMaxArgs is the most arguments (command name included) in one
	// request before authentication; >= 1.
	PreAuthMaxArgs int
	// PreAuthMaxBulkLen is ProtoMaxBulkLen before authentication; 1 to
	// ProtoMaxBulkLen.
	PreAuthMaxBulkLen int64
	// PreAuthQueryBufferLimit is ClientQueryBufferLimit before
	// authentication; 1 to ClientQueryBufferLimit.
	PreAuthQueryBufferLimit int64
	// PreAuthOutputBufferLimit is ClientOutputBufferLimit before
	// authentication; > 0, and <= ClientOutputBufferLimit unless that is 0.
	PreAuthOutputBufferLimit int64
	// MaxInlineLen is the longest inline command line, and the longest
	// '*' or '$' header line, in bytes; > 0.
	MaxInlineLen int64
	// AuthMaxFailures is how many failed AUTHs, counted per client IP and
	// per user name, start a lockout; 0 disables throttling.
	AuthMaxFailures int
	// AuthLockout is the first lockout; each further failure while locked
	// out doubles it, up to AuthLockoutMax. > 0.
	AuthLockout time.Duration
	// AuthLockoutMax caps the lockout; >= AuthLockout.
	AuthLockoutMax time.Duration
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
// and every default applied.
type Backing struct {
	// KeyPrefix starts every L2 key: <KeyPrefix><tenant>:<db>:<key>.
	// Non-empty, at most MaxKeyPrefixLen bytes, no '{' or '}' (so users'
	// hash tags decide slots), no whitespace or control characters.
	// Default DefaultKeyPrefix.
	KeyPrefix string
	// L1MaxTTL caps how long an L1 copy may be served without L2 being
	// asked again (bounds any lost invalidation). > 0 and <= MaxL1MaxTTL;
	// default DefaultL1MaxTTL.
	L1MaxTTL time.Duration
	// ScanTimeout bounds the cluster-wide scans of KEYS, SCAN, DBSIZE,
	// RANDOMKEY, FLUSHDB and FLUSHALL. > 0; default DefaultScanTimeout.
	ScanTimeout time.Duration
	// BreakerFailures consecutive L2 failures (errors or timeouts) open the
	// circuit breaker. >= 1; default DefaultBreakerFailures.
	BreakerFailures int
	// BreakerCooloff is how long an open breaker stops calling L2 before
	// one probe. > 0; default DefaultBreakerCooloff.
	BreakerCooloff time.Duration
	// ReconcileInterval is how often the per-tenant L2 usage counters are
	// recomputed by a scan; 0 disables. Default DefaultReconcileInterval.
	ReconcileInterval time.Duration
	Cluster           RedisCluster
}

// RedisCluster is how to reach and authenticate to the cluster.
type RedisCluster struct {
	// Addrs are seed nodes, host:port each (port 1-65535), at least one,
	// no two the same; as written in the file.
	Addrs []string
	// Username is the ACL user; "" means the default user. Set only
	// together with Password.
	Username string
	// Password is sent with AUTH; "" means the cluster has no AUTH. It is
	// held in clear, since it must be sent (Parse warns that the file
	// holds it).
	Password string
	// TLS enables TLS to the cluster; nil means plaintext.
	TLS *BackingTLS
}

// BackingTLS is TLS to the cluster. The zero value verifies the cluster's
// certificate against the system roots. Parse reads the files (relative
// paths are relative to the working directory) and refuses unreadable or
// invalid ones; the server loads them again when it connects.
type BackingTLS struct {
	// CAFile is a PEM bundle of CAs that verify the cluster's certificate
	// instead of the system roots; "" means the system roots.
	CAFile string
	// CertFile and KeyFile are a PEM client certificate and its private key
	// (both or neither), for clusters that require client certificates.
	CertFile string
	KeyFile  string
	// ServerName is the name verified against the cluster's certificate;
	// "" means the host of the address dialled.
	ServerName string
	// InsecureSkipVerify accepts any certificate (Parse warns); for
	// development only.
	InsecureSkipVerify bool
}

// Config is a parsed and validated configuration. Every Config returned by
// Parse satisfies all the rules listed in the package documentation.
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
	// DefaultTenant is the tenant unauthenticated connections are bound to;
	// "" means connections must AUTH.
	DefaultTenant string
	DefaultRole   Role // role of connections bound to DefaultTenant
	// ProtectedMode, while DefaultTenant is set, makes the server refuse
	// clients that do not connect from a loopback address, so that an open
	// tenant is not exposed to the network by accident. Default true.
	ProtectedMode bool
	Limits        Limits
	// MaxInFlight is the global capacity, in commands in flight across all
	// tenants, above which admission sheds tenants by tier priority
	// (lowest first, from 70% of it; see package admission). 0 disables
	// shedding. Default DefaultMaxInFlight.
	MaxInFlight int
	// FairShare enables fair sharing of a contended server by tier weight
	// (package admission). Default true.
	FairShare bool
	// FairShareDelayTarget is the scheduling delay above which the server
	// counts as contended. Default DefaultFairShareDelayTarget.
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
	// means off, the default. Parse does not open the file.
	AuditLog string
	// HotTenantShare flags a tenant as hot when its share of the total used
	// memory, or of the commands per second, exceeds it; in (0, 1].
	// Default DefaultHotTenantShare.
	HotTenantShare float64
	// HotTenantInterval is how often hot tenants are looked for; > 0.
	// Default DefaultHotTenantInterval.
	HotTenantInterval time.Duration
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
