package server

import (
	"sort"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/family/bitmap"
	"github.com/tcached/tcached/family/dump"
	"github.com/tcached/tcached/family/geo"
	"github.com/tcached/tcached/family/hash"
	"github.com/tcached/tcached/family/hll"
	"github.com/tcached/tcached/family/keys"
	"github.com/tcached/tcached/family/list"
	"github.com/tcached/tcached/family/set"
	"github.com/tcached/tcached/family/sorting"
	"github.com/tcached/tcached/family/str"
	"github.com/tcached/tcached/family/stream"
	"github.com/tcached/tcached/family/zset"
)

// withClient adapts a handler of the server's own commands (connection,
// transactions, pub/sub, server and operator commands), which need the
// whole connection, to the table's Handler: the Ctx's Conn is the client.
func withClient(h func(c *client, args [][]byte)) command.Handler {
	return func(x *command.Ctx, args [][]byte) { h(x.Conn.(*client), args) }
}

// serverSpecs are the rows of the commands package server implements.
func serverSpecs() []*command.Spec {
	return []*command.Spec{
		command.Row("auth", -2, command.NoAuth|command.Fast|command.NoScript|command.AllowBusy, command.NoKeys, withClient(cmdAuth)).WithSecrets(authSecrets),
		command.Row("hello", -1, command.NoAuth|command.Fast|command.NoScript|command.AllowBusy, command.NoKeys, withClient(cmdHello)).WithSecrets(helloSecrets),
		command.Row("ping", -1, command.Fast|command.Operator|command.Subscribed, command.NoKeys, withClient(cmdPing)),
		command.Row("echo", 2, command.Fast|command.Operator, command.NoKeys, withClient(cmdEcho)),
		command.Row("quit", -1, command.NoAuth|command.Fast|command.Tx|command.Subscribed|command.NoScript|command.AllowBusy, command.NoKeys, withClient(cmdQuit)),
		command.Row("reset", 1, command.NoAuth|command.Fast|command.Tx|command.Subscribed|command.NoScript|command.AllowBusy, command.NoKeys, withClient(cmdResetTx)),
		command.Row("multi", 1, command.Fast|command.Tx|command.NoScript|command.AllowBusy, command.NoKeys, withClient(cmdMulti)),
		command.Row("exec", 1, command.Tx|command.Exec|command.NoScript, command.NoKeys, withClient(cmdExec)),
		command.Row("discard", 1, command.Fast|command.Tx|command.NoScript|command.AllowBusy, command.NoKeys, withClient(cmdDiscard)),
		command.Row("watch", -2, command.Fast|command.Tx|command.NoScript|command.AllowBusy, command.AllKeys, withClient(cmdWatch)).WithBacked(command.BackedServer),
		command.Row("unwatch", 1, command.Fast|command.NoScript|command.AllowBusy, command.NoKeys, withClient(cmdUnwatch)),
		command.Row("select", 2, command.Fast, command.NoKeys, withClient(cmdSelect)),
		command.Container("client", -2, 0, nil,
			command.Row("id", 2, command.Fast|command.Operator|command.NoScript, command.NoKeys, withClient(cmdClientID)),
			command.Row("setname", 3, command.Fast|command.Operator|command.NoScript, command.NoKeys, withClient(cmdClientSetName)),
			command.Row("getname", 2, command.Fast|command.Operator|command.NoScript, command.NoKeys, withClient(cmdClientGetName)),
			command.Row("setinfo", 4, command.Fast|command.Operator|command.NoScript, command.NoKeys, withClient(cmdClientSetInfo)),
			command.Row("info", 2, command.Operator|command.NoScript, command.NoKeys, withClient(cmdClientInfo)),
			command.Row("list", -2, command.NoScript|command.NoMonitor, command.NoKeys, withClient(cmdClientList)),
			command.Row("help", 2, command.Operator, command.NoKeys, withClient(cmdClientHelp)),
			command.Row("kill", -3, command.NoScript|command.NoMonitor, command.NoKeys, withClient(cmdClientKill)),
			command.Row("no-evict", 3, command.Fast|command.NoScript, command.NoKeys, withClient(cmdClientOnOff)),
			command.Row("no-touch", 3, command.Fast|command.NoScript, command.NoKeys, withClient(cmdClientOnOff)),
			command.Row("reply", 3, command.Fast|command.NoScript, command.NoKeys, withClient(cmdClientReply)),
			command.Row("unblock", -3, command.NoScript|command.NoMonitor, command.NoKeys, withClient(cmdClientUnblock)),
			// Client-side caching (tracking.go).
			command.Row("tracking", -3, command.NoScript, command.NoKeys, withClient(cmdClientTracking)),
			command.Row("caching", 3, command.Fast|command.NoScript, command.NoKeys, withClient(cmdClientCaching)),
			command.Row("getredir", 2, command.Fast|command.NoScript, command.NoKeys, withClient(cmdClientGetRedir)),
			command.Row("trackinginfo", 2, command.NoScript, command.NoKeys, withClient(cmdClientTrackingInfo)),
			command.Row("pause", -3, command.NoScript, command.NoKeys, command.Refused),
			command.Row("unpause", 2, command.NoScript, command.NoKeys, command.Refused),
		),
		command.Container("command", -1, command.Operator, withClient(cmdCommand),
			command.Row("count", 2, command.Operator, command.NoKeys, withClient(cmdCommandCount)),
			command.Row("info", -2, command.Operator, command.NoKeys, withClient(cmdCommandInfo)),
			command.Row("docs", -2, command.Operator, command.NoKeys, withClient(cmdCommandDocs)),
			command.Row("list", -2, command.Operator, command.NoKeys, withClient(cmdCommandList)),
			command.Row("getkeys", -4, command.Operator, command.NoKeys, withClient(cmdCommandGetKeys)),
			command.Row("getkeysandflags", -4, command.Operator, command.NoKeys, withClient(cmdCommandGetKeysAndFlags)),
			command.Row("help", 2, command.Operator, command.NoKeys, withClient(cmdCommandHelp)),
		),
		command.Container("tenant", -2, command.Operator|command.NoScript, nil,
			command.Row("list", 2, command.Operator, command.NoKeys, withClient(cmdTenantList)),
			command.Row("info", 3, command.Operator, command.NoKeys, withClient(cmdTenantInfo)),
			command.Row("flush", 3, command.Operator|command.Write, command.NoKeys, withClient(cmdTenantFlush)),
			command.Row("quota", 4, command.Operator, command.NoKeys, withClient(cmdTenantQuota)),
			command.Row("reload", 2, command.Operator, command.NoKeys, withClient(cmdTenantReload)),
			command.Row("create", -5, command.Operator, command.NoKeys, withClient(cmdTenantCreate)),
			command.Row("set", 5, command.Operator, command.NoKeys, withClient(cmdTenantSet)),
			command.Row("delete", 3, command.Operator, command.NoKeys, withClient(cmdTenantDelete)),
			command.Row("user", -5, command.Operator, command.NoKeys, withClient(cmdTenantUser)),
			command.Row("monitor", 3, command.Operator|command.NoMonitor, command.NoKeys, withClient(cmdTenantMonitor)),
			command.Row("help", 2, command.Operator, command.NoKeys, withClient(cmdTenantHelp)),
		),
		// server
		command.Row("dbsize", 1, command.ReadFast, command.NoKeys, withClient(cmdDBSize)).WithBacked(command.BackedDBSize),
		command.Row("flushdb", -1, command.Write|command.Admin, command.NoKeys, withClient(cmdFlushDB)),
		command.Row("flushall", -1, command.Write|command.Admin, command.NoKeys, withClient(cmdFlushAll)),
		command.Row("info", -1, command.Operator, command.NoKeys, withClient(cmdInfo)),
		command.Row("time", 1, command.Fast|command.Operator, command.NoKeys, withClient(cmdTime)),
		command.Row("wait", 3, command.NoScript, command.NoKeys, withClient(cmdWait)),
		command.Row("role", 1, command.Fast|command.NoScript, command.NoKeys, withClient(cmdRole)),
		command.Row("lastsave", 1, command.Fast, command.NoKeys, withClient(cmdLastSave)),
		command.Container("config", -2, 0, nil,
			command.Row("get", -3, command.NoScript, command.NoKeys, withClient(cmdConfigGet)),
			command.Row("set", -4, command.NoScript, command.NoKeys, withClient(cmdConfigSet)),
			command.Row("rewrite", 2, command.NoScript, command.NoKeys, command.Refused),
			command.Row("resetstat", 2, command.NoScript, command.NoKeys, command.Refused),
			command.Row("help", 2, 0, command.NoKeys, withClient(cmdConfigHelp)),
		),
		command.Container("memory", -2, 0, nil,
			command.Row("usage", -3, command.Read, command.Key2, withClient(cmdMemoryUsage)).WithBacked(command.BackedRead),
			command.Row("help", 2, 0, command.NoKeys, withClient(cmdMemoryHelp)),
		),
		// The privileged surface (cmd_admin.go): scoped or refused.
		command.Row("debug", -2, command.NoScript, command.NoKeys, withClient(cmdDebug)),
		command.Row("acl", -2, command.NoScript, command.NoKeys, withClient(cmdACL)),
		command.Row("cluster", -2, 0, command.NoKeys, withClient(cmdCluster)),
		command.Row("shutdown", -1, command.NoScript|command.AllowBusy, command.NoKeys, command.Refused),
		command.Row("monitor", 1, command.Operator|command.NoScript|command.NoMonitor, command.NoKeys, withClient(cmdMonitor)),
		command.Row("save", 1, command.NoScript, command.NoKeys, command.Refused),
		command.Row("bgsave", -1, command.NoScript, command.NoKeys, command.Refused),
		command.Row("bgrewriteaof", 1, command.NoScript, command.NoKeys, command.Refused),
		command.Row("replicaof", 3, command.NoScript, command.NoKeys, command.Refused),
		command.Row("slaveof", 3, command.NoScript, command.NoKeys, command.Refused),
		command.Row("sync", 1, command.NoScript, command.NoKeys, command.Refused),
		command.Row("psync", -3, command.NoScript, command.NoKeys, command.Refused),
		command.Row("failover", -1, command.NoScript, command.NoKeys, command.Refused),
		command.Row("migrate", -6, 0, command.NoKeys, command.Refused),
		command.Row("swapdb", 3, 0, command.NoKeys, command.Refused).WithBacked(command.BackedRefused),
		command.Row("module", -2, command.NoScript, command.NoKeys, command.Refused),
		// Per-tenant debugging (slowlog.go).
		command.Container("slowlog", -2, command.NoMonitor, nil,
			command.Row("get", -2, command.NoMonitor, command.NoKeys, withClient(cmdSlowlogGet)),
			command.Row("len", 2, command.NoMonitor, command.NoKeys, withClient(cmdSlowlogLen)),
			command.Row("reset", 2, command.NoMonitor, command.NoKeys, withClient(cmdSlowlogReset)),
			command.Row("help", 2, command.NoMonitor, command.NoKeys, withClient(cmdSlowlogHelp)),
		),
		command.Container("latency", -2, command.NoScript|command.NoMonitor, nil,
			command.Row("latest", 2, command.NoScript|command.NoMonitor, command.NoKeys, withClient(cmdLatencyLatest)),
			command.Row("history", 3, command.NoScript|command.NoMonitor, command.NoKeys, withClient(cmdLatencyHistory)),
			command.Row("reset", -2, command.NoScript|command.NoMonitor, command.NoKeys, withClient(cmdLatencyReset)),
			command.Row("doctor", 2, command.NoScript|command.NoMonitor, command.NoKeys, withClient(cmdLatencyDoctor)),
			command.Row("help", 2, command.NoMonitor, command.NoKeys, withClient(cmdLatencyHelp)),
		),
		// Scripting (script.go): scripts and functions belong to the tenant.
		command.Row("eval", -3, command.NoScript|command.Exclusive|command.NoMonitor, command.NoKeys, withClient(cmdEval)).WithKeysOf(scriptKeys).WithBacked(command.BackedServer),
		command.Row("evalsha", -3, command.NoScript|command.Exclusive|command.NoMonitor, command.NoKeys, withClient(cmdEvalSHA)).WithKeysOf(scriptKeys).WithBacked(command.BackedServer),
		command.Row("eval_ro", -3, command.Read|command.NoScript|command.Exclusive|command.NoMonitor, command.NoKeys, withClient(cmdEvalRO)).WithKeysOf(scriptKeys).WithBacked(command.BackedServer),
		command.Row("evalsha_ro", -3, command.Read|command.NoScript|command.Exclusive|command.NoMonitor, command.NoKeys, withClient(cmdEvalSHARO)).WithKeysOf(scriptKeys).WithBacked(command.BackedServer),
		command.Row("fcall", -3, command.NoScript|command.Exclusive|command.NoMonitor, command.NoKeys, withClient(cmdFCall)).WithKeysOf(scriptKeys).WithBacked(command.BackedServer),
		command.Row("fcall_ro", -3, command.Read|command.NoScript|command.Exclusive|command.NoMonitor, command.NoKeys, withClient(cmdFCallRO)).WithKeysOf(scriptKeys).WithBacked(command.BackedServer),
		command.Container("script", -2, command.NoScript, nil,
			command.Row("load", 3, command.NoScript, command.NoKeys, withClient(cmdScriptLoad)),
			command.Row("exists", -3, command.NoScript, command.NoKeys, withClient(cmdScriptExists)),
			command.Row("flush", -2, command.NoScript|command.Exclusive, command.NoKeys, withClient(cmdScriptFlush)),
			command.Row("kill", 2, command.NoScript|command.AllowBusy, command.NoKeys, withClient(cmdScriptKill)),
			command.Row("help", 2, 0, command.NoKeys, withClient(cmdScriptHelp)),
			command.Row("debug", 3, command.NoScript, command.NoKeys, command.Refused),
		),
		command.Container("function", -2, command.NoScript, nil,
			command.Row("load", -3, command.WriteGrow|command.NoScript|command.Exclusive, command.NoKeys, withClient(cmdFunctionLoad)),
			command.Row("delete", 3, command.Write|command.NoScript|command.Exclusive, command.NoKeys, withClient(cmdFunctionDelete)),
			command.Row("flush", -2, command.Write|command.NoScript|command.Exclusive, command.NoKeys, withClient(cmdFunctionFlush)),
			command.Row("restore", -3, command.WriteGrow|command.NoScript|command.Exclusive, command.NoKeys, withClient(cmdFunctionRestore)),
			command.Row("kill", 2, command.NoScript|command.AllowBusy, command.NoKeys, withClient(cmdFunctionKill)),
			command.Row("stats", 2, command.NoScript|command.AllowBusy, command.NoKeys, withClient(cmdFunctionStats)),
			command.Row("list", -2, command.NoScript, command.NoKeys, withClient(cmdFunctionList)),
			command.Row("dump", 2, command.NoScript, command.NoKeys, withClient(cmdFunctionDump)),
			command.Row("help", 2, 0, command.NoKeys, withClient(cmdFunctionHelp)),
		),
		// pub/sub (pubsub.go): channels live in the tenant's namespace
		command.Row("subscribe", -2, command.Subscribed|command.NoScript, command.NoKeys, withClient(cmdSubscribe)),
		command.Row("unsubscribe", -1, command.Subscribed|command.NoScript, command.NoKeys, withClient(cmdUnsubscribe)),
		command.Row("psubscribe", -2, command.Subscribed|command.NoScript, command.NoKeys, withClient(cmdPSubscribe)),
		command.Row("punsubscribe", -1, command.Subscribed|command.NoScript, command.NoKeys, withClient(cmdPUnsubscribe)),
		command.Row("publish", 3, command.Write|command.Fast, command.NoKeys, withClient(cmdPublish)),
		command.Container("pubsub", -2, 0, nil,
			command.Row("channels", -2, 0, command.NoKeys, withClient(cmdPubsubChannels)),
			command.Row("numsub", -2, 0, command.NoKeys, withClient(cmdPubsubNumsub)),
			command.Row("numpat", 2, 0, command.NoKeys, withClient(cmdPubsubNumpat)),
			command.Row("shardchannels", -2, 0, command.NoKeys, withClient(cmdPubsubShardChannels)),
			command.Row("shardnumsub", -2, 0, command.NoKeys, withClient(cmdPubsubShardNumsub)),
			command.Row("help", 2, 0, command.NoKeys, withClient(cmdPubsubHelp)),
		),
	}
}

// buildTable assembles the command table: the server's own rows and every
// family's (package family/...). Each row carries every property of its
// command; dispatch, permissions, WATCH, COMMAND, shedding and backed mode
// derive from it.
func (s *Server) buildTable() {
	var rows []*command.Spec
	for _, specs := range [][]*command.Spec{
		serverSpecs(), shardSpecs(), str.Specs(), keys.Specs(), hash.Specs(), list.Specs(),
		set.Specs(), zset.Specs(), geo.Specs(), sorting.Specs(), bitmap.Specs(), hll.Specs(), stream.Specs(),
		dump.Specs(),
	} {
		rows = append(rows, specs...)
	}
	if s.backend != nil {
		s.applyBacked(rows)
	}
	s.table = make(map[string]*command.Spec, len(rows))
	for _, r := range rows {
		if s.table[r.Name] != nil {
			panic("command table: " + r.Name + " declared twice")
		}
		s.table[r.Name] = r
		s.ordered = append(s.ordered, r)
	}
	sort.Slice(s.ordered, func(i, j int) bool { return s.ordered[i].Name < s.ordered[j].Name })
}
