package server

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tcached/tcached/admission"
	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/config"
)

func cmdDBSize(c *client, args [][]byte) { c.conn.WriteInt(c.part().Len(c.db)) }

// flushOption accepts FLUSHDB/FLUSHALL's [ASYNC|SYNC]; both run
// synchronously here.
func flushOption(c *client, args [][]byte) bool {
	if len(args) > 2 || len(args) == 2 && !command.EqFold(args[1], "async") && !command.EqFold(args[1], "sync") {
		c.conn.WriteError(command.ErrSyntax)
		return false
	}
	return true
}

// cmdFlushDB empties the selected db of the caller's tenant only (in L2
// too when backed).
func cmdFlushDB(c *client, args [][]byte) { flush(c, args, c.db) }

// cmdFlushAll empties every db of the caller's tenant only.
func cmdFlushAll(c *client, args [][]byte) { flush(c, args, -1) }

func flush(c *client, args [][]byte, db int) {
	if !flushOption(c, args) {
		return
	}
	n, err := c.srv.flushTenant(c.tenant, db)
	if err != nil {
		c.replyStoreErr(err)
		return
	}
	c.tenant.blocked.wakeAll()
	if db < 0 {
		c.srv.audit("command", c.tenant.id, c.userName(), c.addr, c.x.Spec.Name, "ok", "keys_removed", n)
	} else {
		c.srv.audit("command", c.tenant.id, c.userName(), c.addr, c.x.Spec.Name, "ok", "db", db, "keys_removed", n)
	}
	c.conn.WriteString("OK")
}

func cmdTime(c *client, args [][]byte) {
	now := c.srv.now()
	c.conn.WriteArray(2)
	c.conn.WriteBulkString(strconv.FormatInt(now.Unix(), 10))
	c.conn.WriteBulkString(strconv.FormatInt(int64(now.Nanosecond()/1000), 10))
}

// cmdWait: WAIT numreplicas timeout. tcached has no replicas, so it
// answers 0 at once, whatever numreplicas asks (Redis would wait for the
// timeout, or forever with 0, for replicas that cannot come), after
// checking the arguments as Redis does.
func cmdWait(c *client, args [][]byte) {
	if _, ok := command.ParseInt(args[1]); !ok {
		c.conn.WriteError(command.ErrNotInteger)
		return
	}
	t, ok := command.ParseInt(args[2])
	if !ok {
		c.conn.WriteError("ERR timeout is not an integer or out of range")
		return
	}
	if t < 0 {
		c.conn.WriteError("ERR timeout is negative")
		return
	}
	c.conn.WriteInt(0)
}

// cmdRole: ROLE. A master with no replicas at replication offset 0, as a
// fresh redis-server answers.
func cmdRole(c *client, args [][]byte) {
	c.conn.WriteArray(3)
	c.conn.WriteBulkString("master")
	c.conn.WriteInt(0)
	c.conn.WriteArray(0)
}

// cmdLastSave: LASTSAVE, the unix time of the last successful snapshot
// (warm restarts, snapshot.go: written, or loaded at start), else the time
// the server started, as Redis answers before its first save. The same for
// every tenant: one snapshot holds them all.
func cmdLastSave(c *client, args [][]byte) {
	c.conn.WriteInt64(c.srv.lastSaveUnix())
}

func humanBytes(n int64) string {
	f := float64(n)
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + "B"
	case n < 1<<20:
		return fmt.Sprintf("%.2fK", f/1024)
	case n < 1<<30:
		return fmt.Sprintf("%.2fM", f/(1<<20))
	default:
		return fmt.Sprintf("%.2fG", f/(1<<30))
	}
}

func (t *tenant) policy() string {
	if t.cfg().Eviction == config.NoEviction {
		return "noeviction"
	}
	return "allkeys-lru"
}

var infoSections = []string{"server", "clients", "memory", "persistence", "stats", "keyspace", "tenant", "backing"}

func allInfoSections() map[string]bool {
	want := map[string]bool{}
	for _, s := range infoSections {
		want[s] = true
	}
	return want
}

// cmdInfo answers a bulk string (RESP3: a verbatim "txt" string, as Redis
// 7 does) scoped to the caller's tenant: memory, stats and keyspace are the
// tenant's own, never the server's totals. On an operator connection it
// describes the server and lists the tenants.
func cmdInfo(c *client, args [][]byte) {
	if c.tenant == nil {
		c.conn.WriteVerbatim("txt", c.srv.operatorInfo())
		return
	}
	want := map[string]bool{}
	if len(args) == 1 {
		want = allInfoSections()
	}
	for _, a := range args[1:] {
		switch s := strings.ToLower(string(a)); s {
		case "all", "everything", "default":
			want = allInfoSections()
		default:
			want[s] = true
		}
	}
	c.conn.WriteVerbatim("txt", c.srv.tenantInfo(c.tenant, want, c))
}

// tenantInfo renders the wanted INFO sections for tenant t; caller, when
// not nil, adds the connection's own user and role to the tenant section.
func (s *Server) tenantInfo(t *tenant, want map[string]bool, caller *client) string {
	st := t.part.Stats()
	tc := t.cfg()
	now := s.now()
	var b strings.Builder
	section := func(name string) bool {
		if !want[name] {
			return false
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# " + strings.ToUpper(name[:1]) + name[1:] + "\r\n")
		return true
	}
	kv := func(k string, v any) { fmt.Fprintf(&b, "%s:%v\r\n", k, v) }
	if section("server") {
		uptime := int64(now.Sub(s.started).Seconds())
		kv("redis_version", redisVersion)
		kv("tcached_version", Version)
		kv("redis_mode", "standalone")
		kv("os", runtime.GOOS+" "+runtime.GOARCH)
		kv("arch_bits", strconv.Itoa(strconv.IntSize))
		kv("go_version", runtime.Version())
		kv("process_id", os.Getpid())
		kv("tcp_port", s.port())
		kv("uptime_in_seconds", uptime)
		kv("uptime_in_days", uptime/86400)
		kv("executable", "tcached")
		kv("heavy_thread_nice", command.B2i(s.heavyNice))
		kv("heavy_thread_pool", command.B2i(s.idlePool))
		kv("heavy_pool_commands", s.idleRuns.Load())
	}
	if section("clients") {
		kv("connected_clients", t.clients.Load())
		kv("maxclients", s.limits.MaxClients)
		kv("tenant_max_connections", tc.Tier.MaxConnections)
		kv("blocked_clients", t.blocked.clients.Load())
		kv("tracking_clients", t.trk.clients.Load())
	}
	if section("memory") {
		kv("used_memory", st.UsedBytes)
		kv("used_memory_human", humanBytes(st.UsedBytes))
		kv("maxmemory", st.Quota)
		kv("maxmemory_human", humanBytes(st.Quota))
		kv("maxmemory_policy", t.policy())
		// Scripting (script.go): charged to client_memory, not the quota.
		e := t.engine()
		nScripts, scriptBytes := e.Scripts()
		nLibs, nFuncs := e.Counts()
		kv("used_memory_scripts_eval", scriptBytes)
		kv("number_of_cached_scripts", nScripts)
		kv("number_of_functions", nFuncs)
		kv("number_of_libraries", nLibs)
		kv("used_memory_scripts", e.Charged())
	}
	if section("persistence") {
		s.persistenceInfo(t, kv)
	}
	if section("stats") {
		as := t.adm.Stats()
		kv("total_connections_received", t.connsReceived.Load())
		kv("total_commands_processed", t.commands.Load())
		kv("total_error_replies", t.cmdErrors.Load())
		kv("keyspace_hits", st.Hits)
		kv("keyspace_misses", st.Misses)
		kv("evicted_keys", st.Evictions)
		kv("expired_keys", st.Expired)
		kv("admission_refused_rate", as.Refused[admission.ReasonRate])
		kv("admission_refused_concurrency", as.Refused[admission.ReasonConcurrency])
		kv("admission_refused_arg_bytes", as.Refused[admission.ReasonArgBytes])
		kv("admission_refused_shed", as.Refused[admission.ReasonShed])
		kv("admission_refused_fair_share", as.Refused[admission.ReasonFairShare])
		kv("sla_violations", as.SLAViolations)
		ts := t.trk.table.Stats()
		kv("tracking_total_keys", ts.Keys)
		kv("tracking_total_items", ts.Items)
		kv("tracking_total_prefixes", ts.Prefixes)
		kv("tenant_tracking_table_bytes", t.trk.charged.Load())
	}
	if section("keyspace") {
		for db := 0; db < command.NumDBs; db++ {
			if st.KeysPerDB[db] > 0 {
				fmt.Fprintf(&b, "db%d:keys=%d,expires=%d,avg_ttl=0\r\n", db, st.KeysPerDB[db], st.ExpiresPerDB[db])
			}
		}
	}
	if section("tenant") {
		kv("tenant_id", t.id)
		kv("tenant_tier", tc.TierName)
		if caller != nil {
			kv("tenant_user", caller.user)
			kv("tenant_role", caller.role.String())
		}
		kv("tenant_quota_bytes", st.Quota)
		kv("tenant_used_bytes", st.UsedBytes)
		kv("tenant_keys", st.Keys)
		kv("tenant_default_ttl_seconds", int64(tc.Tier.DefaultTTL.Seconds()))
		kv("tenant_max_ttl_seconds", int64(tc.Tier.MaxTTL.Seconds()))
		kv("tenant_max_ttl_policy", tc.Tier.MaxTTLPolicy.String())
		kv("tenant_timeout_ms", tc.Tier.Timeout.Milliseconds())
		kv("tenant_max_concurrent", tc.Tier.MaxConcurrent)
		kv("tenant_rate_limit", tc.Tier.RateLimit)
		kv("tenant_weight", max(tc.Tier.Weight, 1))
		kv("tenant_heavy_slots", heavyLimit(t))
		kv("tenant_client_memory_bytes", t.cmem.used.Load())
		kv("tenant_client_memory_limit_bytes", t.cmem.limit.Load())
		kv("tenant_clients_evicted", t.cmem.evicted.Load())
		kv("tenant_client_memory_refusals", t.cmem.refused.Load())
		as := t.adm.Stats()
		kv("tenant_cpu_seconds", strconv.FormatFloat(as.CPU.Seconds(), 'f', 6, 64))
		kv("tenant_throttled_seconds", strconv.FormatFloat(as.Throttled.Seconds(), 'f', 6, 64))
		// Hot flags compare the tenant with all others, so only operators
		// see them (TENANT INFO, metrics): a tenant must not be able to
		// measure its neighbours by watching its own flag flip.
		if caller == nil {
			kv("tenant_hot_memory", command.B2i(t.hotMemory.Load()))
			kv("tenant_hot_commands", command.B2i(t.hotCommands.Load()))
			kv("tenant_hot_cpu", command.B2i(as.Allowance > 0))
			kv("tenant_fair_share_allowance_cores", strconv.FormatFloat(as.Allowance, 'f', 3, 64))
			kv("tenant_throttles", as.Throttles)
		}
	}
	if s.backend != nil && section("backing") {
		// Backed mode (backed.go): the tenant's L1/L2 figures. Keyspace
		// above counts L1 copies; DBSIZE counts L2.
		kv("backing", "redis_cluster")
		kv("backing_ready", command.B2i(s.backend.Ready()))
		kv("l1_hits", t.l2.L1Hits.Load())
		kv("l2_hits", t.l2.L2Hits.Load())
		kv("l2_misses", t.l2.L2Misses.Load())
		kv("l2_degraded_reads", t.l2.Degraded.Load())
		kv("l2_over_quota", t.l2.OverQuota.Load())
		kv("l2_used_bytes", s.backend.Usage(t.id))
		kv("l2_keys", s.backend.UsageKeys(t.id))
		kv("l2_quota_bytes", tc.Tier.L2Quota)
	}
	return b.String()
}

// persistenceInfo is INFO's persistence section, of tenant t (nil: every
// tenant, the operator's INFO). The snapshot (snapshot.go) is loaded before
// the listeners open, so nothing is ever loading while clients can ask.
// rdb_changes_since_last_save counts successful write commands since the
// last snapshot started (Redis counts changed keys). redis-cli --stat reads
// loading, rdb_bgsave_in_progress and aof_rewrite_in_progress (without
// them it ORs LONG_MIN into its "child" column).
func (s *Server) persistenceInfo(t *tenant, kv func(k string, v any)) {
	var changes int64
	for _, tn := range s.reg.Load().order {
		if t == nil || tn == t {
			changes += tn.dirtyCount() - tn.savedDirty.Load()
		}
	}
	status := "ok"
	if !s.snap.lastOK.Load() {
		status = "err"
	}
	cur := int64(-1)
	if s.snap.inProgress.Load() {
		cur = max(time.Now().Unix()-s.snap.saveStart.Load(), 0)
	}
	kv("loading", 0)
	kv("async_loading", 0)
	kv("rdb_changes_since_last_save", changes)
	kv("rdb_bgsave_in_progress", command.B2i(s.snap.inProgress.Load()))
	kv("rdb_last_save_time", s.lastSaveUnix())
	kv("rdb_last_bgsave_status", status)
	kv("rdb_last_bgsave_time_sec", s.snap.lastSecs.Load())
	kv("rdb_current_bgsave_time_sec", cur)
	kv("aof_enabled", 0)
	kv("aof_rewrite_in_progress", 0)
}

// configParams is the read-only view CONFIG GET offers, per tenant where the
// value is per tenant, so redis-cli and redis-benchmark start cleanly.
func configParams(c *client) map[string]string {
	t := c.tenant
	busy, _ := scriptLimits(t)
	params := map[string]string{
		"maxmemory":                 strconv.FormatInt(t.part.Quota(), 10),
		"maxmemory-policy":          t.policy(),
		"maxmemory-samples":         "5",
		"save":                      "",
		"appendonly":                "no",
		"databases":                 strconv.Itoa(command.NumDBs),
		"timeout":                   "0",
		"maxclients":                "10000",
		"port":                      c.srv.port(),
		"proto-max-bulk-len":        strconv.Itoa(command.MaxStringLen),
		"client-query-buffer-limit": strconv.Itoa(1 << 30),
		"notify-keyspace-events":    "",
		"cluster-enabled":           "no",
		"hz":                        "10",
		"busy-reply-threshold":      strconv.FormatInt(busy.Milliseconds(), 10),
		"lua-time-limit":            strconv.FormatInt(busy.Milliseconds(), 10),
	}
	diagConfig(t, params)
	// The tenant's collection-encoding thresholds, under their names and
	// Redis 7.0's old aliases, as Redis lists both.
	for i, p := range command.EncodingParams() {
		v := strconv.FormatInt(t.enc.Get(i), 10)
		params[p.Name] = v
		if p.Alias != "" {
			params[p.Alias] = v
		}
	}
	for i, p := range command.TypeParamTable() {
		params[p.Name] = strconv.FormatInt(t.types.Get(i), 10)
	}
	return params
}

// cmdConfigGet: CONFIG GET parameter [parameter ...], glob patterns allowed.
// The reply is a map (RESP2: a flat array of names and values).
func cmdConfigGet(c *client, args [][]byte) {
	params := configParams(c)
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	seen := map[string]bool{}
	var out []string
	for _, pat := range args[2:] {
		for _, n := range names {
			if !seen[n] && command.GlobMatch(pat, []byte(n), true) {
				seen[n] = true
				out = append(out, n, params[n])
			}
		}
	}
	c.conn.WriteMap(len(out) / 2)
	for _, s := range out {
		c.conn.WriteBulkString(s)
	}
}

func cmdConfigHelp(c *client, args [][]byte) {
	command.WriteHelp(&c.conn.Writer, "CONFIG", []string{
		"GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values (read-only view).",
	})
}

// cmdMemoryUsage: MEMORY USAGE key [SAMPLES count] -> the key's accounted
// bytes in the tenant quota (key + value + per-entry overhead), or nil.
func cmdMemoryUsage(c *client, args [][]byte) {
	// As Redis's memoryCommand: SAMPLES may repeat; a bad count is an
	// integer error, a negative one a syntax error.
	for j := 3; j < len(args); j += 2 {
		if !command.EqFold(args[j], "samples") || j+1 >= len(args) {
			c.conn.WriteError(command.ErrSyntax)
			return
		}
		n, ok := command.ParseInt(args[j+1])
		if !ok {
			c.conn.WriteError(command.ErrNotInteger)
			return
		}
		if n < 0 {
			c.conn.WriteError(command.ErrSyntax)
			return
		}
	}
	n, ok := c.part().Usage(c.db, args[2])
	if !ok {
		c.conn.WriteNull()
		return
	}
	c.conn.WriteInt64(n)
}

func cmdMemoryHelp(c *client, args [][]byte) {
	command.WriteHelp(&c.conn.Writer, "MEMORY", []string{
		"USAGE <key> [SAMPLES <count>]", "    Return the bytes <key> counts against the tenant quota.",
	})
}

func cmdCommand(c *client, args [][]byte) {
	c.conn.WriteArray(len(c.srv.ordered))
	for _, cmd := range c.srv.ordered {
		cmd.WriteInfo(&c.conn.Writer)
	}
}

func cmdCommandCount(c *client, args [][]byte) { c.conn.WriteInt(len(c.srv.ordered)) }

func cmdCommandInfo(c *client, args [][]byte) {
	names := args[2:]
	if len(names) == 0 {
		cmdCommand(c, args)
		return
	}
	c.conn.WriteArray(len(names))
	for _, n := range names {
		cmd := c.srv.commandByName(n)
		if cmd == nil {
			c.conn.WriteNull()
			continue
		}
		cmd.WriteInfo(&c.conn.Writer)
	}
}

// cmdCommandDocs answers an empty map: redis-cli's interactive mode asks for
// docs for hints and copes with none.
func cmdCommandDocs(c *client, args [][]byte) { c.conn.WriteMap(0) }
