package server

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/tcached/tcached/config"
)

// TestCommandList: COMMAND LIST names every command and every
// subcommand, the latter under Redis 7.0's full names ("client|id"), and
// FILTERBY selects by pattern, ACL category or module as Redis does.
func TestCommandList(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	names := func(args ...string) []string {
		t.Helper()
		rep, isArr := norm(a.do(append([]string{"COMMAND", "LIST"}, args...)...)).([]any)
		if !isArr {
			t.Fatalf("COMMAND LIST %q = %v", args, rep)
		}
		out := make([]string, len(rep))
		for i, v := range rep {
			out[i] = v.(string)
		}
		return out
	}
	all := names()
	want := 0
	for _, cmd := range srv.ordered {
		want += 1 + len(cmd.Subs)
	}
	if len(all) != want {
		t.Errorf("COMMAND LIST has %d names, want %d (commands and subcommands)", len(all), want)
	}
	for _, n := range []string{"get", "client", "client|id", "config|get", "command|getkeys", "object|encoding"} {
		if !slices.Contains(all, n) {
			t.Errorf("COMMAND LIST lacks %q", n)
		}
	}
	if got := a.do("COMMAND", "COUNT"); got != int64(len(srv.ordered)) {
		t.Errorf("COMMAND COUNT = %v, want the %d commands (subcommands not counted, as Redis)", got, len(srv.ordered))
	}
	for _, n := range names("FILTERBY", "PATTERN", "client*") {
		if !strings.HasPrefix(n, "client") {
			t.Errorf("FILTERBY PATTERN client* listed %q", n)
		}
	}
	if got := names("FILTERBY", "PATTERN", "client|i*"); !reflect.DeepEqual(got, []string{"client|id", "client|info"}) {
		t.Errorf("FILTERBY PATTERN client|i* = %q", got)
	}
	read := names("filterby", "aclcat", "READ")
	if !slices.Contains(read, "get") || slices.Contains(read, "set") || !slices.Contains(read, "object|encoding") {
		t.Errorf("FILTERBY ACLCAT read = %q", read)
	}
	if got := names("FILTERBY", "ACLCAT", "nosuchcategory"); len(got) != 0 {
		t.Errorf("FILTERBY ACLCAT nosuchcategory = %q, want none", got)
	}
	if got := names("FILTERBY", "MODULE", "json"); len(got) != 0 {
		t.Errorf("FILTERBY MODULE json = %q, want none", got)
	}
	for _, bad := range [][]string{{"FILTERBY"}, {"FILTERBY", "PATTERN"}, {"FILTERBY", "NAME", "x"}, {"x"}, {"FILTERBY", "PATTERN", "a", "b"}} {
		if got := a.do(append([]string{"COMMAND", "LIST"}, bad...)...); got != respErr("ERR syntax error") {
			t.Errorf("COMMAND LIST %q = %v", bad, got)
		}
	}
	if got := norm(a.do("COMMAND", "INFO", "client|id")).([]any); len(got) != 1 || got[0] == nil {
		t.Errorf("COMMAND INFO client|id = %v", got)
	} else if got[0].([]any)[0] != "client|id" {
		t.Errorf("COMMAND INFO client|id names %v", got[0].([]any)[0])
	}
}

// TestCommandGetKeysDiff: COMMAND GETKEYS answers as redis-server 7.0.15
// for the commands tcached serves, errors included, and every
// subcommand's full name in COMMAND LIST is one Redis lists too.
func TestCommandGetKeysDiff(t *testing.T) {
	cfg := testConfig()
	cfg.DefaultTenant = "a"
	cfg.DefaultRole = config.RoleAdmin
	srv := startServer(t, cfg, false)
	tc := dial(t, srv.addr)
	rd := startRedisServer(t)
	for _, args := range [][]string{
		{"get", "k"}, {"GET", "k"}, {"mset", "a", "1", "b", "2"}, {"mget", "a", "b", "c"},
		{"copy", "a", "b", "DB", "3"}, {"rename", "a", "b"}, {"blpop", "a", "b", "0"},
		{"blmove", "a", "b", "LEFT", "RIGHT", "0"}, {"lmove", "a", "b", "left", "right"},
		{"object", "encoding", "k"}, {"memory", "usage", "k"}, {"sinterstore", "d", "a", "b"},
		{"sort", "k", "STORE", "d"}, {"sort", "k", "LIMIT", "0", "1", "GET", "store", "STORE", "d", "STORE", "e"}, {"hset", "h", "f", "v"}, {"zadd", "z", "1", "m"},
		{"eval", "return 1", "2", "a", "b", "c"}, {"eval", "return 1", "0"}, {"fcall", "f", "1", "k"},
		{"watch", "a", "b"}, {"del", "a", "b", "c"}, {"exists", "a"}, {"touch", "a"},
		// errors
		{"nosuchcommand", "k"}, {"ping"}, {"get"}, {"get", "a", "b"}, {"object", "nosuch", "k"},
		{"client", "list"}, {"set", "k"},
	} {
		full := append([]string{"COMMAND", "GETKEYS"}, args...)
		want, got := norm(rd.do(full...)), norm(tc.do(full...))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: tcached %v, redis %v", full, got, want)
		}
	}
	// GETKEYSANDFLAGS: the keys are Redis's; the flags are derived from
	// the row (cmd_command.go).
	if got, want := norm(tc.do("COMMAND", "GETKEYSANDFLAGS", "get", "k")), norm(rd.do("COMMAND", "GETKEYSANDFLAGS", "get", "k")); !reflect.DeepEqual(got, want) {
		t.Errorf("GETKEYSANDFLAGS get k: tcached %v, redis %v", got, want)
	}
	want := []any{[]any{"a", []any{status("RO"), status("access")}}, []any{"b", []any{status("RW"), status("access"), status("update")}}}
	if got := norm(tc.do("COMMAND", "GETKEYSANDFLAGS", "copy", "a", "b")); !reflect.DeepEqual(got, want) {
		t.Errorf("GETKEYSANDFLAGS copy a b = %v, want %v", got, want)
	}
	redisNames := map[string]bool{}
	for _, n := range norm(rd.do("COMMAND", "LIST")).([]any) {
		redisNames[n.(string)] = true
	}
	for _, cmd := range srv.ordered {
		for _, sub := range cmd.SortedSubs() {
			// TENANT is tcached's; CLIENT SETINFO and NO-TOUCH are Redis
			// 7.2's, which clients of 7.2 send.
			if !redisNames[sub.Name] && !strings.HasPrefix(sub.Name, "tenant|") && sub.Name != "client|setinfo" && sub.Name != "client|no-touch" {
				t.Errorf("COMMAND LIST names %q, which Redis 7.0 does not list", sub.Name)
			}
		}
	}
}
