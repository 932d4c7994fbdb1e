// Package config parses and validates tcached's YAML configuration.
//
// It owns the file format and its rules: Parse turns bytes into a *Config
// that satisfies every rule, or into one *Error that names the source file,
// the line and the field path (tenants[2].users[0].password_sha256). It
// also owns the figures the rules are made of (ParseSize, the defaults,
// DefaultClientMemory, ServerOverhead), so the server applies the same
// arithmetic to a Config built in code. The server never re-checks what
// this package guarantees. Operators read REFERENCE.md, whose key tables
// are generated from the field tables below.
//
// # One field table
//
// Every key is declared once, as one row of a field table (table.go), on
// the model of Redis's config.c, where createIntConfig(name, ..., min, max,
// &dst, default) is the whole declaration of a setting. A row gives the
// key, its kind (int, size in bytes, duration, duration or whole seconds,
// bool, enum, ratio, rate, address, path, string, or a nested mapping or
// list), its bounds, its default, a pointer to the field it fills, and a
// one-line description. From the rows come:
//
//   - the shape check of the whole file (decode.go): unknown and repeated
//     keys, a single value or a mapping or a list where the row wants one;
//   - the defaults (DefaultLimits is the limit rows' defaults);
//   - each key's own rule, with the error that names it (field.go): "must
//     be > 0", `invalid maxclients "0": want an integer >= 1`, ...;
//   - REFERENCE.md's key tables, which TestReference compares with the
//     rows (go generate ./config rewrites them).
//
// Tables are built by functions that bind each row's destination to the
// struct being filled (topFields(cfg), tierFields(&tier), ...), so there
// is no package-level state and no registration at init. The nested
// tables follow the file: top level (with the client limits), tiers,
// tenants (their id, tier, quota, ..., plus the tier keys they may
// override, the same rows bound to the tenant's copy of its tier), users,
// operators, backing and its redis_cluster and tls. A tier key has no
// default of its own: a tiers entry starts from the built-in tier of that
// name (or a new tier, priority and weight 1), a tenant from its tier, and
// a key given replaces that one field. Two tier keys only matter with
// backing: l2_quota (a tenant's bytes in the cluster) and
// l1_collection_max (the largest collection, by Redis's MEMORY USAGE,
// that backed mode caches in L1; 64KiB / 32KiB / 16KiB in the built-in
// tiers, 0 in a new one: collections read through). A row without a destination (a
// user's name and password, a tenant's users) is read by validate.go.
//
// A few rows carry wording (label, want, note) so that the table keeps the
// error messages the file format has always had.
//
// # Rules among keys
//
// What involves more than one key is written by hand in validate.go, in
// one place, run in a fixed order:
//
//   - listen may be off only when tls_listen is set; tls_listen needs
//     tls_cert_file and tls_key_file, and the tls_*_file keys need it.
//   - A preauth_* limit is no looser than its authenticated counterpart,
//     and auth_lockout_max >= auth_lockout; a default that does not fit is
//     lowered to fit instead (REFERENCE.md, Client limits).
//   - Tenant ids are unique and name a known tier; tier names are valid
//     ids. User and operator names are unique together, and so are their
//     password digests; operator tokens are unique.
//   - The quotas fit in maxmemory, and so do quotas + maxmemory_clients +
//     ServerOverhead(maxclients); maxmemory_clients holds the tenants'
//     client_memory budgets plus one pre-AUTH client (see Memory).
//   - default_tenant names a tenant, and only it may have no users.
//   - backing needs redis_cluster with at least one address (no two the
//     same); its username needs its password, its tls cert_file and
//     key_file come together, and the TLS files are read and must parse.
//
// # Order of checks
//
// The shape of the whole file is checked first, so an unknown key is
// reported wherever it is. Then the values, in a fixed order: the
// top-level rows in table order, then backing, tiers (in file order),
// tenants and their users (in file order), operators (after every tenant,
// wherever they are in the file, so that a clash is reported on the
// operator's line), then the rules that span the file. Rules among keys
// run at the point of the table where the file has always been checked
// (cut splits a table there). The first violation is returned.
//
// # Memory
//
// maxmemory is a guarantee for the whole process, not only for the data:
//
//	sum(quota) + maxmemory_clients + ServerOverhead(maxclients) <= maxmemory
//
// TENANT QUOTA keeps the rule with the figures a reload of the file with
// the new quota would compute (DefaultClientMemory for a derived budget,
// Tenant.ClientMemoryDerived; DefaultMaxMemoryClients for a derived
// maxmemory_clients, Config.MaxMemoryClientsDerived).
//
// ServerOverhead is ServerOverheadBase (runtime, code, tables) plus
// ConnOverhead (a goroutine stack, the first 4KiB read buffer, client state
// and a socket) for each of maxclients connections, whose fixed cost the
// client budgets do not count. Client memory is what connections make the
// server hold beside the data; each tenant's connections share one budget,
// client_memory, and connections bound to no tenant share what
// maxmemory_clients leaves. The budgets are disjoint, so one tenant at its
// budget takes nothing from another or from the quotas.
//
// Why these defaults: a quarter of the quota scales the budget with what
// the tenant was sold, and is about what a tenant needs in flight at once
// (requests and replies of its largest values, a pub/sub backlog); the
// 8MiB floor keeps a few MiB-sized requests possible for tiny quotas, and
// a request as large as a small tenant's quota (the read buffer is part of
// the budget, so client_memory also caps the largest request). The default
// unattributed pool (16MiB) holds 16 pre-AUTH clients at their 1MiB query
// limit; more wait for room until auth_timeout.
//
// # Design notes
//
// The file is walked as a yaml.Node tree instead of unmarshalled into
// tagged structs: that is what gives every error a line, including errors
// for absent keys (the enclosing item's line) and unknown keys, which
// yaml.v3's KnownFields reports without a field path. Aliases are
// followed, but the number of nodes visited is bounded by the input size
// so an alias bomb is refused instead of expanded.
//
// Warnings (plaintext passwords and tokens, including the backing
// cluster's password, a default_role with no default_tenant, a tenant burst
// without a rate_limit, operator tokens with metrics_listen off, backing
// TLS with insecure_skip_verify) are returned, not printed: the caller
// owns logging.
package config

//go:generate go test -run ^TestReference$ . -update
