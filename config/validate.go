package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/tcached/tcached/tiers"
)

// validate is the single place where the rules of a configuration live. It
// checks in file order and returns the first violation.
func validate(r *rawConfig, source string) (*Config, []string, error) {
	v := validator{source: source}
	cfg, err := v.run(r)
	if err != nil {
		return nil, nil, err
	}
	return cfg, v.warnings, nil
}

type validator struct {
	source   string
	warnings []string
}

func (v *validator) errf(line int, field, format string, args ...any) *Error {
	return &Error{Source: v.source, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func (v *validator) warnf(line int, format string, args ...any) {
	v.warnings = append(v.warnings, (&Error{Source: v.source, Line: line, Msg: fmt.Sprintf(format, args...)}).Error())
}

func (v *validator) sizeErr(s scalar, field string, err error) *Error {
	return v.errf(s.line, field, "%s", err.Error())
}

var emptyPasswordSHA256 = sha256.Sum256(nil)

// userRef remembers where a user was declared, for duplicate messages.
type userRef struct {
	field string
	line  int
}

func (v *validator) run(r *rawConfig) (*Config, error) {
	cfg := &Config{
		Listen:        DefaultListen,
		MetricsListen: DefaultMetricsListen,
		DefaultRole:   RoleReadWrite,
		Tiers:         tiers.Builtin(),
	}

	// Listeners.
	if r.listen.set {
		if err := checkAddr(r.listen.val); err != nil {
			return nil, v.errf(r.listen.line, "listen", "%v", err)
		}
		cfg.Listen = r.listen.val
	}
	if r.metricsListen.set {
		switch val := r.metricsListen.val; val {
		case "", "off":
			cfg.MetricsListen = ""
		default:
			if err := checkAddr(val); err != nil {
				return nil, v.errf(r.metricsListen.line, "metrics_listen", "%v (or \"off\" to disable)", err)
			}
			cfg.MetricsListen = val
		}
	}

	// Memory.
	if !r.maxMemory.set {
		return nil, v.errf(0, "maxmemory", "required (e.g. maxmemory: 512MiB)")
	}
	mm, err := ParseSize(r.maxMemory.val)
	if err != nil {
		return nil, v.sizeErr(r.maxMemory, "maxmemory", err)
	}
	if mm <= 0 {
		return nil, v.errf(r.maxMemory.line, "maxmemory", "must be > 0")
	}
	cfg.MaxMemory = mm

	// Default tenant binding; its existence is checked once tenants are known.
	if r.defaultTenant.set {
		cfg.DefaultTenant = r.defaultTenant.val
		if cfg.DefaultTenant != "" && !validID(cfg.DefaultTenant) {
			return nil, v.errf(r.defaultTenant.line, "default_tenant", "invalid tenant id %q: want 1-64 of A-Z a-z 0-9 _ -", cfg.DefaultTenant)
		}
	}
	if r.defaultRole.set {
		role, ok := parseRole(r.defaultRole.val)
		if !ok {
			return nil, v.errf(r.defaultRole.line, "default_role", "invalid role %q: want readonly, readwrite or admin", r.defaultRole.val)
		}
		cfg.DefaultRole = role
		if cfg.DefaultTenant == "" {
			v.warnf(r.defaultRole.line, "default_role has no effect without default_tenant")
		}
	}

	// Tiers: built-ins overridden field by field, custom tiers from zero.
	for _, rt := range r.tiers {
		path := "tiers." + rt.name
		if !validID(rt.name) {
			return nil, v.errf(rt.line, path, "invalid tier name %q: want 1-64 of A-Z a-z 0-9 _ -", rt.name)
		}
		base, ok := cfg.Tiers[rt.name]
		if !ok {
			base = tiers.Tier{Name: rt.name, Priority: tiers.DefaultPriority}
		}
		o, err := v.overrides(path, rt.defaultTTL, rt.timeout, rt.maxConcurrent)
		if err != nil {
			return nil, err
		}
		if rt.priority.set {
			p, err := strconv.Atoi(rt.priority.val)
			if err != nil || p < 0 {
				return nil, v.errf(rt.priority.line, path+".priority", "invalid priority %q: want an integer >= 0", rt.priority.val)
			}
			o.Priority = &p
		}
		cfg.Tiers[rt.name] = base.With(o)
	}

	// Tenants.
	if len(r.tenants) == 0 {
		return nil, v.errf(r.tenantsLine, "tenants", "no tenants configured")
	}
	tenantLines := make(map[string]int, len(r.tenants))
	userNames := make(map[string]userRef)
	digests := make(map[[32]byte]userRef)
	var quotaSum int64
	for i, rt := range r.tenants {
		path := "tenants[" + strconv.Itoa(i) + "]"
		var t Tenant

		if !rt.id.set {
			return nil, v.errf(rt.line, path+".id", "required")
		}
		if !validID(rt.id.val) {
			return nil, v.errf(rt.id.line, path+".id", "invalid tenant id %q: want 1-64 of A-Z a-z 0-9 _ -", rt.id.val)
		}
		if first, dup := tenantLines[rt.id.val]; dup {
			return nil, v.errf(rt.id.line, path+".id", "duplicate tenant id %q (first at line %d)", rt.id.val, first)
		}
		tenantLines[rt.id.val] = rt.id.line
		t.ID = rt.id.val

		if !rt.tier.set {
			return nil, v.errf(rt.line, path+".tier", "required (one of %s)", tierNames(cfg.Tiers))
		}
		tier, ok := cfg.Tiers[rt.tier.val]
		if !ok {
			return nil, v.errf(rt.tier.line, path+".tier", "unknown tier %q (have %s)", rt.tier.val, tierNames(cfg.Tiers))
		}
		o, err := v.overrides(path, rt.defaultTTL, rt.timeout, rt.maxConcurrent)
		if err != nil {
			return nil, err
		}
		t.TierName, t.Tier = tier.Name, tier.With(o)

		if !rt.quota.set {
			return nil, v.errf(rt.line, path+".quota", "required (e.g. quota: 64MiB)")
		}
		q, err := ParseSize(rt.quota.val)
		if err != nil {
			return nil, v.sizeErr(rt.quota, path+".quota", err)
		}
		if q <= 0 {
			return nil, v.errf(rt.quota.line, path+".quota", "must be > 0")
		}
		t.Quota = q
		// Each quota is checked against maxmemory before summing, so the
		// sum cannot overflow: it stays <= 2*maxmemory < 2^64.
		if q > cfg.MaxMemory || quotaSum+q > cfg.MaxMemory {
			return nil, v.errf(rt.quota.line, path+".quota",
				"sum of tenant quotas %s exceeds maxmemory %s; a guarantee that can't be honoured is refused",
				formatSize(sumCapped(quotaSum, q)), formatSize(cfg.MaxMemory))
		}
		quotaSum += q

		if rt.eviction.set {
			switch rt.eviction.val {
			case "lru":
				t.Eviction = EvictLRU
			case "noeviction":
				t.Eviction = NoEviction
			default:
				return nil, v.errf(rt.eviction.line, path+".eviction", "invalid eviction %q: want lru or noeviction", rt.eviction.val)
			}
		}

		for j, ru := range rt.users {
			upath := path + ".users[" + strconv.Itoa(j) + "]"
			u, err := v.user(ru, upath, userNames, digests)
			if err != nil {
				return nil, err
			}
			t.Users = append(t.Users, u)
		}
		if len(t.Users) == 0 && t.ID != cfg.DefaultTenant {
			line := rt.usersLine
			if line == 0 {
				line = rt.line
			}
			return nil, v.errf(line, path+".users", "no users; only default_tenant may have none")
		}
		cfg.Tenants = append(cfg.Tenants, t)
	}

	if cfg.DefaultTenant != "" {
		if _, ok := tenantLines[cfg.DefaultTenant]; !ok {
			return nil, v.errf(r.defaultTenant.line, "default_tenant", "no tenant with id %q", cfg.DefaultTenant)
		}
	}
	return cfg, nil
}

// sumCapped returns a+b, or MaxInt64 if that overflows.
func sumCapped(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func (v *validator) overrides(path string, ttl, timeout, maxConc scalar) (tiers.Overrides, error) {
	var o tiers.Overrides
	if ttl.set {
		d, err := parseDuration(ttl.val, true)
		if err != nil {
			return o, v.errf(ttl.line, path+".default_ttl", "%v", err)
		}
		o.DefaultTTL = &d
	}
	if timeout.set {
		d, err := parseDuration(timeout.val, false)
		if err != nil {
			return o, v.errf(timeout.line, path+".timeout", "%v", err)
		}
		o.Timeout = &d
	}
	if maxConc.set {
		n, err := strconv.Atoi(maxConc.val)
		if err != nil || n < 0 {
			return o, v.errf(maxConc.line, path+".max_concurrent", "invalid max_concurrent %q: want an integer >= 0 (0 = unlimited)", maxConc.val)
		}
		o.MaxConcurrent = &n
	}
	return o, nil
}

// user validates one user. names and digests span all tenants: AUTH
// <user> <pass> must resolve to one tenant, and AUTH <pass> (or AUTH default
// <pass>) must resolve to one user.
func (v *validator) user(ru rawUser, path string, names map[string]userRef, digests map[[32]byte]userRef) (User, error) {
	var u User
	if !ru.name.set {
		return u, v.errf(ru.line, path+".name", "required")
	}
	field := path + ".name"
	switch {
	case strings.EqualFold(ru.name.val, "default"):
		return u, v.errf(ru.name.line, field, "user name %q is reserved: AUTH default <password> means password-only authentication", ru.name.val)
	case !validUserName(ru.name.val):
		return u, v.errf(ru.name.line, field, "invalid user name %q: want 1-64 of A-Z a-z 0-9 _ - . @", ru.name.val)
	}
	if first, dup := names[ru.name.val]; dup {
		return u, v.errf(ru.name.line, field, "duplicate user name %q (first as %s at line %d); user names are unique across all tenants", ru.name.val, first.field, first.line)
	}
	names[ru.name.val] = userRef{field: field, line: ru.name.line}
	u.Name = ru.name.val

	var pw scalar
	switch {
	case ru.password.set && ru.passwordSHA256.set:
		return u, v.errf(ru.passwordSHA256.line, path+".password_sha256", "set only one of password and password_sha256")
	case !ru.password.set && !ru.passwordSHA256.set:
		return u, v.errf(ru.line, path+".password_sha256", "required (or password, for development only)")
	case ru.password.set:
		pw, field = ru.password, path+".password"
		if pw.val == "" {
			return u, v.errf(pw.line, field, "must not be empty")
		}
		u.PasswordSHA256, u.Plaintext = HashPassword(pw.val), true
		v.warnf(pw.line, "%s is plaintext; use password_sha256", field)
	default:
		pw, field = ru.passwordSHA256, path+".password_sha256"
		b, err := hex.DecodeString(pw.val)
		if err != nil || len(b) != sha256.Size {
			return u, v.errf(pw.line, field, "want 64 hex digits (the SHA-256 of the password, e.g. from: printf %%s 'secret' | sha256sum)")
		}
		copy(u.PasswordSHA256[:], b)
		if u.PasswordSHA256 == emptyPasswordSHA256 {
			return u, v.errf(pw.line, field, "is the SHA-256 of the empty password")
		}
	}
	if first, dup := digests[u.PasswordSHA256]; dup {
		return u, v.errf(pw.line, field, "same password as %s (line %d); AUTH <password> must identify exactly one user", first.field, first.line)
	}
	digests[u.PasswordSHA256] = userRef{field: path, line: ru.line}

	u.Role = RoleReadWrite
	if ru.role.set {
		r, ok := parseRole(ru.role.val)
		if !ok {
			return u, v.errf(ru.role.line, path+".role", "invalid role %q: want readonly, readwrite or admin", ru.role.val)
		}
		u.Role = r
	}
	return u, nil
}

func parseRole(s string) (Role, bool) {
	switch s {
	case "readonly":
		return RoleReadOnly, true
	case "readwrite":
		return RoleReadWrite, true
	case "admin":
		return RoleAdmin, true
	}
	return 0, false
}

// validID reports whether s matches [A-Za-z0-9_-]{1,64}, the rule for
// tenant ids and tier names.
func validID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// validUserName reports whether s matches [A-Za-z0-9_.@-]{1,64}: wide
// enough for service and e-mail-like names, narrow enough that a name is
// typed the same way in redis-cli, a shell and a log line.
func validUserName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '@') {
			return false
		}
	}
	return true
}

func checkAddr(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("invalid address %q: want host:port", s)
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || (p == 0 && port != "0") {
		return fmt.Errorf("invalid address %q: port must be 0-65535", s)
	}
	return nil
}

func tierNames(m map[string]tiers.Tier) string {
	return strings.Join(slices.Sorted(maps.Keys(m)), ", ")
}
