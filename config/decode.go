package config

import (
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
)

// This file turns the yaml.Node tree into raw values that remember the line
// each came from. It checks only shape (mappings, sequences, scalars, known
// and unique keys); every rule about values lives in validate.go, so there
// is exactly one place to read to learn what a valid configuration is.

// scalar is one raw YAML scalar. A null value (`key:`, `key: ~`) leaves set
// false, so it means the same as omitting the key.
type scalar struct {
	set  bool
	val  string
	line int
}

type rawConfig struct {
	line                                                         int
	listen, metricsListen, maxMemory, defaultTenant, defaultRole scalar
	protectedMode, maxInFlight                                   scalar
	tlsListen, tlsCertFile, tlsKeyFile, tlsCAFile                scalar
	auditLog, hotTenantShare, hotTenantInterval                  scalar
	fairShare, fairShareDelayTarget                              scalar
	maxMemoryClients                                             scalar
	limits                                                       rawLimits
	tiers                                                        []rawTier
	tenants                                                      []rawTenant
	tenantsLine                                                  int
	operators                                                    []rawOperator
	backing                                                      *rawBacking // nil: no backing key, or a null one
}

// rawLimits holds the top-level keys that become Config.Limits.
type rawLimits struct {
	maxClients, timeout, authTimeout, writeTimeout                   scalar
	protoMaxBulkLen, clientQueryBufferLimit, clientOutputBufferLimit scalar
	preAuthMaxArgs, preAuthMaxBulkLen, preAuthQueryBufferLimit       scalar
	preAuthOutputBufferLimit, maxInlineLen                           scalar
	authMaxFailures, authLockout, authLockoutMax                     scalar
}

// topScalars maps each single-valued top-level key to where it is decoded.
func (r *rawConfig) topScalars() map[string]*scalar {
	l := &r.limits
	return map[string]*scalar{
		"listen":                      &r.listen,
		"metrics_listen":              &r.metricsListen,
		"maxmemory":                   &r.maxMemory,
		"maxmemory_clients":           &r.maxMemoryClients,
		"default_tenant":              &r.defaultTenant,
		"default_role":                &r.defaultRole,
		"protected_mode":              &r.protectedMode,
		"max_inflight":                &r.maxInFlight,
		"tls_listen":                  &r.tlsListen,
		"tls_cert_file":               &r.tlsCertFile,
		"tls_key_file":                &r.tlsKeyFile,
		"tls_ca_file":                 &r.tlsCAFile,
		"audit_log":                   &r.auditLog,
		"hot_tenant_share":            &r.hotTenantShare,
		"hot_tenant_interval":         &r.hotTenantInterval,
		"fair_share":                  &r.fairShare,
		"fair_share_delay_target":     &r.fairShareDelayTarget,
		"maxclients":                  &l.maxClients,
		"timeout":                     &l.timeout,
		"auth_timeout":                &l.authTimeout,
		"write_timeout":               &l.writeTimeout,
		"proto_max_bulk_len":          &l.protoMaxBulkLen,
		"client_query_buffer_limit":   &l.clientQueryBufferLimit,
		"client_output_buffer_limit":  &l.clientOutputBufferLimit,
		"preauth_max_args":            &l.preAuthMaxArgs,
		"preauth_max_bulk_len":        &l.preAuthMaxBulkLen,
		"preauth_query_buffer_limit":  &l.preAuthQueryBufferLimit,
		"preauth_output_buffer_limit": &l.preAuthOutputBufferLimit,
		"max_inline_len":              &l.maxInlineLen,
		"auth_max_failures":           &l.authMaxFailures,
		"auth_lockout":                &l.authLockout,
		"auth_lockout_max":            &l.authLockoutMax,
	}
}

// rawOverrides are the tier fields a tenant may override; a tiers entry
// accepts them too (plus priority).
type rawOverrides struct {
	defaultTTL, timeout, maxConcurrent, maxConnections scalar
	rateLimit, burst, maxArgBytes, l2Quota             scalar
	weight, clientMemory                               scalar
}

// field decodes key into o if it is an override key; ok is false otherwise.
func (o *rawOverrides) field(d *decoder, key, field string, v *yaml.Node) (ok bool, err error) {
	switch key {
	case "default_ttl":
		return true, d.scalar(v, field, &o.defaultTTL)
	case "timeout":
		return true, d.scalar(v, field, &o.timeout)
	case "max_concurrent":
		return true, d.scalar(v, field, &o.maxConcurrent)
	case "max_connections":
		return true, d.scalar(v, field, &o.maxConnections)
	case "rate_limit":
		return true, d.scalar(v, field, &o.rateLimit)
	case "burst":
		return true, d.scalar(v, field, &o.burst)
	case "max_arg_bytes":
		return true, d.scalar(v, field, &o.maxArgBytes)
	case "l2_quota":
		return true, d.scalar(v, field, &o.l2Quota)
	case "weight":
		return true, d.scalar(v, field, &o.weight)
	case "client_memory":
		return true, d.scalar(v, field, &o.clientMemory)
	}
	return false, nil
}

type rawTier struct {
	name      string
	line      int
	overrides rawOverrides
	priority  scalar
}

type rawTenant struct {
	line                      int
	id, tier, quota, eviction scalar
	shedReadsAsMiss           scalar
	overrides                 rawOverrides
	users                     []rawUser
	usersLine                 int
}

type rawUser struct {
	line                                 int
	name, password, passwordSHA256, role scalar
}

// rawOperator is one entry of operators: a user bound to no tenant, with
// an optional bearer token for the HTTP admin API.
type rawOperator struct {
	line                                               int
	name, password, passwordSHA256, token, tokenSHA256 scalar
}

// rawBacking is the backing mapping: Redis Cluster as the store of record
// (L2). line is the line of the backing key, for errors about absent keys.
type rawBacking struct {
	line                                       int
	keyPrefix, l1MaxTTL, scanTimeout           scalar
	breakerFailures, breakerCooloff, reconcile scalar
	cluster                                    *rawCluster // nil when redis_cluster is absent or null
}

// rawCluster is backing.redis_cluster. line is the redis_cluster key's.
type rawCluster struct {
	line               int
	addrs              []scalar
	addrsLine          int // of the addrs key; 0 when absent
	username, password scalar
	tls                rawBackingTLS
}

// rawBackingTLS is backing.redis_cluster.tls, either a single value
// (true/false: flag) or a mapping (isMap). Neither set means absent or null.
type rawBackingTLS struct {
	flag                           scalar
	isMap                          bool
	caFile, certFile, keyFile      scalar
	serverName, insecureSkipVerify scalar
}

type decoder struct {
	source string
	// budget bounds the nodes visited. Without aliases a document has fewer
	// nodes than bytes; aliases can multiply that (a "billion laughs"), so
	// Parse sets the budget from the input size and an over-budget document
	// is refused rather than expanded.
	budget int
}

func (d *decoder) errf(n *yaml.Node, field, format string, args ...any) *Error {
	e := &Error{Source: d.source, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line = n.Line
	}
	return e
}

// node follows aliases and charges the visit against the budget.
func (d *decoder) node(n *yaml.Node, field string) (*yaml.Node, error) {
	for n != nil && n.Kind == yaml.AliasNode {
		d.budget--
		if n.Alias == nil {
			return nil, d.errf(n, field, "unresolved alias")
		}
		n = n.Alias
	}
	d.budget--
	if d.budget < 0 {
		return nil, d.errf(n, field, "document too large after alias expansion")
	}
	return n, nil
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a single value"
	case yaml.DocumentNode:
		return "a document"
	}
	return "nothing"
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// mapping calls fn for each key of a mapping node in order, rejecting
// non-scalar and duplicate keys. A null node is an empty mapping.
func (d *decoder) mapping(n *yaml.Node, path string, fn func(key string, k, v *yaml.Node) error) error {
	n, err := d.node(n, path)
	if err != nil {
		return err
	}
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return d.errf(n, path, "expected a mapping, got %s", kindName(n.Kind))
	}
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, err := d.node(n.Content[i], path)
		if err != nil {
			return err
		}
		if k.Kind != yaml.ScalarNode {
			return d.errf(k, path, "keys must be single values, got %s", kindName(k.Kind))
		}
		if first, dup := seen[k.Value]; dup {
			return d.errf(k, join(path, k.Value), "duplicate key (first at line %d)", first)
		}
		seen[k.Value] = k.Line
		if err := fn(k.Value, k, n.Content[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// sequence calls fn for each item of a list node. A null node is empty.
func (d *decoder) sequence(n *yaml.Node, path string, fn func(i int, item *yaml.Node) error) error {
	n, err := d.node(n, path)
	if err != nil {
		return err
	}
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return d.errf(n, path, "expected a list, got %s", kindName(n.Kind))
	}
	for i, item := range n.Content {
		if err := fn(i, item); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) scalar(n *yaml.Node, path string, dst *scalar) error {
	n, err := d.node(n, path)
	if err != nil {
		return err
	}
	if n.Kind != yaml.ScalarNode {
		return d.errf(n, path, "expected a single value, got %s", kindName(n.Kind))
	}
	*dst = scalar{line: n.Line}
	if !isNull(n) {
		dst.set, dst.val = true, n.Value
	}
	return nil
}

func (d *decoder) unknown(k *yaml.Node, path, key string) error {
	return d.errf(k, join(path, key), "unknown key")
}

func (d *decoder) config(root *yaml.Node) (*rawConfig, error) {
	root, err := d.node(root, "")
	if err != nil {
		return nil, err
	}
	if root.Kind != yaml.MappingNode {
		return nil, d.errf(root, "", "top level must be a mapping, got %s", kindName(root.Kind))
	}
	r := &rawConfig{line: root.Line}
	scalars := r.topScalars()
	err = d.mapping(root, "", func(key string, k, v *yaml.Node) error {
		if dst, ok := scalars[key]; ok {
			return d.scalar(v, key, dst)
		}
		switch key {
		case "tiers":
			return d.mapping(v, key, func(name string, k, v *yaml.Node) error {
				t := rawTier{name: name, line: k.Line}
				path := "tiers." + name
				err := d.mapping(v, path, func(key string, k, v *yaml.Node) error {
					if ok, err := t.overrides.field(d, key, join(path, key), v); ok {
						return err
					}
					if key == "priority" {
						return d.scalar(v, join(path, key), &t.priority)
					}
					return d.unknown(k, path, key)
				})
				r.tiers = append(r.tiers, t)
				return err
			})
		case "tenants":
			r.tenantsLine = k.Line
			return d.sequence(v, key, func(i int, item *yaml.Node) error {
				t, err := d.tenant(item, "tenants["+strconv.Itoa(i)+"]")
				r.tenants = append(r.tenants, t)
				return err
			})
		case "operators":
			return d.sequence(v, key, func(i int, item *yaml.Node) error {
				o, err := d.operator(item, "operators["+strconv.Itoa(i)+"]")
				r.operators = append(r.operators, o)
				return err
			})
		case "backing":
			return d.backing(k, v, r)
		}
		return d.unknown(k, "", key)
	})
	return r, err
}

func (d *decoder) tenant(n *yaml.Node, path string) (rawTenant, error) {
	t := rawTenant{line: n.Line}
	err := d.mapping(n, path, func(key string, k, v *yaml.Node) error {
		field := join(path, key)
		if ok, err := t.overrides.field(d, key, field, v); ok {
			return err
		}
		switch key {
		case "id":
			return d.scalar(v, field, &t.id)
		case "tier":
			return d.scalar(v, field, &t.tier)
		case "quota":
			return d.scalar(v, field, &t.quota)
		case "eviction":
			return d.scalar(v, field, &t.eviction)
		case "shed_reads_as_miss":
			return d.scalar(v, field, &t.shedReadsAsMiss)
		case "users":
			t.usersLine = k.Line
			return d.sequence(v, field, func(i int, item *yaml.Node) error {
				u, err := d.user(item, field+"["+strconv.Itoa(i)+"]")
				t.users = append(t.users, u)
				return err
			})
		}
		return d.unknown(k, path, key)
	})
	return t, err
}

func (d *decoder) user(n *yaml.Node, path string) (rawUser, error) {
	u := rawUser{line: n.Line}
	err := d.mapping(n, path, func(key string, k, v *yaml.Node) error {
		field := join(path, key)
		switch key {
		case "name":
			return d.scalar(v, field, &u.name)
		case "password":
			return d.scalar(v, field, &u.password)
		case "password_sha256":
			return d.scalar(v, field, &u.passwordSHA256)
		case "role":
			return d.scalar(v, field, &u.role)
		}
		return d.unknown(k, path, key)
	})
	return u, err
}

func (d *decoder) operator(n *yaml.Node, path string) (rawOperator, error) {
	o := rawOperator{line: n.Line}
	err := d.mapping(n, path, func(key string, k, v *yaml.Node) error {
		field := join(path, key)
		switch key {
		case "name":
			return d.scalar(v, field, &o.name)
		case "password":
			return d.scalar(v, field, &o.password)
		case "password_sha256":
			return d.scalar(v, field, &o.passwordSHA256)
		case "token":
			return d.scalar(v, field, &o.token)
		case "token_sha256":
			return d.scalar(v, field, &o.tokenSHA256)
		}
		return d.unknown(k, path, key)
	})
	return o, err
}

// backing decodes the backing mapping into r.backing; a null value leaves
// it nil, the same as no backing key.
func (d *decoder) backing(k, v *yaml.Node, r *rawConfig) error {
	const path = "backing"
	v, err := d.node(v, path)
	if err != nil || isNull(v) {
		return err
	}
	b := &rawBacking{line: k.Line}
	r.backing = b
	return d.mapping(v, path, func(key string, k, v *yaml.Node) error {
		field := join(path, key)
		switch key {
		case "key_prefix":
			return d.scalar(v, field, &b.keyPrefix)
		case "l1_max_ttl":
			return d.scalar(v, field, &b.l1MaxTTL)
		case "scan_timeout":
			return d.scalar(v, field, &b.scanTimeout)
		case "breaker_failures":
			return d.scalar(v, field, &b.breakerFailures)
		case "breaker_cooloff":
			return d.scalar(v, field, &b.breakerCooloff)
		case "reconcile_interval":
			return d.scalar(v, field, &b.reconcile)
		case "redis_cluster":
			return d.cluster(k, v, field, b)
		}
		return d.unknown(k, path, key)
	})
}

// cluster decodes backing.redis_cluster into b.cluster; null leaves it nil.
func (d *decoder) cluster(k, v *yaml.Node, path string, b *rawBacking) error {
	v, err := d.node(v, path)
	if err != nil || isNull(v) {
		return err
	}
	c := &rawCluster{line: k.Line}
	b.cluster = c
	return d.mapping(v, path, func(key string, k, v *yaml.Node) error {
		field := join(path, key)
		switch key {
		case "addrs":
			c.addrsLine = k.Line
			return d.sequence(v, field, func(i int, item *yaml.Node) error {
				var a scalar
				err := d.scalar(item, field+"["+strconv.Itoa(i)+"]", &a)
				c.addrs = append(c.addrs, a)
				return err
			})
		case "username":
			return d.scalar(v, field, &c.username)
		case "password":
			return d.scalar(v, field, &c.password)
		case "tls":
			return d.backingTLS(v, field, &c.tls)
		}
		return d.unknown(k, path, key)
	})
}

// backingTLS decodes backing.redis_cluster.tls, which is either a single
// value (true or false) or a mapping of TLS settings.
func (d *decoder) backingTLS(v *yaml.Node, path string, t *rawBackingTLS) error {
	v, err := d.node(v, path)
	if err != nil || isNull(v) {
		return err
	}
	switch v.Kind {
	case yaml.ScalarNode:
		return d.scalar(v, path, &t.flag)
	case yaml.MappingNode:
		t.isMap = true
		return d.mapping(v, path, func(key string, k, v *yaml.Node) error {
			field := join(path, key)
			switch key {
			case "ca_file":
				return d.scalar(v, field, &t.caFile)
			case "cert_file":
				return d.scalar(v, field, &t.certFile)
			case "key_file":
				return d.scalar(v, field, &t.keyFile)
			case "server_name":
				return d.scalar(v, field, &t.serverName)
			case "insecure_skip_verify":
				return d.scalar(v, field, &t.insecureSkipVerify)
			}
			return d.unknown(k, path, key)
		})
	}
	return d.errf(v, path, "expected true, false or a mapping, got %s", kindName(v.Kind))
}
