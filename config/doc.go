// Package config parses and validates tcached's YAML configuration.
//
// Parsing is separate from serving: Parse turns bytes into a *Config that
// satisfies every rule below, or into one *Error that names the source file,
// the line and the field path (tenants[2].users[0].password_sha256). The
// server never re-checks what this package guarantees. The Markdown
// reference for operators is config/REFERENCE.md; keep the two in step.
//
// # Schema
//
//	listen: 127.0.0.1:6380          # host:port; default 127.0.0.1:6380; "" or "off" only with tls_listen
//	metrics_listen: 127.0.0.1:9380  # host:port; default 127.0.0.1:9380; "" or "off" disables
//	tls_listen: ""                  # host:port of a TLS listener; default "" (none)
//	tls_cert_file: server.crt       # required with tls_listen, refused without it
//	tls_key_file: server.key        # required with tls_listen, refused without it
//	tls_ca_file: clients-ca.crt     # optional: require and verify client certificates
//	maxmemory: 512MiB               # required, > 0; see Sizes and Memory
//	maxmemory_clients: 96MiB        # cap on client memory; default: the tenants' client_memory + 16MiB
//	default_tenant: ""              # tenant bound to unauthenticated connections; "" = none (default)
//	default_role: readwrite         # role of those connections; default readwrite
//	protected_mode: yes             # with default_tenant, refuse non-loopback clients; default yes
//	maxclients: 10000               # client limits, all optional; see Limits
//	timeout: 0
//	auth_timeout: 10s
//	write_timeout: 30s
//	proto_max_bulk_len: 512MiB
//	client_query_buffer_limit: 1GiB
//	client_output_buffer_limit: 1GiB
//	preauth_max_args: 10
//	preauth_max_bulk_len: 16KiB
//	preauth_query_buffer_limit: 1MiB
//	preauth_output_buffer_limit: 64KiB
//	max_inline_len: 64KiB
//	auth_max_failures: 5
//	auth_lockout: 1s
//	auth_lockout_max: 60s
//	max_inflight: 4096              # global capacity for priority shedding; 0 = no shedding
//	audit_log: stderr               # "" or off (default) | stderr | stdout | a file path
//	hot_tenant_share: 0.30          # fraction in (0, 1]; default 0.30
//	hot_tenant_interval: 10s        # > 0; default 10s
//	fair_share: yes                 # share a contended server by weight; default yes
//	fair_share_delay_target: 200us  # > 0; default 200us
//	backing:                        # optional: Redis Cluster as the store of record (L2)
//	  key_prefix: "tcached:"        # default tcached:
//	  l1_max_ttl: 10s               # > 0, <= 24h; default 10s
//	  scan_timeout: 5s              # > 0; default 5s
//	  breaker_failures: 5           # >= 1; default 5
//	  breaker_cooloff: 1s           # > 0; default 1s
//	  reconcile_interval: 5m        # >= 0 (0 disables); default 5m
//	  redis_cluster:                # required in backing
//	    addrs: [127.0.0.1:7000, 127.0.0.1:7001]
//	    username: tcached           # optional; requires password
//	    password: secret            # optional; accepted with a warning
//	    tls: {ca_file: ca.pem, cert_file: c.pem, key_file: k.pem,
//	          server_name: redis.internal, insecure_skip_verify: false}   # or true / false
//	tiers:                          # optional: override built-in tiers or add tiers
//	  gold: {default_ttl: 45m}
//	  bronze: {default_ttl: 5m, timeout: 2s, rate_limit: 2000, burst: 200, max_concurrent: 50,
//	           max_arg_bytes: 8MiB, max_connections: 100, l2_quota: 64MiB, priority: 0,
//	           weight: 1, client_memory: 8MiB}
//	tenants:                        # required, at least one
//	  - id: payments                # required, [A-Za-z0-9_-]{1,64}, unique
//	    tier: platinum              # required, a built-in or declared tier
//	    quota: 64MiB                # required, > 0; see Sizes
//	    eviction: lru               # lru (default) | noeviction
//	    default_ttl: 2h             # optional overrides of the tier's
//	    timeout: 100ms              #   default_ttl, timeout and
//	    max_concurrent: 2000        #   max_concurrent, max_connections,
//	    max_connections: 4000       #   rate_limit, burst, max_arg_bytes
//	    rate_limit: 50000           #   and l2_quota for this tenant
//	    burst: 5000
//	    max_arg_bytes: 512MiB
//	    l2_quota: 8GiB
//	    weight: 8                   # optional override of the tier's weight
//	    client_memory: 16MiB        # default: a quarter of the quota, at least 8MiB
//	    shed_reads_as_miss: no      # reads refused by shedding answer as a miss; default no
//	    users:
//	      - {name: pay-app, password_sha256: <64 hex>, role: readwrite}
//	      - {name: pay-admin, password: dev-only-secret, role: admin}
//	operators:                      # optional: identities bound to no tenant
//	  - name: ops                   # like a user name; unique among users and operators
//	    password_sha256: <64 hex>   # or password: (development only)
//	    token_sha256: <64 hex>      # optional bearer token of the HTTP admin API; or token:
//
// Top level:
//   - listen: address of the plain Redis-protocol listener. Port 0 picks a
//     free port (tests). "" or "off" turns it off, and Config.Listen is then
//     "", but only when tls_listen is set (TLS instead of the plain port);
//     otherwise there would be no listener and it is an error.
//   - metrics_listen: address of the HTTP metrics listener; "" or "off"
//     disables it, and Config.MetricsListen is then "".
//   - tls_listen: address of a Redis-protocol listener speaking TLS, beside
//     or instead of listen. Default "" (none); "off" is the same.
//   - tls_cert_file, tls_key_file: PEM certificate chain and private key of
//     the TLS listener. Both are required when tls_listen is set.
//   - tls_ca_file: PEM CA bundle; when set, TLS clients must present a
//     certificate that verifies against it. Optional.
//     The three tls_*_file keys are refused without tls_listen, and must
//     not be empty. Parse does not read the files; the server loads them.
//   - maxmemory: the memory the process may use: the tenants' quotas, the
//     client memory (maxmemory_clients) and the server's own overhead all
//     fit in it (see Memory).
//   - maxmemory_clients: the cap on what all connections make the server
//     hold (see Memory); a size. Default: the sum of the tenants'
//     client_memory plus DefaultUnattributedClientMemory (16MiB), or plus
//     preauth_query_buffer_limit if that is larger.
//   - default_tenant: when set, connections that never AUTH act as this
//     tenant, like Redis's default user with nopass. Off by default.
//   - default_role: readonly, readwrite (default) or admin, for connections
//     bound to default_tenant. Setting it without default_tenant is a warning.
//   - protected_mode: yes (default) or no (true and false also work). While
//     default_tenant is set, protected mode refuses clients that do not
//     connect from a loopback address, as Redis's protected-mode does for a
//     passwordless default user. No effect without default_tenant.
//   - the client limits below (maxclients through auth_lockout_max).
//   - max_inflight: the number of commands in flight across all tenants
//     that request admission protects by shedding (package admission):
//     the lowest tier priority present is refused from 70% of it, the
//     highest only at 100%, the others evenly between. Default 4096; 0
//     disables shedding. Commands in flight are bounded by busy
//     connections (one command at a time per connection), so the default
//     never sheds a healthy benchmark (redis-benchmark -c 50 has at most 50
//     in flight, and even -c 1000 stays under silver's 2867); it trips when
//     thousands of commands are inside the server at once, which on a
//     small machine means each is already queueing for the CPU.
//   - tiers: a mapping from tier name ([A-Za-z0-9_-]{1,64}) to fields
//     default_ttl, timeout, rate_limit, burst, max_concurrent,
//     max_arg_bytes, max_connections, l2_quota, priority, weight,
//     client_memory. For a built-in
//     tier (platinum, gold, silver; see package tiers for their values and
//     the reasoning) only the given fields change. A new tier starts from
//     zero values (no default TTL, unbounded timeout, no rate limit,
//     unlimited concurrency, argument bytes, connections and L2 bytes) and
//     priority 1.
//   - rate_limit: commands per second one tenant may start (a token
//     bucket); 0 = unlimited, the default in every built-in tier. A
//     command that would wait longer than the timeout for a token is
//     refused, never run late.
//   - burst: the bucket size in commands; 0 (default) = one second of
//     rate_limit. A tenant whose resolved burst is set while its
//     rate_limit is 0 gets a warning: the burst has no effect.
//   - max_arg_bytes: the argument bytes one tenant's in-flight commands
//     may hold; a single larger command is always refused. 0 = unlimited.
//   - weight: a tenant's share of a contended server relative to the
//     other active tenants' weights (fair_share); an integer 1 to
//     MaxWeight (1000); built-in platinum 4, gold 2, silver 1; a new tier
//     1 (tiers.DefaultWeight).
//   - l2_quota: the bytes one tenant may keep in the backing Redis Cluster
//     (L2); a size, 0 = unlimited; built-in 4GiB, 1GiB, 256MiB. No effect
//     without backing.
//   - client_memory: the tenant's client-memory budget (see Memory); a
//     size > 0. Absent in every built-in tier: each tenant then gets
//     DefaultClientMemory(quota), a quarter of its quota, at least 8MiB.
//   - audit_log: where audit records (JSON lines) go: "stderr",
//     "stdout" (either in any case) or a file path, kept as written.
//     "" or "off" (any case; the default) turns auditing off and
//     Config.AuditLog is then "". yes, no, true, false and on are refused
//     rather than taken as file names (write ./yes for such a file).
//     Parse does not open the file.
//   - hot_tenant_share: a tenant whose share of the total used memory, or
//     of the commands per second, exceeds this is flagged as hot. A
//     decimal fraction greater than 0 and at most 1 ("0.3"; no percent
//     sign, exponent or leading dot); default 0.30.
//   - hot_tenant_interval: how often the shares are measured; a duration
//     > 0, no bare integer; default 10s.
//   - fair_share: yes (default) or no. While the server is contended (two
//     or more tenants active and the Go scheduler's p99 delay above
//     fair_share_delay_target), a tenant using more than its weighted
//     share of the server's measured capacity is paced before its next
//     command (package admission, fair.go); a pace that would pass the
//     tenant's timeout is refused with TCBUSY. A tenant alone is never
//     paced. Config built in code (not parsed) has it off.
//   - fair_share_delay_target: the scheduling delay (p99 over the last
//     40ms) above which the server counts as contended; a duration > 0;
//     default 200us (DefaultFairShareDelayTarget).
//   - backing: Redis Cluster as the store of record (L2) behind the
//     tenants' partitions (L1); see Backing. Absent or null, Config.Backing
//     is nil and nothing changes: the embedded store holds everything.
//   - tenants: the list of tenants, in order.
//   - operators: the list of operators, in order; optional.
//
// Limits (Config.Limits; names follow redis.conf where Redis has the knob;
// DefaultLimits returns the defaults):
//   - maxclients: open client connections across all tenants; default
//     10000, >= 1.
//   - timeout: close a client idle this long; default 0 = never. As in
//     redis.conf a plain integer is seconds ("300"); Go syntax also works.
//   - auth_timeout: close a connection not authenticated within this long
//     of being accepted; default 10s; 0 = never.
//   - write_timeout: deadline of every socket write; default 30s; > 0.
//   - proto_max_bulk_len: longest bulk string in a request; default
//     512MiB, >= 1KiB.
//   - client_query_buffer_limit: bytes buffered for one client's
//     unprocessed requests; default 1GiB, >= 1KiB.
//   - client_output_buffer_limit: reply bytes buffered for one
//     authenticated client before it is disconnected; default 1GiB;
//     0 = unlimited. A single size, not redis.conf's class/hard/soft form.
//   - preauth_max_args: most arguments (command name included) in one
//     request before authentication; default 10, >= 1.
//   - preauth_max_bulk_len, preauth_query_buffer_limit,
//     preauth_output_buffer_limit: proto_max_bulk_len,
//     client_query_buffer_limit and client_output_buffer_limit for a
//     connection that has not authenticated; defaults 16KiB, 1MiB, 64KiB;
//     each > 0.
//   - max_inline_len: longest inline command line, and longest '*' or '$'
//     header line; default 64KiB, > 0.
//   - auth_max_failures: failed AUTHs, counted per client IP and per user
//     name, before a lockout; default 5; 0 disables throttling.
//   - auth_lockout: the first lockout; each further failure while locked out
//     doubles it; default 1s, > 0.
//   - auth_lockout_max: the cap on the lockout; default 60s, >=
//     auth_lockout.
//
// A preauth_* limit must not be looser than its authenticated counterpart
// (client_output_buffer_limit 0 bounds nothing); a preauth_* key that sets
// one is an error naming it. A preauth default that does not fit is instead
// lowered to the counterpart, so proto_max_bulk_len: 8KiB alone is valid
// and makes preauth_max_bulk_len 8KiB. auth_lockout and auth_lockout_max
// work the same way: when only one is set, the other's default moves to
// meet it; when both are set, auth_lockout_max < auth_lockout is an error.
//
// Tenant fields:
//   - id, tier, quota: required as described above.
//   - eviction: what happens when a write would exceed the quota: lru evicts
//     the tenant's own least recently used keys; noeviction refuses the write.
//   - default_ttl, timeout, rate_limit, burst, max_concurrent,
//     max_arg_bytes, max_connections, l2_quota, weight, client_memory:
//     override the tier's values for this tenant only (Tenant.Tier holds
//     the result; Tenant.ClientMemory the resolved budget). Priority is not
//     overridable per tenant: shedding order is what a tier is.
//   - shed_reads_as_miss: yes/no (true/false), default no. When priority
//     shedding refuses one of this tenant's read commands, it answers as a
//     miss (nil) instead of an error, for cache-aside clients that fall
//     back to their database on a miss. Writes and other refusals (rate,
//     concurrency, argument bytes) are always errors.
//   - users: credentials. May be empty only for the default_tenant.
//
// User fields:
//   - name: required, [A-Za-z0-9_.@-]{1,64}, unique across all tenants (so
//     AUTH <user> <pass> names one tenant). "default" (in any case) is
//     reserved: AUTH default <pass> is password-only authentication.
//   - password_sha256: 64 hex digits, the SHA-256 of the password.
//   - password: the plaintext password, for development; accepted with a
//     warning. Exactly one of password and password_sha256 is required.
//     The empty password is refused in both forms.
//   - role: readonly, readwrite (default) or admin.
//
// No two users may share a password, across all tenants: AUTH <pass> must
// identify exactly one user. Digests are compared, so a plaintext password
// and the SHA-256 of the same password collide too.
//
// Operator fields (Config.Operators): operators authenticate with AUTH
// like users but are bound to no tenant; what they may do is the server's
// business.
//   - name: as a user name ([A-Za-z0-9_.@-]{1,64}, "default" reserved), and
//     different from every user name and every other operator name: AUTH
//     <name> <pass> resolves to exactly one identity.
//   - password_sha256 or password: as for users (exactly one; plaintext
//     with a warning; the empty password refused), and different from
//     every user's and every other operator's password: AUTH <pass> must
//     stay unambiguous.
//   - token_sha256: optional, 64 hex digits, the SHA-256 of the operator's
//     bearer token for the HTTP admin API. token: the plaintext
//     alternative, accepted with a warning. At most one of the two; the
//     empty token is refused; no two operators may share a token. Tokens
//     are not compared with passwords. A token while metrics_listen is off
//     (the admin API is served on the metrics listener) is a warning.
//
// Operators are checked after all tenants, wherever they appear in the
// file, so a clash is always reported on the operator's line.
//
// Backing fields (Config.Backing; the defaults are the Default* constants):
//   - key_prefix: starts every L2 key, <key_prefix><tenant>:<db>:<key>.
//     Non-empty, at most MaxKeyPrefixLen (64) bytes, no whitespace or
//     control characters, and no '{' or '}': a hash tag in the prefix would
//     decide the slot of every key, so users' own hash tags decide slots.
//     Default "tcached:".
//   - l1_max_ttl: how long an L1 copy may be served without asking L2
//     again, bounding the damage of a lost invalidation; > 0, <= 24h;
//     default 10s.
//   - scan_timeout: bound on the cluster-wide scans of KEYS, SCAN, DBSIZE,
//     RANDOMKEY, FLUSHDB and FLUSHALL; > 0; default 5s.
//   - breaker_failures: consecutive L2 failures (errors or timeouts) that
//     open the circuit breaker; >= 1; default 5.
//   - breaker_cooloff: how long an open breaker stops calling L2 before one
//     probe; > 0; default 1s.
//   - reconcile_interval: how often the per-tenant L2 usage counters are
//     recomputed by a scan; 0 disables; default 5m.
//   - redis_cluster: required. addrs: at least one host:port (a host, and a
//     port 1-65535), no duplicates (host compared in lower case, port as a
//     number). username: optional, no whitespace or control characters,
//     only with password. password: optional, not "", accepted with a
//     warning (it is sent to the cluster, so there is no hashed form).
//     tls: true (TLS against the system roots), false or absent
//     (plaintext), or a mapping (TLS) of ca_file, cert_file and key_file
//     (both or neither), server_name and insecure_skip_verify (a warning
//     when true).
//
// Unlike the listener's tls_*_file keys, the backing TLS files are read at
// parse time (regular files of at most 4MiB; relative to the working
// directory): ca_file must hold a PEM certificate, cert_file a PEM
// certificate and key_file its private key. A wrong file then stops the
// server at startup instead of failing every L2 call. Config keeps only
// the paths.
//
// # Memory
//
// maxmemory is a guarantee for the whole process, not only for the data:
//
//	sum(quota) + maxmemory_clients + ServerOverhead(maxclients) <= maxmemory
//
// where ServerOverhead is ServerOverheadBase (16MiB: runtime, code,
// tables) plus ConnOverhead (12KiB: a goroutine stack, the first 4KiB read
// buffer, client state and a socket) for each of maxclients connections,
// whose fixed cost the client budgets do not count. A configuration that breaks it is refused, on the
// maxmemory line (or maxmemory_clients, when set), naming each term.
//
// Client memory is what connections make the server hold beside the data:
// read buffers (partial commands included), reply, pub/sub and MULTI
// queues, WATCH tables. Each tenant's connections share one budget,
// client_memory; connections bound to no tenant (before AUTH, operators)
// share what maxmemory_clients leaves after the tenants' budgets, which
// must hold at least one pre-AUTH client's largest unfinished command
// (preauth_query_buffer_limit). The budgets
// are disjoint, so one tenant at its budget takes nothing from another or
// from the quotas. What happens at a budget is the server's business (see
// the README, "Hostile input and hostile tenants").
//
// Why these defaults: a quarter of the quota scales the budget with what
// the tenant was sold, and is about what a tenant needs in flight at once
// (requests and replies of its largest values, a pub/sub backlog); the
// 8MiB floor keeps a few MiB-sized requests possible for tiny quotas, and
// a request as large as a small tenant's quota (the read buffer is part of
// the budget, so client_memory also caps the largest request). The
// default unattributed pool (16MiB) holds 16 pre-AUTH clients at their 1MiB
// query limit; more wait for room until auth_timeout.
//
// # Values
//
// Sizes (maxmemory, maxmemory_clients, quota, max_arg_bytes, l2_quota,
// client_memory, and the size limits such as proto_max_bulk_len) are parsed by ParseSize: a decimal integer with an
// optional case-insensitive unit, following redis.conf: k, m, g are powers
// of 1000 and kb, mb, gb powers of 1024 (so "64MB" is 64×2^20, as in
// Redis); KiB, MiB, GiB are powers of 1024; B or no unit is bytes.
//
// Durations use Go syntax (200ms, 1h30m) and must be >= 0. default_ttl also
// accepts a plain integer number of seconds (as Redis's EXPIRE does), and 0
// means "no default TTL". The top-level timeout (client idle time, as in
// redis.conf) accepts plain seconds too. A tier's or tenant's timeout, and
// auth_timeout, write_timeout, auth_lockout, auth_lockout_max,
// hot_tenant_interval and the backing durations (l1_max_ttl,
// scan_timeout, breaker_cooloff, reconcile_interval), do not accept a bare
// integer: "5" is refused rather than guessed to be seconds ("0" is
// accepted everywhere, then refused where the value must be > 0).
//
// Integers (max_concurrent, max_connections, burst, priority, maxclients,
// max_inflight, preauth_max_args, auth_max_failures, breaker_failures)
// are decimal and >= 0 (maxclients, preauth_max_args and breaker_failures
// >= 1); max_concurrent 0 and
// max_connections 0 mean unlimited. rate_limit is a decimal number of
// commands per second with an optional fraction ("5000", "0.5"; no sign,
// exponent or unit) from 0 to 1000000000. max_arg_bytes is a size.
//
// A key with an empty (null) value, such as "default_tenant:" or "users:",
// is the same as omitting it. Note that metrics_listen: "" (an empty
// string) disables metrics, while a bare metrics_listen: keeps the default;
// the same holds for listen and tls_listen.
// Quote passwords that YAML could read as something else ("null", "~").
//
// # Rules checked together
//
//   - Unknown keys and repeated keys are errors, with their line.
//   - The sum of tenant quotas must not exceed maxmemory: quotas are
//     guarantees, and a guarantee that can't be honoured is refused. Nor
//     may the quotas plus maxmemory_clients plus the server's overhead
//     (see Memory), and maxmemory_clients must hold the tenants'
//     client_memory budgets plus one pre-AUTH client.
//   - default_tenant must name a configured tenant.
//   - listen may be off only when tls_listen is set; tls_listen needs
//     tls_cert_file and tls_key_file, and the tls_*_file keys need
//     tls_listen.
//   - preauth_* limits are no looser than their authenticated
//     counterparts, and auth_lockout_max >= auth_lockout (see Limits).
//   - User and operator names are unique together, and so are user and
//     operator passwords; operator tokens are unique.
//   - backing needs redis_cluster with at least one address; its username
//     needs its password, and its tls cert_file and key_file come together.
//
// # Design notes
//
// The file is decoded by walking the yaml.Node tree (decode.go) instead of
// unmarshalling into tagged structs: that is what gives every error a line,
// including errors for absent keys (the enclosing item's line) and unknown
// keys, which yaml.v3's KnownFields reports without a field path. The walk
// checks shape only; all value rules live in validate.go, in file order, and
// the first violation is returned. Aliases are followed, but the number of
// nodes visited is bounded by the input size so an alias bomb is refused
// instead of expanded.
//
// Warnings (plaintext passwords and tokens, including the backing
// cluster's password, a default_role with no default_tenant, a tenant burst
// without a rate_limit, operator tokens with metrics_listen off, backing
// TLS with insecure_skip_verify) are returned, not printed: the caller
// owns logging.
package config

//go:generate go test -run ^TestReference$ . -update
