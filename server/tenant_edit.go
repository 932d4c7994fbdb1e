package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/config"
)

// Tenants at runtime: TENANT CREATE, SET, DELETE and USER ADD|DEL (and
// their HTTP equivalents in admin_http.go) rewrite the config file, as
// Redis's CONFIG REWRITE does, then reload it. The file stays the one
// source of truth: a later reload, SIGHUP or restart reads the change. A
// change is validated exactly as the file is (config.EditTenants parses
// the edited file), written atomically (a temporary file in the same
// directory, fsynced, renamed over the old one), then applied with
// Reload; if the reload refuses it, the old file is put back. Nothing is
// written or changed when validation fails.

var errNoConfigFile = errors.New("no config file to rewrite: this server was not started from one")

// editTenants applies e to the config file and reloads it.
func (s *Server) editTenants(e config.TenantEdit, source string) error {
	if s.configPath == "" {
		return errNoConfigFile
	}
	s.editMu.Lock()
	defer s.editMu.Unlock()
	old, err := os.ReadFile(s.configPath)
	if err != nil {
		return err
	}
	out, cfg, warnings, err := config.EditTenants(old, s.configPath, e)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(s.configPath, out); err != nil {
		return fmt.Errorf("cannot rewrite %s: %w", s.configPath, err)
	}
	if err := s.Reload(cfg); err != nil {
		if rerr := writeFileAtomic(s.configPath, old); rerr != nil {
			s.log.Error("could not restore the config file after a refused change", "path", s.configPath, "err", rerr)
		}
		return err
	}
	for _, w := range warnings {
		s.log.Warn(w)
	}
	s.log.Info("config rewritten and reloaded", "source", source, "path", s.configPath, "tenants", len(cfg.Tenants))
	return nil
}

// writeFileAtomic replaces path with data: readers see the old file or
// the new one, never a part, and a crash leaves one of the two. The new
// file keeps the old one's permissions.
func writeFileAtomic(path string, data []byte) error {
	mode := os.FileMode(0o600)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op after the rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // the rename itself; not every file system supports it
		d.Close()
	}
	return nil
}

// parseRole reads a role argument (readonly, readwrite, admin; any case).
func parseRole(a []byte) (config.Role, bool) {
	for _, r := range []config.Role{config.RoleReadOnly, config.RoleReadWrite, config.RoleAdmin} {
		if strings.EqualFold(string(a), r.String()) {
			return r, true
		}
	}
	return 0, false
}

// userArgs reads "<name> <password> [<role>]" into a user whose password
// is kept as its SHA-256 only.
func userArgs(args [][]byte) (config.User, bool) {
	if len(args) < 2 || len(args) > 3 {
		return config.User{}, false
	}
	u := config.User{Name: string(args[0]), PasswordSHA256: config.HashPassword(string(args[1])), Role: config.RoleReadWrite}
	if len(args) == 3 {
		r, ok := parseRole(args[2])
		if !ok {
			return u, false
		}
		u.Role = r
	}
	return u, true
}

// runTenantEdit runs e for a TENANT command and answers OK or the reason.
func runTenantEdit(c *client, sub string, e config.TenantEdit) {
	if err := c.srv.editTenants(e, "TENANT "+strings.ToUpper(sub)+" by "+c.userName()); err != nil {
		c.audit("tenant|"+sub, e.ID, "rejected", "err", err.Error())
		c.conn.WriteError(errTenantChange + err.Error())
		return
	}
	c.audit("tenant|"+sub, e.ID, "ok")
	c.conn.WriteString("OK")
}

// cmdTenantCreate: TENANT CREATE <id> <tier> <quota> [USER <name> <password> [<role>]].
// A tenant needs a user (unless it is the default tenant), as in the file.
func cmdTenantCreate(c *client, args [][]byte) {
	if !operatorOnly(c, args) {
		return
	}
	e := config.TenantEdit{Op: config.TenantCreate, ID: string(args[2]), Tier: string(args[3]), Quota: string(args[4])}
	if len(args) > 5 {
		u, ok := userArgs(args[6:])
		if !command.EqFold(args[5], "user") || !ok {
			c.conn.WriteError(command.ErrSyntax)
			return
		}
		e.User = u
	}
	runTenantEdit(c, "create", e)
}

// cmdTenantSet: TENANT SET <id> <key> <value>, any tenant key of the
// config file but id and users, the value as it would be written there.
func cmdTenantSet(c *client, args [][]byte) {
	if !operatorOnly(c, args) {
		return
	}
	runTenantEdit(c, "set", config.TenantEdit{Op: config.TenantSet, ID: string(args[2]), Field: strings.ToLower(string(args[3])), Value: string(args[4])})
}

// cmdTenantDelete: TENANT DELETE <id>. Its connections are closed and its
// keys freed, as when a reload drops it.
func cmdTenantDelete(c *client, args [][]byte) {
	if !operatorOnly(c, args) {
		return
	}
	runTenantEdit(c, "delete", config.TenantEdit{Op: config.TenantDelete, ID: string(args[2])})
}

// cmdTenantUser: TENANT USER ADD <id> <name> <password> [<role>] | TENANT
// USER DEL <id> <name>. A removed user's connections are closed.
func cmdTenantUser(c *client, args [][]byte) {
	if !operatorOnly(c, args) {
		return
	}
	switch {
	case command.EqFold(args[2], "add") && len(args) >= 6:
		u, ok := userArgs(args[4:])
		if !ok {
			c.conn.WriteError(command.ErrSyntax)
			return
		}
		runTenantEdit(c, "user", config.TenantEdit{Op: config.TenantUserAdd, ID: string(args[3]), User: u})
	case command.EqFold(args[2], "del") && len(args) == 5:
		runTenantEdit(c, "user", config.TenantEdit{Op: config.TenantUserDel, ID: string(args[3]), User: config.User{Name: string(args[4])}})
	default:
		c.conn.WriteError(command.ErrSyntax)
	}
}
