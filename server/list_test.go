package server

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tcached/tcached/command"
)

func TestListCommands(t *testing.T) {
	wrongArgs := func(n string) respErr { return respErr(command.ErrWrongArgs(n)) }
	wrongType := respErr(command.ErrWrongType)
	runScripts(t, []script{
		{"push len range", []step{
			s(int64(0), "LLEN", "l"), s([]any{}, "LRANGE", "l", "0", "-1"),
			s(int64(3), "LPUSH", "l", "a", "b", "c"), s(int64(5), "RPUSH", "l", "x", "y"),
			s([]any{"c", "b", "a", "x", "y"}, "LRANGE", "l", "0", "-1"),
			s([]any{"b", "a"}, "LRANGE", "l", "1", "2"), s([]any{"x", "y"}, "LRANGE", "l", "-2", "100"),
			s([]any{"c", "b", "a", "x", "y"}, "LRANGE", "l", "-100", "100"),
			s([]any{}, "LRANGE", "l", "3", "1"), s([]any{}, "LRANGE", "l", "5", "9"),
			s(int64(5), "LLEN", "l"), s(status("list"), "TYPE", "l"), s("quicklist", "OBJECT", "ENCODING", "l"),
			s(int64(1800), "TTL", "l"),
			s(respErr(command.ErrNotInteger), "LRANGE", "l", "a", "1"), s(respErr(command.ErrNotInteger), "LRANGE", "missing", "0", "x"),
			s(wrongArgs("lpush"), "LPUSH", "l"), s(wrongArgs("rpush"), "RPUSH"),
			s(wrongArgs("llen"), "LLEN", "l", "x"), s(wrongArgs("lrange"), "LRANGE", "l", "0"),
		}},
		{"pushx", []step{
			s(int64(0), "LPUSHX", "l", "a"), s(int64(0), "RPUSHX", "l", "a", "b"), s(int64(0), "EXISTS", "l"),
			s(int64(1), "RPUSH", "l", "m"), s(int64(3), "LPUSHX", "l", "a", "b"), s(int64(5), "RPUSHX", "l", "y", "z"),
			s([]any{"b", "a", "m", "y", "z"}, "LRANGE", "l", "0", "-1"),
			s(wrongArgs("lpushx"), "LPUSHX", "l"),
		}},
		{"pop", []step{
			s(null, "LPOP", "l"), s(null, "RPOP", "l"), s(nilArray{}, "LPOP", "l", "2"), s(nilArray{}, "RPOP", "l", "0"),
			s(int64(5), "RPUSH", "l", "a", "b", "c", "d", "e"),
			s("a", "LPOP", "l"), s("e", "RPOP", "l"),
			s([]any{"b", "c"}, "LPOP", "l", "2"), s([]any{}, "LPOP", "l", "0"),
			s([]any{"d"}, "RPOP", "l", "10"), s(int64(0), "EXISTS", "l"),
			s(int64(3), "RPUSH", "l", "a", "b", "c"), s([]any{"c", "b"}, "RPOP", "l", "2"),
			s(respErr(command.ErrListMustBePositive), "LPOP", "l", "-1"), s(respErr(command.ErrListMustBePositive), "LPOP", "l", "x"),
			s(respErr(command.ErrListMustBePositive), "RPOP", "missing", "-1"),
			s(wrongArgs("lpop"), "LPOP", "l", "1", "2"), s(wrongArgs("rpop"), "RPOP"),
		}},
		{"lindex lset", []step{
			s(null, "LINDEX", "l", "0"), s(null, "LINDEX", "l", "x"),
			s(respErr(command.ErrNoSuchKey), "LSET", "l", "0", "v"), s(respErr(command.ErrNoSuchKey), "LSET", "l", "x", "v"),
			s(int64(3), "RPUSH", "l", "a", "b", "c"),
			s("a", "LINDEX", "l", "0"), s("c", "LINDEX", "l", "-1"), s("a", "LINDEX", "l", "-3"),
			s(null, "LINDEX", "l", "3"), s(null, "LINDEX", "l", "-4"),
			s(respErr(command.ErrNotInteger), "LINDEX", "l", "x"),
			s(ok, "LSET", "l", "1", "BB"), s(ok, "LSET", "l", "-1", "CC"),
			s([]any{"a", "BB", "CC"}, "LRANGE", "l", "0", "-1"),
			s(respErr(command.ErrListIndexRange), "LSET", "l", "3", "v"), s(respErr(command.ErrListIndexRange), "LSET", "l", "-4", "v"),
			s(respErr(command.ErrNotInteger), "LSET", "l", "x", "v"),
			s(wrongArgs("lindex"), "LINDEX", "l"), s(wrongArgs("lset"), "LSET", "l", "0"),
		}},
		{"lrem ltrim", []step{
			s(int64(0), "LREM", "l", "0", "x"), s(ok, "LTRIM", "l", "0", "1"),
			s(int64(6), "RPUSH", "l", "x", "a", "x", "b", "x", "c"),
			s(int64(1), "LREM", "l", "1", "x"), s([]any{"a", "x", "b", "x", "c"}, "LRANGE", "l", "0", "-1"),
			s(int64(1), "LREM", "l", "-1", "x"), s([]any{"a", "x", "b", "c"}, "LRANGE", "l", "0", "-1"),
			s(int64(0), "LREM", "l", "0", "zz"), s(int64(1), "LREM", "l", "0", "x"),
			s(respErr(command.ErrNotInteger), "LREM", "l", "x", "a"),
			s(ok, "LTRIM", "l", "1", "-1"), s([]any{"b", "c"}, "LRANGE", "l", "0", "-1"),
			s(ok, "LTRIM", "l", "-1", "5"), s([]any{"c"}, "LRANGE", "l", "0", "-1"),
			s(respErr(command.ErrNotInteger), "LTRIM", "l", "0", "x"),
			s(ok, "LTRIM", "l", "5", "1"), s(int64(0), "EXISTS", "l"),
			s(int64(2), "RPUSH", "l", "q", "q"), s(int64(2), "LREM", "l", "0", "q"), s(int64(0), "EXISTS", "l"),
			s(wrongArgs("lrem"), "LREM", "l", "0"), s(wrongArgs("ltrim"), "LTRIM", "l", "0"),
		}},
		{"linsert", []step{
			s(int64(0), "LINSERT", "l", "BEFORE", "a", "x"), s(int64(0), "EXISTS", "l"),
			s(respErr(command.ErrSyntax), "LINSERT", "l", "MIDDLE", "a", "x"),
			s(int64(2), "RPUSH", "l", "a", "b"),
			s(int64(3), "LINSERT", "l", "BEFORE", "a", "x"), s(int64(4), "LINSERT", "l", "after", "b", "y"),
			s(int64(-1), "LINSERT", "l", "AFTER", "zz", "y"),
			s([]any{"x", "a", "b", "y"}, "LRANGE", "l", "0", "-1"),
			s(wrongArgs("linsert"), "LINSERT", "l", "BEFORE", "a"),
		}},
		{"lpos", []step{
			s(null, "LPOS", "l", "c"), s([]any{}, "LPOS", "l", "c", "COUNT", "0"),
			s(int64(8), "RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"),
			s(int64(2), "LPOS", "l", "c"), s(null, "LPOS", "l", "zz"),
			s(int64(6), "LPOS", "l", "c", "RANK", "2"), s(int64(7), "LPOS", "l", "c", "RANK", "-1"),
			s(null, "LPOS", "l", "c", "RANK", "4"),
			s([]any{int64(2), int64(6)}, "LPOS", "l", "c", "COUNT", "2"),
			s([]any{int64(2), int64(6), int64(7)}, "LPOS", "l", "c", "COUNT", "0"),
			s([]any{int64(7), int64(6), int64(2)}, "LPOS", "l", "c", "RANK", "-1", "COUNT", "0"),
			s([]any{int64(2)}, "LPOS", "l", "c", "COUNT", "0", "MAXLEN", "3"),
			s(null, "LPOS", "l", "c", "MAXLEN", "2"), s([]any{}, "LPOS", "l", "zz", "COUNT", "1"),
			s(respErr(command.ErrListRankZero), "LPOS", "l", "c", "RANK", "0"),
			s(int64(7), "LPOS", "l", "c", "RANK", "-9223372036854775808"),
			s(respErr(command.ErrListCountNeg), "LPOS", "l", "c", "COUNT", "-1"),
			s(respErr(command.ErrListMaxlenNeg), "LPOS", "l", "c", "MAXLEN", "-1"),
			s(respErr(command.ErrNotInteger), "LPOS", "l", "c", "RANK", "x"),
			s(respErr(command.ErrSyntax), "LPOS", "l", "c", "RANK"), s(respErr(command.ErrSyntax), "LPOS", "l", "c", "BOGUS", "1"),
			s(wrongArgs("lpos"), "LPOS", "l"),
		}},
		{"lmove", []step{
			s(null, "LMOVE", "src", "dst", "LEFT", "RIGHT"), s(int64(0), "EXISTS", "dst"),
			s(respErr(command.ErrSyntax), "LMOVE", "src", "dst", "UP", "RIGHT"),
			s(int64(3), "RPUSH", "src", "a", "b", "c"),
			s("a", "LMOVE", "src", "dst", "LEFT", "RIGHT"), s("c", "LMOVE", "src", "dst", "RIGHT", "LEFT"),
			s([]any{"c", "a"}, "LRANGE", "dst", "0", "-1"), s([]any{"b"}, "LRANGE", "src", "0", "-1"),
			s(int64(1800), "TTL", "dst"),
			s("b", "LMOVE", "src", "dst", "left", "left"), s(int64(0), "EXISTS", "src"),
			s([]any{"b", "c", "a"}, "LRANGE", "dst", "0", "-1"),
			// Same key: rotation.
			s("b", "LMOVE", "dst", "dst", "LEFT", "RIGHT"), s([]any{"c", "a", "b"}, "LRANGE", "dst", "0", "-1"),
			s("b", "LMOVE", "dst", "dst", "RIGHT", "LEFT"), s([]any{"b", "c", "a"}, "LRANGE", "dst", "0", "-1"),
			s("b", "LMOVE", "dst", "dst", "LEFT", "LEFT"), s([]any{"b", "c", "a"}, "LRANGE", "dst", "0", "-1"),
			s(ok, "SET", "str", "v"),
			s(wrongType, "LMOVE", "dst", "str", "LEFT", "RIGHT"), s(wrongType, "LMOVE", "str", "dst", "LEFT", "RIGHT"),
			s(null, "LMOVE", "missing", "str", "LEFT", "RIGHT"),
			s([]any{"b", "c", "a"}, "LRANGE", "dst", "0", "-1"),
			s(wrongArgs("lmove"), "LMOVE", "a", "b", "LEFT"),
		}},
		{"blocking forms without waiting", []step{
			s(int64(2), "RPUSH", "l", "a", "b"),
			s([]any{"l", "a"}, "BLPOP", "missing", "l", "0"), s([]any{"l", "b"}, "BRPOP", "l", "0.5"),
			s(int64(0), "EXISTS", "l"),
			s(int64(1), "RPUSH", "s", "x"), s("x", "BLMOVE", "s", "d", "RIGHT", "LEFT", "0"),
			s(respErr(command.ErrListTimeoutNotFloat), "BLPOP", "l", "x"),
			s(respErr(command.ErrListTimeoutNotFloat), "BLPOP", "l", "nan"),
			s(respErr(command.ErrListTimeoutNegative), "BLPOP", "l", "-1"),
			s(respErr(command.ErrListTimeoutNegative), "BRPOP", "l", "1e300"),
			s(respErr(command.ErrListTimeoutNegative), "BLPOP", "l", "inf"),
			s(respErr(command.ErrListTimeoutNegative), "BLPOP", "l", "-inf"),
			s(respErr(command.ErrListTimeoutNotFloat), "BLMOVE", "s", "d", "LEFT", "LEFT", "x"),
			s(respErr(command.ErrSyntax), "BLMOVE", "s", "d", "LEFT", "UP", "0"),
			s(ok, "SET", "str", "v"), s(int64(1), "RPUSH", "l", "z"),
			s(wrongType, "BLPOP", "str", "l", "0"), s([]any{"l", "z"}, "BLPOP", "l", "str", "0"),
			s(wrongType, "BLMOVE", "str", "d", "LEFT", "LEFT", "0"),
			s(wrongArgs("blpop"), "BLPOP", "l"), s(wrongArgs("blmove"), "BLMOVE", "a", "b", "LEFT", "LEFT"),
		}},
		{"wrongtype from list commands", []step{
			s(ok, "SET", "s", "v"),
			s(wrongType, "LPUSH", "s", "a"), s(wrongType, "RPUSH", "s", "a"), s(wrongType, "LPUSHX", "s", "a"),
			s(wrongType, "RPUSHX", "s", "a"), s(wrongType, "LPOP", "s"), s(wrongType, "RPOP", "s", "2"),
			s(wrongType, "LLEN", "s"), s(wrongType, "LRANGE", "s", "0", "-1"), s(wrongType, "LINDEX", "s", "0"),
			s(wrongType, "LINDEX", "s", "x"), s(wrongType, "LSET", "s", "0", "v"), s(wrongType, "LREM", "s", "0", "v"),
			s(wrongType, "LTRIM", "s", "0", "1"), s(wrongType, "LINSERT", "s", "BEFORE", "a", "b"),
			s(wrongType, "LPOS", "s", "a"), s(wrongType, "LMOVE", "s", "d", "LEFT", "LEFT"),
			s(int64(1), "HSET", "h", "f", "v"), s(wrongType, "LPUSH", "h", "a"),
			s("v", "GET", "s"),
			// Argument errors come first, as in Redis.
			s(respErr(command.ErrNotInteger), "LRANGE", "s", "x", "0"), s(respErr(command.ErrSyntax), "LINSERT", "s", "UP", "a", "b"),
		}},
		{"wrongtype from other commands", []step{
			s(int64(2), "RPUSH", "l", "a", "b"),
			s(wrongType, "GET", "l"), s(wrongType, "INCR", "l"), s(wrongType, "APPEND", "l", "x"),
			s(wrongType, "HGET", "l", "f"), s(wrongType, "HSET", "l", "f", "v"),
			s([]any{nil}, "MGET", "l"), s(status("list"), "TYPE", "l"),
			s(ok, "SET", "l", "plain"), s("plain", "GET", "l"),
		}},
		{"keyspace commands across types", []step{
			s(int64(3), "RPUSH", "l", "a", "b", "c"),
			s(int64(1), "EXPIRE", "l", "100"), s(int64(4), "RPUSH", "l", "d"), s(int64(100), "TTL", "l"),
			s(int64(1), "COPY", "l", "lc"), s([]any{"a", "b", "c", "d"}, "LRANGE", "lc", "0", "-1"),
			s(ok, "RENAME", "lc", "lr"), s(status("list"), "TYPE", "lr"), s(int64(0), "EXISTS", "lc"),
			s(int64(1), "MOVE", "lr", "2"), s(ok, "SELECT", "2"), s(int64(4), "LLEN", "lr"), s(ok, "SELECT", "0"),
			s([]any{"0", []any{"l"}}, "SCAN", "0", "TYPE", "list"),
			// 1 (l) + 1 (count) + 4 * 2 + EntryOverhead.
			s(int64(1+1+8+72), "MEMORY", "USAGE", "l"),
			clockStep("100001ms"), s(int64(0), "LLEN", "l"), s(int64(0), "EXISTS", "l"),
		}},
	})
}

// replyWithin reads one reply from r in a goroutine, so a test can check
// that a blocked command has not answered yet.
func replyWithin(r *rconn) <-chan any {
	ch := make(chan any, 1)
	go func() {
		r.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		v, err := readReply(r.rd)
		if err != nil {
			ch <- err
			return
		}
		ch <- norm(v)
	}()
	return ch
}

func expectPending(t *testing.T, ch <-chan any, d time.Duration) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("blocked command answered early: %#v", v)
	case <-time.After(d):
	}
}

func expectReply(t *testing.T, ch <-chan any, want any) {
	t.Helper()
	select {
	case v := <-ch:
		if !reflect.DeepEqual(v, want) {
			t.Fatalf("reply %#v, want %#v", v, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no reply within 5s, want %#v", want)
	}
}

func TestListBlocking(t *testing.T) {
	srv := startServer(t, testConfig(), true) // fake clock: timeouts pass when the test says
	t.Run("served by a later push", func(t *testing.T) {
		a := dialAs(t, srv.addr, "alice", "alice-pw")
		p := dialAs(t, srv.addr, "alice", "alice-pw")
		a.send(encode("BLPOP", "q1", "q2", "0"))
		ch := replyWithin(a)
		srv.waitBlocked(t, "a", 1)
		if got := p.do("RPUSH", "q2", "job"); got != int64(1) {
			t.Fatalf("RPUSH = %v", got)
		}
		expectReply(t, ch, []any{"q2", "job"})
		if got := p.do("EXISTS", "q2"); got != int64(0) {
			t.Fatalf("popped list still exists")
		}
		// BRPOP, LINSERT does not create, LPUSHX on a missing key neither.
		a.send(encode("BRPOP", "q3", "5"))
		ch = replyWithin(a)
		srv.waitBlocked(t, "a", 1)
		p.do("LPUSH", "q3", "x", "y")
		expectReply(t, ch, []any{"q3", "x"})
	})
	t.Run("timeout", func(t *testing.T) {
		a := dialAs(t, srv.addr, "alice", "alice-pw")
		a.send(encode("BLPOP", "none", "0.2"))
		srv.expireBlocked(t, "a", 200*time.Millisecond)
		if got := a.read(); got != (nilArray{}) {
			t.Fatalf("BLPOP timeout = %#v, want *-1", got)
		}
		a.send(encode("BLMOVE", "none", "d", "LEFT", "LEFT", "0.05"))
		srv.expireBlocked(t, "a", 50*time.Millisecond)
		if got := a.read(); got != (nilArray{}) {
			t.Fatalf("BLMOVE timeout = %#v, want *-1", got)
		}
		a.do("HELLO", "3")
		a.send(encode("BRPOP", "none", "0.05"))
		srv.expireBlocked(t, "a", 50*time.Millisecond)
		a.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if line, err := a.rd.ReadString('\n'); err != nil || line != "_\r\n" {
			t.Fatalf("RESP3 BRPOP timeout = %q, %v", line, err)
		}
		if got := a.do("PING"); got != status("PONG") {
			t.Fatalf("after timeout: %v", got)
		}
	})
	t.Run("tenant isolation", func(t *testing.T) {
		a := dialAs(t, srv.addr, "alice", "alice-pw")
		a2 := dialAs(t, srv.addr, "alice", "alice-pw")
		b := dialAs(t, srv.addr, "bob", "bob-pw")
		a.send(encode("BLPOP", "shared", "0"))
		ch := replyWithin(a)
		srv.waitBlocked(t, "a", 1)
		if got := b.do("RPUSH", "shared", "from-b"); got != int64(1) {
			t.Fatalf("b RPUSH = %v", got)
		}
		expectPending(t, ch, 300*time.Millisecond)
		if got := norm(b.do("LRANGE", "shared", "0", "-1")); !reflect.DeepEqual(got, []any{"from-b"}) {
			t.Fatalf("b's list = %v", got)
		}
		// Another db of the same tenant does not serve either.
		a2.do("SELECT", "1")
		a2.do("RPUSH", "shared", "db1")
		expectPending(t, ch, 300*time.Millisecond)
		a2.do("SELECT", "0")
		a2.do("RPUSH", "shared", "from-a")
		expectReply(t, ch, []any{"shared", "from-a"})
	})
	t.Run("blmove", func(t *testing.T) {
		a := dialAs(t, srv.addr, "alice", "alice-pw")
		p := dialAs(t, srv.addr, "alice", "alice-pw")
		a.send(encode("BLMOVE", "jobs", "working", "RIGHT", "LEFT", "0"))
		ch := replyWithin(a)
		srv.waitBlocked(t, "a", 1)
		p.do("LPUSH", "jobs", "j1")
		expectReply(t, ch, "j1")
		if got := norm(p.do("LRANGE", "working", "0", "-1")); !reflect.DeepEqual(got, []any{"j1"}) {
			t.Fatalf("working = %v", got)
		}
		// A BLMOVE chain: a pusher wakes a BLMOVE whose push wakes a BLPOP.
		c := dialAs(t, srv.addr, "alice", "alice-pw")
		c.send(encode("BLPOP", "stage2", "0"))
		ch2 := replyWithin(c)
		a.send(encode("BLMOVE", "stage1", "stage2", "LEFT", "RIGHT", "0"))
		ch = replyWithin(a)
		srv.waitBlocked(t, "a", 2)
		p.do("RPUSH", "stage1", "x")
		expectReply(t, ch, "x")
		expectReply(t, ch2, []any{"stage2", "x"})
	})
	t.Run("quicklists", func(t *testing.T) {
		// One element per node: every list of more than one element is a
		// QuickList, and blocked clients are served from and into them.
		a := dialAs(t, srv.addr, "alice", "alice-pw")
		p := dialAs(t, srv.addr, "alice", "alice-pw")
		p.do("CONFIG", "SET", "list-max-listpack-size", "1")
		defer p.do("CONFIG", "SET", "list-max-listpack-size", "-2")
		a.send(encode("BLPOP", "qa", "0"))
		ch := replyWithin(a)
		srv.waitBlocked(t, "a", 1)
		p.do("RPUSH", "qa", "j1", "j2", "j3")
		expectReply(t, ch, []any{"qa", "j1"})
		p.do("RPUSH", "dst", "d1", "d2")
		a.send(encode("BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"))
		ch = replyWithin(a)
		srv.waitBlocked(t, "a", 1)
		p.do("RPUSH", "src", "s1", "s2")
		expectReply(t, ch, "s1")
		for key, want := range map[string][]any{"dst": {"d1", "d2", "s1"}, "src": {"s2"}, "qa": {"j2", "j3"}} {
			if got := norm(p.do("LRANGE", key, "0", "-1")); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s = %v, want %v", key, got, want)
			}
		}
		for _, want := range []string{"j3", "j2"} {
			if got := norm(a.do("BRPOP", "qa", "0")); !reflect.DeepEqual(got, []any{"qa", want}) {
				t.Fatalf("BRPOP = %v, want %s", got, want)
			}
		}
		if got := p.do("EXISTS", "qa"); got != int64(0) {
			t.Fatalf("drained list still exists")
		}
	})
	t.Run("inside multi does not block", func(t *testing.T) {
		a := dialAs(t, srv.addr, "alice", "alice-pw")
		a.do("MULTI")
		a.do("BLPOP", "none", "0")
		a.do("BLMOVE", "none", "d", "LEFT", "LEFT", "0")
		a.do("RPUSH", "m", "1")
		a.do("BLPOP", "m", "0")
		if got := norm(a.do("EXEC")); !reflect.DeepEqual(got, []any{nilArray{}, nil, int64(1), []any{"m", "1"}}) {
			t.Fatalf("EXEC = %#v", got)
		}
	})
	t.Run("blocked client holds no lock or slot", func(t *testing.T) {
		a := dialAs(t, srv.addr, "alice", "alice-pw")
		p := dialAs(t, srv.addr, "alice", "alice-pw")
		a.send(encode("BLPOP", "nolock", "0"))
		ch := replyWithin(a)
		srv.waitBlocked(t, "a", 1)
		// EXEC takes the tenant's lock exclusively: it must not wait for
		// the blocked client.
		p.do("MULTI")
		p.do("SET", "k", "v")
		p.do("RPUSH", "nolock", "tx")
		done := make(chan any, 1)
		go func() {
			p.send(encode("EXEC"))
			v, err := readReply(p.rd)
			if err != nil {
				done <- err
			}
			done <- norm(v)
		}()
		select {
		case v := <-done:
			if !reflect.DeepEqual(v, []any{ok, int64(1)}) {
				t.Fatalf("EXEC = %#v", v)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("EXEC blocked behind a blocked BLPOP")
		}
		expectReply(t, ch, []any{"nolock", "tx"})
	})
	t.Run("watch sees a blocking pop", func(t *testing.T) {
		a := dialAs(t, srv.addr, "alice", "alice-pw")
		w := dialAs(t, srv.addr, "alice", "alice-pw")
		w.do("RPUSH", "wq", "1")
		w.do("WATCH", "wq")
		w.do("MULTI")
		w.do("LLEN", "wq")
		if got := norm(a.do("BLPOP", "wq", "0")); !reflect.DeepEqual(got, []any{"wq", "1"}) {
			t.Fatalf("BLPOP = %v", got)
		}
		if got := w.do("EXEC"); got != (nilArray{}) {
			t.Fatalf("EXEC after a BLPOP of a watched key = %v", got)
		}
	})
	t.Run("client kill wakes", func(t *testing.T) {
		a := dialAs(t, srv.addr, "alice", "alice-pw")
		p := dialAs(t, srv.addr, "alice", "alice-pw")
		id := a.do("CLIENT", "ID").(int64)
		a.send(encode("BLPOP", "killq", "0"))
		ch := replyWithin(a)
		srv.waitBlocked(t, "a", 1)
		if got := p.do("CLIENT", "KILL", "ID", strconv.FormatInt(id, 10)); got != int64(1) {
			t.Fatalf("CLIENT KILL = %v", got)
		}
		select {
		case v := <-ch:
			if _, isErr := v.(error); !isErr {
				t.Fatalf("killed client got %#v, want the connection closed", v)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("CLIENT KILL did not wake the blocked client")
		}
		srv.waitBlocked(t, "a", 0)
		// Nothing was lost: a later push stays in the list.
		p.do("RPUSH", "killq", "kept")
		if got := p.do("LLEN", "killq"); got != int64(1) {
			t.Fatalf("LLEN after the kill = %v", got)
		}
	})
}

// TestListBlockingMaxConcurrent: blocked clients give back their admission
// slot, so with max_concurrent 1 a pusher still gets in.
func TestListBlockingMaxConcurrent(t *testing.T) {
	cfg := testConfig()
	cfg.Tenants[0].Tier.MaxConcurrent = 1
	srv := startServer(t, cfg, false)
	var chans []<-chan any
	for i := range 3 {
		a := dialAs(t, srv.addr, "alice", "alice-pw")
		a.send(encode("BLPOP", "mc", "0"))
		chans = append(chans, replyWithin(a))
		_ = i
	}
	srv.waitBlocked(t, "a", 3)
	p := dialAs(t, srv.addr, "alice", "alice-pw")
	if got := p.do("RPUSH", "mc", "1", "2", "3"); got != int64(3) {
		t.Fatalf("RPUSH with blocked clients under max_concurrent 1 = %v", got)
	}
	got := map[string]bool{}
	for _, ch := range chans {
		select {
		case v := <-ch:
			got[fmt.Sprint(v)] = true
		case <-time.After(5 * time.Second):
			t.Fatal("a blocked client was not served")
		}
	}
	if len(got) != 3 {
		t.Fatalf("served %v", got)
	}
}

// TestGoRedisList runs go-redis v9 list operations over RESP2 and RESP3.
func TestGoRedisList(t *testing.T) {
	srv := startServer(t, testConfig(), true) // fake clock: timeouts pass when the test says
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			ctx := context.Background()
			c := grClient(t, &redis.Options{Addr: srv.addr, Username: "alice", Password: "alice-pw", Protocol: proto})
			key := fmt.Sprintf("gl:%d", proto)
			if n, err := c.RPush(ctx, key, "a", "b", "c").Result(); err != nil || n != 3 {
				t.Fatalf("RPush = %d, %v", n, err)
			}
			if n, err := c.LPush(ctx, key, "z").Result(); err != nil || n != 4 {
				t.Fatalf("LPush = %d, %v", n, err)
			}
			if v, err := c.LRange(ctx, key, 0, -1).Result(); err != nil || !reflect.DeepEqual(v, []string{"z", "a", "b", "c"}) {
				t.Fatalf("LRange = %v, %v", v, err)
			}
			if v, err := c.LIndex(ctx, key, -1).Result(); err != nil || v != "c" {
				t.Fatalf("LIndex = %v, %v", v, err)
			}
			if err := c.LIndex(ctx, key, 10).Err(); !errors.Is(err, redis.Nil) {
				t.Fatalf("LIndex out of range: %v", err)
			}
			if err := c.LSet(ctx, key, 0, "Z").Err(); err != nil {
				t.Fatalf("LSet: %v", err)
			}
			if err := c.LSet(ctx, "gl:missing", 0, "Z").Err(); err == nil || err.Error() != command.ErrNoSuchKey {
				t.Fatalf("LSet missing: %v", err)
			}
			if n, err := c.LInsertBefore(ctx, key, "b", "ab").Result(); err != nil || n != 5 {
				t.Fatalf("LInsertBefore = %v, %v", n, err)
			}
			if n, err := c.LPos(ctx, key, "b", redis.LPosArgs{}).Result(); err != nil || n != 3 {
				t.Fatalf("LPos = %v, %v", n, err)
			}
			if v, err := c.LPosCount(ctx, key, "a", 0, redis.LPosArgs{}).Result(); err != nil || !reflect.DeepEqual(v, []int64{1}) {
				t.Fatalf("LPosCount = %v, %v", v, err)
			}
			if v, err := c.LPopCount(ctx, key, 2).Result(); err != nil || !reflect.DeepEqual(v, []string{"Z", "a"}) {
				t.Fatalf("LPopCount = %v, %v", v, err)
			}
			if v, err := c.RPop(ctx, key).Result(); err != nil || v != "c" {
				t.Fatalf("RPop = %v, %v", v, err)
			}
			if err := c.LPopCount(ctx, "gl:missing", 2).Err(); !errors.Is(err, redis.Nil) {
				t.Fatalf("LPopCount missing: %v", err)
			}
			if v, err := c.LMove(ctx, key, key+":dst", "LEFT", "RIGHT").Result(); err != nil || v != "ab" {
				t.Fatalf("LMove = %v, %v", v, err)
			}
			if n, err := c.LRem(ctx, key, 0, "b").Result(); err != nil || n != 1 {
				t.Fatalf("LRem = %v, %v", n, err)
			}
			if n, err := c.Exists(ctx, key).Result(); err != nil || n != 0 {
				t.Fatalf("emptied list exists: %v, %v", n, err)
			}
			if n, err := c.LLen(ctx, key+":dst").Result(); err != nil || n != 1 {
				t.Fatalf("LLen = %v, %v", n, err)
			}
			if err := c.LTrim(ctx, key+":dst", 1, -1).Err(); err != nil {
				t.Fatalf("LTrim: %v", err)
			}
			// go-redis sends a timeout under 1s as 1 (formatSec).
			expire := func() { srv.clock.Add(time.Second) }
			if err := srv.whileBlocked(t, func() error { return c.BLPop(ctx, 100*time.Millisecond, key).Err() }, expire); !errors.Is(err, redis.Nil) {
				t.Fatalf("BLPop timeout: %v", err)
			}
			if err := srv.whileBlocked(t, func() error {
				return c.BLMove(ctx, key, key+":dst", "LEFT", "LEFT", 100*time.Millisecond).Err()
			}, expire); !errors.Is(err, redis.Nil) {
				t.Fatalf("BLMove timeout: %v", err)
			}
			var v []string
			err := srv.whileBlocked(t, func() (err error) {
				v, err = c.BRPop(ctx, 5*time.Second, key).Result()
				return err
			}, func() { c.RPush(ctx, key, "late") })
			if err != nil || !reflect.DeepEqual(v, []string{key, "late"}) {
				t.Fatalf("BRPop = %v, %v", v, err)
			}
			c.RPush(ctx, key, "m")
			if v, err := c.BLMove(ctx, key, key+":dst", "RIGHT", "LEFT", time.Second).Result(); err != nil || v != "m" {
				t.Fatalf("BLMove = %v, %v", v, err)
			}
			if typ, err := c.Type(ctx, key+":dst").Result(); err != nil || typ != "list" {
				t.Fatalf("Type = %q, %v", typ, err)
			}
			if err := c.Get(ctx, key+":dst").Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
				t.Fatalf("Get of a list: %v", err)
			}
		})
	}
}

// Review findings, each failing before its fix.

func TestLRemMinInt64RemovesAll(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	r.do("RPUSH", "l", "a", "b", "a", "c", "a")
	if got := r.do("LREM", "l", "-9223372036854775808", "a"); got != int64(3) {
		t.Fatalf("LREM MinInt64 = %v (Redis removes every match)", got)
	}
	if srv.Panics() != 0 {
		t.Fatal("LREM panicked")
	}
}

// TestBlockedClientKilledAfterReloadMakesItInadmissible: a blocked BLPOP
// whose arguments a reload made too large to admit still honours CLIENT
// KILL (it used to retry admission forever).
func TestBlockedClientKilledAfterReloadMakesItInadmissible(t *testing.T) {
	cfg := testConfig()
	srv := startServer(t, cfg, false)
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	id := a.do("CLIENT", "ID").(int64)
	a.send(encode("BLPOP", strings.Repeat("k", 4096), "30"))
	srv.waitBlocked(t, "a", 1)
	nc := testConfig()
	nc.Tenants[0].Tier.MaxArgBytes = 1024
	if err := srv.Reload(nc); err != nil {
		t.Fatal(err)
	}
	admin := dialAs(t, srv.addr, "aadmin", "aadmin-pw")
	if got := admin.do("CLIENT", "KILL", "ID", itoa(id)); got != int64(1) {
		t.Fatalf("CLIENT KILL = %v", got)
	}
	a.c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := a.rd.ReadByte(); err == nil {
		t.Fatal("killed blocked client still open")
	} else if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
		t.Fatal("killed blocked client not closed within 3s")
	}
}

// TestRESP3SubscriberReceivesWhileBlocked: as in Redis, a RESP3 client
// subscribed to a channel gets messages while it waits in BLPOP.
func TestRESP3SubscriberReceivesWhileBlocked(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	a.do("HELLO", "3")
	a.do("SUBSCRIBE", "ch")
	a.send(encode("BLPOP", "q", "3"))
	srv.waitBlocked(t, "a", 1)
	p := dialAs(t, srv.addr, "aadmin", "aadmin-pw")
	if got := p.do("PUBLISH", "ch", "m1"); got != int64(1) {
		t.Fatalf("PUBLISH = %v", got)
	}
	a.c.SetReadDeadline(time.Now().Add(time.Second))
	line, err := a.rd.ReadString('\n')
	if err != nil || line != ">3\r\n" {
		t.Fatalf("while blocked, got %q, %v; want the message push at once", line, err)
	}
}
