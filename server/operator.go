package server

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/config"
)

// The TENANT command family, for operators (bound to no tenant) and, for
// TENANT INFO of its own tenant only, a tenant's admin user. Every TENANT
// command is audited.

// tenantArg resolves the tenant named by args[2] and checks that the caller
// may act on it: operators on any tenant; with ownAdmin, a tenant's admin
// user on its own tenant.
func tenantArg(c *client, args [][]byte, ownAdmin bool) (*tenant, bool) {
	sub := "tenant|" + strings.ToLower(string(args[1]))
	id := string(args[2])
	t := c.srv.reg.Load().tenants[id]
	allowed := c.operator || ownAdmin && c.tenant != nil && c.role == config.RoleAdmin && c.tenant == t
	if !allowed {
		c.audit(sub, id, "refused")
		c.conn.WriteError(command.ErrNoPerm(sub))
		return nil, false
	}
	if t == nil {
		c.audit(sub, id, "no such tenant")
		c.conn.WriteError(errNoSuchTenant(id))
		return nil, false
	}
	return t, true
}

func operatorOnly(c *client, args [][]byte) bool {
	if c.operator {
		return true
	}
	sub := "tenant|" + strings.ToLower(string(args[1]))
	c.audit(sub, "", "refused")
	c.conn.WriteError(command.ErrNoPerm(sub))
	return false
}

// cmdTenantList: one line per tenant, in config order.
func cmdTenantList(c *client, args [][]byte) {
	if !operatorOnly(c, args) {
		return
	}
	order := c.srv.reg.Load().order
	c.conn.WriteArray(len(order))
	for _, t := range order {
		st := t.part.Stats()
		c.conn.WriteBulkString(fmt.Sprintf("%s tier=%s used_bytes=%d quota_bytes=%d keys=%d clients=%d hot_memory=%d hot_commands=%d",
			t.id, t.cfg().TierName, st.UsedBytes, st.Quota, st.Keys, t.clients.Load(), command.B2i(t.hotMemory.Load()), command.B2i(t.hotCommands.Load())))
	}
	c.audit("tenant|list", "", "ok")
}

// cmdTenantInfo: INFO-style sections of one tenant.
func cmdTenantInfo(c *client, args [][]byte) {
	t, ok := tenantArg(c, args, true)
	if !ok {
		return
	}
	c.conn.WriteBulkString(c.srv.tenantInfo(t, allInfoSections(), nil))
	c.audit("tenant|info", t.id, "ok")
}

// cmdTenantFlush empties every db of one tenant.
func cmdTenantFlush(c *client, args [][]byte) {
	if !operatorOnly(c, args) {
		return
	}
	t, ok := tenantArg(c, args, false)
	if !ok {
		return
	}
	n, err := c.srv.flushTenant(t, -1)
	if err != nil {
		c.audit("tenant|flush", t.id, "error", "keys_removed", n, "err", err.Error())
		c.replyStoreErr(err)
		return
	}
	c.audit("tenant|flush", t.id, "ok", "keys_removed", n)
	c.conn.WriteString("OK")
}

// cmdTenantQuota: TENANT QUOTA <id> <size>. The new quota holds until the
// next reload, which restores the file's value. The sum of quotas must
// stay within maxmemory; shrinking evicts only this tenant's LRU keys.
func cmdTenantQuota(c *client, args [][]byte) {
	if !operatorOnly(c, args) {
		return
	}
	t, ok := tenantArg(c, args, false)
	if !ok {
		return
	}
	q, err := config.ParseSize(string(args[3]))
	if err != nil || q <= 0 {
		c.audit("tenant|quota", t.id, "invalid size")
		c.conn.WriteError(errInvalidQuota(args[3]))
		return
	}
	s := c.srv
	s.quotaMu.Lock()
	reg := s.reg.Load()
	var sum int64
	for _, o := range reg.order {
		if o != t {
			sum += o.part.Quota()
		}
	}
	// A parsed config also reserves client memory and the server's own
	// overhead inside maxmemory (config's Memory rules).
	if mc := reg.cfg.MaxMemoryClients; mc > 0 && sum+q+mc+config.ServerOverhead(s.limits.MaxClients) > reg.cfg.MaxMemory {
		s.quotaMu.Unlock()
		c.audit("tenant|quota", t.id, "exceeds maxmemory")
		c.conn.WriteError(errQuotaOverClients(q, sum+q, reg.cfg.MaxMemory, mc, config.ServerOverhead(s.limits.MaxClients)))
		return
	}
	if sum+q > reg.cfg.MaxMemory {
		s.quotaMu.Unlock()
		c.audit("tenant|quota", t.id, "exceeds maxmemory")
		c.conn.WriteError(errQuotaOverMax(q, sum+q, reg.cfg.MaxMemory))
		return
	}
	old := t.part.Quota()
	t.part.SetQuota(q)
	s.quotaMu.Unlock()
	c.audit("tenant|quota", t.id, "ok", "old_quota_bytes", old, "quota_bytes", q)
	c.conn.WriteString("OK")
}

// cmdTenantReload re-reads the config file (as SIGHUP does).
func cmdTenantReload(c *client, args [][]byte) {
	if !operatorOnly(c, args) {
		return
	}
	if err := c.srv.ReloadFromSource("TENANT RELOAD by " + c.userName()); err != nil {
		c.audit("tenant|reload", "", "rejected")
		c.conn.WriteError(errReloadRejected + err.Error())
		return
	}
	c.audit("tenant|reload", "", "ok")
	c.conn.WriteString("OK")
}

func cmdTenantHelp(c *client, args [][]byte) {
	command.WriteHelp(&c.conn.Writer, "TENANT", []string{
		"LIST", "    One line per tenant: tier, used and quota bytes, keys, clients, hot flags (operators).",
		"INFO <id>", "    INFO sections of one tenant (operators; a tenant's admin for its own tenant).",
		"FLUSH <id>", "    Delete every key of one tenant (operators).",
		"QUOTA <id> <size>", "    Set a tenant's quota until the next reload; shrinking evicts its LRU keys (operators).",
		"RELOAD", "    Re-read the config file, as SIGHUP does (operators).",
	})
}

// cmdOperatorInfo is INFO on an operator connection: server-wide figures
// and one line per tenant.
func (s *Server) operatorInfo() string {
	reg := s.reg.Load()
	var b strings.Builder
	fmt.Fprintf(&b, "# Server\r\nredis_version:%s\r\ntcached_version:%s\r\nredis_mode:standalone\r\ntcp_port:%s\r\nuptime_in_seconds:%d\r\n",
		redisVersion, Version, s.port(), int64(s.now().Sub(s.started).Seconds()))
	fmt.Fprintf(&b, "\r\n# Clients\r\nconnected_clients:%d\r\nmaxclients:%d\r\n", s.conns.Load(), s.limits.MaxClients)
	var used, quotas, keys int64
	ids := make([]string, 0, len(reg.order))
	lines := map[string]string{}
	for _, t := range reg.order {
		st := t.part.Stats()
		used, quotas, keys = used+st.UsedBytes, quotas+st.Quota, keys+st.Keys
		ids = append(ids, t.id)
		lines[t.id] = fmt.Sprintf("tenant_%s:tier=%s,used_bytes=%d,quota_bytes=%d,keys=%d,clients=%d,hot_memory=%d,hot_commands=%d\r\n",
			t.id, t.cfg().TierName, st.UsedBytes, st.Quota, st.Keys, t.clients.Load(), command.B2i(t.hotMemory.Load()), command.B2i(t.hotCommands.Load()))
	}
	fmt.Fprintf(&b, "\r\n# Memory\r\nused_memory:%d\r\nused_memory_human:%s\r\nmaxmemory:%d\r\nmaxmemory_human:%s\r\nquota_sum:%d\r\n",
		used, humanBytes(used), reg.cfg.MaxMemory, humanBytes(reg.cfg.MaxMemory), quotas)
	fmt.Fprintf(&b, "\r\n# Tenants\r\ntenants:%d\r\nkeys:%d\r\n", len(reg.order), keys)
	sort.Strings(ids)
	for _, id := range ids {
		b.WriteString(lines[id])
	}
	return b.String()
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
