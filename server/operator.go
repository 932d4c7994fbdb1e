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
		line := fmt.Sprintf("%s tier=%s used_bytes=%d quota_bytes=%d keys=%d clients=%d hot_memory=%d hot_commands=%d",
			t.id, t.cfg().TierName, st.UsedBytes, st.Quota, st.Keys, t.clients.Load(), command.B2i(t.hotMemory.Load()), command.B2i(t.hotCommands.Load()))
		if l2 := c.srv.tenantL2(t); l2 != nil {
			// Backed: the figures above are L1's; the store of record's follow.
			line += fmt.Sprintf(" l2_keys=%d l2_used_bytes=%d l2_quota_bytes=%d", l2.Keys, l2.UsedBytes, l2.QuotaBytes)
		}
		c.conn.WriteBulkString(line)
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
// next reload, which restores the file's value. Shrinking evicts only this
// tenant's LRU keys. The budgets follow as a reload of the file with the
// new quota would compute them (quotaBudgets), and the rules of a parsed
// config still hold: quotas within maxmemory, and quotas +
// maxmemory_clients + the server's overhead within maxmemory.
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
	b, refusal := s.quotaBudgets(reg, t, q)
	why := "exceeds maxmemory_clients"
	switch overhead := config.ServerOverhead(s.limits.MaxClients); {
	case refusal != "":
	case b.clients > 0 && sum+q+b.clients+overhead > reg.cfg.MaxMemory:
		// A parsed config also reserves client memory and the server's own
		// overhead inside maxmemory (config's Memory rules).
		refusal, why = errQuotaOverClients(q, sum+q, reg.cfg.MaxMemory, b.clients, overhead), "exceeds maxmemory"
	case sum+q > reg.cfg.MaxMemory:
		refusal, why = errQuotaOverMax(q, sum+q, reg.cfg.MaxMemory), "exceeds maxmemory"
	}
	if refusal != "" {
		s.quotaMu.Unlock()
		c.audit("tenant|quota", t.id, why)
		c.conn.WriteError(refusal)
		return
	}
	old, oldBudget := t.part.Quota(), t.cmem.limit.Load()
	t.part.SetQuota(q)
	if t.trk.pendingN.Load() != 0 {
		c.srv.drainTracking(t) // the evicted keys' invalidations (tracking.go)
	}
	t.cmem.limit.Store(b.tenant)
	s.unattributed.limit.Store(b.pool)
	s.quotaMu.Unlock()
	c.audit("tenant|quota", t.id, "ok", "old_quota_bytes", old, "quota_bytes", q,
		"old_client_memory_bytes", oldBudget, "client_memory_bytes", b.tenant)
	c.conn.WriteString("OK")
}

// budgets is what TENANT QUOTA leaves the client-memory budgets at.
type budgets struct {
	tenant int64 // the tenant's client_memory
	pool   int64 // the unattributed pool
	// clients is maxmemory_clients (the budgets plus the pool), or 0 for
	// a Config built in code without it, which reserves nothing in
	// maxmemory for client memory.
	clients int64
}

// quotaBudgets computes the budgets after TENANT QUOTA <t> <q> as a
// reload of the file with the new quota would (config's Memory rules),
// with every other tenant's budget as it is now:
//
//   - t's client_memory, when derived from its quota (the tenant and its
//     tier set none), is config.DefaultClientMemory(q); an explicit one
//     stays;
//   - maxmemory_clients, when derived from the budgets (the file sets
//     none), is config.DefaultMaxMemoryClients of the new budgets, so it
//     grows and shrinks with t's budget and the unattributed pool keeps
//     its size; an explicit maxmemory_clients stays, the pool gets what it
//     leaves, and a budget it cannot hold with one pre-AUTH client's
//     preauth_query_buffer_limit is refused (the returned error).
func (s *Server) quotaBudgets(reg *registry, t *tenant, q int64) (budgets, string) {
	b := budgets{tenant: t.cmem.limit.Load(), pool: s.unattributed.limit.Load()}
	tc := t.cfg()
	if tc.ClientMemoryDerived() {
		b.tenant = config.DefaultClientMemory(q)
	}
	sum := b.tenant
	for _, o := range reg.order {
		if o != t {
			sum += o.cmem.limit.Load()
		}
	}
	minPool := s.limits.PreAuthQueryBufferLimit
	switch mc := reg.cfg.MaxMemoryClients; {
	case mc == 0:
		// Built in code: the pool was sized without maxmemory_clients.
	case reg.cfg.MaxMemoryClientsDerived:
		b.clients = config.DefaultMaxMemoryClients(sum, minPool)
		b.pool = b.clients - sum
	case mc < sum+minPool:
		return b, errQuotaOverClientBudgets(q, b.tenant, sum, mc, minPool)
	default:
		b.clients, b.pool = mc, mc-sum
	}
	return b, ""
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
		"QUOTA <id> <size>", "    Set a tenant's quota until the next reload; shrinking evicts its LRU keys; a client_memory derived from the quota follows it (operators).",
		"RELOAD", "    Re-read the config file, as SIGHUP does (operators).",
		"CREATE <id> <tier> <quota> [USER <name> <password> [<role>]]", "    Add a tenant to the config file and apply it (operators).",
		"SET <id> <key> <value>", "    Set a tenant's key in the config file (quota, tier, rate_limit, max_ttl, ...) and apply it (operators).",
		"DELETE <id>", "    Remove a tenant from the config file; its connections close and its keys are freed (operators).",
		"USER ADD <id> <name> <password> [<role>]", "    Add a user to a tenant (the file keeps the password's SHA-256) (operators).",
		"USER DEL <id> <name>", "    Remove a user; its connections close (operators).",
		"MONITOR <id>", "    Stream one tenant's commands as MONITOR does (operators; MONITOR alone streams every tenant's).",
	})
}

// cmdOperatorInfo is INFO on an operator connection: server-wide figures
// and one line per tenant.
func (s *Server) operatorInfo() string {
	reg := s.reg.Load()
	var b strings.Builder
	fmt.Fprintf(&b, "# Server\r\nredis_version:%s\r\ntcached_version:%s\r\nredis_mode:standalone\r\ntcp_port:%s\r\nuptime_in_seconds:%d\r\nheavy_thread_nice:%d\r\nheavy_thread_pool:%d\r\nheavy_pool_commands:%d\r\n",
		redisVersion, Version, s.port(), int64(s.now().Sub(s.started).Seconds()), command.B2i(s.heavyNice), command.B2i(s.idlePool), s.idleRuns.Load())
	var blocked, commands int64
	for _, t := range reg.order {
		blocked += t.blocked.clients.Load()
		commands += t.commands.Load()
	}
	fmt.Fprintf(&b, "\r\n# Clients\r\nconnected_clients:%d\r\nmaxclients:%d\r\nblocked_clients:%d\r\n", s.conns.Load(), s.limits.MaxClients, blocked)
	b.WriteString("\r\n# Persistence\r\n")
	s.persistenceInfo(nil, func(k string, v any) { fmt.Fprintf(&b, "%s:%v\r\n", k, v) })
	fmt.Fprintf(&b, "\r\n# Stats\r\ntotal_connections_received:%d\r\ntotal_commands_processed:%d\r\n", s.nextID.Load(), commands)
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
