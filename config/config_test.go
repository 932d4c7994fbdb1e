package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcached/tcached/tiers"
)

// Digests used throughout; sha256 of the names' passwords.
var (
	hA = hexOf("a-secret")
	hB = hexOf("b-secret")
	hO = hexOf("o-secret") // an operator's password
	hT = hexOf("o-token")  // an operator's token
)

func hexOf(p string) string { d := HashPassword(p); return hex.EncodeToString(d[:]) }

// tenantA is a valid one-tenant tail appended to inputs that test top-level keys.
const tenantA = `
tenants:
  - id: a
    tier: gold
    quota: 1MiB
    users: [{name: a, password_sha256: ` + "HA" + `}]
`

func withA(top string) string {
	return top + strings.Replace(tenantA, "HA", hA, 1)
}

// TestParse is a CoreDNS setup_test.go-style table: input -> either a
// check on the resulting Config or a substring of the error, which includes
// source, line and field.
func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		err      string // substring of the error; "" = must succeed
		check    func(t *testing.T, c *Config)
		warnings []string // substrings, one per expected warning, in order
	}{
		// --- valid inputs ---
		{
			name:  "minimal gets defaults",
			input: withA("maxmemory: 2GiB\n"),
			check: func(t *testing.T, c *Config) {
				want := &Config{
					Listen:        "127.0.0.1:6380",
					MetricsListen: "127.0.0.1:9380",
					MaxMemory:     2 << 30,
					// The tenant's client_memory (8MiB floor) plus the
					// unattributed pool's 16MiB.
					MaxMemoryClients:        24 << 20,
					MaxMemoryClientsDerived: true,
					DefaultRole:             RoleReadWrite,
					ProtectedMode:           true,
					Limits:                  DefaultLimits(),
					MaxInFlight:             DefaultMaxInFlight,
					// Fair sharing on, contended above 200µs of scheduling delay.
					FairShare:            true,
					FairShareDelayTarget: 200 * time.Microsecond,
					Tiers:                tiers.Builtin(),
					// No operators, audit log off, hot tenants at 30% every 10s.
					Operators:         nil,
					AuditLog:          "",
					HotTenantShare:    0.30,
					HotTenantInterval: 10 * time.Second,
					SnapshotInterval:  DefaultSnapshotInterval,
					Tenants: []Tenant{{
						ID: "a", TierName: "gold", Tier: tiers.Builtin()["gold"], Quota: 1 << 20, Eviction: EvictLRU,
						ClientMemory: MinDefaultClientMemory,
						Users:        []User{{Name: "a", PasswordSHA256: HashPassword("a-secret"), Role: RoleReadWrite}},
					}},
				}
				if !reflect.DeepEqual(c, want) {
					t.Errorf("got  %+v\nwant %+v", c, want)
				}
			},
		},
		{
			name: "spec example: tier overrides, custom tier, tenant overrides, plaintext",
			input: `maxmemory: 512MiB
tiers:
  gold: {default_ttl: 45m}
  bronze: {default_ttl: 5m, timeout: 2s, max_concurrent: 50, max_connections: 100, priority: 0}
  copper: {}
tenants:
  - id: payments
    tier: platinum
    quota: 64MiB
    eviction: lru
    default_ttl: 2h
    max_connections: 0
    users:
      - {name: pay-app, password_sha256: ` + hA + `, role: readwrite}
      - {name: pay-admin, password: dev-only-secret, role: admin}
  - id: cheap
    tier: bronze
    quota: 1MiB
    timeout: 3s
    max_concurrent: 0
    users: [{name: c, password: c-secret, role: readonly}]
`,
			warnings: []string{
				"test.yaml:15: tenants[0].users[1].password is plaintext; use password_sha256",
				"test.yaml:21: tenants[1].users[0].password is plaintext; use password_sha256",
			},
			check: func(t *testing.T, c *Config) {
				wantTiers := map[string]tiers.Tier{
					"platinum": tiers.Builtin()["platinum"],
					"silver":   tiers.Builtin()["silver"],
					"gold":     {Name: "gold", DefaultTTL: 45 * time.Minute, Timeout: 500 * time.Millisecond, MaxConcurrent: 500, MaxArgBytes: 128 << 20, MaxConnections: 1000, L2Quota: 1 << 30, L1CollMax: 32 << 10, Priority: 2, Weight: 2},
					"bronze":   {Name: "bronze", DefaultTTL: 5 * time.Minute, Timeout: 2 * time.Second, MaxConcurrent: 50, MaxConnections: 100, Priority: 0, Weight: 1},
					"copper":   {Name: "copper", Priority: 1, Weight: 1},
				}
				if !reflect.DeepEqual(c.Tiers, wantTiers) {
					t.Errorf("Tiers = %+v\nwant %+v", c.Tiers, wantTiers)
				}
				p := c.Tenants[0]
				if want := (tiers.Tier{Name: "platinum", DefaultTTL: 2 * time.Hour, Timeout: 200 * time.Millisecond, MaxConcurrent: 1000, MaxArgBytes: 256 << 20, MaxConnections: 0, L2Quota: 4 << 30, L1CollMax: 64 << 10, Priority: 3, Weight: 4}); p.Tier != want {
					t.Errorf("payments tier = %+v, want %+v", p.Tier, want)
				}
				if p.Quota != 64<<20 || p.Eviction != EvictLRU || p.TierName != "platinum" {
					t.Errorf("payments = %+v", p)
				}
				wantUsers := []User{
					{Name: "pay-app", PasswordSHA256: HashPassword("a-secret"), Role: RoleReadWrite},
					{Name: "pay-admin", PasswordSHA256: HashPassword("dev-only-secret"), Role: RoleAdmin, Plaintext: true},
				}
				if !reflect.DeepEqual(p.Users, wantUsers) {
					t.Errorf("users = %+v, want %+v", p.Users, wantUsers)
				}
				ch := c.Tenants[1]
				if want := (tiers.Tier{Name: "bronze", DefaultTTL: 5 * time.Minute, Timeout: 3 * time.Second, MaxConcurrent: 0, MaxConnections: 100, Priority: 0, Weight: 1}); ch.Tier != want {
					t.Errorf("cheap tier = %+v, want %+v", ch.Tier, want)
				}
				if ch.Users[0].Role != RoleReadOnly {
					t.Errorf("cheap role = %v", ch.Users[0].Role)
				}
			},
		},
		{
			name:  "listen and metrics_listen",
			input: withA("listen: 0.0.0.0:7000\nmetrics_listen: '[::1]:0'\nmaxmemory: 1GiB\n"),
			check: func(t *testing.T, c *Config) {
				if c.Listen != "0.0.0.0:7000" || c.MetricsListen != "[::1]:0" {
					t.Errorf("listen %q metrics %q", c.Listen, c.MetricsListen)
				}
			},
		},
		{
			name:  "metrics_listen off",
			input: withA("metrics_listen: off\nmaxmemory: 1GiB\n"),
			check: func(t *testing.T, c *Config) {
				if c.MetricsListen != "" {
					t.Errorf("MetricsListen = %q, want disabled", c.MetricsListen)
				}
			},
		},
		{
			name:  "metrics_listen empty string disables",
			input: withA("metrics_listen: \"\"\nmaxmemory: 1GiB\n"),
			check: func(t *testing.T, c *Config) {
				if c.MetricsListen != "" {
					t.Errorf("MetricsListen = %q, want disabled", c.MetricsListen)
				}
			},
		},
		{
			name:  "null metrics_listen keeps default",
			input: withA("metrics_listen:\nmaxmemory: 1GiB\n"),
			check: func(t *testing.T, c *Config) {
				if c.MetricsListen != DefaultMetricsListen {
					t.Errorf("MetricsListen = %q", c.MetricsListen)
				}
			},
		},
		{
			name:  "maxmemory plain integer is bytes",
			input: withA("maxmemory: 1073741824\n"),
			check: func(t *testing.T, c *Config) {
				if c.MaxMemory != 1<<30 {
					t.Errorf("MaxMemory = %d", c.MaxMemory)
				}
			},
		},
		{
			name: "default tenant without users, readonly role",
			input: `maxmemory: 2gb
default_tenant: public
default_role: readonly
tenants:
  - {id: public, tier: silver, quota: 1gb}
`,
			check: func(t *testing.T, c *Config) {
				if c.DefaultTenant != "public" || c.DefaultRole != RoleReadOnly || len(c.Tenants[0].Users) != 0 {
					t.Errorf("got %+v", c)
				}
				if c.MaxMemory != 2<<30 {
					t.Errorf("2gb = %d, want 2<<30 (redis.conf rule)", c.MaxMemory)
				}
			},
		},
		{
			name: "default tenant may also have users",
			input: `maxmemory: 2GiB
default_tenant: a
tenants:
  - {id: a, tier: gold, quota: 1MiB, users: [{name: a, password: a-secret}]}
`,
			warnings: []string{"password is plaintext"},
		},
		{
			name:     "default_role without default_tenant warns",
			input:    withA("maxmemory: 1GiB\ndefault_role: admin\n"),
			warnings: []string{"test.yaml:2: default_role has no effect without default_tenant"},
		},
		{
			name: "default_ttl as seconds and zero",
			input: `maxmemory: 2GiB
tiers:
  gold: {default_ttl: 0}
tenants:
  - {id: a, tier: gold, quota: 1MiB, users: [{name: a, password_sha256: ` + hA + `}]}
  - {id: b, tier: silver, quota: 1MiB, default_ttl: 3600, users: [{name: b, password_sha256: ` + hB + `}]}
`,
			check: func(t *testing.T, c *Config) {
				if c.Tenants[0].Tier.DefaultTTL != 0 || c.Tiers["gold"].DefaultTTL != 0 {
					t.Errorf("gold default_ttl 0 not applied: %+v", c.Tenants[0].Tier)
				}
				if c.Tenants[1].Tier.DefaultTTL != time.Hour {
					t.Errorf("3600 = %v, want 1h", c.Tenants[1].Tier.DefaultTTL)
				}
			},
		},
		{
			name: "quotas may sum to exactly maxmemory; noeviction; uppercase hex",
			input: `maxmemory: 2GiB
tenants:
  - {id: a, tier: gold, quota: 1MiB, eviction: noeviction, users: [{name: a, password_sha256: ` + strings.ToUpper(hA) + `}]}
  - {id: b, tier: gold, quota: 1024KiB, users: [{name: b, password_sha256: ` + hB + `}]}
`,
			check: func(t *testing.T, c *Config) {
				if c.Tenants[0].Eviction != NoEviction {
					t.Errorf("eviction = %v", c.Tenants[0].Eviction)
				}
				if c.Tenants[0].Users[0].PasswordSHA256 != HashPassword("a-secret") {
					t.Errorf("uppercase hex digest mismatch")
				}
			},
		},
		{
			name: "user names that look like other things",
			input: `maxmemory: 2GiB
tenants:
  - id: A_b-9
    tier: gold
    quota: 1MiB
    users:
      - {name: svc@a.example, password: "null"}
      - {name: "123", password: 0x1F}
`,
			warnings: []string{"users[0].password is plaintext", "users[1].password is plaintext"},
			check: func(t *testing.T, c *Config) {
				u := c.Tenants[0].Users
				if u[0].PasswordSHA256 != HashPassword("null") || u[1].PasswordSHA256 != HashPassword("0x1F") {
					t.Errorf("passwords must be taken verbatim from the YAML source")
				}
			},
		},

		// --- YAML shape ---
		{name: "empty", input: "", err: "test.yaml: empty configuration"},
		{name: "only comments", input: "# nothing\n", err: "empty configuration"},
		{name: "top-level scalar", input: "hello\n", err: "test.yaml:1: top level must be a mapping, got a single value"},
		{name: "top-level list", input: "- a\n", err: "top level must be a mapping, got a list"},
		{name: "syntax error has line", input: "maxmemory: 1GiB\ntenants: [\n  - a: b\n", err: "test.yaml:"},
		{name: "tab indentation", input: "maxmemory: 1GiB\ntenants:\n\t- id: a\n", err: "test.yaml:3: invalid YAML"},
		{name: "two documents", input: withA("maxmemory: 1GiB\n") + "---\nmaxmemory: 2GiB\n", err: "more than one YAML document"},
		{name: "unknown top-level key", input: withA("maxmemory: 1GiB\nmax_memory: 2MiB\n"), err: "test.yaml:2: max_memory: unknown key"},
		{name: "duplicate key", input: withA("maxmemory: 1GiB\nmaxmemory: 2GiB\n"), err: "test.yaml:2: maxmemory: duplicate key (first at line 1)"},
		{name: "maxmemory as mapping", input: withA("maxmemory: {a: 1}\n"), err: "test.yaml:1: maxmemory: expected a single value, got a mapping"},
		{name: "tenants as mapping", input: "maxmemory: 1GiB\ntenants: {id: a}\n", err: "test.yaml:2: tenants: expected a list, got a mapping"},
		{name: "tenant as list", input: "maxmemory: 1GiB\ntenants:\n  - [a]\n", err: "test.yaml:3: tenants[0]: expected a mapping, got a list"},
		{name: "users as scalar", input: "maxmemory: 1GiB\ntenants:\n  - {id: a, tier: gold, quota: 1, users: x}\n", err: "test.yaml:3: tenants[0].users: expected a list, got a single value"},
		{name: "unknown tenant key", input: "maxmemory: 1GiB\ntenants:\n  - id: a\n    qouta: 1MiB\n", err: "test.yaml:4: tenants[0].qouta: unknown key"},
		{name: "priority is not a tenant key", input: "maxmemory: 1GiB\ntenants:\n  - id: a\n    priority: 3\n", err: "test.yaml:4: tenants[0].priority: unknown key"},
		{name: "unknown user key", input: "maxmemory: 1GiB\ntenants:\n  - id: a\n    users:\n      - name: a\n        pasword: x\n", err: "test.yaml:6: tenants[0].users[0].pasword: unknown key"},
		{name: "unknown tier key", input: "maxmemory: 1GiB\ntiers:\n  gold:\n    ttl: 5m\n", err: "test.yaml:4: tiers.gold.ttl: unknown key"},
		{name: "duplicate tier", input: "maxmemory: 1GiB\ntiers:\n  gold: {}\n  gold: {}\n", err: "test.yaml:4: tiers.gold: duplicate key (first at line 3)"},
		{name: "alias bomb refused", input: bomb(), err: "document too large after alias expansion"},

		// --- top level values ---
		{name: "missing maxmemory", input: withA(""), err: "test.yaml: maxmemory: required"},
		{name: "null maxmemory", input: withA("maxmemory:\n"), err: "test.yaml: maxmemory: required"},
		{name: "invalid maxmemory", input: withA("maxmemory: 12XB\n"), err: `test.yaml:1: maxmemory: invalid size "12XB"`},
		{name: "zero maxmemory", input: withA("maxmemory: 0\n"), err: "test.yaml:1: maxmemory: must be > 0"},
		{name: "negative maxmemory", input: withA("maxmemory: -1MiB\n"), err: `maxmemory: invalid size "-1MiB"`},
		{name: "fractional maxmemory", input: withA("maxmemory: 1.5GiB\n"), err: `maxmemory: invalid size "1.5GiB"`},
		{name: "overflowing maxmemory", input: withA("maxmemory: 99999999999GiB\n"), err: `test.yaml:1: maxmemory: invalid size "99999999999GiB": larger than`},
		{name: "invalid listen", input: withA("listen: 6380\nmaxmemory: 1GiB\n"), err: `test.yaml:1: listen: invalid address "6380"`},
		{name: "invalid listen port", input: withA("listen: localhost:99999\nmaxmemory: 1GiB\n"), err: "listen: invalid address \"localhost:99999\": port must be 0-65535"},
		{name: "invalid metrics_listen", input: withA("metrics_listen: on\nmaxmemory: 1GiB\n"), err: `test.yaml:1: metrics_listen: invalid address "on"`},
		{name: "invalid default_role", input: withA("maxmemory: 1GiB\ndefault_tenant: a\ndefault_role: superuser\n"), err: `test.yaml:3: default_role: invalid role "superuser"`},
		{name: "default_tenant missing", input: withA("maxmemory: 1GiB\ndefault_tenant: ghost\n"), err: `test.yaml:2: default_tenant: no tenant with id "ghost"`},
		{name: "default_tenant invalid id", input: withA("maxmemory: 1GiB\ndefault_tenant: a b\n"), err: `test.yaml:2: default_tenant: invalid tenant id "a b"`},
		{name: "no tenants key", input: "maxmemory: 1GiB\n", err: "test.yaml: tenants: no tenants configured"},
		{name: "empty tenants list", input: "maxmemory: 1GiB\ntenants: []\n", err: "test.yaml:2: tenants: no tenants configured"},
		{name: "null tenants", input: "maxmemory: 1GiB\ntenants:\n", err: "test.yaml:2: tenants: no tenants configured"},

		// --- limits ---
		{
			name: "every limit set",
			input: withA(`maxmemory: 1GiB
maxclients: 50
timeout: 300
auth_timeout: 5s
write_timeout: 1m
proto_max_bulk_len: 1mb
client_query_buffer_limit: 2MiB
client_output_buffer_limit: 0
preauth_max_args: 3
preauth_max_bulk_len: 1KiB
preauth_query_buffer_limit: 4k
preauth_output_buffer_limit: 1GiB
max_inline_len: 4KiB
auth_max_failures: 0
auth_lockout: 500ms
auth_lockout_max: 500ms
`),
			check: func(t *testing.T, c *Config) {
				want := Limits{
					MaxClients:               50,
					Timeout:                  300 * time.Second,
					AuthTimeout:              5 * time.Second,
					WriteTimeout:             time.Minute,
					ProtoMaxBulkLen:          1 << 20,
					ClientQueryBufferLimit:   2 << 20,
					ClientOutputBufferLimit:  0, // unlimited, so any preauth output limit fits
					PreAuthMaxArgs:           3,
					PreAuthMaxBulkLen:        1 << 10,
					PreAuthQueryBufferLimit:  4000,
					PreAuthOutputBufferLimit: 1 << 30,
					MaxInlineLen:             4 << 10,
					AuthMaxFailures:          0,
					AuthLockout:              500 * time.Millisecond,
					AuthLockoutMax:           500 * time.Millisecond,
				}
				if c.Limits != want {
					t.Errorf("Limits = %+v\nwant   %+v", c.Limits, want)
				}
			},
		},
		{
			name:  "timeout in Go syntax; zero durations",
			input: withA("maxmemory: 1GiB\ntimeout: 1h30m\nauth_timeout: 0\n"),
			check: func(t *testing.T, c *Config) {
				if c.Limits.Timeout != 90*time.Minute || c.Limits.AuthTimeout != 0 {
					t.Errorf("Timeout %v AuthTimeout %v", c.Limits.Timeout, c.Limits.AuthTimeout)
				}
			},
		},
		{
			name:  "timeout 0 means never",
			input: withA("maxmemory: 1GiB\ntimeout: 0\n"),
			check: func(t *testing.T, c *Config) {
				if c.Limits.Timeout != 0 {
					t.Errorf("Timeout %v", c.Limits.Timeout)
				}
			},
		},
		{
			name:  "null limits keep defaults",
			input: withA("maxmemory: 1GiB\nmaxclients:\ntimeout: ~\nproto_max_bulk_len:\nprotected_mode:\n"),
			check: func(t *testing.T, c *Config) {
				if c.Limits != DefaultLimits() || !c.ProtectedMode {
					t.Errorf("Limits = %+v, ProtectedMode %v", c.Limits, c.ProtectedMode)
				}
			},
		},
		{
			name:  "preauth defaults are lowered to fit smaller authenticated limits",
			input: withA("maxmemory: 1GiB\nproto_max_bulk_len: 8KiB\nclient_query_buffer_limit: 512KiB\nclient_output_buffer_limit: 32KiB\n"),
			check: func(t *testing.T, c *Config) {
				l := c.Limits
				if l.PreAuthMaxBulkLen != 8<<10 || l.PreAuthQueryBufferLimit != 512<<10 || l.PreAuthOutputBufferLimit != 32<<10 {
					t.Errorf("preauth limits not lowered: %+v", l)
				}
			},
		},
		{
			name:  "preauth limits equal to authenticated ones",
			input: withA("maxmemory: 1GiB\nproto_max_bulk_len: 1KiB\npreauth_max_bulk_len: 1KiB\nclient_output_buffer_limit: 64KiB\npreauth_output_buffer_limit: 64KiB\n"),
			check: func(t *testing.T, c *Config) {
				if c.Limits.PreAuthMaxBulkLen != 1<<10 || c.Limits.PreAuthOutputBufferLimit != 64<<10 {
					t.Errorf("Limits = %+v", c.Limits)
				}
			},
		},
		{
			name:  "auth_lockout above the default cap raises the cap",
			input: withA("maxmemory: 1GiB\nauth_lockout: 2m\n"),
			check: func(t *testing.T, c *Config) {
				if c.Limits.AuthLockout != 2*time.Minute || c.Limits.AuthLockoutMax != 2*time.Minute {
					t.Errorf("lockout %v max %v", c.Limits.AuthLockout, c.Limits.AuthLockoutMax)
				}
			},
		},
		{
			name:  "auth_lockout_max below the default lockout lowers it",
			input: withA("maxmemory: 1GiB\nauth_lockout_max: 200ms\n"),
			check: func(t *testing.T, c *Config) {
				if c.Limits.AuthLockout != 200*time.Millisecond || c.Limits.AuthLockoutMax != 200*time.Millisecond {
					t.Errorf("lockout %v max %v", c.Limits.AuthLockout, c.Limits.AuthLockoutMax)
				}
			},
		},
		{name: "maxclients zero", input: withA("maxmemory: 1GiB\nmaxclients: 0\n"), err: `test.yaml:2: maxclients: invalid maxclients "0": want an integer >= 1`},
		{name: "maxclients not an integer", input: withA("maxmemory: 1GiB\nmaxclients: 1e4\n"), err: `test.yaml:2: maxclients: invalid maxclients "1e4"`},
		{name: "maxclients as Redis spells it elsewhere", input: withA("maxmemory: 1GiB\nmax_clients: 10\n"), err: "test.yaml:2: max_clients: unknown key"},
		{name: "timeout negative", input: withA("maxmemory: 1GiB\ntimeout: -5s\n"), err: `test.yaml:2: timeout: invalid duration "-5s": must be >= 0`},
		{name: "timeout negative seconds", input: withA("maxmemory: 1GiB\ntimeout: -5\n"), err: `test.yaml:2: timeout: invalid duration "-5": use Go syntax such as 200ms, 30s, 1h30m, or a whole number of seconds`},
		{name: "timeout seconds overflow", input: withA("maxmemory: 1GiB\ntimeout: 99999999999999999999\n"), err: `test.yaml:2: timeout: invalid duration "99999999999999999999": too large`},
		{name: "timeout as a list", input: withA("maxmemory: 1GiB\ntimeout: [5]\n"), err: "test.yaml:2: timeout: expected a single value, got a list"},
		{name: "duplicate timeout", input: withA("maxmemory: 1GiB\ntimeout: 5\ntimeout: 6\n"), err: "test.yaml:3: timeout: duplicate key (first at line 2)"},
		{name: "auth_timeout needs a unit", input: withA("maxmemory: 1GiB\nauth_timeout: 10\n"), err: `test.yaml:2: auth_timeout: invalid duration "10": use Go syntax`},
		{name: "auth_timeout negative", input: withA("maxmemory: 1GiB\nauth_timeout: -1s\n"), err: `test.yaml:2: auth_timeout: invalid duration "-1s": must be >= 0`},
		{name: "write_timeout zero", input: withA("maxmemory: 1GiB\nwrite_timeout: 0s\n"), err: "test.yaml:2: write_timeout: must be > 0"},
		{name: "write_timeout bad", input: withA("maxmemory: 1GiB\nwrite_timeout: soon\n"), err: `test.yaml:2: write_timeout: invalid duration "soon"`},
		{name: "proto_max_bulk_len below 1KiB", input: withA("maxmemory: 1GiB\nproto_max_bulk_len: 1023\n"), err: "test.yaml:2: proto_max_bulk_len: 1023 bytes is below the minimum 1KiB"},
		{name: "proto_max_bulk_len 1k is 1000 bytes", input: withA("maxmemory: 1GiB\nproto_max_bulk_len: 1k\n"), err: "test.yaml:2: proto_max_bulk_len: 1000 bytes is below the minimum 1KiB"},
		{name: "proto_max_bulk_len invalid", input: withA("maxmemory: 1GiB\nproto_max_bulk_len: 512XB\n"), err: `test.yaml:2: proto_max_bulk_len: invalid size "512XB"`},
		{name: "client_query_buffer_limit zero", input: withA("maxmemory: 1GiB\nclient_query_buffer_limit: 0\n"), err: "test.yaml:2: client_query_buffer_limit: 0 bytes is below the minimum 1KiB"},
		{name: "client_output_buffer_limit in redis.conf syntax", input: withA("maxmemory: 1GiB\nclient_output_buffer_limit: normal 0 0 0\n"), err: `test.yaml:2: client_output_buffer_limit: invalid size "normal 0 0 0"`},
		{name: "client_output_buffer_limit negative", input: withA("maxmemory: 1GiB\nclient_output_buffer_limit: -1\n"), err: `test.yaml:2: client_output_buffer_limit: invalid size "-1"`},
		{name: "preauth_max_args zero", input: withA("maxmemory: 1GiB\npreauth_max_args: 0\n"), err: `test.yaml:2: preauth_max_args: invalid preauth_max_args "0": want an integer >= 1`},
		{name: "preauth_max_bulk_len zero", input: withA("maxmemory: 1GiB\npreauth_max_bulk_len: 0\n"), err: "test.yaml:2: preauth_max_bulk_len: must be > 0"},
		{name: "preauth_query_buffer_limit zero", input: withA("maxmemory: 1GiB\npreauth_query_buffer_limit: 0\n"), err: "test.yaml:2: preauth_query_buffer_limit: must be > 0"},
		{name: "preauth_output_buffer_limit zero", input: withA("maxmemory: 1GiB\npreauth_output_buffer_limit: 0\n"), err: "test.yaml:2: preauth_output_buffer_limit: must be > 0"},
		{name: "max_inline_len zero", input: withA("maxmemory: 1GiB\nmax_inline_len: 0\n"), err: "test.yaml:2: max_inline_len: must be > 0"},
		{name: "auth_max_failures negative", input: withA("maxmemory: 1GiB\nauth_max_failures: -1\n"), err: `test.yaml:2: auth_max_failures: invalid auth_max_failures "-1": want an integer >= 0`},
		{name: "auth_lockout zero", input: withA("maxmemory: 1GiB\nauth_lockout: 0\n"), err: "test.yaml:2: auth_lockout: must be > 0"},
		{name: "auth_lockout_max zero", input: withA("maxmemory: 1GiB\nauth_lockout_max: 0\n"), err: "test.yaml:2: auth_lockout_max: must be > 0"},
		{name: "auth_lockout_max below auth_lockout", input: withA("maxmemory: 1GiB\nauth_lockout: 1m\nauth_lockout_max: 30s\n"), err: "test.yaml:3: auth_lockout_max: 30s is less than auth_lockout 1m0s"},
		{name: "auth_lockout_max below auth_lockout, reversed order", input: withA("maxmemory: 1GiB\nauth_lockout_max: 30s\nauth_lockout: 1m\n"), err: "test.yaml:2: auth_lockout_max: 30s is less than auth_lockout 1m0s"},
		{
			name:  "preauth_max_bulk_len above proto_max_bulk_len",
			input: withA("maxmemory: 1GiB\nproto_max_bulk_len: 64KiB\npreauth_max_bulk_len: 1MiB\n"),
			err:   "test.yaml:3: preauth_max_bulk_len: 1MiB exceeds proto_max_bulk_len 64KiB; a limit before AUTH must not be looser than after it",
		},
		{
			name:  "preauth_max_bulk_len above proto_max_bulk_len given later",
			input: withA("maxmemory: 1GiB\npreauth_max_bulk_len: 1MiB\nproto_max_bulk_len: 64KiB\n"),
			err:   "test.yaml:2: preauth_max_bulk_len: 1MiB exceeds proto_max_bulk_len 64KiB",
		},
		{
			name:  "preauth_query_buffer_limit above the default client_query_buffer_limit",
			input: withA("maxmemory: 1GiB\npreauth_query_buffer_limit: 2GiB\n"),
			err:   "test.yaml:2: preauth_query_buffer_limit: 2GiB exceeds client_query_buffer_limit 1GiB",
		},
		{
			name:  "preauth_output_buffer_limit above client_output_buffer_limit",
			input: withA("maxmemory: 1GiB\nclient_output_buffer_limit: 32KiB\npreauth_output_buffer_limit: 64KiB\n"),
			err:   "test.yaml:3: preauth_output_buffer_limit: 64KiB exceeds client_output_buffer_limit 32KiB",
		},
		{
			name:  "preauth_output_buffer_limit above the default client_output_buffer_limit",
			input: withA("maxmemory: 1GiB\npreauth_output_buffer_limit: 2GiB\n"),
			err:   "test.yaml:2: preauth_output_buffer_limit: 2GiB exceeds client_output_buffer_limit 1GiB",
		},

		// --- protected mode, TLS and listen off ---
		{
			name:  "protected_mode no",
			input: withA("maxmemory: 1GiB\nprotected_mode: no\n"),
			check: func(t *testing.T, c *Config) {
				if c.ProtectedMode {
					t.Error("ProtectedMode = true, want false")
				}
			},
		},
		{
			name:  "protected_mode false",
			input: withA("maxmemory: 1GiB\nprotected_mode: False\n"),
			check: func(t *testing.T, c *Config) {
				if c.ProtectedMode {
					t.Error("ProtectedMode = true, want false")
				}
			},
		},
		{
			name:  "protected_mode yes",
			input: withA("maxmemory: 1GiB\nprotected_mode: yes\n"),
			check: func(t *testing.T, c *Config) {
				if !c.ProtectedMode {
					t.Error("ProtectedMode = false, want true")
				}
			},
		},
		{name: "protected_mode invalid", input: withA("maxmemory: 1GiB\nprotected_mode: maybe\n"), err: `test.yaml:2: protected_mode: invalid protected_mode "maybe": want yes or no`},
		{name: "protected_mode as mapping", input: withA("maxmemory: 1GiB\nprotected_mode: {a: 1}\n"), err: "test.yaml:2: protected_mode: expected a single value, got a mapping"},
		{
			name:  "tls listener beside the plain one",
			input: withA("maxmemory: 1GiB\ntls_listen: 0.0.0.0:6390\ntls_cert_file: /etc/t/c.pem\ntls_key_file: /etc/t/k.pem\ntls_ca_file: /etc/t/ca.pem\n"),
			check: func(t *testing.T, c *Config) {
				if c.Listen != DefaultListen || c.TLSListen != "0.0.0.0:6390" || c.TLSCertFile != "/etc/t/c.pem" || c.TLSKeyFile != "/etc/t/k.pem" || c.TLSCAFile != "/etc/t/ca.pem" {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name:  "listen off with tls",
			input: withA("listen: off\nmaxmemory: 1GiB\ntls_listen: 127.0.0.1:0\ntls_cert_file: c.pem\ntls_key_file: k.pem\n"),
			check: func(t *testing.T, c *Config) {
				if c.Listen != "" || c.TLSListen != "127.0.0.1:0" || c.TLSCAFile != "" {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name:  "listen empty with tls",
			input: withA("listen: \"\"\nmaxmemory: 1GiB\ntls_listen: 127.0.0.1:0\ntls_cert_file: c.pem\ntls_key_file: k.pem\n"),
			check: func(t *testing.T, c *Config) {
				if c.Listen != "" {
					t.Errorf("Listen = %q", c.Listen)
				}
			},
		},
		{
			name:  "tls_listen off",
			input: withA("maxmemory: 1GiB\ntls_listen: off\n"),
			check: func(t *testing.T, c *Config) {
				if c.TLSListen != "" || c.Listen != DefaultListen {
					t.Errorf("got %+v", c)
				}
			},
		},
		{name: "listen off without tls", input: withA("listen: off\nmaxmemory: 1GiB\n"), err: `test.yaml:1: listen: "off" is allowed only with tls_listen set: there would be no listener`},
		{name: "listen empty without tls", input: withA("listen: ''\nmaxmemory: 1GiB\n"), err: `test.yaml:1: listen: "" is allowed only with tls_listen set`},
		{name: "listen off with tls_listen off", input: withA("listen: off\nmaxmemory: 1GiB\ntls_listen: off\n"), err: `test.yaml:1: listen: "off" is allowed only with tls_listen set`},
		{name: "invalid tls_listen", input: withA("maxmemory: 1GiB\ntls_listen: 6390\n"), err: `test.yaml:2: tls_listen: invalid address "6390": want host:port`},
		{name: "tls_listen without cert", input: withA("maxmemory: 1GiB\ntls_listen: :6390\ntls_key_file: k.pem\n"), err: "test.yaml:2: tls_cert_file: required when tls_listen is set"},
		{name: "tls_listen without key", input: withA("maxmemory: 1GiB\ntls_listen: :6390\ntls_cert_file: c.pem\n"), err: "test.yaml:2: tls_key_file: required when tls_listen is set"},
		{name: "empty tls_cert_file", input: withA("maxmemory: 1GiB\ntls_listen: :6390\ntls_cert_file: ''\ntls_key_file: k.pem\n"), err: "test.yaml:3: tls_cert_file: must not be empty"},
		{name: "empty tls_ca_file", input: withA("maxmemory: 1GiB\ntls_listen: :6390\ntls_cert_file: c.pem\ntls_key_file: k.pem\ntls_ca_file: \"\"\n"), err: "test.yaml:5: tls_ca_file: must not be empty"},
		{name: "tls_cert_file without tls_listen", input: withA("maxmemory: 1GiB\ntls_cert_file: c.pem\n"), err: "test.yaml:2: tls_cert_file: requires tls_listen"},
		{name: "tls_key_file without tls_listen", input: withA("maxmemory: 1GiB\ntls_key_file: k.pem\n"), err: "test.yaml:2: tls_key_file: requires tls_listen"},
		{name: "tls_ca_file without tls_listen", input: withA("maxmemory: 1GiB\ntls_ca_file: ca.pem\n"), err: "test.yaml:2: tls_ca_file: requires tls_listen"},
		{name: "tls files with tls_listen off", input: withA("maxmemory: 1GiB\ntls_listen: off\ntls_cert_file: c.pem\ntls_key_file: k.pem\n"), err: "test.yaml:3: tls_cert_file: requires tls_listen"},

		// --- tiers ---
		{name: "invalid tier name", input: withA("maxmemory: 1GiB\ntiers:\n  gold.plus: {}\n"), err: `test.yaml:3: tiers.gold.plus: invalid tier name "gold.plus"`},
		{name: "negative tier ttl", input: withA("maxmemory: 1GiB\ntiers:\n  gold: {default_ttl: -5m}\n"), err: `test.yaml:3: tiers.gold.default_ttl: invalid duration "-5m": must be >= 0`},
		{name: "tier timeout needs a unit", input: withA("maxmemory: 1GiB\ntiers:\n  gold: {timeout: 5}\n"), err: `test.yaml:3: tiers.gold.timeout: invalid duration "5"`},
		{name: "negative priority", input: withA("maxmemory: 1GiB\ntiers:\n  gold: {priority: -1}\n"), err: `test.yaml:3: tiers.gold.priority: invalid priority "-1"`},
		{name: "non-integer max_concurrent", input: withA("maxmemory: 1GiB\ntiers:\n  gold: {max_concurrent: 1.5}\n"), err: `test.yaml:3: tiers.gold.max_concurrent: invalid max_concurrent "1.5"`},

		{name: "negative tier max_connections", input: withA("maxmemory: 1GiB\ntiers:\n  gold: {max_connections: -1}\n"), err: `test.yaml:3: tiers.gold.max_connections: invalid max_connections "-1": want an integer >= 0 (0 = unlimited)`},
		{name: "tenant max_connections not an integer", input: "maxmemory: 1GiB\ntenants:\n  - id: a\n    tier: gold\n    max_connections: lots\n", err: `test.yaml:5: tenants[0].max_connections: invalid max_connections "lots"`},
		{
			name:  "max_connections overrides: tier and tenant",
			input: withA("maxmemory: 1GiB\ntiers:\n  silver: {max_connections: 0}\n  gold: {max_connections: 7}\n"),
			check: func(t *testing.T, c *Config) {
				if c.Tiers["silver"].MaxConnections != 0 || c.Tiers["gold"].MaxConnections != 7 || c.Tenants[0].Tier.MaxConnections != 7 {
					t.Errorf("tiers %+v, tenant tier %+v", c.Tiers, c.Tenants[0].Tier)
				}
				if c.Tiers["platinum"].MaxConnections != 2000 {
					t.Errorf("platinum MaxConnections = %d", c.Tiers["platinum"].MaxConnections)
				}
			},
		},
		{
			name:  "tenant max_connections override",
			input: "maxmemory: 1GiB\ntenants:\n  - {id: a, tier: silver, quota: 1, max_connections: 3, users: [{name: a, password_sha256: " + hA + "}]}\n",
			check: func(t *testing.T, c *Config) {
				if c.Tenants[0].Tier.MaxConnections != 3 || c.Tiers["silver"].MaxConnections != 500 {
					t.Errorf("tenant tier %+v, silver %+v", c.Tenants[0].Tier, c.Tiers["silver"])
				}
			},
		},

		// --- admission: rate_limit, burst, max_arg_bytes, shed_reads_as_miss, max_inflight ---
		{
			name: "admission keys: tier and tenant overrides",
			input: `maxmemory: 2GiB
max_inflight: 10000
tiers:
  gold: {rate_limit: 5000, burst: 500, max_arg_bytes: 1MiB}
  bronze: {rate_limit: 0.5, priority: 0}
tenants:
  - {id: a, tier: gold, quota: 1, users: [{name: a, password_sha256: ` + hA + `}]}
  - id: b
    tier: gold
    quota: 1
    rate_limit: 150000.25
    burst: 0
    max_arg_bytes: 0
    shed_reads_as_miss: yes
    users: [{name: b, password_sha256: ` + hB + `}]
  - {id: c, tier: bronze, quota: 1, shed_reads_as_miss: false, users: [{name: c, password: c-secret}]}
`,
			warnings: []string{"test.yaml:16: tenants[2].users[0].password is plaintext"},
			check: func(t *testing.T, c *Config) {
				if c.MaxInFlight != 10000 {
					t.Errorf("MaxInFlight = %d", c.MaxInFlight)
				}
				g := c.Tiers["gold"]
				if g.RateLimit != 5000 || g.Burst != 500 || g.MaxArgBytes != 1<<20 || g.MaxConcurrent != 500 {
					t.Errorf("gold = %+v", g)
				}
				if b := c.Tiers["bronze"]; b.RateLimit != 0.5 || b.Burst != 0 || b.MaxArgBytes != 0 {
					t.Errorf("bronze = %+v", b)
				}
				a, b, cc := c.Tenants[0], c.Tenants[1], c.Tenants[2]
				if a.Tier != g || a.ShedReadsAsMiss {
					t.Errorf("tenant a = %+v", a)
				}
				want := g
				want.RateLimit, want.Burst, want.MaxArgBytes = 150000.25, 0, 0
				if b.Tier != want || !b.ShedReadsAsMiss {
					t.Errorf("tenant b = %+v, want tier %+v", b, want)
				}
				if cc.ShedReadsAsMiss || cc.Tier.RateLimit != 0.5 {
					t.Errorf("tenant c = %+v", cc)
				}
			},
		},
		{name: "max_inflight 0 disables shedding", input: withA("maxmemory: 1GiB\nmax_inflight: 0\n"),
			check: func(t *testing.T, c *Config) {
				if c.MaxInFlight != 0 {
					t.Errorf("MaxInFlight = %d", c.MaxInFlight)
				}
			}},
		{name: "tier burst without rate is silent", input: withA("maxmemory: 1GiB\ntiers:\n  x: {burst: 5}\n")},
		{name: "tenant burst without rate warns",
			input:    "maxmemory: 1GiB\ntenants:\n  - id: a\n    tier: gold\n    quota: 1\n    burst: 5\n    users: [{name: a, password_sha256: " + hA + "}]\n",
			warnings: []string{"test.yaml:6: tenants[0]: burst 5 has no effect without rate_limit"}},
		{name: "inherited burst without rate warns at the tenant",
			input:    "maxmemory: 1GiB\ntiers:\n  x: {burst: 5}\ntenants:\n  - {id: a, tier: x, quota: 1, users: [{name: a, password_sha256: " + hA + "}]}\n",
			warnings: []string{"test.yaml:5: tenants[0]: burst 5 has no effect without rate_limit"}},
		{name: "max_inflight negative", input: withA("maxmemory: 1GiB\nmax_inflight: -1\n"), err: `test.yaml:2: max_inflight: invalid max_inflight "-1": want an integer >= 0`},
		{name: "max_inflight not an integer", input: withA("maxmemory: 1GiB\nmax_inflight: 4k\n"), err: `test.yaml:2: max_inflight: invalid max_inflight "4k"`},
		{name: "rate_limit negative", input: withA("maxmemory: 1GiB\ntiers:\n  gold: {rate_limit: -1}\n"), err: `test.yaml:3: tiers.gold.rate_limit: invalid rate_limit "-1": want commands per second`},
		{name: "rate_limit exponent", input: withA("maxmemory: 1GiB\ntiers:\n  gold: {rate_limit: 1e5}\n"), err: `tiers.gold.rate_limit: invalid rate_limit "1e5"`},
		{name: "rate_limit inf", input: withA("maxmemory: 1GiB\ntiers:\n  gold: {rate_limit: .inf}\n"), err: `tiers.gold.rate_limit: invalid rate_limit ".inf"`},
		{name: "rate_limit NaN", input: withA("maxmemory: 1GiB\ntiers:\n  gold: {rate_limit: NaN}\n"), err: `tiers.gold.rate_limit: invalid rate_limit "NaN"`},
		{name: "rate_limit trailing dot", input: withA("maxmemory: 1GiB\ntiers:\n  gold: {rate_limit: '5.'}\n"), err: `tiers.gold.rate_limit: invalid rate_limit "5."`},
		{name: "rate_limit above 1e9", input: withA("maxmemory: 1GiB\ntiers:\n  gold: {rate_limit: 1000000001}\n"), err: `invalid rate_limit "1000000001": want commands per second, a decimal number from 0 (unlimited) to 1000000000`},
		{name: "rate_limit 1e9 is fine", input: withA("maxmemory: 1GiB\ntiers:\n  gold: {rate_limit: 1000000000}\n")},
		{name: "tenant rate_limit with unit", input: "maxmemory: 1GiB\ntenants:\n  - id: a\n    tier: gold\n    rate_limit: 5k\n", err: `test.yaml:5: tenants[0].rate_limit: invalid rate_limit "5k"`},
		{name: "burst negative", input: withA("maxmemory: 1GiB\ntiers:\n  gold: {burst: -1}\n"), err: `test.yaml:3: tiers.gold.burst: invalid burst "-1": want an integer >= 0 (0 = one second of rate_limit)`},
		{name: "tenant burst fraction", input: "maxmemory: 1GiB\ntenants:\n  - {id: a, tier: gold, burst: 1.5}\n", err: `tenants[0].burst: invalid burst "1.5"`},
		{name: "max_arg_bytes bad size", input: withA("maxmemory: 1GiB\ntiers:\n  silver: {max_arg_bytes: 12XB}\n"), err: `test.yaml:3: tiers.silver.max_arg_bytes: invalid size "12XB"`},
		{name: "tenant max_arg_bytes negative", input: "maxmemory: 1GiB\ntenants:\n  - id: a\n    tier: gold\n    max_arg_bytes: -1\n", err: `test.yaml:5: tenants[0].max_arg_bytes: invalid size "-1"`},
		{name: "shed_reads_as_miss not a bool", input: "maxmemory: 1GiB\ntenants:\n  - id: a\n    tier: gold\n    quota: 1\n    shed_reads_as_miss: maybe\n", err: `test.yaml:6: tenants[0].shed_reads_as_miss: invalid value "maybe": want yes or no (true or false)`},
		{name: "shed_reads_as_miss is not a tier key", input: withA("maxmemory: 1GiB\ntiers:\n  gold: {shed_reads_as_miss: yes}\n"), err: "test.yaml:3: tiers.gold.shed_reads_as_miss: unknown key"},
		{name: "max_inflight is not a tenant key", input: "maxmemory: 1GiB\ntenants:\n  - id: a\n    max_inflight: 3\n", err: "test.yaml:4: tenants[0].max_inflight: unknown key"},

		// --- tenants ---
		{name: "missing id", input: "maxmemory: 1GiB\ntenants:\n  - tier: gold\n", err: "test.yaml:3: tenants[0].id: required"},
		{name: "invalid id", input: "maxmemory: 1GiB\ntenants:\n  - id: pay ments\n", err: `test.yaml:3: tenants[0].id: invalid tenant id "pay ments"`},
		{name: "id too long", input: "maxmemory: 1GiB\ntenants:\n  - id: " + strings.Repeat("x", 65) + "\n", err: "tenants[0].id: invalid tenant id"},
		{name: "id of 64 is fine", input: "maxmemory: 1GiB\ntenants:\n  - id: " + strings.Repeat("x", 64) + "\n", err: "tenants[0].tier: required"},
		{name: "missing tier", input: "maxmemory: 1GiB\ntenants:\n  - id: a\n    quota: 1\n", err: "test.yaml:3: tenants[0].tier: required (one of gold, platinum, silver)"},
		{name: "unknown tier", input: "maxmemory: 1GiB\ntenants:\n  - id: a\n    tier: bronze\n", err: `test.yaml:4: tenants[0].tier: unknown tier "bronze" (have gold, platinum, silver)`},
		{name: "tier names are case-sensitive", input: "maxmemory: 1GiB\ntenants:\n  - {id: a, tier: Gold}\n", err: `unknown tier "Gold"`},
		{name: "missing quota", input: "maxmemory: 1GiB\ntenants:\n  - id: a\n    tier: gold\n", err: "test.yaml:3: tenants[0].quota: required"},
		{
			name:  "invalid quota (the documented example)",
			input: "maxmemory: 1GiB\ntenants:\n  - {id: a, tier: gold, quota: 1MiB, users: [{name: a, password: x}]}\n  - id: b\n    tier: gold\n    quota: 12XB\n",
			err:   `test.yaml:6: tenants[1].quota: invalid size "12XB"`,
		},
		{name: "zero quota", input: "maxmemory: 1GiB\ntenants:\n  - {id: a, tier: gold, quota: 0}\n", err: "test.yaml:3: tenants[0].quota: must be > 0"},
		{name: "quota above maxmemory", input: "maxmemory: 1MiB\ntenants:\n  - {id: a, tier: gold, quota: 2MiB}\n", err: "tenants[0].quota: sum of tenant quotas 2MiB exceeds maxmemory 1MiB; a guarantee that can't be honoured is refused"},
		{
			name: "quota sum above maxmemory",
			input: `maxmemory: 100MiB
tenants:
  - {id: a, tier: gold, quota: 60MiB, users: [{name: a, password_sha256: ` + hA + `}]}
  - {id: b, tier: gold, quota: 60MiB, users: [{name: b, password_sha256: ` + hB + `}]}
`,
			err: "test.yaml:4: tenants[1].quota: sum of tenant quotas 120MiB exceeds maxmemory 100MiB; a guarantee that can't be honoured is refused",
		},
		{name: "invalid eviction", input: "maxmemory: 1GiB\ntenants:\n  - {id: a, tier: gold, quota: 1, eviction: allkeys-lru}\n", err: `test.yaml:3: tenants[0].eviction: invalid eviction "allkeys-lru": want lru or noeviction`},
		{name: "tenant ttl override bad", input: "maxmemory: 1GiB\ntenants:\n  - id: a\n    tier: gold\n    default_ttl: forever\n", err: `test.yaml:5: tenants[0].default_ttl: invalid duration "forever"`},
		{name: "tenant ttl seconds overflow", input: "maxmemory: 1GiB\ntenants:\n  - {id: a, tier: gold, default_ttl: 99999999999999999999}\n", err: `tenants[0].default_ttl: invalid duration "99999999999999999999": too large`},
		{name: "tenant timeout negative", input: "maxmemory: 1GiB\ntenants:\n  - {id: a, tier: gold, timeout: -1s}\n", err: `tenants[0].timeout: invalid duration "-1s": must be >= 0`},
		{name: "tenant max_concurrent negative", input: "maxmemory: 1GiB\ntenants:\n  - {id: a, tier: gold, max_concurrent: -1}\n", err: `tenants[0].max_concurrent: invalid max_concurrent "-1"`},
		{
			name: "duplicate tenant id",
			input: `maxmemory: 2GiB
tenants:
  - {id: a, tier: gold, quota: 1MiB, users: [{name: a, password_sha256: ` + hA + `}]}
  - {id: a, tier: gold, quota: 1MiB, users: [{name: b, password_sha256: ` + hB + `}]}
`,
			err: `test.yaml:4: tenants[1].id: duplicate tenant id "a" (first at line 3)`,
		},
		{name: "no users", input: "maxmemory: 1GiB\ntenants:\n  - id: a\n    tier: gold\n    quota: 1\n    users: []\n", err: "test.yaml:6: tenants[0].users: no users; only default_tenant may have none"},
		{name: "users key absent", input: "maxmemory: 1GiB\ntenants:\n  - {id: a, tier: gold, quota: 1}\n", err: "test.yaml:3: tenants[0].users: no users"},
		{
			name:  "only the default tenant may lack users",
			input: "maxmemory: 2GiB\ndefault_tenant: a\ntenants:\n  - {id: a, tier: gold, quota: 1}\n  - {id: b, tier: gold, quota: 1}\n",
			err:   "test.yaml:5: tenants[1].users: no users",
		},

		// --- users ---
		{name: "missing user name", input: "maxmemory: 1GiB\ntenants:\n  - id: a\n    tier: gold\n    quota: 1\n    users:\n      - password: x\n", err: "test.yaml:7: tenants[0].users[0].name: required"},
		{name: "user named default", input: "maxmemory: 1GiB\ntenants:\n  - id: a\n    tier: gold\n    quota: 1\n    users:\n      - {name: default, password: x}\n", err: `test.yaml:7: tenants[0].users[0].name: user name "default" is reserved`},
		{name: "user named DEFAULT", input: "maxmemory: 1GiB\ntenants:\n  - {id: a, tier: gold, quota: 1, users: [{name: DEFAULT, password: x}]}\n", err: `user name "DEFAULT" is reserved`},
		{name: "invalid user name", input: "maxmemory: 1GiB\ntenants:\n  - {id: a, tier: gold, quota: 1, users: [{name: 'pay app', password: x}]}\n", err: `test.yaml:3: tenants[0].users[0].name: invalid user name "pay app"`},
		{
			name: "duplicate user name across tenants",
			input: `maxmemory: 2GiB
tenants:
  - id: a
    tier: gold
    quota: 1MiB
    users:
      - {name: app, password_sha256: ` + hA + `}
  - id: b
    tier: gold
    quota: 1MiB
    users:
      - {name: app, password_sha256: ` + hB + `}
`,
			err: `test.yaml:12: tenants[1].users[0].name: duplicate user name "app" (first as tenants[0].users[0].name at line 7); user names are unique across all tenants`,
		},
		{
			name: "shared password across tenants (hash vs plaintext)",
			input: `maxmemory: 2GiB
tenants:
  - id: a
    tier: gold
    quota: 1MiB
    users:
      - {name: a, password_sha256: ` + hA + `}
  - id: b
    tier: gold
    quota: 1MiB
    users:
      - {name: b, password: a-secret}
`,
			err: "test.yaml:12: tenants[1].users[0].password: same password as tenants[0].users[0] (line 7); AUTH <password> must identify exactly one user",
		},
		{
			name:  "shared password within a tenant",
			input: "maxmemory: 1GiB\ntenants:\n  - id: a\n    tier: gold\n    quota: 1\n    users:\n      - {name: a, password: same}\n      - {name: b, password: same}\n",
			err:   "test.yaml:8: tenants[0].users[1].password: same password as tenants[0].users[0] (line 7)",
		},
		{name: "both password forms", input: "maxmemory: 1GiB\ntenants:\n  - id: a\n    tier: gold\n    quota: 1\n    users:\n      - name: a\n        password: x\n        password_sha256: " + hA + "\n", err: "test.yaml:9: tenants[0].users[0].password_sha256: set only one of password and password_sha256"},
		{name: "neither password form", input: "maxmemory: 1GiB\ntenants:\n  - id: a\n    tier: gold\n    quota: 1\n    users:\n      - {name: a, role: admin}\n", err: "test.yaml:7: tenants[0].users[0].password_sha256: required"},
		{name: "sha256 too short", input: "maxmemory: 1GiB\ntenants:\n  - {id: a, tier: gold, quota: 1, users: [{name: a, password_sha256: " + hA[:63] + "}]}\n", err: "test.yaml:3: tenants[0].users[0].password_sha256: want 64 hex digits"},
		{name: "sha256 not hex", input: "maxmemory: 1GiB\ntenants:\n  - {id: a, tier: gold, quota: 1, users: [{name: a, password_sha256: " + strings.Repeat("z", 64) + "}]}\n", err: "tenants[0].users[0].password_sha256: want 64 hex digits"},
		{name: "sha256 of empty password", input: "maxmemory: 1GiB\ntenants:\n  - {id: a, tier: gold, quota: 1, users: [{name: a, password_sha256: " + hexOf("") + "}]}\n", err: "tenants[0].users[0].password_sha256: is the SHA-256 of the empty password"},
		{name: "empty plaintext password", input: "maxmemory: 1GiB\ntenants:\n  - {id: a, tier: gold, quota: 1, users: [{name: a, password: ''}]}\n", err: "test.yaml:3: tenants[0].users[0].password: must not be empty"},
		{name: "invalid role", input: "maxmemory: 1GiB\ntenants:\n  - {id: a, tier: gold, quota: 1, users: [{name: a, password: x, role: root}]}\n", err: `test.yaml:3: tenants[0].users[0].role: invalid role "root": want readonly, readwrite or admin`},
		{name: "third user error path", input: "maxmemory: 1GiB\ntenants:\n  - {id: a, tier: gold, quota: 1, users: [{name: a, password: x}]}\n  - {id: b, tier: gold, quota: 1, users: [{name: b, password: y}]}\n  - id: c\n    tier: gold\n    quota: 1\n    users:\n      - {name: c, password_sha256: nope}\n", err: "test.yaml:9: tenants[2].users[0].password_sha256: want 64 hex digits"},

		// --- operators ---
		{
			name: "operators: hashed and plaintext, with and without tokens",
			input: withA(`maxmemory: 1GiB
operators:
  - name: ops
    password_sha256: ` + hO + `
    token_sha256: ` + strings.ToUpper(hT) + `
  - {name: oncall@example.com, password: dev-ops, token: dev-token}
  - {name: auditor, password: audit-secret}
`),
			warnings: []string{
				"test.yaml:6: operators[1].password is plaintext; use password_sha256",
				"test.yaml:6: operators[1].token is plaintext; use token_sha256",
				"test.yaml:7: operators[2].password is plaintext; use password_sha256",
			},
			check: func(t *testing.T, c *Config) {
				want := []Operator{
					{Name: "ops", PasswordSHA256: HashPassword("o-secret"), TokenSHA256: HashPassword("o-token"), HasToken: true},
					{Name: "oncall@example.com", PasswordSHA256: HashPassword("dev-ops"), Plaintext: true, TokenSHA256: HashPassword("dev-token"), HasToken: true},
					{Name: "auditor", PasswordSHA256: HashPassword("audit-secret"), Plaintext: true},
				}
				if !reflect.DeepEqual(c.Operators, want) {
					t.Errorf("Operators = %+v\nwant %+v", c.Operators, want)
				}
			},
		},
		{
			name:  "operators listed before tenants",
			input: "maxmemory: 1GiB\noperators: [{name: ops, password_sha256: " + hO + "}]\n" + strings.Replace(tenantA, "HA", hA, 1),
			check: func(t *testing.T, c *Config) {
				if len(c.Operators) != 1 || c.Operators[0].Name != "ops" || c.Operators[0].HasToken {
					t.Errorf("Operators = %+v", c.Operators)
				}
			},
		},
		{
			name:  "null operators is none",
			input: withA("maxmemory: 1GiB\noperators:\n"),
			check: func(t *testing.T, c *Config) {
				if c.Operators != nil {
					t.Errorf("Operators = %+v", c.Operators)
				}
			},
		},
		{
			name:     "operator token with metrics_listen off warns",
			input:    withA("maxmemory: 1GiB\nmetrics_listen: off\noperators:\n  - {name: o1, password_sha256: " + hO + "}\n  - {name: o2, password: p2, token_sha256: " + hT + "}\n  - {name: o3, password: p3, token: t3}\n"),
			warnings: []string{"operators[1].password is plaintext", "operators[2].password is plaintext", "operators[2].token is plaintext", "test.yaml:5: operator tokens have no effect with metrics_listen off"},
		},
		{name: "operators not a list", input: withA("maxmemory: 1GiB\noperators: {name: ops}\n"), err: "test.yaml:2: operators: expected a list, got a mapping"},
		{name: "operator not a mapping", input: withA("maxmemory: 1GiB\noperators: [ops]\n"), err: "test.yaml:2: operators[0]: expected a mapping, got a single value"},
		{name: "operator unknown key role", input: withA("maxmemory: 1GiB\noperators:\n  - {name: ops, password: x, role: admin}\n"), err: "test.yaml:3: operators[0].role: unknown key"},
		{name: "operator duplicate key", input: withA("maxmemory: 1GiB\noperators:\n  - name: ops\n    password: x\n    name: ops2\n"), err: "test.yaml:5: operators[0].name: duplicate key (first at line 3)"},
		{name: "operator name required", input: withA("maxmemory: 1GiB\noperators:\n  - password: x\n"), err: "test.yaml:3: operators[0].name: required"},
		{name: "operator named default", input: withA("maxmemory: 1GiB\noperators:\n  - {name: Default, password: x}\n"), err: `test.yaml:3: operators[0].name: operator name "Default" is reserved: AUTH default <password> means password-only authentication`},
		{name: "invalid operator name", input: withA("maxmemory: 1GiB\noperators:\n  - {name: 'ops team', password: x}\n"), err: `test.yaml:3: operators[0].name: invalid operator name "ops team": want 1-64 of A-Z a-z 0-9 _ - . @`},
		{
			name:  "duplicate operator name",
			input: withA("maxmemory: 1GiB\noperators:\n  - {name: ops, password: x}\n  - {name: ops, password: y}\n"),
			err:   `test.yaml:4: operators[1].name: name "ops" is already used by operators[0].name (line 3); operator and user names must all differ, so that AUTH <name> <password> names one identity`,
		},
		{
			name:  "operator name equals a user name (operators after tenants)",
			input: "maxmemory: 1GiB\n" + strings.Replace(tenantA, "HA", hA, 1) + "operators:\n  - {name: a, password_sha256: " + hO + "}\n",
			err:   `test.yaml:9: operators[0].name: name "a" is already used by tenants[0].users[0].name (line 7); operator and user names must all differ`,
		},
		{
			name:  "operator name equals a user name (operators before tenants)",
			input: "maxmemory: 1GiB\noperators:\n  - {name: a, password_sha256: " + hO + "}\n" + strings.Replace(tenantA, "HA", hA, 1),
			err:   `test.yaml:3: operators[0].name: name "a" is already used by tenants[0].users[0].name (line 9)`,
		},
		{name: "operator password required", input: withA("maxmemory: 1GiB\noperators:\n  - {name: ops, token_sha256: " + hT + "}\n"), err: "test.yaml:3: operators[0].password_sha256: required (or password, for development only)"},
		{name: "operator both password forms", input: withA("maxmemory: 1GiB\noperators:\n  - name: ops\n    password: x\n    password_sha256: " + hO + "\n"), err: "test.yaml:5: operators[0].password_sha256: set only one of password and password_sha256"},
		{name: "operator empty password", input: withA("maxmemory: 1GiB\noperators:\n  - {name: ops, password: ''}\n"), err: "test.yaml:3: operators[0].password: must not be empty"},
		{name: "operator password_sha256 not hex", input: withA("maxmemory: 1GiB\noperators:\n  - {name: ops, password_sha256: " + hO[:62] + "zz}\n"), err: "test.yaml:3: operators[0].password_sha256: want 64 hex digits (the SHA-256 of the password"},
		{name: "operator password_sha256 of empty", input: withA("maxmemory: 1GiB\noperators:\n  - {name: ops, password_sha256: " + hexOf("") + "}\n"), err: "test.yaml:3: operators[0].password_sha256: is the SHA-256 of the empty password"},
		{
			name:  "operator password equals a user password (plaintext vs hash)",
			input: withA("maxmemory: 1GiB\noperators:\n  - name: ops\n    password: a-secret\n"),
			err:   "test.yaml:4: operators[0].password: same password as tenants[0].users[0] (line 10); AUTH <password> must identify exactly one user or operator",
		},
		{
			name:  "two operators share a password",
			input: withA("maxmemory: 1GiB\noperators:\n  - {name: o1, password_sha256: " + hO + "}\n  - {name: o2, password: o-secret}\n"),
			err:   "test.yaml:4: operators[1].password: same password as operators[0] (line 3)",
		},
		{name: "operator both token forms", input: withA("maxmemory: 1GiB\noperators:\n  - name: ops\n    password: x\n    token: t\n    token_sha256: " + hT + "\n"), err: "test.yaml:6: operators[0].token_sha256: set only one of token and token_sha256"},
		{name: "operator empty token", input: withA("maxmemory: 1GiB\noperators:\n  - {name: ops, password: x, token: \"\"}\n"), err: "test.yaml:3: operators[0].token: must not be empty"},
		{name: "operator token_sha256 too short", input: withA("maxmemory: 1GiB\noperators:\n  - {name: ops, password: x, token_sha256: " + hT[:10] + "}\n"), err: "test.yaml:3: operators[0].token_sha256: want 64 hex digits (the SHA-256 of the token"},
		{name: "operator token_sha256 of empty", input: withA("maxmemory: 1GiB\noperators:\n  - {name: ops, password: x, token_sha256: " + hexOf("") + "}\n"), err: "test.yaml:3: operators[0].token_sha256: is the SHA-256 of the empty token"},
		{
			name:  "two operators share a token (hash vs plaintext)",
			input: withA("maxmemory: 1GiB\noperators:\n  - {name: o1, password: p1, token_sha256: " + hT + "}\n  - name: o2\n    password: p2\n    token: o-token\n"),
			err:   "test.yaml:6: operators[1].token: same token as operators[0] (line 3); a bearer token must identify exactly one operator",
		},
		{
			name:  "operator errors come after tenant errors",
			input: "maxmemory: 1GiB\noperators: [{name: '', password: x}]\ntenants: [{id: a, tier: nope}]\n",
			err:   `test.yaml:3: tenants[0].tier: unknown tier "nope"`,
		},

		// --- audit log and hot tenants ---
		{
			name:  "audit_log stderr, hot tenant settings",
			input: withA("maxmemory: 1GiB\naudit_log: stderr\nhot_tenant_share: 0.5\nhot_tenant_interval: 1m30s\n"),
			check: func(t *testing.T, c *Config) {
				if c.AuditLog != "stderr" || c.HotTenantShare != 0.5 || c.HotTenantInterval != 90*time.Second {
					t.Errorf("AuditLog %q HotTenantShare %v HotTenantInterval %v", c.AuditLog, c.HotTenantShare, c.HotTenantInterval)
				}
			},
		},
		{
			name:  "hot_tenant_share 1 and a sub-second interval",
			input: withA("maxmemory: 1GiB\nhot_tenant_share: 1\nhot_tenant_interval: 250ms\n"),
			check: func(t *testing.T, c *Config) {
				if c.HotTenantShare != 1 || c.HotTenantInterval != 250*time.Millisecond {
					t.Errorf("HotTenantShare %v HotTenantInterval %v", c.HotTenantShare, c.HotTenantInterval)
				}
			},
		},
		{
			name:  "null hot_tenant keys keep defaults",
			input: withA("maxmemory: 1GiB\nhot_tenant_share:\nhot_tenant_interval: ~\naudit_log:\n"),
			check: func(t *testing.T, c *Config) {
				if c.AuditLog != "" || c.HotTenantShare != DefaultHotTenantShare || c.HotTenantInterval != DefaultHotTenantInterval {
					t.Errorf("AuditLog %q HotTenantShare %v HotTenantInterval %v", c.AuditLog, c.HotTenantShare, c.HotTenantInterval)
				}
			},
		},
		// --- snapshots ---
		{
			name:  "snapshot path and interval",
			input: withA("maxmemory: 1GiB\nsnapshot_path: /var/lib/tcached/tcached.snap\nsnapshot_interval: 30s\n"),
			check: func(t *testing.T, c *Config) {
				if c.SnapshotPath != "/var/lib/tcached/tcached.snap" || c.SnapshotInterval != 30*time.Second {
					t.Errorf("SnapshotPath %q SnapshotInterval %v", c.SnapshotPath, c.SnapshotInterval)
				}
			},
		},
		{
			name:  "snapshot interval 0s: only on shutdown",
			input: withA("maxmemory: 1GiB\nsnapshot_path: x.snap\nsnapshot_interval: 0s\n"),
			check: func(t *testing.T, c *Config) {
				if c.SnapshotPath != "x.snap" || c.SnapshotInterval != 0 {
					t.Errorf("SnapshotPath %q SnapshotInterval %v", c.SnapshotPath, c.SnapshotInterval)
				}
			},
		},
		{name: "snapshot_path empty", input: withA("maxmemory: 1GiB\nsnapshot_path: ''\n"), err: `test.yaml:2: snapshot_path: must not be empty`},
		{name: "hot_tenant_share zero", input: withA("maxmemory: 1GiB\nhot_tenant_share: 0\n"), err: `test.yaml:2: hot_tenant_share: invalid hot_tenant_share "0": want a fraction greater than 0 and at most 1, e.g. 0.3 for 30%`},
		{name: "hot_tenant_share above 1", input: withA("maxmemory: 1GiB\nhot_tenant_share: 1.5\n"), err: `test.yaml:2: hot_tenant_share: invalid hot_tenant_share "1.5"`},
		{name: "hot_tenant_share percent", input: withA("maxmemory: 1GiB\nhot_tenant_share: 30%\n"), err: `test.yaml:2: hot_tenant_share: invalid hot_tenant_share "30%"`},
		{name: "hot_tenant_share negative", input: withA("maxmemory: 1GiB\nhot_tenant_share: -0.3\n"), err: `invalid hot_tenant_share "-0.3"`},
		{name: "hot_tenant_share exponent", input: withA("maxmemory: 1GiB\nhot_tenant_share: 3e-1\n"), err: `invalid hot_tenant_share "3e-1"`},
		{name: "hot_tenant_share NaN", input: withA("maxmemory: 1GiB\nhot_tenant_share: .nan\n"), err: `invalid hot_tenant_share ".nan"`},
		{name: "hot_tenant_share as list", input: withA("maxmemory: 1GiB\nhot_tenant_share: [0.3]\n"), err: "test.yaml:2: hot_tenant_share: expected a single value, got a list"},
		{name: "hot_tenant_interval zero", input: withA("maxmemory: 1GiB\nhot_tenant_interval: 0\n"), err: "test.yaml:2: hot_tenant_interval: must be > 0"},
		{name: "hot_tenant_interval bare seconds", input: withA("maxmemory: 1GiB\nhot_tenant_interval: 10\n"), err: `test.yaml:2: hot_tenant_interval: invalid duration "10": use Go syntax`},
		{name: "hot_tenant_interval negative", input: withA("maxmemory: 1GiB\nhot_tenant_interval: -10s\n"), err: `test.yaml:2: hot_tenant_interval: invalid duration "-10s": must be >= 0`},
		{name: "audit_log yes", input: withA("maxmemory: 1GiB\naudit_log: yes\n"), err: `test.yaml:2: audit_log: invalid audit_log "yes": want off, stderr, stdout or a file path (write ./yes for a file of that name)`},
		{name: "audit_log false", input: withA("maxmemory: 1GiB\naudit_log: false\n"), err: `test.yaml:2: audit_log: invalid audit_log "false"`},
		{name: "audit_log control character", input: withA("maxmemory: 1GiB\naudit_log: \"/var/log/a\\nb\"\n"), err: `test.yaml:2: audit_log: invalid audit_log "/var/log/a\nb": a file path must not contain control characters`},
		{name: "audit_log as mapping", input: withA("maxmemory: 1GiB\naudit_log: {file: x}\n"), err: "test.yaml:2: audit_log: expected a single value, got a mapping"},
		{name: "audit_log duplicate", input: withA("maxmemory: 1GiB\naudit_log: off\naudit_log: stderr\n"), err: "test.yaml:3: audit_log: duplicate key (first at line 2)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, warnings, err := Parse([]byte(tc.input), "test.yaml")
			if tc.err != "" {
				if err == nil {
					t.Fatalf("Parse succeeded, want error containing %q\ninput:\n%s", tc.err, tc.input)
				}
				if !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %q\ndoes not contain %q", err, tc.err)
				}
				var ce *Error
				if !errors.As(err, &ce) {
					t.Errorf("error %T is not *Error", err)
				}
				if c != nil || warnings != nil {
					t.Errorf("failed Parse returned config or warnings")
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v\ninput:\n%s", err, tc.input)
			}
			if len(warnings) != len(tc.warnings) {
				t.Fatalf("warnings = %q, want %d matching %q", warnings, len(tc.warnings), tc.warnings)
			}
			for i, w := range tc.warnings {
				if !strings.Contains(warnings[i], w) {
					t.Errorf("warning[%d] = %q, want it to contain %q", i, warnings[i], w)
				}
			}
			checkInvariants(t, c)
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

// bomb builds an alias amplification: one tenant with 20 users, then
// that tenant aliased 2000 times. Expanding it would decode 40000 user
// mappings from about 10KB of input; the decoder must refuse instead.
func bomb() string {
	var b strings.Builder
	b.WriteString("maxmemory: 1GiB\ntenants:\n  - &t {id: a, tier: gold, quota: 1, users: [")
	for i := 0; i < 20; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("{name: u, password: p}")
	}
	b.WriteString("]}\n")
	for i := 0; i < 2000; i++ {
		b.WriteString("  - *t\n")
	}
	return b.String()
}

// checkInvariants asserts what every successful Parse guarantees.
func checkInvariants(t *testing.T, c *Config) {
	t.Helper()
	if c.MaxMemory <= 0 || len(c.Tenants) == 0 || c.Listen == "" && c.TLSListen == "" {
		t.Fatalf("basic invariants violated: %+v", c)
	}
	if c.TLSListen != "" && (c.TLSCertFile == "" || c.TLSKeyFile == "") ||
		c.TLSListen == "" && (c.TLSCertFile != "" || c.TLSKeyFile != "" || c.TLSCAFile != "") {
		t.Errorf("TLS fields inconsistent: listen %q cert %q key %q ca %q", c.TLSListen, c.TLSCertFile, c.TLSKeyFile, c.TLSCAFile)
	}
	l := c.Limits
	if l.MaxClients < 1 || l.Timeout < 0 || l.AuthTimeout < 0 || l.WriteTimeout <= 0 ||
		l.ProtoMaxBulkLen < 1<<10 || l.ClientQueryBufferLimit < 1<<10 || l.ClientOutputBufferLimit < 0 ||
		l.PreAuthMaxArgs < 1 || l.PreAuthMaxBulkLen < 1 || l.PreAuthQueryBufferLimit < 1 || l.PreAuthOutputBufferLimit < 1 ||
		l.MaxInlineLen < 1 || l.AuthMaxFailures < 0 || l.AuthLockout <= 0 || l.AuthLockoutMax < l.AuthLockout {
		t.Errorf("limits out of range: %+v", l)
	}
	if l.PreAuthMaxBulkLen > l.ProtoMaxBulkLen || l.PreAuthQueryBufferLimit > l.ClientQueryBufferLimit ||
		l.ClientOutputBufferLimit != 0 && l.PreAuthOutputBufferLimit > l.ClientOutputBufferLimit {
		t.Errorf("a preauth limit is looser than its authenticated counterpart: %+v", l)
	}
	for name, tr := range c.Tiers {
		if tr.MaxConcurrent < 0 || tr.MaxConnections < 0 || tr.Priority < 0 || !validAdmission(tr) {
			t.Errorf("tier %q out of range: %+v", name, tr)
		}
	}
	if c.MaxInFlight < 0 {
		t.Errorf("MaxInFlight = %d", c.MaxInFlight)
	}
	if c.DefaultRole < RoleReadOnly || c.DefaultRole > RoleAdmin {
		t.Errorf("DefaultRole = %v", c.DefaultRole)
	}
	var sum, clients int64
	ids := map[string]bool{}
	names := map[string]bool{}
	digests := map[[32]byte]bool{}
	for _, tn := range c.Tenants {
		if tn.Quota <= 0 {
			t.Errorf("tenant %q quota %d", tn.ID, tn.Quota)
		}
		sum += tn.Quota
		if tn.ClientMemory <= 0 || tn.Tier.ClientMemory != 0 && tn.ClientMemory != tn.Tier.ClientMemory ||
			tn.Tier.ClientMemory == 0 && tn.ClientMemory != DefaultClientMemory(tn.Quota) {
			t.Errorf("tenant %q client_memory %d (tier's %d, quota %d)", tn.ID, tn.ClientMemory, tn.Tier.ClientMemory, tn.Quota)
		}
		clients += tn.ClientMemory
		if ids[tn.ID] || !validID(tn.ID) {
			t.Errorf("tenant id %q duplicate or invalid", tn.ID)
		}
		ids[tn.ID] = true
		if tn.Tier.MaxConcurrent < 0 || tn.Tier.MaxConnections < 0 || !validAdmission(tn.Tier) {
			t.Errorf("tenant %q tier out of range: %+v", tn.ID, tn.Tier)
		}
		if _, ok := c.Tiers[tn.TierName]; !ok || tn.Tier.Name != tn.TierName {
			t.Errorf("tenant %q tier %q / %q", tn.ID, tn.TierName, tn.Tier.Name)
		}
		if len(tn.Users) == 0 && tn.ID != c.DefaultTenant {
			t.Errorf("tenant %q has no users", tn.ID)
		}
		for _, u := range tn.Users {
			if names[u.Name] || strings.EqualFold(u.Name, "default") || u.Name == "" {
				t.Errorf("user name %q duplicate or reserved", u.Name)
			}
			names[u.Name] = true
			if digests[u.PasswordSHA256] {
				t.Errorf("user %q shares a password", u.Name)
			}
			digests[u.PasswordSHA256] = true
			if u.Role < RoleReadOnly || u.Role > RoleAdmin {
				t.Errorf("user %q role %v", u.Name, u.Role)
			}
		}
	}
	tokens := map[[32]byte]bool{}
	for _, o := range c.Operators {
		if names[o.Name] || strings.EqualFold(o.Name, "default") || !validUserName(o.Name) {
			t.Errorf("operator name %q duplicate, reserved or invalid", o.Name)
		}
		names[o.Name] = true
		if digests[o.PasswordSHA256] || o.PasswordSHA256 == emptyPasswordSHA256 {
			t.Errorf("operator %q shares a password or has the empty one", o.Name)
		}
		digests[o.PasswordSHA256] = true
		switch {
		case !o.HasToken && o.TokenSHA256 != [32]byte{}:
			t.Errorf("operator %q has a token digest without HasToken", o.Name)
		case o.HasToken && (tokens[o.TokenSHA256] || o.TokenSHA256 == emptyPasswordSHA256):
			t.Errorf("operator %q shares a token or has the empty one", o.Name)
		}
		tokens[o.TokenSHA256] = true
	}
	switch strings.ToLower(c.AuditLog) {
	case "off", "yes", "no", "true", "false", "on":
		t.Errorf("AuditLog = %q", c.AuditLog)
	}
	if !(c.HotTenantShare > 0 && c.HotTenantShare <= 1) || c.HotTenantInterval <= 0 {
		t.Errorf("HotTenantShare %v HotTenantInterval %v", c.HotTenantShare, c.HotTenantInterval)
	}
	if sum > c.MaxMemory {
		t.Errorf("quota sum %d > maxmemory %d", sum, c.MaxMemory)
	}
	// maxmemory is a process guarantee (doc.go, Memory).
	if c.MaxMemoryClients < clients+l.PreAuthQueryBufferLimit {
		t.Errorf("maxmemory_clients %d does not hold the budgets %d and one pre-AUTH client", c.MaxMemoryClients, clients)
	}
	if sum+c.MaxMemoryClients+ServerOverhead(l.MaxClients) > c.MaxMemory {
		t.Errorf("quotas %d + client memory %d + overhead %d > maxmemory %d", sum, c.MaxMemoryClients, ServerOverhead(l.MaxClients), c.MaxMemory)
	}
	if b := c.Backing; b != nil {
		if checkKeyPrefix(b.KeyPrefix) != nil || b.L1MaxTTL <= 0 || b.L1MaxTTL > MaxL1MaxTTL || b.ScanTimeout <= 0 ||
			b.BreakerFailures < 1 || b.BreakerCooloff <= 0 || b.ReconcileInterval < 0 {
			t.Errorf("backing out of range: %+v", b)
		}
		cl := b.Cluster
		addrs := map[string]bool{}
		for _, a := range cl.Addrs {
			key, err := checkNodeAddr(a)
			if err != nil || addrs[key] {
				t.Errorf("backing address %q invalid or duplicate", a)
			}
			addrs[key] = true
		}
		if len(cl.Addrs) == 0 || cl.Username != "" && cl.Password == "" {
			t.Errorf("backing cluster = %+v", cl)
		}
		if tl := cl.TLS; tl != nil && (tl.CertFile == "") != (tl.KeyFile == "") {
			t.Errorf("backing TLS cert_file %q without key_file %q or the reverse", tl.CertFile, tl.KeyFile)
		}
	}
	if c.DefaultTenant != "" && !ids[c.DefaultTenant] {
		t.Errorf("default tenant %q missing", c.DefaultTenant)
	}
}

// validAdmission reports whether a tier's admission fields are in range.
func validAdmission(tr tiers.Tier) bool {
	return tr.RateLimit >= 0 && tr.RateLimit <= MaxRateLimit && tr.Burst >= 0 && tr.MaxArgBytes >= 0 && tr.Timeout >= 0 && tr.L2Quota >= 0
}

func TestIsDecimal(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "5000": true, "0.5": true, "150000.25": true, "007": true,
		"": false, ".": false, ".5": false, "5.": false, "-1": false, "+1": false, "1e5": false,
		"0x10": false, "1_000": false, "inf": false, "NaN": false, "1.2.3": false, " 1": false,
	} {
		if got := isDecimal(s); got != want {
			t.Errorf("isDecimal(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestDefaultLimits pins the documented defaults, which the table above
// compares against DefaultLimits().
func TestDefaultLimits(t *testing.T) {
	want := Limits{
		MaxClients:               10000,
		Timeout:                  0,
		AuthTimeout:              10 * time.Second,
		WriteTimeout:             30 * time.Second,
		ProtoMaxBulkLen:          512 << 20,
		ClientQueryBufferLimit:   1 << 30,
		ClientOutputBufferLimit:  1 << 30,
		PreAuthMaxArgs:           10,
		PreAuthMaxBulkLen:        16 << 10,
		PreAuthQueryBufferLimit:  1 << 20,
		PreAuthOutputBufferLimit: 64 << 10,
		MaxInlineLen:             64 << 10,
		AuthMaxFailures:          5,
		AuthLockout:              time.Second,
		AuthLockoutMax:           time.Minute,
	}
	if got := DefaultLimits(); got != want {
		t.Errorf("DefaultLimits() = %+v\nwant %+v", got, want)
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{Source: "tcached.yaml", Line: 12, Field: "tenants[1].quota", Msg: `invalid size "12XB"`}, `tcached.yaml:12: tenants[1].quota: invalid size "12XB"`},
		{Error{Source: "tcached.yaml", Field: "maxmemory", Msg: "required"}, "tcached.yaml: maxmemory: required"},
		{Error{Source: "tcached.yaml", Line: 3, Msg: "invalid YAML: x"}, "tcached.yaml:3: invalid YAML: x"},
		{Error{Line: 3, Field: "listen", Msg: "bad"}, "line 3: listen: bad"},
		{Error{Field: "listen", Msg: "bad"}, "listen: bad"},
	}
	for _, tc := range tests {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

func TestStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{RoleReadOnly.String(), "readonly"},
		{RoleReadWrite.String(), "readwrite"},
		{RoleAdmin.String(), "admin"},
		{Role(0).String(), "Role(0)"},
		{EvictLRU.String(), "lru"},
		{NoEviction.String(), "noeviction"},
		{Eviction(9).String(), "Eviction(9)"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestConfigTenant(t *testing.T) {
	c, _, err := Load("../tcached.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tn, ok := c.Tenant("catalog")
	if !ok || tn.ID != "catalog" || tn != &c.Tenants[1] {
		t.Errorf("Tenant(catalog) = %p %v, want %p", tn, ok, &c.Tenants[1])
	}
	for _, id := range []string{"", "nope", "Catalog", "ops"} {
		if tn, ok := c.Tenant(id); ok || tn != nil {
			t.Errorf("Tenant(%q) = %+v, %v; want nil, false", id, tn, ok)
		}
	}
}

func TestHashPassword(t *testing.T) {
	// printf %s pay-secret | sha256sum
	if got := hexOf("pay-secret"); got != "c82fa0e27bfed8298b45581b5bf39d50d0160d78b24200e2307f85c8d9306b4d" {
		t.Errorf("HashPassword(pay-secret) = %s", got)
	}
}

func TestParseDoesNotShareTiers(t *testing.T) {
	in := []byte(withA("maxmemory: 1GiB\ntiers:\n  gold: {priority: 9}\n"))
	c1, _, err := Parse(in, "x")
	if err != nil {
		t.Fatal(err)
	}
	c1.Tiers["gold"] = tiers.Tier{}
	if tiers.Builtin()["gold"].Priority != 2 {
		t.Fatal("Parse mutated the built-in tiers")
	}
}

// TestTestdata parses every file in testdata: files whose first line is
// "# error: <substring>" must fail with it, all others must succeed.
func TestTestdata(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(data), "\n")
			wantErr, isErr := strings.CutPrefix(first, "# error: ")
			c, _, err := Load(f)
			switch {
			case isErr && err == nil:
				t.Fatalf("Load succeeded, want error containing %q", wantErr)
			case isErr && !strings.Contains(err.Error(), wantErr):
				t.Fatalf("error %q does not contain %q", err, wantErr)
			case !isErr && err != nil:
				t.Fatalf("Load: %v", err)
			case !isErr:
				checkInvariants(t, c)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, _, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load(missing) = %v, want os.ErrNotExist", err)
	}
}

// TestExampleFile keeps the documented example at the repository root valid
// and its documented development passwords true.
func TestExampleFile(t *testing.T) {
	c, warnings, err := Load("../tcached.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("example has warnings: %q", warnings)
	}
	checkInvariants(t, c)
	if c.Listen != "127.0.0.1:6380" || c.MetricsListen != "127.0.0.1:9380" || c.MaxMemory != 256<<20 || c.DefaultTenant != "" {
		t.Errorf("top level = %+v", c)
	}
	if c.AuditLog != "stderr" || c.HotTenantShare != DefaultHotTenantShare || c.HotTenantInterval != DefaultHotTenantInterval {
		t.Errorf("audit_log %q, hot_tenant_share %v, hot_tenant_interval %v", c.AuditLog, c.HotTenantShare, c.HotTenantInterval)
	}
	// dev password ops-secret, dev token ops-token.
	wantOps := []Operator{{Name: "ops", PasswordSHA256: HashPassword("ops-secret"), TokenSHA256: HashPassword("ops-token"), HasToken: true}}
	if !reflect.DeepEqual(c.Operators, wantOps) {
		t.Errorf("operators = %+v, want %+v", c.Operators, wantOps)
	}
	type user struct {
		name, password string
		role           Role
	}
	want := []struct {
		id, tier string
		quota    int64
		users    []user
	}{
		{"payments", "platinum", 64 << 20, []user{{"pay-app", "pay-secret", RoleReadWrite}, {"pay-admin", "pay-admin-secret", RoleAdmin}}},
		{"catalog", "gold", 64 << 20, []user{{"cat-app", "cat-secret", RoleReadWrite}, {"cat-ro", "cat-ro-secret", RoleReadOnly}}},
		{"analytics", "silver", 32 << 20, []user{{"ana-app", "ana-secret", RoleAdmin}}},
	}
	if len(c.Tenants) != len(want) {
		t.Fatalf("%d tenants, want %d", len(c.Tenants), len(want))
	}
	for i, w := range want {
		tn := c.Tenants[i]
		if tn.ID != w.id || tn.TierName != w.tier || tn.Tier != tiers.Builtin()[w.tier] || tn.Quota != w.quota || tn.Eviction != EvictLRU {
			t.Errorf("tenant %d = %+v, want %s/%s/%d", i, tn, w.id, w.tier, w.quota)
		}
		if len(tn.Users) != len(w.users) {
			t.Fatalf("tenant %s: %d users, want %d", w.id, len(tn.Users), len(w.users))
		}
		for j, wu := range w.users {
			u := tn.Users[j]
			if u.Name != wu.name || u.Role != wu.role || u.Plaintext || u.PasswordSHA256 != HashPassword(wu.password) {
				t.Errorf("tenant %s user %d = %+v, want %s (password %q) role %v", w.id, j, u, wu.name, wu.password, wu.role)
			}
		}
	}
}

// backingPEMs are the files the backing TLS tests read: a CA certificate,
// a client certificate with its key, a key of another pair, a file with no
// PEM in it, one just over the size limit, and a path that does not exist.
type backingPEMs struct{ ca, cert, key, otherKey, garbage, huge, missing string }

func writeBackingPEMs(t *testing.T) backingPEMs {
	t.Helper()
	dir := t.TempDir()
	p := backingPEMs{
		ca:       filepath.Join(dir, "ca.pem"),
		cert:     filepath.Join(dir, "client.pem"),
		key:      filepath.Join(dir, "client.key"),
		otherKey: filepath.Join(dir, "other.key"),
		garbage:  filepath.Join(dir, "garbage.txt"),
		huge:     filepath.Join(dir, "huge.pem"),
		missing:  filepath.Join(dir, "missing.pem"),
	}
	write := func(path, typ string, der []byte) {
		t.Helper()
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	newKey := func(path string) *ecdsa.PrivateKey {
		t.Helper()
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		if path != "" {
			write(path, "EC PRIVATE KEY", der)
		}
		return k
	}
	selfSigned := func(path, cn string, key *ecdsa.PrivateKey, isCA bool) {
		t.Helper()
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{CommonName: cn},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().Add(time.Hour),
			IsCA:                  isCA,
			BasicConstraintsValid: true,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		write(path, "CERTIFICATE", der)
	}
	selfSigned(p.ca, "test CA", newKey(""), true)
	selfSigned(p.cert, "tcached", newKey(p.key), false)
	newKey(p.otherKey)
	if err := os.WriteFile(p.garbage, []byte("not PEM\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.huge, make([]byte, 4<<20+1), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestParseBacking covers the backing section and l2_quota. Errors and
// warnings are compared whole: source, line, field path and message.
func TestParseBacking(t *testing.T) {
	pems := writeBackingPEMs(t)
	q := strconv.Quote
	// bk puts body after "maxmemory: 1GiB" and "backing:" (lines 1 and 2),
	// so its first line is line 3; tenant a follows.
	bk := func(body string) string { return withA("maxmemory: 1GiB\nbacking:\n" + body) }
	// cl adds a one-node redis_cluster (lines 3 and 4) before body (line 5).
	cl := func(body string) string { return bk("  redis_cluster:\n    addrs: [127.0.0.1:7000]\n" + body) }
	defaults := func(addrs ...string) *Backing {
		return &Backing{
			KeyPrefix:         "tcached:",
			L1MaxTTL:          10 * time.Second,
			ScanTimeout:       5 * time.Second,
			BreakerFailures:   5,
			BreakerCooloff:    time.Second,
			ReconcileInterval: 5 * time.Minute,
			Cluster:           RedisCluster{Addrs: addrs},
		}
	}
	withTLS := func(tls *BackingTLS) *Backing { b := defaults("127.0.0.1:7000"); b.Cluster.TLS = tls; return b }
	const pwWarn = "backing.redis_cluster.password is plaintext in the configuration file; keep the file readable only by tcached"
	const skipWarn = "backing.redis_cluster.tls.insecure_skip_verify accepts any certificate the cluster presents; use ca_file for a private CA"

	tests := []struct {
		name     string
		input    string
		want     *Backing // compared with c.Backing when err is ""
		err      string   // the whole error; "" = must succeed
		warnings []string // whole warnings, in order
	}{
		// --- valid ---
		{name: "no backing key: embedded store", input: withA("maxmemory: 1GiB\n")},
		{name: "null backing is no backing", input: withA("maxmemory: 1GiB\nbacking:\n")},
		{name: "null backing with tilde", input: withA("maxmemory: 1GiB\nbacking: ~\n")},
		{name: "defaults", input: cl(""), want: defaults("127.0.0.1:7000")},
		{
			name: "every field, tls mapping",
			input: bk(`  key_prefix: "l2/"
  l1_max_ttl: 1m30s
  scan_timeout: 250ms
  breaker_failures: 1
  breaker_cooloff: 2s
  reconcile_interval: 1h
  redis_cluster:
    addrs: ['[::1]:7000', redis-0.redis.svc:6379, 10.0.0.1:65535]
    username: tcached
    password: "s3cret word"
    tls:
      ca_file: ` + q(pems.ca) + `
      cert_file: ` + q(pems.cert) + `
      key_file: ` + q(pems.key) + `
      server_name: redis.internal
      insecure_skip_verify: false
`),
			want: &Backing{
				KeyPrefix:         "l2/",
				L1MaxTTL:          90 * time.Second,
				ScanTimeout:       250 * time.Millisecond,
				BreakerFailures:   1,
				BreakerCooloff:    2 * time.Second,
				ReconcileInterval: time.Hour,
				Cluster: RedisCluster{
					Addrs:    []string{"[::1]:7000", "redis-0.redis.svc:6379", "10.0.0.1:65535"},
					Username: "tcached",
					Password: "s3cret word",
					TLS:      &BackingTLS{CAFile: pems.ca, CertFile: pems.cert, KeyFile: pems.key, ServerName: "redis.internal"},
				},
			},
			warnings: []string{"test.yaml:12: " + pwWarn},
		},
		{name: "tls true: system roots", input: cl("    tls: true\n"), want: withTLS(&BackingTLS{})},
		{name: "tls yes", input: cl("    tls: yes\n"), want: withTLS(&BackingTLS{})},
		{name: "tls false: plaintext", input: cl("    tls: false\n"), want: withTLS(nil)},
		{name: "tls no", input: cl("    tls: no\n"), want: withTLS(nil)},
		{name: "tls null: plaintext", input: cl("    tls:\n"), want: withTLS(nil)},
		{name: "tls empty mapping: system roots", input: cl("    tls: {}\n"), want: withTLS(&BackingTLS{})},
		{name: "tls ca_file only", input: cl("    tls: {ca_file: " + q(pems.ca) + "}\n"), want: withTLS(&BackingTLS{CAFile: pems.ca})},
		{name: "tls client certificate with system roots", input: cl("    tls: {cert_file: " + q(pems.cert) + ", key_file: " + q(pems.key) + "}\n"), want: withTLS(&BackingTLS{CertFile: pems.cert, KeyFile: pems.key})},
		{
			name:     "tls insecure_skip_verify warns",
			input:    cl("    tls:\n      server_name: redis.internal\n      insecure_skip_verify: yes\n"),
			want:     withTLS(&BackingTLS{ServerName: "redis.internal", InsecureSkipVerify: true}),
			warnings: []string{"test.yaml:7: " + skipWarn},
		},
		{
			name:     "password without username",
			input:    cl("    password: x\n"),
			want:     func() *Backing { b := defaults("127.0.0.1:7000"); b.Cluster.Password = "x"; return b }(),
			warnings: []string{"test.yaml:5: " + pwWarn},
		},
		{
			name:  "reconcile_interval 0 disables; l1_max_ttl at its maximum",
			input: bk("  reconcile_interval: 0\n  l1_max_ttl: 24h\n  redis_cluster: {addrs: [a:1]}\n"),
			want:  func() *Backing { b := defaults("a:1"); b.ReconcileInterval, b.L1MaxTTL = 0, 24*time.Hour; return b }(),
		},
		{
			name:  "key_prefix of 64 bytes, non-ASCII, redis_cluster first",
			input: bk("  redis_cluster: {addrs: [a:1]}\n  key_prefix: " + strings.Repeat("é", 32) + "\n"),
			want:  func() *Backing { b := defaults("a:1"); b.KeyPrefix = strings.Repeat("é", 32); return b }(),
		},

		// --- shape ---
		{name: "backing as list", input: withA("maxmemory: 1GiB\nbacking: [a]\n"), err: "test.yaml:2: backing: expected a mapping, got a list"},
		{name: "backing as scalar", input: withA("maxmemory: 1GiB\nbacking: on\n"), err: "test.yaml:2: backing: expected a mapping, got a single value"},
		{name: "empty backing mapping", input: withA("maxmemory: 1GiB\nbacking: {}\n"), err: "test.yaml:2: backing.redis_cluster: required (a mapping with addrs: [host:port, ...])"},
		{name: "unknown backing key", input: cl("  key_prefx: x\n"), err: "test.yaml:5: backing.key_prefx: unknown key"},
		{name: "duplicate backing key", input: bk("  scan_timeout: 1s\n  scan_timeout: 2s\n"), err: "test.yaml:4: backing.scan_timeout: duplicate key (first at line 3)"},
		{name: "duplicate backing", input: cl("backing: {}\n"), err: "test.yaml:5: backing: duplicate key (first at line 2)"},
		{name: "key_prefix as mapping", input: bk("  key_prefix: {a: b}\n"), err: "test.yaml:3: backing.key_prefix: expected a single value, got a mapping"},
		{name: "redis_cluster missing", input: bk("  key_prefix: x\n"), err: "test.yaml:2: backing.redis_cluster: required (a mapping with addrs: [host:port, ...])"},
		{name: "redis_cluster null", input: bk("  redis_cluster:\n"), err: "test.yaml:2: backing.redis_cluster: required (a mapping with addrs: [host:port, ...])"},
		{name: "redis_cluster as list", input: bk("  redis_cluster: [a:1]\n"), err: "test.yaml:3: backing.redis_cluster: expected a mapping, got a list"},
		{name: "unknown redis_cluster key", input: cl("    nodes: [a:1]\n"), err: "test.yaml:5: backing.redis_cluster.nodes: unknown key"},
		{name: "redis_cluster key at the backing level", input: bk("  addrs: [a:1]\n"), err: "test.yaml:3: backing.addrs: unknown key"},
		{name: "addrs missing", input: bk("  redis_cluster:\n    username: u\n"), err: "test.yaml:3: backing.redis_cluster.addrs: required: at least one host:port of a cluster node"},
		{name: "addrs empty", input: bk("  redis_cluster:\n    addrs: []\n"), err: "test.yaml:4: backing.redis_cluster.addrs: required: at least one host:port of a cluster node"},
		{name: "addrs null", input: bk("  redis_cluster:\n    addrs:\n"), err: "test.yaml:4: backing.redis_cluster.addrs: required: at least one host:port of a cluster node"},
		{name: "addrs as scalar", input: bk("  redis_cluster:\n    addrs: a:1\n"), err: "test.yaml:4: backing.redis_cluster.addrs: expected a list, got a single value"},
		{name: "addr as mapping", input: bk("  redis_cluster:\n    addrs: [{a: 1}]\n"), err: "test.yaml:4: backing.redis_cluster.addrs[0]: expected a single value, got a mapping"},
		{name: "unknown tls key", input: cl("    tls: {ca: x}\n"), err: "test.yaml:5: backing.redis_cluster.tls.ca: unknown key"},
		{name: "tls as list", input: cl("    tls: [true]\n"), err: "test.yaml:5: backing.redis_cluster.tls: expected true, false or a mapping, got a list"},
		{name: "tls field as list", input: cl("    tls:\n      server_name: [a]\n"), err: "test.yaml:6: backing.redis_cluster.tls.server_name: expected a single value, got a list"},

		// --- values ---
		{name: "key_prefix empty", input: cl("  key_prefix: ''\n"), err: "test.yaml:5: backing.key_prefix: must not be empty"},
		{name: "key_prefix too long", input: cl("  key_prefix: " + strings.Repeat("p", 65) + "\n"), err: `test.yaml:5: backing.key_prefix: invalid key_prefix "` + strings.Repeat("p", 65) + `": longer than 64 bytes`},
		{name: "key_prefix too long in bytes", input: cl("  key_prefix: " + strings.Repeat("é", 33) + "\n"), err: `test.yaml:5: backing.key_prefix: invalid key_prefix "` + strings.Repeat("é", 33) + `": longer than 64 bytes`},
		{name: "key_prefix with a hash tag", input: cl("  key_prefix: '{t}:'\n"), err: `test.yaml:5: backing.key_prefix: invalid key_prefix "{t}:": must not contain '{' or '}' (a hash tag in the prefix would decide the slot of every key)`},
		{name: "key_prefix with a closing brace", input: cl("  key_prefix: 'a}'\n"), err: `test.yaml:5: backing.key_prefix: invalid key_prefix "a}": must not contain '{' or '}' (a hash tag in the prefix would decide the slot of every key)`},
		{name: "key_prefix with a space", input: cl("  key_prefix: 'tc ached:'\n"), err: `test.yaml:5: backing.key_prefix: invalid key_prefix "tc ached:": must not contain whitespace or control characters`},
		{name: "key_prefix with a tab", input: cl("  key_prefix: \"a\\tb\"\n"), err: `test.yaml:5: backing.key_prefix: invalid key_prefix "a\tb": must not contain whitespace or control characters`},
		{name: "key_prefix with NUL", input: cl("  key_prefix: \"a\\0b\"\n"), err: `test.yaml:5: backing.key_prefix: invalid key_prefix "a\x00b": must not contain whitespace or control characters`},
		{name: "l1_max_ttl zero", input: cl("  l1_max_ttl: 0\n"), err: "test.yaml:5: backing.l1_max_ttl: must be > 0"},
		{name: "l1_max_ttl negative", input: cl("  l1_max_ttl: -1s\n"), err: `test.yaml:5: backing.l1_max_ttl: invalid duration "-1s": must be >= 0`},
		{name: "l1_max_ttl bare seconds", input: cl("  l1_max_ttl: 10\n"), err: `test.yaml:5: backing.l1_max_ttl: invalid duration "10": use Go syntax such as 200ms, 30s, 1h30m`},
		{name: "l1_max_ttl above 24h", input: cl("  l1_max_ttl: 24h0m1s\n"), err: "test.yaml:5: backing.l1_max_ttl: 24h0m1s is above the maximum 24h0m0s"},
		{name: "scan_timeout zero", input: cl("  scan_timeout: 0s\n"), err: "test.yaml:5: backing.scan_timeout: must be > 0"},
		{name: "scan_timeout invalid", input: cl("  scan_timeout: soon\n"), err: `test.yaml:5: backing.scan_timeout: invalid duration "soon": use Go syntax such as 200ms, 30s, 1h30m`},
		{name: "breaker_failures zero", input: cl("  breaker_failures: 0\n"), err: `test.yaml:5: backing.breaker_failures: invalid breaker_failures "0": want an integer >= 1`},
		{name: "breaker_failures negative", input: cl("  breaker_failures: -3\n"), err: `test.yaml:5: backing.breaker_failures: invalid breaker_failures "-3": want an integer >= 1`},
		{name: "breaker_failures not an integer", input: cl("  breaker_failures: 2.5\n"), err: `test.yaml:5: backing.breaker_failures: invalid breaker_failures "2.5": want an integer >= 1`},
		{name: "breaker_cooloff zero", input: cl("  breaker_cooloff: 0\n"), err: "test.yaml:5: backing.breaker_cooloff: must be > 0"},
		{name: "breaker_cooloff bare seconds", input: cl("  breaker_cooloff: 1\n"), err: `test.yaml:5: backing.breaker_cooloff: invalid duration "1": use Go syntax such as 200ms, 30s, 1h30m`},
		{name: "reconcile_interval negative", input: cl("  reconcile_interval: -5m\n"), err: `test.yaml:5: backing.reconcile_interval: invalid duration "-5m": must be >= 0`},
		{name: "reconcile_interval bare seconds", input: cl("  reconcile_interval: 300\n"), err: `test.yaml:5: backing.reconcile_interval: invalid duration "300": use Go syntax such as 200ms, 30s, 1h30m`},
		{name: "addr null", input: bk("  redis_cluster:\n    addrs: [a:1, ~]\n"), err: "test.yaml:4: backing.redis_cluster.addrs[1]: empty address: want host:port"},
		{name: "addr without port", input: bk("  redis_cluster:\n    addrs:\n      - a:1\n      - 7000\n"), err: `test.yaml:6: backing.redis_cluster.addrs[1]: invalid address "7000": want host:port`},
		{name: "addr without host", input: bk("  redis_cluster:\n    addrs: [':7000']\n"), err: `test.yaml:4: backing.redis_cluster.addrs[0]: invalid address ":7000": want host:port`},
		{name: "addr port 0", input: bk("  redis_cluster:\n    addrs: [a:0]\n"), err: `test.yaml:4: backing.redis_cluster.addrs[0]: invalid address "a:0": port must be 1-65535`},
		{name: "addr port 65536", input: bk("  redis_cluster:\n    addrs: [a:65536]\n"), err: `test.yaml:4: backing.redis_cluster.addrs[0]: invalid address "a:65536": port must be 1-65535`},
		{name: "addr named port", input: bk("  redis_cluster:\n    addrs: [a:redis]\n"), err: `test.yaml:4: backing.redis_cluster.addrs[0]: invalid address "a:redis": port must be 1-65535`},
		{name: "addr empty string", input: bk("  redis_cluster:\n    addrs: ['']\n"), err: `test.yaml:4: backing.redis_cluster.addrs[0]: invalid address "": want host:port`},
		{
			name:  "duplicate addr",
			input: bk("  redis_cluster:\n    addrs:\n      - redis:7000\n      - redis:7001\n      - redis:7000\n"),
			err:   `test.yaml:7: backing.redis_cluster.addrs[2]: duplicate address "redis:7000" (first at line 5)`,
		},
		{
			name:  "duplicate addr up to host case and leading zeros",
			input: bk("  redis_cluster:\n    addrs: [Redis:7000, redis:07000]\n"),
			err:   `test.yaml:4: backing.redis_cluster.addrs[1]: duplicate address "redis:07000" (first at line 4)`,
		},
		{name: "username empty", input: cl("    username: ''\n    password: p\n"), err: `test.yaml:5: backing.redis_cluster.username: invalid username "": want a non-empty name without spaces or control characters`},
		{name: "username with a space", input: cl("    username: 'a b'\n    password: p\n"), err: `test.yaml:5: backing.redis_cluster.username: invalid username "a b": want a non-empty name without spaces or control characters`},
		{name: "username without password", input: cl("    username: tcached\n"), err: "test.yaml:5: backing.redis_cluster.username: requires password"},
		{name: "password empty", input: cl("    password: ''\n"), err: "test.yaml:5: backing.redis_cluster.password: must not be empty (omit it for a cluster without AUTH)"},
		{name: "tls not a boolean", input: cl("    tls: maybe\n"), err: `test.yaml:5: backing.redis_cluster.tls: invalid tls "maybe": want true, false or a mapping (ca_file, cert_file, key_file, server_name, insecure_skip_verify)`},
		{name: "tls on is not a boolean", input: cl("    tls: on\n"), err: `test.yaml:5: backing.redis_cluster.tls: invalid tls "on": want true, false or a mapping (ca_file, cert_file, key_file, server_name, insecure_skip_verify)`},
		{name: "tls ca_file empty", input: cl("    tls: {ca_file: ''}\n"), err: "test.yaml:5: backing.redis_cluster.tls.ca_file: must not be empty"},
		{name: "tls cert_file empty", input: cl("    tls:\n      cert_file: ''\n      key_file: k\n"), err: "test.yaml:6: backing.redis_cluster.tls.cert_file: must not be empty"},
		{name: "tls key_file empty", input: cl("    tls:\n      cert_file: c\n      key_file: \"\"\n"), err: "test.yaml:7: backing.redis_cluster.tls.key_file: must not be empty"},
		{name: "tls cert_file without key_file", input: cl("    tls:\n      cert_file: " + q(pems.cert) + "\n"), err: "test.yaml:6: backing.redis_cluster.tls.cert_file: requires key_file"},
		{name: "tls key_file without cert_file", input: cl("    tls:\n      key_file: " + q(pems.key) + "\n"), err: "test.yaml:6: backing.redis_cluster.tls.key_file: requires cert_file"},
		{name: "tls ca_file missing", input: cl("    tls: {ca_file: " + q(pems.missing) + "}\n"), err: "test.yaml:5: backing.redis_cluster.tls.ca_file: stat " + pems.missing + ": no such file or directory"},
		{name: "tls ca_file is a directory", input: cl("    tls: {ca_file: " + q(filepath.Dir(pems.ca)) + "}\n"), err: "test.yaml:5: backing.redis_cluster.tls.ca_file: " + q(filepath.Dir(pems.ca)) + " is not a regular file"},
		{name: "tls ca_file is a device", input: cl("    tls: {ca_file: /dev/zero}\n"), err: `test.yaml:5: backing.redis_cluster.tls.ca_file: "/dev/zero" is not a regular file`},
		{name: "tls ca_file too large", input: cl("    tls: {ca_file: " + q(pems.huge) + "}\n"), err: "test.yaml:5: backing.redis_cluster.tls.ca_file: " + q(pems.huge) + " is larger than 4MiB"},
		{name: "tls ca_file not PEM", input: cl("    tls: {ca_file: " + q(pems.garbage) + "}\n"), err: "test.yaml:5: backing.redis_cluster.tls.ca_file: no PEM certificate in " + q(pems.garbage)},
		{name: "tls ca_file is a key", input: cl("    tls: {ca_file: " + q(pems.key) + "}\n"), err: "test.yaml:5: backing.redis_cluster.tls.ca_file: no PEM certificate in " + q(pems.key)},
		{
			name:  "tls cert_file missing",
			input: cl("    tls:\n      cert_file: " + q(pems.missing) + "\n      key_file: " + q(pems.key) + "\n"),
			err:   "test.yaml:6: backing.redis_cluster.tls.cert_file: stat " + pems.missing + ": no such file or directory",
		},
		{
			name:  "tls cert_file is a key",
			input: cl("    tls:\n      cert_file: " + q(pems.key) + "\n      key_file: " + q(pems.key) + "\n"),
			err:   "test.yaml:6: backing.redis_cluster.tls.cert_file: no PEM certificate in " + q(pems.key),
		},
		{
			name:  "tls key_file missing",
			input: cl("    tls:\n      cert_file: " + q(pems.cert) + "\n      key_file: " + q(pems.missing) + "\n"),
			err:   "test.yaml:7: backing.redis_cluster.tls.key_file: stat " + pems.missing + ": no such file or directory",
		},
		{
			name:  "tls key_file of another certificate",
			input: cl("    tls:\n      cert_file: " + q(pems.cert) + "\n      key_file: " + q(pems.otherKey) + "\n"),
			err:   "test.yaml:7: backing.redis_cluster.tls.key_file: " + q(pems.otherKey) + " does not hold the private key of " + q(pems.cert) + ": tls: private key does not match public key",
		},
		{
			name:  "tls key_file not PEM",
			input: cl("    tls:\n      cert_file: " + q(pems.cert) + "\n      key_file: " + q(pems.garbage) + "\n"),
			err:   "test.yaml:7: backing.redis_cluster.tls.key_file: " + q(pems.garbage) + " does not hold the private key of " + q(pems.cert) + ": tls: failed to find any PEM data in key input",
		},
		{name: "tls server_name empty", input: cl("    tls: {server_name: ''}\n"), err: `test.yaml:5: backing.redis_cluster.tls.server_name: invalid server_name "": want a host name without spaces or control characters`},
		{name: "tls server_name with a space", input: cl("    tls: {server_name: 'redis internal'}\n"), err: `test.yaml:5: backing.redis_cluster.tls.server_name: invalid server_name "redis internal": want a host name without spaces or control characters`},
		{name: "tls insecure_skip_verify not a boolean", input: cl("    tls: {insecure_skip_verify: sometimes}\n"), err: `test.yaml:5: backing.redis_cluster.tls.insecure_skip_verify: invalid value "sometimes": want true or false (yes or no)`},
		{
			name:  "backing errors come before tenant errors",
			input: "maxmemory: 1GiB\ntenants: [{id: a, tier: nope}]\nbacking: {redis_cluster: {addrs: [x]}}\n",
			err:   `test.yaml:3: backing.redis_cluster.addrs[0]: invalid address "x": want host:port`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, warnings, err := Parse([]byte(tc.input), "test.yaml")
			if tc.err != "" {
				if err == nil {
					t.Fatalf("Parse succeeded, want error %q\ninput:\n%s", tc.err, tc.input)
				}
				if err.Error() != tc.err {
					t.Fatalf("error\n %q\nwant\n %q", err, tc.err)
				}
				var ce *Error
				if !errors.As(err, &ce) {
					t.Errorf("error %T is not *Error", err)
				}
				if c != nil || warnings != nil {
					t.Errorf("failed Parse returned config or warnings")
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v\ninput:\n%s", err, tc.input)
			}
			if !reflect.DeepEqual(warnings, tc.warnings) {
				t.Errorf("warnings = %q\nwant       %q", warnings, tc.warnings)
			}
			checkInvariants(t, c)
			if !reflect.DeepEqual(c.Backing, tc.want) {
				t.Errorf("Backing = %s\nwant      %s", fmtBacking(c.Backing), fmtBacking(tc.want))
			}
		})
	}
}

func fmtBacking(b *Backing) string {
	if b == nil {
		return "nil"
	}
	s := fmt.Sprintf("%+v", *b)
	if b.Cluster.TLS != nil {
		s += fmt.Sprintf(" TLS: %+v", *b.Cluster.TLS)
	}
	return s
}

// TestParseL2Quota covers l2_quota: the built-in tiers' defaults, tier and
// tenant overrides, and its errors (whole messages).
func TestParseL2Quota(t *testing.T) {
	t.Run("defaults and overrides", func(t *testing.T) {
		in := `maxmemory: 4GiB
tiers:
  gold: {l2_quota: 512MiB}
  silver: {l2_quota: 0}
  bronze: {priority: 0}
  copper: {l2_quota: 10gb}
tenants:
  - {id: p, tier: platinum, quota: 1, users: [{name: p, password_sha256: ` + hA + `}]}
  - {id: g, tier: gold, quota: 1, users: [{name: g, password_sha256: ` + hB + `}]}
  - {id: s, tier: silver, quota: 1, l2_quota: 1k, users: [{name: s, password_sha256: ` + hO + `}]}
  - id: b
    tier: bronze
    quota: 1
    l2_quota: 2GiB
    users: [{name: b, password_sha256: ` + hT + `}]
  - {id: c, tier: copper, quota: 1, l2_quota: 0, users: [{name: c, password_sha256: ` + hexOf("c") + `}]}
`
		c, warnings, err := Parse([]byte(in), "test.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if len(warnings) != 0 {
			t.Errorf("warnings = %q", warnings)
		}
		checkInvariants(t, c)
		wantTiers := map[string]int64{"platinum": 4 << 30, "gold": 512 << 20, "silver": 0, "bronze": 0, "copper": 10 << 30}
		for name, want := range wantTiers {
			if got := c.Tiers[name].L2Quota; got != want {
				t.Errorf("Tiers[%s].L2Quota = %d, want %d", name, got, want)
			}
		}
		wantTenants := map[string]int64{"p": 4 << 30, "g": 512 << 20, "s": 1000, "b": 2 << 30, "c": 0}
		for id, want := range wantTenants {
			tn, _ := c.Tenant(id)
			if got := tn.Tier.L2Quota; got != want {
				t.Errorf("tenant %s L2Quota = %d, want %d", id, got, want)
			}
		}
		if c.Backing != nil {
			t.Errorf("Backing = %+v without a backing key", c.Backing)
		}
	})
	t.Run("built-in defaults reach tenants", func(t *testing.T) {
		c, _, err := Parse([]byte(withA("maxmemory: 1GiB\n")), "test.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if c.Tenants[0].Tier.L2Quota != 1<<30 || c.Tiers["silver"].L2Quota != 256<<20 || c.Tiers["platinum"].L2Quota != 4<<30 {
			t.Errorf("gold tenant L2Quota %d, tiers %+v", c.Tenants[0].Tier.L2Quota, c.Tiers)
		}
	})
	errs := []struct{ name, input, err string }{
		{"tier l2_quota invalid", withA("maxmemory: 1GiB\ntiers:\n  gold: {l2_quota: 12XB}\n"), `test.yaml:3: tiers.gold.l2_quota: invalid size "12XB"`},
		{"tier l2_quota negative", withA("maxmemory: 1GiB\ntiers:\n  x:\n    l2_quota: -1GiB\n"), `test.yaml:4: tiers.x.l2_quota: invalid size "-1GiB"`},
		{"tier l2_quota fraction", withA("maxmemory: 1GiB\ntiers:\n  gold: {l2_quota: 1.5GiB}\n"), `test.yaml:3: tiers.gold.l2_quota: invalid size "1.5GiB"`},
		{"tier l2_quota overflow", withA("maxmemory: 1GiB\ntiers:\n  gold: {l2_quota: 99999999999GiB}\n"), `test.yaml:3: tiers.gold.l2_quota: invalid size "99999999999GiB": larger than 9223372036854775807 bytes`},
		{"tier l2_quota as list", withA("maxmemory: 1GiB\ntiers:\n  gold: {l2_quota: [1]}\n"), `test.yaml:3: tiers.gold.l2_quota: expected a single value, got a list`},
		{"tenant l2_quota invalid", "maxmemory: 1GiB\ntenants:\n  - id: a\n    tier: gold\n    l2_quota: lots\n", `test.yaml:5: tenants[0].l2_quota: invalid size "lots"`},
		{"tenant l2_quota duplicate", "maxmemory: 1GiB\ntenants:\n  - id: a\n    l2_quota: 1\n    l2_quota: 2\n", `test.yaml:5: tenants[0].l2_quota: duplicate key (first at line 4)`},
		{"l2_quota is not a top-level key", withA("maxmemory: 1GiB\nl2_quota: 1GiB\n"), `test.yaml:2: l2_quota: unknown key`},
		{"l2_quota is not a backing key", withA("maxmemory: 1GiB\nbacking:\n  l2_quota: 1GiB\n"), `test.yaml:3: backing.l2_quota: unknown key`},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			c, warnings, err := Parse([]byte(tc.input), "test.yaml")
			if err == nil || err.Error() != tc.err {
				t.Fatalf("error = %v\nwant    %s", err, tc.err)
			}
			if c != nil || warnings != nil {
				t.Errorf("failed Parse returned config or warnings")
			}
		})
	}
}

// TestExampleBackingBlock uncomments the example file's backing block and
// parses the result, so the block stays valid and its defaults true.
func TestExampleBackingBlock(t *testing.T) {
	data, err := os.ReadFile("../tcached.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var block []string
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		if line == "#   backing:" {
			in = true
		}
		if in {
			rest, ok := strings.CutPrefix(line, "#   ")
			if !ok {
				break
			}
			block = append(block, rest)
		}
	}
	if len(block) == 0 {
		t.Fatal("no commented-out backing block in the example")
	}
	src := string(data) + "\n" + strings.Join(block, "\n") + "\n"
	c, warnings, err := Parse([]byte(src), "example+backing.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(block, "\n"))
	}
	checkInvariants(t, c)
	if len(warnings) != 1 || !strings.Contains(warnings[0], "backing.redis_cluster.password is plaintext") {
		t.Errorf("warnings = %q, want the cluster password's", warnings)
	}
	want := &Backing{
		KeyPrefix:         DefaultKeyPrefix,
		L1MaxTTL:          DefaultL1MaxTTL,
		ScanTimeout:       DefaultScanTimeout,
		BreakerFailures:   DefaultBreakerFailures,
		BreakerCooloff:    DefaultBreakerCooloff,
		ReconcileInterval: DefaultReconcileInterval,
		Cluster: RedisCluster{
			Addrs:    []string{"127.0.0.1:7000", "127.0.0.1:7001", "127.0.0.1:7002"},
			Username: "tcached",
			Password: "dev-only-cluster-secret",
			TLS:      &BackingTLS{},
		},
	}
	if !reflect.DeepEqual(c.Backing, want) {
		t.Errorf("Backing = %s\nwant      %s", fmtBacking(c.Backing), fmtBacking(want))
	}
}

// TestParseHeavySlots: heavy_slots per tier and per tenant, absent in
// the built-ins (0: the server derives it from GOMAXPROCS), and at least 1.
func TestParseHeavySlots(t *testing.T) {
	c, _, err := Parse([]byte(`maxmemory: 1GiB
tiers: {gold: {heavy_slots: 3}}
tenants:
  - {id: p, tier: platinum, quota: 1MiB, users: [{name: p, password_sha256: `+hA+`}]}
  - {id: g, tier: gold, quota: 1MiB, users: [{name: g, password_sha256: `+hB+`}]}
  - {id: h, tier: gold, quota: 1MiB, heavy_slots: 1, users: [{name: h, password_sha256: `+hO+`}]}
`), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := []int{c.Tenants[0].Tier.HeavySlots, c.Tenants[1].Tier.HeavySlots, c.Tenants[2].Tier.HeavySlots}
	if want := []int{0, 3, 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("heavy_slots = %v, want %v (built-in, tier, tenant)", got, want)
	}
	_, _, err = Parse([]byte(withA("maxmemory: 1GiB\ntiers: {gold: {heavy_slots: 0}}\n")), "test.yaml")
	if want := `test.yaml:2: tiers.gold.heavy_slots: invalid heavy_slots "0": want an integer >= 1 (omit it for the default: half of GOMAXPROCS, at least 1)`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("heavy_slots 0: err = %v\nwant %s", err, want)
	}
}

// TestParseClientMemory covers client_memory (tier and tenant) and
// maxmemory_clients, their defaults and errors, and the rule that quotas,
// client memory and the server's overhead fit in maxmemory.
func TestParseClientMemory(t *testing.T) {
	tenants := `tenants:
  - {id: p, tier: platinum, quota: 64MiB, users: [{name: p, password_sha256: ` + hA + `}]}
  - {id: g, tier: gold, quota: 1, users: [{name: g, password_sha256: ` + hB + `}]}
  - {id: s, tier: silver, quota: 8MiB, client_memory: 10MiB, users: [{name: s, password_sha256: ` + hO + `}]}
`
	t.Run("defaults and overrides", func(t *testing.T) {
		c, _, err := Parse([]byte("maxmemory: 1GiB\n"+tenants), "test.yaml")
		if err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, c)
		got := []int64{c.Tenants[0].ClientMemory, c.Tenants[1].ClientMemory, c.Tenants[2].ClientMemory}
		if want := []int64{16 << 20, 8 << 20, 10 << 20}; !reflect.DeepEqual(got, want) {
			t.Errorf("client_memory = %v, want %v (a quarter of the quota, at least 8MiB; the override)", got, want)
		}
		if c.MaxMemoryClients != 34<<20+DefaultUnattributedClientMemory || !c.MaxMemoryClientsDerived {
			t.Errorf("MaxMemoryClients = %d, derived %v", c.MaxMemoryClients, c.MaxMemoryClientsDerived)
		}
		// TENANT QUOTA rescales the budgets that follow the quota.
		derived := []bool{c.Tenants[0].ClientMemoryDerived(), c.Tenants[1].ClientMemoryDerived(), c.Tenants[2].ClientMemoryDerived()}
		if want := []bool{true, true, false}; !reflect.DeepEqual(derived, want) {
			t.Errorf("ClientMemoryDerived = %v, want %v", derived, want)
		}
		c, _, err = Parse([]byte("maxmemory: 1GiB\nmaxmemory_clients: 64MiB\ntiers: {platinum: {client_memory: 1MiB}}\n"+tenants), "test.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if c.Tenants[0].ClientMemory != 1<<20 || c.Tiers["platinum"].ClientMemory != 1<<20 || c.MaxMemoryClients != 64<<20 {
			t.Errorf("tier override: %d, tier %d, maxmemory_clients %d", c.Tenants[0].ClientMemory, c.Tiers["platinum"].ClientMemory, c.MaxMemoryClients)
		}
		if c.MaxMemoryClientsDerived || c.Tenants[0].ClientMemoryDerived() || !c.Tenants[1].ClientMemoryDerived() {
			t.Errorf("explicit maxmemory_clients derived %v; tier-set client_memory derived %v; gold's derived %v",
				c.MaxMemoryClientsDerived, c.Tenants[0].ClientMemoryDerived(), c.Tenants[1].ClientMemoryDerived())
		}
	})
	for _, tc := range []struct{ name, input, err string }{
		{"zero", "maxmemory: 1GiB\ntiers: {gold: {client_memory: 0}}\n" + tenants,
			"test.yaml:2: tiers.gold.client_memory: must be > 0 (omit it for the default: a quarter of the quota, at least 8MiB)"},
		{"bad size", "maxmemory: 1GiB\ntenants:\n  - {id: a, tier: gold, quota: 1, client_memory: lots, users: [{name: a, password: x}]}\n",
			`test.yaml:3: tenants[0].client_memory: invalid size "lots"`},
		{"maxmemory_clients too small", "maxmemory: 1GiB\nmaxmemory_clients: 30MiB\n" + tenants,
			"test.yaml:2: maxmemory_clients: 30MiB does not hold the tenants' client_memory budgets 34MiB plus 1MiB for connections bound to no tenant (one pre-AUTH client's preauth_query_buffer_limit)"},
		{"maxmemory_clients bad size", "maxmemory: 1GiB\nmaxmemory_clients: -1\n" + tenants, `test.yaml:2: maxmemory_clients: invalid size "-1"`},
		{"no room for clients and overhead", "maxmemory: 100MiB\n" + tenants,
			"test.yaml:1: maxmemory: maxmemory 100MiB cannot hold tenant quotas 75497473 bytes + client memory 50MiB (maxmemory_clients) + server overhead 136384KiB (16MiB + 12KiB per maxclients, 10000); a guarantee that can't be honoured is refused: raise maxmemory, or lower quotas, client_memory or maxclients"},
		{"reported on maxmemory_clients when set", "maxmemory: 200MiB\nmaxmemory_clients: 120MiB\n" + tenants,
			"test.yaml:2: maxmemory_clients: maxmemory 200MiB cannot hold tenant quotas 75497473 bytes + client memory 120MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse([]byte(tc.input), "test.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("err = %v\nwant %s", err, tc.err)
			}
		})
	}
	// Fewer connections reserve less: the same tenants fit in 160MiB.
	if _, _, err := Parse([]byte("maxmemory: 160MiB\nmaxclients: 1000\n"+tenants), "test.yaml"); err != nil {
		t.Errorf("with maxclients 1000: %v", err)
	}
}

// TestParseMaxTTL covers max_ttl and max_ttl_policy on tiers and tenants:
// inheritance, overrides, and the errors (a bad value, a default_ttl
// longer than the cap, named by the key the mapping sets).
func TestParseMaxTTL(t *testing.T) {
	c, _, err := Parse([]byte(`maxmemory: 1GiB
tiers: {gold: {max_ttl: 1h, max_ttl_policy: refuse}}
tenants:
  - {id: p, tier: platinum, quota: 1MiB, users: [{name: p, password_sha256: `+hA+`}]}
  - {id: g, tier: gold, quota: 1MiB, users: [{name: g, password_sha256: `+hB+`}]}
  - {id: h, tier: gold, quota: 1MiB, max_ttl: 86400, max_ttl_policy: cap, default_ttl: 0, users: [{name: h, password_sha256: `+hO+`}]}
`), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		max, def time.Duration
		pol      tiers.TTLPolicy
	}
	var have []got
	for _, tn := range c.Tenants {
		have = append(have, got{tn.Tier.MaxTTL, tn.Tier.DefaultTTL, tn.Tier.MaxTTLPolicy})
	}
	want := []got{{0, time.Hour, tiers.TTLCap}, {time.Hour, 30 * time.Minute, tiers.TTLRefuse}, {24 * time.Hour, 0, tiers.TTLCap}}
	if !reflect.DeepEqual(have, want) {
		t.Errorf("max_ttl = %+v, want %+v (built-in, tier, tenant)", have, want)
	}
	for _, tc := range []struct{ name, input, err string }{
		{"bad policy", withA("maxmemory: 1GiB\ntiers: {gold: {max_ttl_policy: drop}}\n"),
			`test.yaml:2: tiers.gold.max_ttl_policy: invalid max_ttl_policy "drop": want cap or refuse`},
		{"negative", withA("maxmemory: 1GiB\ntiers: {gold: {max_ttl: -1s}}\n"),
			`test.yaml:2: tiers.gold.max_ttl: invalid duration "-1s": must be >= 0`},
		{"tier cap below its default", withA("maxmemory: 1GiB\ntiers: {gold: {max_ttl: 10m}}\n"),
			`test.yaml:2: tiers.gold.max_ttl: default_ttl 30m0s is longer than max_ttl 10m0s: keys written without a TTL would outlive the cap`},
		{"tier default above its cap", withA("maxmemory: 1GiB\ntiers: {silver: {max_ttl: 1h}, gold: {max_ttl: 1h, default_ttl: 2h}}\n"),
			`test.yaml:2: tiers.gold.max_ttl: default_ttl 2h0m0s is longer than max_ttl 1h0m0s`},
		{"tenant default above the tier's cap", "maxmemory: 1GiB\ntiers: {gold: {max_ttl: 1h}}\ntenants:\n  - {id: a, tier: gold, quota: 1MiB, default_ttl: 2h}\n",
			`test.yaml:4: tenants[0].default_ttl: default_ttl 2h0m0s is longer than max_ttl 1h0m0s`},
		{"tenant cap below the tier's default", "maxmemory: 1GiB\ntenants:\n  - {id: a, tier: gold, quota: 1MiB, max_ttl: 60}\n",
			`test.yaml:3: tenants[0].max_ttl: default_ttl 30m0s is longer than max_ttl 1m0s`},
	} {
		_, _, err := Parse([]byte(tc.input), "test.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: err = %v\nwant %s", tc.name, err, tc.err)
		}
	}
	_, warns, err := Parse([]byte("maxmemory: 1GiB\nbacking: {redis_cluster: {addrs: [127.0.0.1:7000]}}\ntenants:\n  - {id: a, tier: gold, quota: 1MiB, max_ttl: 1h, users: [{name: a, password_sha256: "+hA+"}]}\n"), "test.yaml")
	if err != nil || len(warns) != 1 || !strings.Contains(warns[0], "test.yaml:4: tenants[0]: max_ttl caps the keys in this server's memory (L1) only") {
		t.Errorf("max_ttl with backing: warnings %q, err %v", warns, err)
	}
}
