package config

import (
	"fmt"
	"slices"
	"time"

	"github.com/tcached/tcached/tiers"
)

// The field tables: every key of the file, once. Each function binds its
// rows to the struct it fills, so a table is built per use and never
// shared (no package-level state). Row order is the order in which values
// are checked (validate.go runs the rules among keys between parts of a
// table, see cut) and the order of REFERENCE.md's tables.

func topFields(c *Config) []field {
	return slices.Concat([]field{
		{key: "listen", kind: kAddr, def: DefaultListen, dst: &c.Listen, note: `or "off" with tls_listen set`,
			doc: "Plain Redis-protocol listener. Port `0` picks a free port. `off` (or `\"\"`) turns it off, only when `tls_listen` is set."},
		{key: "metrics_listen", kind: kAddr, def: DefaultMetricsListen, dst: &c.MetricsListen, note: `or "off" to disable`,
			doc: "HTTP listener of `/metrics` and the admin API. `off` (or `\"\"`) disables it; an empty value (`metrics_listen:`) keeps the default."},
		{key: "tls_listen", kind: kAddr, dst: &c.TLSListen, note: `or "off" to disable`,
			doc: "Redis-protocol listener speaking TLS, beside or instead of `listen`. See [TLS](#tls)."},
		{key: "tls_cert_file", kind: kPath, dst: &c.TLSCertFile, doc: "PEM certificate chain of the TLS listener. Required with `tls_listen`."},
		{key: "tls_key_file", kind: kPath, dst: &c.TLSKeyFile, doc: "PEM private key of `tls_cert_file`. Required with `tls_listen`."},
		{key: "tls_ca_file", kind: kPath, dst: &c.TLSCAFile, doc: "PEM CA bundle. When set, TLS clients must present a certificate that verifies against it."},
		{key: "protected_mode", kind: kBool, def: true, dst: &c.ProtectedMode,
			doc: "While `default_tenant` is set, refuse clients that do not connect from loopback, as Redis's `protected-mode` does."},
		{key: "maxmemory", kind: kSize, min: 1, required: true, example: "512MiB", dst: &c.MaxMemory,
			doc: "Memory the process may use: quotas, client memory and the server's overhead must fit in it. See [Memory](#memory)."},
		{key: "default_tenant", kind: kString, check: checkTenantRef, dst: &c.DefaultTenant, typ: "tenant id",
			doc: "Tenant that unauthenticated connections are bound to, like Redis's default user with `nopass`. Must name a tenant."},
		{key: "default_role", kind: kEnum, enum: roles(), label: "role", def: RoleReadWrite, dst: &c.DefaultRole,
			doc: "[Role](#roles) of connections bound to `default_tenant`. A warning without `default_tenant`."},
	}, limitFields(&c.Limits), []field{
		{key: "max_inflight", kind: kInt, def: DefaultMaxInFlight, dst: &c.MaxInFlight,
			doc: "Commands in flight across all tenants that [request admission](#admission) protects by shedding. `0` disables shedding."},
		{key: "fair_share", kind: kBool, def: true, dst: &c.FairShare,
			doc: "Share a contended server by tier `weight` (README, \"Fair sharing when contended\")."},
		{key: "fair_share_delay_target", kind: kDuration, min: 1, def: DefaultFairShareDelayTarget, dst: &c.FairShareDelayTarget,
			doc: "Scheduling delay (p99 over the last 40ms) above which the server counts as contended."},
		{key: "audit_log", kind: kString, check: checkAuditLog, dst: &c.AuditLog, typ: "`off` \\| `stderr` \\| `stdout` \\| path", defDoc: "`off`",
			doc: "Where audit records (JSON lines) go. `\"\"` means `off`; keywords in any case. `yes`, `no`, `true`, `false` and `on` are refused (write `./yes` for such a file). A path is kept as written (relative to the server's working directory) and not opened while parsing."},
		{key: "hot_tenant_share", kind: kRatio, def: DefaultHotTenantShare, dst: &c.HotTenantShare,
			doc: "A tenant above this share of the used memory, or of the commands per second, is flagged as hot. A decimal such as `0.3`: no `%`, exponent or leading dot."},
		{key: "hot_tenant_interval", kind: kDuration, min: 1, def: DefaultHotTenantInterval, dst: &c.HotTenantInterval,
			doc: "How often the shares are measured."},
		{key: "maxmemory_clients", kind: kSize, dst: &c.MaxMemoryClients, defDoc: "tenants' `client_memory` + 16MiB",
			doc: "Cap on the memory all connections make the server hold; what the tenants' budgets leave is for connections bound to no tenant. See [Memory](#memory)."},
	}, snapshotFields(c), []field{
		{key: "backing", kind: kSection, rows: func() []field { return backingFields(new(Backing)) },
			typ: "mapping, see [Backing store](#backing-store-redis-cluster)",
			doc: "Redis Cluster as the store of record (L2) behind the tenants' partitions. Without it (or null) everything stays in the embedded store."},
		{key: "tiers", kind: kNamed, rows: func() []field { return tierEntryFields(new(tiers.Tier)) },
			typ: "mapping of name → [tier](#tiers)", defDoc: "built-ins", doc: "Override built-in tiers or add new ones."},
		{key: "tenants", kind: kList, required: true, rows: func() []field { return tenantFields(new(Tenant)) },
			typ: "list of [tenants](#tenants)", doc: "At least one tenant."},
		{key: "operators", kind: kList, rows: func() []field { return operatorFields() },
			typ: "list of [operators](#operators)", doc: "Identities bound to no tenant."},
	})
}

// limitFields are the top-level keys of Config.Limits; names follow
// redis.conf where Redis has the knob.
func limitFields(l *Limits) []field {
	const kib = 1 << 10
	return []field{
		{key: "maxclients", kind: kInt, min: 1, def: 10000, dst: &l.MaxClients,
			doc: "Open client connections across all tenants; each reserves 12KiB of `maxmemory`."},
		{key: "timeout", kind: kSeconds, dst: &l.Timeout, defDoc: "`0` (never)",
			doc: "Close a client idle this long; `0` = never. As in `redis.conf`, `300` is 300 seconds."},
		{key: "auth_timeout", kind: kDuration, def: 10 * time.Second, dst: &l.AuthTimeout,
			doc: "Close a connection not authenticated this long after it was accepted; `0` = never."},
		{key: "write_timeout", kind: kDuration, min: 1, def: 30 * time.Second, dst: &l.WriteTimeout,
			doc: "Deadline of every socket write."},
		{key: "proto_max_bulk_len", kind: kSize, min: kib, def: 512 << 20, dst: &l.ProtoMaxBulkLen,
			doc: "Longest bulk string in a request."},
		{key: "client_query_buffer_limit", kind: kSize, min: kib, def: 1 << 30, dst: &l.ClientQueryBufferLimit,
			doc: "Bytes buffered for one client's unprocessed requests."},
		{key: "client_output_buffer_limit", kind: kSize, def: 1 << 30, dst: &l.ClientOutputBufferLimit,
			doc: "Reply bytes buffered for one authenticated client before it is disconnected; `0` = unlimited. One size, not `redis.conf`'s class/hard/soft form."},
		{key: "preauth_max_args", kind: kInt, min: 1, def: 10, dst: &l.PreAuthMaxArgs,
			doc: "Most arguments (command name included) in one request before authentication."},
		{key: "preauth_max_bulk_len", kind: kSize, min: 1, def: 16 << 10, dst: &l.PreAuthMaxBulkLen,
			doc: "`proto_max_bulk_len` before authentication."},
		{key: "preauth_query_buffer_limit", kind: kSize, min: 1, def: 1 << 20, dst: &l.PreAuthQueryBufferLimit,
			doc: "`client_query_buffer_limit` before authentication."},
		{key: "preauth_output_buffer_limit", kind: kSize, min: 1, def: 64 << 10, dst: &l.PreAuthOutputBufferLimit,
			doc: "`client_output_buffer_limit` before authentication."},
		{key: "max_inline_len", kind: kSize, min: 1, def: 64 << 10, dst: &l.MaxInlineLen,
			doc: "Longest inline command line, and longest `*` or `$` header line."},
		{key: "auth_max_failures", kind: kInt, def: 5, dst: &l.AuthMaxFailures,
			doc: "Failed `AUTH`s, counted per client IP and per user name, before a lockout; `0` disables throttling."},
		{key: "auth_lockout", kind: kDuration, min: 1, def: time.Second, dst: &l.AuthLockout,
			doc: "First lockout; each further failure while locked out doubles it."},
		{key: "auth_lockout_max", kind: kDuration, min: 1, def: time.Minute, dst: &l.AuthLockoutMax,
			doc: "Cap on the lockout; not below `auth_lockout`."},
	}
}

// tierFields are the keys of a tier that a tenant may override too. They
// have no defaults: a tier entry starts from the built-in tier of its name
// (or a new tier), a tenant from its tier.
func tierFields(t *tiers.Tier) []field {
	return []field{
		{key: "default_ttl", kind: kSeconds, dst: &t.DefaultTTL,
			doc: "TTL given to keys written without one; `0` = no default TTL."},
		{key: "max_ttl", kind: kSeconds, dst: &t.MaxTTL,
			doc: "Retention cap: no key lives longer than this after the write that left it. A write without a TTL gets `default_ttl` (or `max_ttl` when that is `0`); a longer or absent TTL asked for (`EX`, `EXPIRE`, `PERSIST`, `KEEPTTL`, ...) is capped or refused, per `max_ttl_policy`. Not below `default_ttl`. `0` = no cap. See [Retention](#retention)."},
		{key: "max_ttl_policy", kind: kEnum, enum: []fmt.Stringer{tiers.TTLCap, tiers.TTLRefuse}, dst: &t.MaxTTLPolicy,
			defDoc: "`cap`",
			doc:    "What a command asking for a TTL past `max_ttl`, or for none, gets: `cap` stores the write with the TTL capped; `refuse` answers an error and writes nothing."},
		{key: "timeout", kind: kDuration, dst: &t.Timeout,
			doc: "Longest a request waits for admission (the tier's SLA): one that would wait longer is refused, never run late; one whose service time exceeds it is an SLA violation. `0` = unbounded."},
		{key: "max_concurrent", kind: kInt, note: "0 = unlimited", dst: &t.MaxConcurrent,
			doc: "In-flight requests per tenant; `0` = unlimited."},
		{key: "max_connections", kind: kInt, note: "0 = unlimited", dst: &t.MaxConnections,
			doc: "Open connections per tenant; `0` = unlimited."},
		{key: "rate_limit", kind: kRate, max: MaxRateLimit, dst: &t.RateLimit,
			doc: "Commands per second per tenant (token bucket), e.g. `5000` or `0.5`; `0` = unlimited."},
		{key: "burst", kind: kInt, note: "0 = one second of rate_limit", dst: &t.Burst,
			doc: "Token-bucket size in commands; `0` = one second of `rate_limit` (at least 1)."},
		{key: "max_arg_bytes", kind: kSize, dst: &t.MaxArgBytes,
			doc: "Argument bytes of one tenant's in-flight requests, and so its largest request; `0` = unlimited."},
		{key: "l2_quota", kind: kSize, dst: &t.L2Quota,
			doc: "Bytes one tenant may keep in the [backing](#backing-store-redis-cluster) cluster (L2); `0` = unlimited. No effect without `backing`."},
		{key: "l1_collection_max", kind: kSize, dst: &t.L1CollMax,
			doc: "Largest collection (by Redis's `MEMORY USAGE` in L2) a [backed](#backing-store-redis-cluster) tenant caches in L1; bigger ones are read from L2 every time. `0` = collections are not cached. Built-in tiers: 64KiB / 32KiB / 16KiB. No effect without `backing`."},
		{key: "weight", kind: kInt, min: 1, max: MaxWeight, dst: &t.Weight,
			note: "a share of a contended server relative to other tenants' weights",
			doc:  "Share of a contended server relative to the active tenants' weights (`fair_share`)."},
		{key: "heavy_slots", kind: kInt, min: 1, dst: &t.HeavySlots,
			note: "omit it for the default: half of GOMAXPROCS, at least 1",
			doc:  "Expensive commands (past 250µs of work: `KEYS`, `SCAN`, `SORT`, big replies) of one tenant that run at once while another tenant is active; the others wait for a slot. A tenant alone on the server (with `fair_share`) is not held to it. Absent (every built-in tier): half of `GOMAXPROCS`, at least 1."},
		{key: "client_memory", kind: kSize, min: 1, dst: &t.ClientMemory,
			note: "omit it for the default: a quarter of the quota, at least " + formatSize(MinDefaultClientMemory),
			doc:  "The tenant's [client-memory](#memory) budget. Absent (every built-in tier): a quarter of the tenant's quota, at least 8MiB."},
		{key: "script_time_limit", kind: kDuration, min: 1, dst: &t.ScriptTimeLimit,
			note: "omit it for the default: 5s, Redis's busy-reply-threshold",
			doc:  "Redis's `busy-reply-threshold` (`lua-time-limit`) for the tenant's scripts: once one has run this long, the tenant's other commands get `-BUSY` and `SCRIPT KILL` / `FUNCTION KILL` may stop it (unless it wrote). Other tenants never wait on it. Absent (every built-in tier): 5s."},
		{key: "script_max_time", kind: kDuration, min: 1, dst: &t.ScriptMaxTime,
			note: "omit it for the default: 1m",
			doc:  "A script of the tenant still running after this long is stopped by the server with an error, even after writes (its writes stay, as after a crash): tcached's own limit, where Redis waits for `SCRIPT KILL` or `SHUTDOWN NOSAVE`. Absent (every built-in tier): 1m."},
	}
}

// tierEntryFields are the keys of a tiers entry: a tier's fields, and its
// priority, which a tenant may not override (shedding order is what a
// tier is).
func tierEntryFields(t *tiers.Tier) []field {
	return append(tierFields(t), field{key: "priority", kind: kInt, dst: &t.Priority,
		doc: "Shedding order under overload: higher is shed later."})
}

// tenantFields: a tenant's keys. id and tier are checked by validate.go
// (unique, a known tier) before the rest are applied, on top of the tier.
func tenantFields(t *Tenant) []field {
	return slices.Concat([]field{
		{key: "id", kind: kString, required: true, dst: &t.ID, typ: "`[A-Za-z0-9_-]{1,64}`", doc: "Unique tenant id."},
		{key: "tier", kind: kString, required: true, dst: &t.TierName, typ: "tier name",
			doc: "A built-in tier or one declared under `tiers`."},
	}, tierFields(&t.Tier), []field{
		{key: "quota", kind: kSize, min: 1, required: true, example: "64MiB", dst: &t.Quota,
			doc: "Guaranteed memory. The sum of all quotas must fit in `maxmemory`."},
		{key: "eviction", kind: kEnum, enum: []fmt.Stringer{EvictLRU, NoEviction}, def: EvictLRU, dst: &t.Eviction,
			doc: "Over quota: evict this tenant's least recently used keys, or refuse the write."},
		{key: "shed_reads_as_miss", kind: kBool, label: "value", note: "true or false", dst: &t.ShedReadsAsMiss,
			doc: "When shedding refuses one of this tenant's reads, answer as a miss (nil) instead of an error, for cache-aside clients. Writes, and refusals for the tenant's own limits, stay errors."},
		{key: "users", kind: kList, rows: func() []field { return userFields(new(User)) }, typ: "list of [users](#users)",
			doc: "At least one, except for the `default_tenant`, which may have none."},
	})
}

// userFields: name and the password are identities, checked by
// validate.go against every other user and operator.
func userFields(u *User) []field {
	return []field{
		{key: "name", kind: kString, required: true, typ: "`[A-Za-z0-9_.@-]{1,64}`",
			doc: "Unique across all tenants and operators. `default` (any case) is reserved: `AUTH default <pass>` is password-only authentication."},
		{key: "password_sha256", kind: kString, typ: "64 hex digits",
			doc: "SHA-256 of the password: `printf %s 'secret' \\| sha256sum`."},
		{key: "password", kind: kString,
			doc: "Plaintext password, accepted with a warning; for development only. Quote it if YAML could read it as something else (`\"null\"`, `\"~\"`)."},
		{key: "role", kind: kEnum, enum: roles(), def: RoleReadWrite, dst: &u.Role, doc: "What the user may do: a [role](#roles)."},
	}
}

func operatorFields() []field {
	return []field{
		{key: "name", kind: kString, required: true, typ: "`[A-Za-z0-9_.@-]{1,64}`",
			doc: "Unique across all users and operators. `default` (any case) is reserved."},
		{key: "password_sha256", kind: kString, typ: "64 hex digits", doc: "SHA-256 of the password."},
		{key: "password", kind: kString, doc: "Plaintext password, accepted with a warning; for development only."},
		{key: "token_sha256", kind: kString, typ: "64 hex digits",
			doc: "SHA-256 of the operator's bearer token for the HTTP admin API on `metrics_listen`."},
		{key: "token", kind: kString, doc: "Plaintext token, accepted with a warning; for development only."},
	}
}

func backingFields(b *Backing) []field {
	return []field{
		{key: "key_prefix", kind: kString, check: checkKeyPrefixValue, def: DefaultKeyPrefix, dst: &b.KeyPrefix,
			doc: "Starts every L2 key, `<key_prefix><tenant>:<db>:<key>`. Not empty, at most 64 bytes, no whitespace or control characters, and no `{` or `}`, so that the users' own hash tags decide slots."},
		{key: "l1_max_ttl", kind: kDuration, min: 1, max: int64(MaxL1MaxTTL), def: DefaultL1MaxTTL, dst: &b.L1MaxTTL,
			doc: "Longest an L1 copy is served without asking L2 again; bounds how stale a copy gets if an invalidation is lost."},
		{key: "scan_timeout", kind: kDuration, min: 1, def: DefaultScanTimeout, dst: &b.ScanTimeout,
			doc: "Bound on the cluster-wide scans behind `KEYS`, `SCAN`, `DBSIZE`, `RANDOMKEY`, `FLUSHDB` and `FLUSHALL`."},
		{key: "breaker_failures", kind: kInt, min: 1, def: DefaultBreakerFailures, dst: &b.BreakerFailures,
			doc: "Consecutive L2 failures (errors or timeouts) that open the circuit breaker."},
		{key: "breaker_cooloff", kind: kDuration, min: 1, def: DefaultBreakerCooloff, dst: &b.BreakerCooloff,
			doc: "How long an open breaker stops calling L2 before it lets one probe through."},
		{key: "reconcile_interval", kind: kDuration, def: DefaultReconcileInterval, dst: &b.ReconcileInterval,
			doc: "How often each tenant's L2 usage (checked against `l2_quota`) is recomputed by a scan; `0` disables."},
		{key: "redis_cluster", kind: kSection, required: true, rows: func() []field { return clusterFields(new(RedisCluster)) },
			typ: "mapping", doc: "How to reach the cluster, below."},
	}
}

func clusterFields(c *RedisCluster) []field {
	return []field{
		{key: "addrs", kind: kScalars, required: true, typ: "list of host:port",
			doc: "Seed nodes, at least one; ports 1 to 65535; no address twice (host compared in lower case, port as a number)."},
		{key: "username", kind: kString, check: checkUsername, dst: &c.Username, defDoc: "default user",
			doc: "ACL user for `AUTH`. No spaces or control characters. Requires `password`."},
		{key: "password", kind: kString, check: checkClusterPassword, dst: &c.Password, defDoc: "no `AUTH`",
			doc: "Password for `AUTH`, sent to the cluster, so not hashed: a [warning](#warnings)."},
		{key: "tls", kind: kFlagSection, rows: func() []field { return backingTLSFields(new(BackingTLS)) },
			typ: "`yes` \\| `no` or mapping", defDoc: "`no`",
			doc: "`yes`: TLS, verifying the cluster against the system roots. A mapping (even `{}`): TLS with the settings below."},
	}
}

func backingTLSFields(t *BackingTLS) []field {
	return []field{
		{key: "ca_file", kind: kPath, dst: &t.CAFile, defDoc: "system roots",
			doc: "PEM bundle of the CAs that verify the cluster's certificate."},
		{key: "cert_file", kind: kPath, dst: &t.CertFile, doc: "PEM client certificate, for clusters that require one. Requires `key_file`."},
		{key: "key_file", kind: kPath, dst: &t.KeyFile, doc: "PEM private key of `cert_file`. Requires `cert_file`."},
		{key: "server_name", kind: kString, check: checkServerName, dst: &t.ServerName, defDoc: "host dialled",
			doc: "Name verified against the cluster's certificate."},
		{key: "insecure_skip_verify", kind: kBool, label: "value", want: "true or false", note: "yes or no", dst: &t.InsecureSkipVerify,
			doc: "Accept any certificate. Development only; a [warning](#warnings)."},
	}
}

func roles() []fmt.Stringer { return []fmt.Stringer{RoleReadOnly, RoleReadWrite, RoleAdmin} }

// snapshotFields are the warm-restart keys (package snapshot).
func snapshotFields(c *Config) []field {
	return []field{
		{key: "snapshot_path", kind: kPath, dst: &c.SnapshotPath, defDoc: "off",
			doc: "File the tenants' data is saved to (on shutdown and every `snapshot_interval`) and loaded from at start, before the listeners open. Its directory must exist and be writable (a temporary file is written there and renamed). Absent: no snapshots, every restart is cold. See README, Warm restarts."},
		{key: "snapshot_interval", kind: kDuration, def: DefaultSnapshotInterval, dst: &c.SnapshotInterval,
			doc: "How often a snapshot is written while serving, with `snapshot_path` set. `0s`: only on shutdown. A crash loses the writes since the last snapshot."},
	}
}
