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
//	listen: 127.0.0.1:6380          # host:port; default 127.0.0.1:6380
//	metrics_listen: 127.0.0.1:9380  # host:port; default 127.0.0.1:9380; "" or "off" disables
//	maxmemory: 512MiB               # required, > 0; see Sizes
//	default_tenant: ""              # tenant bound to unauthenticated connections; "" = none (default)
//	default_role: readwrite         # role of those connections; default readwrite
//	tiers:                          # optional: override built-in tiers or add tiers
//	  gold: {default_ttl: 45m}
//	  bronze: {default_ttl: 5m, timeout: 2s, max_concurrent: 50, priority: 0}
//	tenants:                        # required, at least one
//	  - id: payments                # required, [A-Za-z0-9_-]{1,64}, unique
//	    tier: platinum              # required, a built-in or declared tier
//	    quota: 64MiB                # required, > 0; see Sizes
//	    eviction: lru               # lru (default) | noeviction
//	    default_ttl: 2h             # optional overrides of the tier's
//	    timeout: 100ms              #   default_ttl, timeout and
//	    max_concurrent: 2000        #   max_concurrent for this tenant
//	    users:
//	      - {name: pay-app, password_sha256: <64 hex>, role: readwrite}
//	      - {name: pay-admin, password: dev-only-secret, role: admin}
//
// Top level:
//   - listen: address of the Redis-protocol listener. Port 0 picks a free
//     port (tests).
//   - metrics_listen: address of the HTTP metrics listener; "" or "off"
//     disables it, and Config.MetricsListen is then "".
//   - maxmemory: the memory budget for all tenants.
//   - default_tenant: when set, connections that never AUTH act as this
//     tenant, like Redis's default user with nopass. Off by default.
//   - default_role: readonly, readwrite (default) or admin, for connections
//     bound to default_tenant. Setting it without default_tenant is a warning.
//   - tiers: a mapping from tier name ([A-Za-z0-9_-]{1,64}) to fields
//     default_ttl, timeout, max_concurrent, priority. For a built-in tier
//     (platinum, gold, silver; see package tiers) only the given fields
//     change. A new tier starts from zero values (no default TTL, unbounded
//     timeout, unlimited concurrency) and priority 1.
//   - tenants: the list of tenants, in order.
//
// Tenant fields:
//   - id, tier, quota: required as described above.
//   - eviction: what happens when a write would exceed the quota: lru evicts
//     the tenant's own least recently used keys; noeviction refuses the write.
//   - default_ttl, timeout, max_concurrent: override the tier's values for
//     this tenant only (Tenant.Tier holds the result). Priority is not
//     overridable per tenant: shedding order is what a tier is.
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
// # Values
//
// Sizes (maxmemory, quota) are parsed by ParseSize: a decimal integer with an
// optional case-insensitive unit, following redis.conf: k, m, g are powers
// of 1000 and kb, mb, gb powers of 1024 (so "64MB" is 64×2^20, as in
// Redis); KiB, MiB, GiB are powers of 1024; B or no unit is bytes.
//
// Durations use Go syntax (200ms, 1h30m) and must be >= 0. default_ttl also
// accepts a plain integer number of seconds (as Redis's EXPIRE does), and 0
// means "no default TTL". timeout does not accept a bare integer: "5" is
// refused rather than guessed to be seconds.
//
// Integers (max_concurrent, priority) are decimal and >= 0; max_concurrent 0
// means unlimited.
//
// A key with an empty (null) value, such as "default_tenant:" or "users:",
// is the same as omitting it. Note that metrics_listen: "" (an empty
// string) disables metrics, while a bare metrics_listen: keeps the default.
// Quote passwords that YAML could read as something else ("null", "~").
//
// # Rules checked together
//
//   - Unknown keys and repeated keys are errors, with their line.
//   - The sum of tenant quotas must not exceed maxmemory: quotas are
//     guarantees, and a guarantee that can't be honoured is refused.
//   - default_tenant must name a configured tenant.
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
// Warnings (plaintext passwords, a default_role with no default_tenant) are
// returned, not printed: the caller owns logging.
package config
