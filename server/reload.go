package server

import (
	"errors"
	"reflect"

	"github.com/tcached/tcached/config"
)

// ReloadFromSource re-reads the configuration through Options.Reload and
// applies it (SIGHUP, TENANT RELOAD). An invalid new config is rejected as
// a whole, logged and audited; the old one keeps serving.
func (s *Server) ReloadFromSource(source string) error {
	if s.loader == nil {
		return errors.New("no config source to reload from")
	}
	cfg, warnings, err := s.loader()
	if err != nil {
		s.log.Error("config reload rejected; the old config keeps serving", "source", source, "err", err)
		s.audit("reload", "", source, "", "reload", "rejected", "err", err.Error())
		return err
	}
	for _, w := range warnings {
		s.log.Warn(w)
	}
	if err := s.Reload(cfg); err != nil {
		s.log.Error("config reload rejected; the old config keeps serving", "source", source, "err", err)
		s.audit("reload", "", source, "", "reload", "rejected", "err", err.Error())
		return err
	}
	s.log.Info("config reloaded", "source", source, "tenants", len(cfg.Tenants))
	s.audit("reload", "", source, "", "reload", "ok", "tenants", len(cfg.Tenants))
	return nil
}

// Reload applies a validated configuration without a restart: tenants are
// added, removed (their connections closed and their memory freed) or
// changed in place (quota, eviction policy, tier policy), users and
// passwords are replaced, and other tenants' data and connections are not
// touched. The new registry is built completely before anything changes,
// so a failure leaves the old configuration serving. Listener, TLS and
// connection-limit settings need a restart; a change to them is logged.
func (s *Server) Reload(cfg *config.Config) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	old := s.reg.Load()
	reg, apply, err := s.buildRegistry(cfg, old)
	if err != nil {
		return err
	}
	// quotaMu: a concurrent TENANT QUOTA checks its sum against the
	// registry it sees; applying new quotas under the same lock keeps the
	// sum of quotas within maxmemory.
	s.quotaMu.Lock()
	for _, f := range apply {
		f()
	}
	s.reg.Store(reg)
	s.setBudgets(reg)
	s.refreshAllHooks() // new tenants heard by operators' MONITOR (monitor.go)
	s.quotaMu.Unlock()
	s.warnRestartOnly(old.cfg, cfg)

	// Close what the new config no longer has: connections of removed
	// tenants (whose memory is then freed), of removed users, of users whose
	// role changed (a downgrade must not linger on open connections), and of
	// connections bound to a default tenant that is no longer the default
	// or whose default_role changed.
	removed := map[*tenant]bool{}
	for _, t := range old.order {
		if reg.tenants[t.id] != t {
			removed[t] = true
		}
	}
	s.mu.Lock()
	var kill []*client
	for _, c := range s.clients {
		c.mu.Lock()
		t, name, op, role := c.tenant, c.user, c.operator, c.role
		c.mu.Unlock()
		u := reg.users[name]
		switch {
		case t != nil && removed[t]:
			kill = append(kill, c)
		case op && (u == nil || !u.operator):
			kill = append(kill, c)
		case t != nil && name == "default" && (reg.defTenant != t || reg.cfg.DefaultRole != role):
			kill = append(kill, c)
		case t != nil && name != "default" && (u == nil || u.tenant != t || u.cfg.Role != role):
			kill = append(kill, c)
		}
	}
	s.mu.Unlock()
	for _, c := range kill {
		c.kill()
	}
	for t := range removed {
		n := t.part.Flush(-1)
		t.adm.Close()
		s.log.Info("tenant removed", "tenant", t.id, "keys_freed", n)
	}
	return nil
}

// warnRestartOnly logs settings a reload cannot apply to open listeners.
func (s *Server) warnRestartOnly(old, cfg *config.Config) {
	for _, d := range []struct {
		name     string
		old, new any
	}{
		{"listen", old.Listen, cfg.Listen},
		{"tls_listen", old.TLSListen, cfg.TLSListen},
		{"tls files", [3]string{old.TLSCertFile, old.TLSKeyFile, old.TLSCAFile}, [3]string{cfg.TLSCertFile, cfg.TLSKeyFile, cfg.TLSCAFile}},
		{"metrics_listen", old.MetricsListen, cfg.MetricsListen},
		{"limits", old.Limits, cfg.Limits},
		{"protected_mode", old.ProtectedMode, cfg.ProtectedMode},
		{"max_inflight", old.MaxInFlight, cfg.MaxInFlight},
		{"audit_log", old.AuditLog, cfg.AuditLog},
	} {
		if !reflect.DeepEqual(d.old, d.new) {
			s.log.Warn("config reload: this setting needs a restart; the running value is kept", "setting", d.name)
		}
	}
}
