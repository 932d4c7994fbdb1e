package server

import (
	"context"
	"log/slog"
)

// audit writes one audit record (JSON lines when the composition root
// passes a JSON slog handler): AUTH successes and failures, FLUSHDB and
// FLUSHALL, every TENANT command, config reloads and admin HTTP calls.
// Records carry who (tenant, user or operator, client address), what
// (the command name and target tenant) and the result; never a key, a
// value or a password.
func (s *Server) audit(event, tenant, user, addr, command, result string, extra ...any) {
	if s.auditLog == nil {
		return
	}
	attrs := []any{"event", event, "tenant", tenant, "user", user, "client", addr, "command", command, "result", result}
	s.auditLog.Log(context.Background(), slog.LevelInfo, "audit", append(attrs, extra...)...)
}

// audit records a command run on connection c; target is the tenant it
// acted on ("" for the connection's own).
func (c *client) audit(command, target, result string, extra ...any) {
	tenant := target
	if tenant == "" && c.tenant != nil {
		tenant = c.tenant.id
	}
	c.srv.audit("command", tenant, c.userName(), c.addr, command, result, extra...)
}
