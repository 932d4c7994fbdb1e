package server

import (
	"fmt"

	"github.com/tcached/tcached/admission"
	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/config"
	"github.com/tcached/tcached/metrics"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/tiers"
)

// registry is the server's view of its configuration: tenants, users and
// the default tenant. It is immutable once built; a reload builds a new
// one (reusing the tenants that stay, with their data) and swaps the
// pointer, so readers never lock and never see half a reload.
type registry struct {
	cfg       *config.Config
	tenants   map[string]*tenant
	order     []*tenant // config order
	users     map[string]*user
	byHash    map[[32]byte]*user
	defTenant *tenant
	tokens    []operatorToken // HTTP admin API bearer tokens
}

type operatorToken struct {
	name string
	sha  [32]byte
}

// buildRegistry makes the registry for cfg. Tenants present in old (same
// id) are reused: their partition, counters and connections survive, and
// their policy is updated in place by apply (called only once the whole
// new registry has been built, so a failed build changes nothing).
func (s *Server) buildRegistry(cfg *config.Config, old *registry) (*registry, []func(), error) {
	r := &registry{
		cfg:     cfg,
		tenants: make(map[string]*tenant, len(cfg.Tenants)),
		users:   make(map[string]*user),
		byHash:  make(map[[32]byte]*user),
	}
	var apply []func()
	for i := range cfg.Tenants {
		tc := &cfg.Tenants[i]
		if _, dup := r.tenants[tc.ID]; dup {
			return nil, nil, fmt.Errorf("duplicate tenant %q", tc.ID)
		}
		var t *tenant
		if old != nil {
			t = old.tenants[tc.ID]
		}
		if t == nil {
			t = &tenant{
				id:     tc.ID,
				backed: s.backend != nil,
				part: shard.New(shard.Config{
					Quota:      tc.Quota,
					NoEviction: tc.Eviction == config.NoEviction && s.backend == nil,
					Shards:     s.shards,
					Now:        s.wallMs,
				}),
				adm:     s.admission.Tenant(admission.PolicyFromTier(tc.Tier)),
				latency: metrics.NewHistogram(metrics.LatencyBuckets),
				enc:     command.NewEncodings(),
				types:   command.NewTypeParams(),
				gate:    make(chan struct{}, 1),
			}
			t.cmem.tenant = tc.ID
			t.diag.init()
			t.part.SetOnDrop(t.onDrop) // expired and evicted keys' invalidations (tracking.go)
			if !t.backed {
				// In backed mode the partition is a cache: its fills and
				// invalidations change no data, and must not abort a
				// watcher's EXEC (a watcher's own read fills L1). Writes
				// through the node mark watchers from the command instead
				// (touchWrite), and EXEC's fingerprints catch the rest.
				t.part.SetOnModify(t.onModify) // WATCH (multi.go)
			}
			t.setConf(tc)
		} else {
			t := t
			apply = append(apply, func() { t.reconfigure(tc) })
		}
		r.tenants[tc.ID] = t
		r.order = append(r.order, t)
		for _, uc := range tc.Users {
			if err := r.addUser(&user{cfg: uc, tenant: t}); err != nil {
				return nil, nil, err
			}
		}
	}
	for _, op := range cfg.Operators {
		u := &user{cfg: config.User{Name: op.Name, PasswordSHA256: op.PasswordSHA256, Role: config.RoleAdmin}, operator: true}
		if err := r.addUser(u); err != nil {
			return nil, nil, err
		}
		if op.HasToken {
			r.tokens = append(r.tokens, operatorToken{name: op.Name, sha: op.TokenSHA256})
		}
	}
	if cfg.DefaultTenant != "" {
		r.defTenant = r.tenants[cfg.DefaultTenant]
		if r.defTenant == nil {
			return nil, nil, fmt.Errorf("default_tenant %q is not a tenant", cfg.DefaultTenant)
		}
	}
	return r, apply, nil
}

func (r *registry) addUser(u *user) error {
	if _, dup := r.users[u.cfg.Name]; dup {
		return fmt.Errorf("duplicate user %q", u.cfg.Name)
	}
	if _, dup := r.byHash[u.cfg.PasswordSHA256]; dup {
		return fmt.Errorf("user %q shares a password with another user", u.cfg.Name)
	}
	r.users[u.cfg.Name] = u
	r.byHash[u.cfg.PasswordSHA256] = u
	return nil
}

// setConf publishes a tenant's configuration for readers on any goroutine.
func (t *tenant) setConf(tc *config.Tenant) {
	t.defaultTTLms.Store(tc.Tier.DefaultTTL.Milliseconds())
	// The retention cap: a new or lower cap also applies to the keys
	// already stored (one pass over the tenant's sub-shards, a lock at a
	// time), so a reload that sets max_ttl leaves no key without an expiry.
	old, _ := t.part.MaxTTL()
	maxTTL := tc.Tier.MaxTTL.Milliseconds()
	t.part.SetMaxTTL(maxTTL, tc.Tier.MaxTTLPolicy == tiers.TTLRefuse)
	if maxTTL > 0 && (old == 0 || maxTTL < old) {
		t.part.CapExpiries()
	}
	t.conf.Store(tc)
}

// reconfigure applies a reloaded configuration to a live tenant: quota
// (shrinking evicts only this tenant's LRU keys), eviction policy, tier
// policy (TTL default, admission limits). Its keys are untouched.
func (t *tenant) reconfigure(tc *config.Tenant) {
	t.part.SetQuota(tc.Quota)
	// Backed, the partition is a cache of L2: it always evicts, and the
	// L2 quota refuses writes instead.
	t.part.SetNoEviction(tc.Eviction == config.NoEviction && !t.backed)
	t.adm.SetPolicy(admission.PolicyFromTier(tc.Tier))
	t.busyOverride.Store(0) // a CONFIG SET busy-reply-threshold lasts until a reload
	t.setConf(tc)
}

func (t *tenant) cfg() *config.Tenant { return t.conf.Load() }
