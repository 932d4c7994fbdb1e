package config

import (
	"cmp"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tcached/tcached/tiers"
)

// validate is where the rules that involve more than one key live: each
// key's own rule is its row's (field.go, table.go). It checks the
// top-level keys (rows, then the rules among them), then backing, tiers,
// tenants and operators, then the rules that span sections, and returns
// the first violation.
func validate(root *yaml.Node, source string) (*Config, []string, error) {
	v := validator{source: source}
	cfg, err := v.run(mappingOf(root, 0))
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

var emptyPasswordSHA256 = sha256.Sum256(nil)

// ref remembers where an identity was declared, for duplicate messages.
type ref struct {
	field string
	line  int
}

// seen is what the file declared so far, for the rules that span it:
// tenant ids are unique; AUTH <name> <pass> must name one user or
// operator, AUTH <pass> must find one, and a bearer token one operator;
// quotas and client-memory budgets are summed.
type seen struct {
	tenants, names      map[string]ref
	digests, tokens     map[[32]byte]ref
	quotaSum, clientSum int64
}

func (v *validator) run(top mapping) (*Config, error) {
	cfg := &Config{Tiers: tiers.Builtin()}
	// The top-level rows in five parts, with the rules among them between.
	parts := cut(topFields(cfg), "tls_cert_file", "protected_mode", "max_inflight", "maxmemory_clients")
	listeners, tlsFiles, access, service, clients := parts[0], parts[1], parts[2], parts[3], parts[4]
	if err := v.apply(listeners, top, ""); err != nil {
		return nil, err
	}
	if err := v.tlsFiles(tlsFiles, top, cfg); err != nil {
		return nil, err
	}
	if cfg.Listen == "" && cfg.TLSListen == "" {
		s := top.scalar("listen")
		return nil, v.errf(s.line, "listen", "%q is allowed only with tls_listen set: there would be no listener", s.val)
	}
	if err := v.apply(access, top, ""); err != nil { // protected_mode to the limits
		return nil, err
	}
	if s := top.scalar("default_role"); s.set && cfg.DefaultTenant == "" {
		v.warnf(s.line, "default_role has no effect without default_tenant")
	}
	if err := v.limits(top, &cfg.Limits); err != nil {
		return nil, err
	}
	if err := v.apply(service, top, ""); err != nil {
		return nil, err
	}
	var err error
	if cfg.Backing, err = v.backing(top); err != nil {
		return nil, err
	}
	if err := v.tiers(top, cfg); err != nil {
		return nil, err
	}

	ids := seen{tenants: map[string]ref{}, names: map[string]ref{}, digests: map[[32]byte]ref{}, tokens: map[[32]byte]ref{}}
	tenants := top.items("tenants")
	if len(tenants) == 0 {
		return nil, v.errf(top.keyLine("tenants"), "tenants", "no tenants configured")
	}
	for i, item := range tenants {
		t, err := v.tenant(mappingOf(item, item.Line), index("tenants", i), cfg, &ids)
		if err != nil {
			return nil, err
		}
		cfg.Tenants = append(cfg.Tenants, t)
		if cfg.Backing != nil && t.Tier.MaxTTL > 0 {
			v.warnf(item.Line, "%s: max_ttl caps the keys in this server's memory (L1) only: with backing, the cluster (L2) keeps the TTLs commands send it", index("tenants", i))
		}
	}
	// Operators come after the tenants wherever they are in the file, so
	// a clash with a user is reported on the operator's line.
	tokenLine := 0 // of the first operator with a token
	for i, item := range top.items("operators") {
		o, err := v.operator(mappingOf(item, item.Line), index("operators", i), &ids)
		if err != nil {
			return nil, err
		}
		if o.HasToken && tokenLine == 0 {
			tokenLine = item.Line
		}
		cfg.Operators = append(cfg.Operators, o)
	}
	if tokenLine != 0 && cfg.MetricsListen == "" {
		v.warnf(tokenLine, "operator tokens have no effect with metrics_listen off: the HTTP admin API is served on the metrics listener")
	}
	if _, ok := ids.tenants[cfg.DefaultTenant]; cfg.DefaultTenant != "" && !ok {
		return nil, v.errf(top.scalar("default_tenant").line, "default_tenant", "no tenant with id %q", cfg.DefaultTenant)
	}
	if err := v.apply(clients, top, ""); err != nil {
		return nil, err
	}
	if err := v.memory(top, cfg, ids.quotaSum, ids.clientSum); err != nil {
		return nil, err
	}
	return cfg, nil
}

// tlsFiles applies the listener's TLS files, which go with tls_listen.
// (The server reads them, so a rotated certificate needs no config change.)
func (v *validator) tlsFiles(files []field, top mapping, cfg *Config) error {
	for i := range files {
		switch s := top.scalar(files[i].key); {
		case s.set && cfg.TLSListen == "":
			return v.errf(s.line, files[i].key, "requires tls_listen")
		case !s.set && cfg.TLSListen != "" && files[i].key != "tls_ca_file":
			return v.errf(top.scalar("tls_listen").line, files[i].key, "required when tls_listen is set (a PEM file path)")
		}
		if err := v.apply(files[i:i+1], top, ""); err != nil {
			return err
		}
	}
	return nil
}

// limits: a preauth limit the file sets must be no looser than its
// authenticated counterpart; one left at its default is lowered to fit,
// so setting only proto_max_bulk_len: 8KiB is not an error. auth_lockout
// and auth_lockout_max follow the same rule.
func (v *validator) limits(top mapping, l *Limits) error {
	pairs := []struct {
		pre, auth   string
		preVal      *int64
		authVal     int64
		unlimitedOK bool // authVal 0 means unlimited
	}{
		{"preauth_max_bulk_len", "proto_max_bulk_len", &l.PreAuthMaxBulkLen, l.ProtoMaxBulkLen, false},
		{"preauth_query_buffer_limit", "client_query_buffer_limit", &l.PreAuthQueryBufferLimit, l.ClientQueryBufferLimit, false},
		{"preauth_output_buffer_limit", "client_output_buffer_limit", &l.PreAuthOutputBufferLimit, l.ClientOutputBufferLimit, true},
	}
	for _, p := range pairs {
		if *p.preVal <= p.authVal || p.unlimitedOK && p.authVal == 0 {
			continue
		}
		s := top.scalar(p.pre)
		if !s.set {
			*p.preVal = p.authVal
			continue
		}
		return v.errf(s.line, p.pre, "%s exceeds %s %s; a limit before AUTH must not be looser than after it",
			formatSize(*p.preVal), p.auth, formatSize(p.authVal))
	}
	if l.AuthLockout > l.AuthLockoutMax {
		switch lockout, lockoutMax := top.scalar("auth_lockout"), top.scalar("auth_lockout_max"); {
		case !lockoutMax.set:
			l.AuthLockoutMax = l.AuthLockout
		case !lockout.set:
			l.AuthLockout = l.AuthLockoutMax
		default:
			return v.errf(lockoutMax.line, "auth_lockout_max", "%v is less than auth_lockout %v", l.AuthLockoutMax, l.AuthLockout)
		}
	}
	return nil
}

// tiers applies each tiers entry to the built-in tier of its name, or to
// a new tier (priority and weight 1, every other field zero).
func (v *validator) tiers(top mapping, cfg *Config) error {
	e, ok := top.keys["tiers"]
	if !ok {
		return nil
	}
	for _, te := range entries(e.val) {
		name, path := te.key.Value, "tiers."+te.key.Value
		if !validID(name) {
			return v.errf(te.key.Line, path, "invalid tier name %q: want 1-64 of A-Z a-z 0-9 _ -", name)
		}
		t, ok := cfg.Tiers[name]
		if !ok {
			t = tiers.Tier{Name: name, Priority: tiers.DefaultPriority, Weight: tiers.DefaultWeight}
		}
		m := mappingOf(te.val, te.key.Line)
		if err := v.apply(tierEntryFields(&t), m, path); err != nil {
			return err
		}
		if err := v.retention(t, m, path); err != nil {
			return err
		}
		cfg.Tiers[name] = t
	}
	return nil
}

// tenant checks the tenant's id and tier first, then applies its keys on
// top of that tier, then the rules that span tenants.
func (v *validator) tenant(m mapping, path string, cfg *Config, ids *seen) (Tenant, error) {
	var t Tenant
	id := m.scalar("id")
	switch first, dup := ids.tenants[id.val]; {
	case !id.set:
		return t, v.errf(m.line, path+".id", "required")
	case !validID(id.val):
		return t, v.errf(id.line, path+".id", "invalid tenant id %q: want 1-64 of A-Z a-z 0-9 _ -", id.val)
	case dup:
		return t, v.errf(id.line, path+".id", "duplicate tenant id %q (first at line %d)", id.val, first.line)
	}
	ids.tenants[id.val] = ref{field: path + ".id", line: id.line}
	tier := m.scalar("tier")
	if !tier.set {
		return t, v.errf(m.line, path+".tier", "required (one of %s)", tierNames(cfg.Tiers))
	}
	var ok bool
	if t.Tier, ok = cfg.Tiers[tier.val]; !ok {
		return t, v.errf(tier.line, path+".tier", "unknown tier %q (have %s)", tier.val, tierNames(cfg.Tiers))
	}
	own, rest := splitBefore(tenantFields(&t), "eviction")
	if err := v.apply(own, m, path); err != nil {
		return t, err
	}
	if err := v.retention(t.Tier, m, path); err != nil {
		return t, err
	}
	if t.Tier.Burst > 0 && t.Tier.RateLimit == 0 {
		line := m.line // the tier's burst
		if b := m.scalar("burst"); b.set {
			line = b.line
		}
		v.warnf(line, "%s: burst %d has no effect without rate_limit", path, t.Tier.Burst)
	}
	// Each quota is checked against maxmemory before summing, so the sum
	// cannot overflow: it stays <= 2*maxmemory < 2^64.
	if q := t.Quota; q > cfg.MaxMemory || ids.quotaSum+q > cfg.MaxMemory {
		return t, v.errf(m.scalar("quota").line, path+".quota",
			"sum of tenant quotas %s exceeds maxmemory %s; a guarantee that can't be honoured is refused",
			formatSize(sumCapped(ids.quotaSum, q)), formatSize(cfg.MaxMemory))
	}
	ids.quotaSum += t.Quota
	t.ClientMemory = t.Tier.ClientMemory
	if t.ClientMemory == 0 {
		t.ClientMemory = DefaultClientMemory(t.Quota)
	}
	ids.clientSum = sumCapped(ids.clientSum, t.ClientMemory)
	if err := v.apply(rest, m, path); err != nil {
		return t, err
	}

	for j, item := range m.items("users") {
		u, err := v.user(mappingOf(item, item.Line), index(path+".users", j), ids)
		if err != nil {
			return t, err
		}
		t.Users = append(t.Users, u)
	}
	if len(t.Users) == 0 && t.ID != cfg.DefaultTenant {
		return t, v.errf(cmp.Or(m.keyLine("users"), m.line), path+".users", "no users; only default_tenant may have none")
	}
	return t, nil
}

// retention refuses a default_ttl longer than max_ttl: every key written
// without a TTL would break the cap the same file sets. The error names
// whichever of the two this mapping sets (max_ttl first), since the other
// may come from the tier.
func (v *validator) retention(t tiers.Tier, m mapping, path string) error {
	if t.MaxTTL == 0 || t.DefaultTTL <= t.MaxTTL {
		return nil
	}
	key, line := "max_ttl", m.line
	if s := m.scalar("max_ttl"); s.set {
		line = s.line
	} else if s := m.scalar("default_ttl"); s.set {
		key, line = "default_ttl", s.line
	}
	return v.errf(line, path+"."+key, "default_ttl %v is longer than max_ttl %v: keys written without a TTL would outlive the cap", t.DefaultTTL, t.MaxTTL)
}

// memory resolves maxmemory_clients and checks that maxmemory is a process
// guarantee: the tenants' quotas, the client memory (maxmemory_clients) and
// the server's own overhead must all fit in it.
func (v *validator) memory(top mapping, cfg *Config, quotaSum, clientSum int64) error {
	// The pool of connections bound to no tenant must hold at least one
	// pre-AUTH client's largest unfinished command, or a client sending
	// one could never authenticate. (Its replies are flushed every 64KiB
	// and are small before AUTH.)
	minPool := cfg.Limits.PreAuthQueryBufferLimit
	line, field := top.scalar("maxmemory").line, "maxmemory"
	if s := top.scalar("maxmemory_clients"); s.set {
		if cfg.MaxMemoryClients < sumCapped(clientSum, minPool) {
			return v.errf(s.line, "maxmemory_clients",
				"%s does not hold the tenants' client_memory budgets %s plus %s for connections bound to no tenant (one pre-AUTH client's preauth_query_buffer_limit)",
				formatSize(cfg.MaxMemoryClients), formatSize(clientSum), formatSize(minPool))
		}
		line, field = s.line, "maxmemory_clients"
	} else {
		cfg.MaxMemoryClients = DefaultMaxMemoryClients(clientSum, minPool)
		cfg.MaxMemoryClientsDerived = true
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

// user validates one user: its name and password against every identity
// so far, then its own keys.
func (v *validator) user(m mapping, path string, ids *seen) (User, error) {
	name, pw, err := v.login(m, path, "user", ids)
	if err != nil {
		return User{}, err
	}
	u := User{Name: name, PasswordSHA256: pw.sum, Plaintext: pw.plaintext}
	return u, v.apply(userFields(&u), m, path)
}

// operator validates one operator. ids already holds every tenant user,
// and a token must differ from every other operator's.
func (v *validator) operator(m mapping, path string, ids *seen) (Operator, error) {
	name, pw, err := v.login(m, path, "operator", ids)
	if err != nil {
		return Operator{}, err
	}
	o := Operator{Name: name, PasswordSHA256: pw.sum, Plaintext: pw.plaintext}
	tok, err := v.secret(m, path, "token")
	if err != nil || !tok.set {
		return o, err
	}
	if other, dup := ids.tokens[tok.sum]; dup {
		return o, v.errf(tok.line, tok.field, "same token as %s (line %d); a bearer token must identify exactly one operator", other.field, other.line)
	}
	ids.tokens[tok.sum] = ref{field: path, line: m.line}
	o.TokenSHA256, o.HasToken = tok.sum, true
	return o, nil
}

// login checks the name and password of a user or operator (what) against
// every identity so far and records them: AUTH <name> <password> and
// AUTH <password> must each resolve to one identity.
func (v *validator) login(m mapping, path, what string, ids *seen) (string, secretValue, error) {
	s, field := m.scalar("name"), path+".name"
	switch first, dup := ids.names[s.val]; {
	case !s.set:
		return "", secretValue{}, v.errf(m.line, field, "required")
	case strings.EqualFold(s.val, "default"):
		return "", secretValue{}, v.errf(s.line, field, "%s name %q is reserved: AUTH default <password> means password-only authentication", what, s.val)
	case !validUserName(s.val):
		return "", secretValue{}, v.errf(s.line, field, "invalid %s name %q: want 1-64 of A-Z a-z 0-9 _ - . @", what, s.val)
	case dup && what == "user":
		return "", secretValue{}, v.errf(s.line, field, "duplicate user name %q (first as %s at line %d); user names are unique across all tenants", s.val, first.field, first.line)
	case dup:
		return "", secretValue{}, v.errf(s.line, field, "name %q is already used by %s (line %d); operator and user names must all differ, so that AUTH <name> <password> names one identity", s.val, first.field, first.line)
	}
	ids.names[s.val] = ref{field: field, line: s.line}
	pw, err := v.secret(m, path, "password")
	if err != nil {
		return "", pw, err
	}
	if !pw.set {
		return "", pw, v.errf(m.line, path+".password_sha256", "required (or password, for development only)")
	}
	if first, dup := ids.digests[pw.sum]; dup {
		who := map[string]string{"user": "user", "operator": "user or operator"}[what]
		return "", pw, v.errf(pw.line, pw.field, "same password as %s (line %d); AUTH <password> must identify exactly one %s", first.field, first.line, who)
	}
	ids.digests[pw.sum] = ref{field: path, line: m.line}
	return s.val, pw, nil
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

// secret reads a credential given either in clear under key (accepted
// with a warning: "password", "token") or as the hex SHA-256 under
// key+"_sha256". Neither being set is not an error here (set is false):
// whether the credential is required is the caller's rule. The empty
// secret is refused in both forms.
func (v *validator) secret(m mapping, path, key string) (secretValue, error) {
	var sec secretValue
	hashKey := key + "_sha256"
	plain, hashed := m.scalar(key), m.scalar(hashKey)
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

// backing validates the backing section; absent or null is nil.
func (v *validator) backing(top mapping) (*Backing, error) {
	m, ok := top.section("backing")
	if !ok {
		return nil, nil
	}
	b := &Backing{}
	if err := v.apply(backingFields(b), m, "backing"); err != nil {
		return nil, err
	}
	const path = "backing.redis_cluster"
	c, ok := m.section("redis_cluster")
	if !ok {
		return nil, v.errf(m.line, path, "required (a mapping with addrs: [host:port, ...])")
	}
	addrs := c.items("addrs")
	if len(addrs) == 0 {
		return nil, v.errf(cmp.Or(c.keyLine("addrs"), c.line), path+".addrs", "required: at least one host:port of a cluster node")
	}
	seen := make(map[string]int, len(addrs))
	for i, a := range addrs {
		a, field := resolve(a), index(path+".addrs", i)
		if isNull(a) {
			return nil, v.errf(a.Line, field, "empty address: want host:port")
		}
		key, err := checkNodeAddr(a.Value)
		if err != nil {
			return nil, v.errf(a.Line, field, "%v", err)
		}
		if first, dup := seen[key]; dup {
			return nil, v.errf(a.Line, field, "duplicate address %q (first at line %d)", a.Value, first)
		}
		seen[key] = a.Line
		b.Cluster.Addrs = append(b.Cluster.Addrs, a.Value)
	}
	if err := v.apply(clusterFields(&b.Cluster), c, path); err != nil {
		return nil, err
	}
	if s := c.scalar("username"); s.set && !c.scalar("password").set {
		return nil, v.errf(s.line, path+".username", "requires password")
	}
	if s := c.scalar("password"); s.set {
		v.warnf(s.line, "%s.password is plaintext in the configuration file; keep the file readable only by tcached", path)
	}
	var err error
	b.Cluster.TLS, err = v.backingTLS(c, path+".tls")
	return b, err
}

// backingTLS validates backing.redis_cluster.tls: true or false, or a
// mapping whose files are read and parsed here, so that a bad path or PEM
// file stops the server at startup instead of failing every L2 call.
func (v *validator) backingTLS(c mapping, path string) (*BackingTLS, error) {
	e, ok := c.keys["tls"]
	switch {
	case !ok || isNull(e.val):
		return nil, nil
	case e.val.Kind == yaml.ScalarNode:
		on, ok := parseBool(e.val.Value)
		if !ok {
			return nil, v.errf(e.val.Line, path, "invalid tls %q: want true, false or a mapping (%s)",
				e.val.Value, strings.Join(keys(backingTLSFields(new(BackingTLS))), ", "))
		}
		if !on {
			return nil, nil
		}
		return &BackingTLS{}, nil
	}
	t := &BackingTLS{}
	m := mappingOf(e.val, e.key.Line)
	files, rest := splitBefore(backingTLSFields(t), "server_name")
	if err := v.apply(files, m, path); err != nil {
		return nil, err
	}
	ca, cert, key := m.scalar("ca_file"), m.scalar("cert_file"), m.scalar("key_file")
	switch {
	case cert.set && !key.set:
		return nil, v.errf(cert.line, path+".cert_file", "requires key_file")
	case key.set && !cert.set:
		return nil, v.errf(key.line, path+".key_file", "requires cert_file")
	}
	if t.CAFile != "" {
		data, err := readPEMFile(t.CAFile)
		if err != nil {
			return nil, v.errf(ca.line, path+".ca_file", "%v", err)
		}
		if !x509.NewCertPool().AppendCertsFromPEM(data) {
			return nil, v.errf(ca.line, path+".ca_file", "no PEM certificate in %q", t.CAFile)
		}
	}
	if t.CertFile != "" {
		certPEM, err := readPEMFile(t.CertFile)
		if err != nil {
			return nil, v.errf(cert.line, path+".cert_file", "%v", err)
		}
		if !hasPEMCertificate(certPEM) {
			return nil, v.errf(cert.line, path+".cert_file", "no PEM certificate in %q", t.CertFile)
		}
		keyPEM, err := readPEMFile(t.KeyFile)
		if err != nil {
			return nil, v.errf(key.line, path+".key_file", "%v", err)
		}
		if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
			return nil, v.errf(key.line, path+".key_file", "%q does not hold the private key of %q: %v", t.KeyFile, t.CertFile, err)
		}
	}
	if err := v.apply(rest, m, path); err != nil {
		return nil, err
	}
	if t.InsecureSkipVerify {
		v.warnf(m.scalar("insecure_skip_verify").line, "%s.insecure_skip_verify accepts any certificate the cluster presents; use ca_file for a private CA", path)
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

func tierNames(m map[string]tiers.Tier) string {
	return strings.Join(slices.Sorted(maps.Keys(m)), ", ")
}
