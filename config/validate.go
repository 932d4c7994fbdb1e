package config

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

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
		ProtectedMode: true,
		Limits:        DefaultLimits(),
		Tiers:         tiers.Builtin(),
	}

	// Listeners. The plain listener may be off only when TLS serves
	// instead; that is checked once tls_listen is known.
	if r.listen.set {
		switch val := r.listen.val; val {
		case "", "off":
			cfg.Listen = ""
		default:
			if err := checkAddr(val); err != nil {
				return nil, v.errf(r.listen.line, "listen", "%v (or \"off\" with tls_listen set)", err)
			}
			cfg.Listen = val
		}
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
	if err := v.tls(r, cfg); err != nil {
		return nil, err
	}
	if cfg.Listen == "" && cfg.TLSListen == "" {
		return nil, v.errf(r.listen.line, "listen", "%q is allowed only with tls_listen set: there would be no listener", r.listen.val)
	}
	if r.protectedMode.set {
		b, ok := parseBool(r.protectedMode.val)
		if !ok {
			return nil, v.errf(r.protectedMode.line, "protected_mode", "invalid protected_mode %q: want yes or no", r.protectedMode.val)
		}
		cfg.ProtectedMode = b
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

	if err := v.limits(&r.limits, &cfg.Limits); err != nil {
		return nil, err
	}
	cfg.MaxInFlight = DefaultMaxInFlight
	if err := v.intLimit(r.maxInFlight, "max_inflight", 0, &cfg.MaxInFlight); err != nil {
		return nil, err
	}
	cfg.FairShare = true
	if r.fairShare.set {
		b, ok := parseBool(r.fairShare.val)
		if !ok {
			return nil, v.errf(r.fairShare.line, "fair_share", "invalid fair_share %q: want yes or no", r.fairShare.val)
		}
		cfg.FairShare = b
	}
	cfg.FairShareDelayTarget = DefaultFairShareDelayTarget
	if err := v.durationLimit(r.fairShareDelayTarget, "fair_share_delay_target", false, true, &cfg.FairShareDelayTarget); err != nil {
		return nil, err
	}

	// Operability: audit log and hot-tenant detection.
	if cfg.AuditLog, err = v.auditLog(r.auditLog); err != nil {
		return nil, err
	}
	cfg.HotTenantShare = DefaultHotTenantShare
	if s := r.hotTenantShare; s.set {
		f, err := strconv.ParseFloat(s.val, 64)
		if !isDecimal(s.val) || err != nil || f <= 0 || f > 1 {
			return nil, v.errf(s.line, "hot_tenant_share", "invalid hot_tenant_share %q: want a fraction greater than 0 and at most 1, e.g. 0.3 for 30%%", s.val)
		}
		cfg.HotTenantShare = f
	}
	cfg.HotTenantInterval = DefaultHotTenantInterval
	if err := v.durationLimit(r.hotTenantInterval, "hot_tenant_interval", false, true, &cfg.HotTenantInterval); err != nil {
		return nil, err
	}

	// Backing store (L2); nil leaves the embedded store alone.
	if cfg.Backing, err = v.backing(r.backing); err != nil {
		return nil, err
	}

	// Tiers: built-ins overridden field by field, custom tiers from zero.
	for _, rt := range r.tiers {
		path := "tiers." + rt.name
		if !validID(rt.name) {
			return nil, v.errf(rt.line, path, "invalid tier name %q: want 1-64 of A-Z a-z 0-9 _ -", rt.name)
		}
		base, ok := cfg.Tiers[rt.name]
		if !ok {
			base = tiers.Tier{Name: rt.name, Priority: tiers.DefaultPriority, Weight: tiers.DefaultWeight}
		}
		o, err := v.overrides(path, rt.overrides)
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
	var quotaSum, clientSum int64
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
		o, err := v.overrides(path, rt.overrides)
		if err != nil {
			return nil, err
		}
		t.TierName, t.Tier = tier.Name, tier.With(o)
		if t.Tier.Burst > 0 && t.Tier.RateLimit == 0 {
			line := rt.overrides.burst.line
			if !rt.overrides.burst.set {
				line = rt.line
			}
			v.warnf(line, "%s: burst %d has no effect without rate_limit", path, t.Tier.Burst)
		}

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
		t.ClientMemory = t.Tier.ClientMemory
		if t.ClientMemory == 0 {
			t.ClientMemory = DefaultClientMemory(q)
		}
		clientSum = sumCapped(clientSum, t.ClientMemory)

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

		if s := rt.shedReadsAsMiss; s.set {
			b, ok := parseBool(s.val)
			if !ok {
				return nil, v.errf(s.line, path+".shed_reads_as_miss", "invalid value %q: want yes or no (true or false)", s.val)
			}
			t.ShedReadsAsMiss = b
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

	// Operators, after the tenants: their names and passwords must differ
	// from every user's, wherever in the file the users are.
	tokens := make(map[[32]byte]userRef)
	tokenLine := 0 // of the first operator with a token
	for i, ro := range r.operators {
		o, err := v.operator(ro, "operators["+strconv.Itoa(i)+"]", userNames, digests, tokens)
		if err != nil {
			return nil, err
		}
		if o.HasToken && tokenLine == 0 {
			tokenLine = ro.line
		}
		cfg.Operators = append(cfg.Operators, o)
	}
	if tokenLine != 0 && cfg.MetricsListen == "" {
		v.warnf(tokenLine, "operator tokens have no effect with metrics_listen off: the HTTP admin API is served on the metrics listener")
	}

	if cfg.DefaultTenant != "" {
		if _, ok := tenantLines[cfg.DefaultTenant]; !ok {
			return nil, v.errf(r.defaultTenant.line, "default_tenant", "no tenant with id %q", cfg.DefaultTenant)
		}
	}
	if err := v.memory(r, cfg, quotaSum, clientSum); err != nil {
		return nil, err
	}
	return cfg, nil
}

// memory resolves maxmemory_clients and checks that maxmemory is a process
// guarantee: the tenants' quotas, the client memory (maxmemory_clients) and
// the server's own overhead must all fit in it.
func (v *validator) memory(r *rawConfig, cfg *Config, quotaSum, clientSum int64) error {
	// The pool of connections bound to no tenant must hold at least one
	// pre-AUTH client's largest unfinished command, or a client sending
	// one could never authenticate. (Its replies are flushed every 64KiB
	// and are small before AUTH.)
	minPool := cfg.Limits.PreAuthQueryBufferLimit
	cfg.MaxMemoryClients = sumCapped(clientSum, max(DefaultUnattributedClientMemory, minPool))
	line, field := r.maxMemory.line, "maxmemory"
	if s := r.maxMemoryClients; s.set {
		n, err := ParseSize(s.val)
		if err != nil {
			return v.sizeErr(s, "maxmemory_clients", err)
		}
		if n < sumCapped(clientSum, minPool) {
			return v.errf(s.line, "maxmemory_clients",
				"%s does not hold the tenants' client_memory budgets %s plus %s for connections bound to no tenant (one pre-AUTH client's preauth_query_buffer_limit)",
				formatSize(n), formatSize(clientSum), formatSize(minPool))
		}
		cfg.MaxMemoryClients = n
		line, field = s.line, "maxmemory_clients"
	}
	overhead := ServerOverhead(cfg.Limits.MaxClients)
	if total := sumCapped(sumCapped(quotaSum, cfg.MaxMemoryClients), overhead); total > cfg.MaxMemory {
		return v.errf(line, field,
			"maxmemory %s cannot hold tenant quotas %s + client memory %s (maxmemory_clients) + server overhead %s (%s + %s per maxclients, %d); a guarantee that can't be honoured is refused: raise maxmemory, or lower quotas, client_memory or maxclients",
			formatSize(cfg.MaxMemory), formatSize(quotaSum), formatSize(cfg.MaxMemoryClients), formatSize(overhead),
			formatSize(ServerOverheadBase), formatSize(ConnOverhead), cfg.Limits.MaxClients)
	}
	return nil
}

// sumCapped returns a+b, or MaxInt64 if that overflows.
func sumCapped(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// tls checks the TLS listener and its files. The files are not read here:
// the server loads them, so a rotated certificate needs no config change.
func (v *validator) tls(r *rawConfig, cfg *Config) error {
	if r.tlsListen.set {
		switch val := r.tlsListen.val; val {
		case "", "off":
		default:
			if err := checkAddr(val); err != nil {
				return v.errf(r.tlsListen.line, "tls_listen", "%v (or \"off\" to disable)", err)
			}
			cfg.TLSListen = val
		}
	}
	files := []struct {
		s        scalar
		field    string
		dst      *string
		required bool
	}{
		{r.tlsCertFile, "tls_cert_file", &cfg.TLSCertFile, true},
		{r.tlsKeyFile, "tls_key_file", &cfg.TLSKeyFile, true},
		{r.tlsCAFile, "tls_ca_file", &cfg.TLSCAFile, false},
	}
	for _, f := range files {
		switch {
		case f.s.set && cfg.TLSListen == "":
			return v.errf(f.s.line, f.field, "requires tls_listen")
		case f.s.set && f.s.val == "":
			return v.errf(f.s.line, f.field, "must not be empty")
		case f.s.set:
			*f.dst = f.s.val
		case f.required && cfg.TLSListen != "":
			return v.errf(r.tlsListen.line, f.field, "required when tls_listen is set (a PEM file path)")
		}
	}
	return nil
}

// limits parses the top-level client limits into l, which holds the
// defaults. A preauth limit the file sets must be no looser than its
// authenticated counterpart; one it leaves at its default is lowered to fit,
// so setting only proto_max_bulk_len: 8KiB is not an error. auth_lockout
// and auth_lockout_max follow the same rule.
func (v *validator) limits(r *rawLimits, l *Limits) error {
	const kib = 1 << 10
	steps := []error{
		v.intLimit(r.maxClients, "maxclients", 1, &l.MaxClients),
		v.durationLimit(r.timeout, "timeout", true, false, &l.Timeout),
		v.durationLimit(r.authTimeout, "auth_timeout", false, false, &l.AuthTimeout),
		v.durationLimit(r.writeTimeout, "write_timeout", false, true, &l.WriteTimeout),
		v.sizeLimit(r.protoMaxBulkLen, "proto_max_bulk_len", kib, &l.ProtoMaxBulkLen),
		v.sizeLimit(r.clientQueryBufferLimit, "client_query_buffer_limit", kib, &l.ClientQueryBufferLimit),
		v.sizeLimit(r.clientOutputBufferLimit, "client_output_buffer_limit", 0, &l.ClientOutputBufferLimit),
		v.intLimit(r.preAuthMaxArgs, "preauth_max_args", 1, &l.PreAuthMaxArgs),
		v.sizeLimit(r.preAuthMaxBulkLen, "preauth_max_bulk_len", 1, &l.PreAuthMaxBulkLen),
		v.sizeLimit(r.preAuthQueryBufferLimit, "preauth_query_buffer_limit", 1, &l.PreAuthQueryBufferLimit),
		v.sizeLimit(r.preAuthOutputBufferLimit, "preauth_output_buffer_limit", 1, &l.PreAuthOutputBufferLimit),
		v.sizeLimit(r.maxInlineLen, "max_inline_len", 1, &l.MaxInlineLen),
		v.intLimit(r.authMaxFailures, "auth_max_failures", 0, &l.AuthMaxFailures),
		v.durationLimit(r.authLockout, "auth_lockout", false, true, &l.AuthLockout),
		v.durationLimit(r.authLockoutMax, "auth_lockout_max", false, true, &l.AuthLockoutMax),
	}
	for _, err := range steps {
		if err != nil {
			return err
		}
	}

	pairs := []struct {
		pre         scalar
		preField    string
		preVal      *int64
		auth        int64
		authField   string
		unlimitedOK bool // auth == 0 means unlimited
	}{
		{r.preAuthMaxBulkLen, "preauth_max_bulk_len", &l.PreAuthMaxBulkLen, l.ProtoMaxBulkLen, "proto_max_bulk_len", false},
		{r.preAuthQueryBufferLimit, "preauth_query_buffer_limit", &l.PreAuthQueryBufferLimit, l.ClientQueryBufferLimit, "client_query_buffer_limit", false},
		{r.preAuthOutputBufferLimit, "preauth_output_buffer_limit", &l.PreAuthOutputBufferLimit, l.ClientOutputBufferLimit, "client_output_buffer_limit", true},
	}
	for _, p := range pairs {
		if *p.preVal <= p.auth || p.unlimitedOK && p.auth == 0 {
			continue
		}
		if !p.pre.set {
			*p.preVal = p.auth
			continue
		}
		return v.errf(p.pre.line, p.preField, "%s exceeds %s %s; a limit before AUTH must not be looser than after it",
			formatSize(*p.preVal), p.authField, formatSize(p.auth))
	}

	if l.AuthLockout > l.AuthLockoutMax {
		switch {
		case !r.authLockoutMax.set:
			l.AuthLockoutMax = l.AuthLockout
		case !r.authLockout.set:
			l.AuthLockout = l.AuthLockoutMax
		default:
			return v.errf(r.authLockoutMax.line, "auth_lockout_max", "%v is less than auth_lockout %v", l.AuthLockoutMax, l.AuthLockout)
		}
	}
	return nil
}

// intLimit parses a decimal integer >= min into dst, if s is set.
func (v *validator) intLimit(s scalar, field string, min int, dst *int) error {
	if !s.set {
		return nil
	}
	n, err := strconv.Atoi(s.val)
	if err != nil || n < min {
		return v.errf(s.line, field, "invalid %s %q: want an integer >= %d", field, s.val, min)
	}
	*dst = n
	return nil
}

// sizeLimit parses a size >= min into dst, if s is set.
func (v *validator) sizeLimit(s scalar, field string, min int64, dst *int64) error {
	if !s.set {
		return nil
	}
	n, err := ParseSize(s.val)
	if err != nil {
		return v.sizeErr(s, field, err)
	}
	if n < min {
		if min == 1 {
			return v.errf(s.line, field, "must be > 0")
		}
		return v.errf(s.line, field, "%s is below the minimum %s", formatSize(n), formatSize(min))
	}
	*dst = n
	return nil
}

// durationLimit parses a duration into dst, if s is set. secondsOK accepts
// a plain integer number of seconds; positive refuses 0.
func (v *validator) durationLimit(s scalar, field string, secondsOK, positive bool, dst *time.Duration) error {
	if !s.set {
		return nil
	}
	d, err := parseDuration(s.val, secondsOK)
	if err != nil {
		return v.errf(s.line, field, "%v", err)
	}
	if positive && d == 0 {
		return v.errf(s.line, field, "must be > 0")
	}
	*dst = d
	return nil
}

func (v *validator) overrides(path string, r rawOverrides) (tiers.Overrides, error) {
	var o tiers.Overrides
	ttl, timeout, maxConc := r.defaultTTL, r.timeout, r.maxConcurrent
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
	if mc := r.maxConnections; mc.set {
		n, err := strconv.Atoi(mc.val)
		if err != nil || n < 0 {
			return o, v.errf(mc.line, path+".max_connections", "invalid max_connections %q: want an integer >= 0 (0 = unlimited)", mc.val)
		}
		o.MaxConnections = &n
	}
	if rl := r.rateLimit; rl.set {
		f, err := strconv.ParseFloat(rl.val, 64)
		if !isDecimal(rl.val) || err != nil || f > MaxRateLimit {
			return o, v.errf(rl.line, path+".rate_limit", "invalid rate_limit %q: want commands per second, a decimal number from 0 (unlimited) to %d, e.g. 5000 or 0.5", rl.val, int64(MaxRateLimit))
		}
		o.RateLimit = &f
	}
	if b := r.burst; b.set {
		n, err := strconv.Atoi(b.val)
		if err != nil || n < 0 {
			return o, v.errf(b.line, path+".burst", "invalid burst %q: want an integer >= 0 (0 = one second of rate_limit)", b.val)
		}
		o.Burst = &n
	}
	if mb := r.maxArgBytes; mb.set {
		n, err := ParseSize(mb.val)
		if err != nil {
			return o, v.sizeErr(mb, path+".max_arg_bytes", err)
		}
		o.MaxArgBytes = &n
	}
	if q := r.l2Quota; q.set {
		n, err := ParseSize(q.val)
		if err != nil {
			return o, v.sizeErr(q, path+".l2_quota", err)
		}
		o.L2Quota = &n
	}
	if w := r.weight; w.set {
		n, err := strconv.Atoi(w.val)
		if err != nil || n < 1 || n > MaxWeight {
			return o, v.errf(w.line, path+".weight", "invalid weight %q: want an integer from 1 to %d (a share of a contended server relative to other tenants' weights)", w.val, MaxWeight)
		}
		o.Weight = &n
	}
	if cm := r.clientMemory; cm.set {
		n, err := ParseSize(cm.val)
		if err != nil {
			return o, v.sizeErr(cm, path+".client_memory", err)
		}
		if n <= 0 {
			return o, v.errf(cm.line, path+".client_memory", "must be > 0 (omit it for the default: a quarter of the quota, at least %s)", formatSize(MinDefaultClientMemory))
		}
		o.ClientMemory = &n
	}
	return o, nil
}

// backing validates the backing section; nil in, nil out.
func (v *validator) backing(r *rawBacking) (*Backing, error) {
	if r == nil {
		return nil, nil
	}
	b := &Backing{
		KeyPrefix:         DefaultKeyPrefix,
		L1MaxTTL:          DefaultL1MaxTTL,
		ScanTimeout:       DefaultScanTimeout,
		BreakerFailures:   DefaultBreakerFailures,
		BreakerCooloff:    DefaultBreakerCooloff,
		ReconcileInterval: DefaultReconcileInterval,
	}
	if s := r.keyPrefix; s.set {
		if err := checkKeyPrefix(s.val); err != nil {
			return nil, v.errf(s.line, "backing.key_prefix", "%v", err)
		}
		b.KeyPrefix = s.val
	}
	steps := []error{
		v.durationLimit(r.l1MaxTTL, "backing.l1_max_ttl", false, true, &b.L1MaxTTL),
		v.durationLimit(r.scanTimeout, "backing.scan_timeout", false, true, &b.ScanTimeout),
	}
	for _, err := range steps {
		if err != nil {
			return nil, err
		}
	}
	if b.L1MaxTTL > MaxL1MaxTTL {
		return nil, v.errf(r.l1MaxTTL.line, "backing.l1_max_ttl", "%v is above the maximum %v", b.L1MaxTTL, MaxL1MaxTTL)
	}
	if s := r.breakerFailures; s.set {
		n, err := strconv.Atoi(s.val)
		if err != nil || n < 1 {
			return nil, v.errf(s.line, "backing.breaker_failures", "invalid breaker_failures %q: want an integer >= 1", s.val)
		}
		b.BreakerFailures = n
	}
	steps = []error{
		v.durationLimit(r.breakerCooloff, "backing.breaker_cooloff", false, true, &b.BreakerCooloff),
		v.durationLimit(r.reconcile, "backing.reconcile_interval", false, false, &b.ReconcileInterval),
	}
	for _, err := range steps {
		if err != nil {
			return nil, err
		}
	}

	c := r.cluster
	if c == nil {
		return nil, v.errf(r.line, "backing.redis_cluster", "required (a mapping with addrs: [host:port, ...])")
	}
	const path = "backing.redis_cluster"
	if len(c.addrs) == 0 {
		line := c.addrsLine
		if line == 0 {
			line = c.line
		}
		return nil, v.errf(line, path+".addrs", "required: at least one host:port of a cluster node")
	}
	seen := make(map[string]int, len(c.addrs))
	for i, a := range c.addrs {
		field := path + ".addrs[" + strconv.Itoa(i) + "]"
		if !a.set {
			return nil, v.errf(a.line, field, "empty address: want host:port")
		}
		key, err := checkNodeAddr(a.val)
		if err != nil {
			return nil, v.errf(a.line, field, "%v", err)
		}
		if first, dup := seen[key]; dup {
			return nil, v.errf(a.line, field, "duplicate address %q (first at line %d)", a.val, first)
		}
		seen[key] = a.line
		b.Cluster.Addrs = append(b.Cluster.Addrs, a.val)
	}
	if s := c.username; s.set {
		if s.val == "" || strings.ContainsFunc(s.val, isSpaceOrControl) {
			return nil, v.errf(s.line, path+".username", "invalid username %q: want a non-empty name without spaces or control characters", s.val)
		}
		if !c.password.set {
			return nil, v.errf(s.line, path+".username", "requires password")
		}
		b.Cluster.Username = s.val
	}
	if s := c.password; s.set {
		if s.val == "" {
			return nil, v.errf(s.line, path+".password", "must not be empty (omit it for a cluster without AUTH)")
		}
		b.Cluster.Password = s.val
		v.warnf(s.line, "%s.password is plaintext in the configuration file; keep the file readable only by tcached", path)
	}
	var err error
	if b.Cluster.TLS, err = v.backingTLS(c.tls, path+".tls"); err != nil {
		return nil, err
	}
	return b, nil
}

// backingTLS validates backing.redis_cluster.tls: true or false, or a
// mapping whose files are read and parsed here, so that a bad path or PEM
// file stops the server at startup instead of failing every L2 call.
func (v *validator) backingTLS(r rawBackingTLS, path string) (*BackingTLS, error) {
	if !r.isMap {
		if !r.flag.set {
			return nil, nil
		}
		on, ok := parseBool(r.flag.val)
		if !ok {
			return nil, v.errf(r.flag.line, path, "invalid tls %q: want true, false or a mapping (ca_file, cert_file, key_file, server_name, insecure_skip_verify)", r.flag.val)
		}
		if !on {
			return nil, nil
		}
		return &BackingTLS{}, nil
	}
	t := &BackingTLS{}
	files := []struct {
		s     scalar
		field string
		dst   *string
	}{
		{r.caFile, "ca_file", &t.CAFile},
		{r.certFile, "cert_file", &t.CertFile},
		{r.keyFile, "key_file", &t.KeyFile},
	}
	for _, f := range files {
		if f.s.set {
			if f.s.val == "" {
				return nil, v.errf(f.s.line, path+"."+f.field, "must not be empty")
			}
			*f.dst = f.s.val
		}
	}
	switch {
	case r.certFile.set && !r.keyFile.set:
		return nil, v.errf(r.certFile.line, path+".cert_file", "requires key_file")
	case r.keyFile.set && !r.certFile.set:
		return nil, v.errf(r.keyFile.line, path+".key_file", "requires cert_file")
	}
	if t.CAFile != "" {
		data, err := readPEMFile(t.CAFile)
		if err != nil {
			return nil, v.errf(r.caFile.line, path+".ca_file", "%v", err)
		}
		if !x509.NewCertPool().AppendCertsFromPEM(data) {
			return nil, v.errf(r.caFile.line, path+".ca_file", "no PEM certificate in %q", t.CAFile)
		}
	}
	if t.CertFile != "" {
		certPEM, err := readPEMFile(t.CertFile)
		if err != nil {
			return nil, v.errf(r.certFile.line, path+".cert_file", "%v", err)
		}
		if !hasPEMCertificate(certPEM) {
			return nil, v.errf(r.certFile.line, path+".cert_file", "no PEM certificate in %q", t.CertFile)
		}
		keyPEM, err := readPEMFile(t.KeyFile)
		if err != nil {
			return nil, v.errf(r.keyFile.line, path+".key_file", "%v", err)
		}
		if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
			return nil, v.errf(r.keyFile.line, path+".key_file", "%q does not hold the private key of %q: %v", t.KeyFile, t.CertFile, err)
		}
	}
	if s := r.serverName; s.set {
		if s.val == "" || strings.ContainsFunc(s.val, isSpaceOrControl) {
			return nil, v.errf(s.line, path+".server_name", "invalid server_name %q: want a host name without spaces or control characters", s.val)
		}
		t.ServerName = s.val
	}
	if s := r.insecureSkipVerify; s.set {
		b, ok := parseBool(s.val)
		if !ok {
			return nil, v.errf(s.line, path+".insecure_skip_verify", "invalid value %q: want true or false (yes or no)", s.val)
		}
		t.InsecureSkipVerify = b
		if b {
			v.warnf(s.line, "%s.insecure_skip_verify accepts any certificate the cluster presents; use ca_file for a private CA", path)
		}
	}
	return t, nil
}

// maxPEMFile bounds what readPEMFile reads: far above any CA bundle (a
// system's is a few hundred KiB), far below trouble.
const maxPEMFile = 4 << 20

// readPEMFile reads a TLS file named by the configuration. Only regular
// files are read, and only up to maxPEMFile bytes, so that a path such as
// /dev/zero or a FIFO cannot hang Parse.
func readPEMFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%q is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPEMFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxPEMFile {
		return nil, fmt.Errorf("%q is larger than %s", path, formatSize(maxPEMFile))
	}
	return data, nil
}

// hasPEMCertificate reports whether data holds at least one PEM
// CERTIFICATE block that parses as an X.509 certificate.
func hasPEMCertificate(data []byte) bool {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return false
		}
		if block.Type == "CERTIFICATE" {
			if _, err := x509.ParseCertificate(block.Bytes); err == nil {
				return true
			}
		}
	}
}

// checkKeyPrefix enforces backing.key_prefix's rules.
func checkKeyPrefix(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("must not be empty")
	case len(p) > MaxKeyPrefixLen:
		return fmt.Errorf("invalid key_prefix %q: longer than %d bytes", p, MaxKeyPrefixLen)
	case strings.ContainsAny(p, "{}"):
		return fmt.Errorf("invalid key_prefix %q: must not contain '{' or '}' (a hash tag in the prefix would decide the slot of every key)", p)
	case strings.ContainsFunc(p, isSpaceOrControl):
		return fmt.Errorf("invalid key_prefix %q: must not contain whitespace or control characters", p)
	}
	return nil
}

func isSpaceOrControl(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

// checkNodeAddr checks a cluster node address, host:port with a host and a
// port from 1 to 65535, and returns its normalized form for duplicate
// detection (host in lower case, port without leading zeros).
func checkNodeAddr(s string) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return "", fmt.Errorf("invalid address %q: want host:port", s)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return "", fmt.Errorf("invalid address %q: port must be 1-65535", s)
	}
	return net.JoinHostPort(strings.ToLower(host), strconv.FormatUint(p, 10)), nil
}

// isDecimal reports whether s is digits with an optional fraction, the
// syntax of rate_limit: no sign, exponent, hex, underscore, Inf or NaN, all
// of which ParseFloat would take.
func isDecimal(s string) bool {
	digits, frac, dot := s, "", false
	if i := strings.IndexByte(s, '.'); i >= 0 {
		digits, frac, dot = s[:i], s[i+1:], true
	}
	allDigits := func(x string) bool {
		for i := 0; i < len(x); i++ {
			if x[i] < '0' || x[i] > '9' {
				return false
			}
		}
		return len(x) > 0
	}
	return allDigits(digits) && (!dot || allDigits(frac))
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

	sec, err := v.secret(ru.password, ru.passwordSHA256, path, "password")
	if err != nil {
		return u, err
	}
	if !sec.set {
		return u, v.errf(ru.line, path+".password_sha256", "required (or password, for development only)")
	}
	u.PasswordSHA256, u.Plaintext = sec.sum, sec.plaintext
	if first, dup := digests[u.PasswordSHA256]; dup {
		return u, v.errf(sec.line, sec.field, "same password as %s (line %d); AUTH <password> must identify exactly one user", first.field, first.line)
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

// secretValue is a credential as validate resolved it: its digest, whether
// the file held it in clear, and where it was written.
type secretValue struct {
	sum       [32]byte
	set       bool // false when neither form was given
	plaintext bool
	field     string // path of the key that held it
	line      int
}

// secret validates a credential given either in clear under key (accepted
// with a warning: "password", "token") or as the hex SHA-256 under
// key+"_sha256". Neither being set is not an error here (set is false):
// whether the credential is required is the caller's rule. The empty
// secret is refused in both forms.
func (v *validator) secret(plain, hashed scalar, path, key string) (secretValue, error) {
	var sec secretValue
	hashKey := key + "_sha256"
	switch {
	case plain.set && hashed.set:
		return sec, v.errf(hashed.line, path+"."+hashKey, "set only one of %s and %s", key, hashKey)
	case !plain.set && !hashed.set:
		return sec, nil
	case plain.set:
		sec.field, sec.line = path+"."+key, plain.line
		if plain.val == "" {
			return sec, v.errf(plain.line, sec.field, "must not be empty")
		}
		sec.sum, sec.plaintext = sha256.Sum256([]byte(plain.val)), true
		v.warnf(plain.line, "%s is plaintext; use %s", sec.field, hashKey)
	default:
		sec.field, sec.line = path+"."+hashKey, hashed.line
		b, err := hex.DecodeString(hashed.val)
		if err != nil || len(b) != sha256.Size {
			return sec, v.errf(hashed.line, sec.field, "want 64 hex digits (the SHA-256 of the %s, e.g. from: printf %%s 'secret' | sha256sum)", key)
		}
		copy(sec.sum[:], b)
		if sec.sum == emptyPasswordSHA256 {
			return sec, v.errf(hashed.line, sec.field, "is the SHA-256 of the empty %s", key)
		}
	}
	sec.set = true
	return sec, nil
}

// operator validates one operator. names and digests already hold every
// tenant user: an operator's name must differ from every user and operator
// name, and its password from every user and operator password, so that
// AUTH <name> <password> and AUTH <password> each resolve to one identity.
// tokens spans the operators: a bearer token identifies one operator.
func (v *validator) operator(ro rawOperator, path string, names map[string]userRef, digests, tokens map[[32]byte]userRef) (Operator, error) {
	var o Operator
	if !ro.name.set {
		return o, v.errf(ro.line, path+".name", "required")
	}
	field := path + ".name"
	switch {
	case strings.EqualFold(ro.name.val, "default"):
		return o, v.errf(ro.name.line, field, "operator name %q is reserved: AUTH default <password> means password-only authentication", ro.name.val)
	case !validUserName(ro.name.val):
		return o, v.errf(ro.name.line, field, "invalid operator name %q: want 1-64 of A-Z a-z 0-9 _ - . @", ro.name.val)
	}
	if other, dup := names[ro.name.val]; dup {
		return o, v.errf(ro.name.line, field, "name %q is already used by %s (line %d); operator and user names must all differ, so that AUTH <name> <password> names one identity", ro.name.val, other.field, other.line)
	}
	names[ro.name.val] = userRef{field: field, line: ro.name.line}
	o.Name = ro.name.val

	pw, err := v.secret(ro.password, ro.passwordSHA256, path, "password")
	if err != nil {
		return o, err
	}
	if !pw.set {
		return o, v.errf(ro.line, path+".password_sha256", "required (or password, for development only)")
	}
	if other, dup := digests[pw.sum]; dup {
		return o, v.errf(pw.line, pw.field, "same password as %s (line %d); AUTH <password> must identify exactly one user or operator", other.field, other.line)
	}
	digests[pw.sum] = userRef{field: path, line: ro.line}
	o.PasswordSHA256, o.Plaintext = pw.sum, pw.plaintext

	tok, err := v.secret(ro.token, ro.tokenSHA256, path, "token")
	if err != nil {
		return o, err
	}
	if tok.set {
		if other, dup := tokens[tok.sum]; dup {
			return o, v.errf(tok.line, tok.field, "same token as %s (line %d); a bearer token must identify exactly one operator", other.field, other.line)
		}
		tokens[tok.sum] = userRef{field: path, line: ro.line}
		o.TokenSHA256, o.HasToken = tok.sum, true
	}
	return o, nil
}

// auditLog resolves audit_log: "" or "off" (any case) is off, "stderr" and
// "stdout" (any case) are the streams, anything else is a file path. A
// yes/no style word is refused rather than taken as a file name, since
// `audit_log: yes` almost certainly did not mean a file called "yes".
func (v *validator) auditLog(s scalar) (string, error) {
	if !s.set {
		return "", nil
	}
	switch lower := strings.ToLower(s.val); lower {
	case "", "off":
		return "", nil
	case "stderr", "stdout":
		return lower, nil
	case "yes", "no", "true", "false", "on":
		return "", v.errf(s.line, "audit_log", "invalid audit_log %q: want off, stderr, stdout or a file path (write ./%s for a file of that name)", s.val, s.val)
	}
	if strings.ContainsFunc(s.val, unicode.IsControl) {
		return "", v.errf(s.line, "audit_log", "invalid audit_log %q: a file path must not contain control characters", s.val)
	}
	return s.val, nil
}

// parseBool accepts redis.conf's yes/no and YAML's true/false, in any case.
func parseBool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "yes", "true":
		return true, true
	case "no", "false":
		return false, true
	}
	return false, false
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
