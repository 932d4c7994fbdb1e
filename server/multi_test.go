package server

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/config"
)

// steps runs commands on r and compares each normalised reply.
func steps(t *testing.T, r *rconn, st []txStep) {
	t.Helper()
	for i, s := range st {
		if got := norm(r.do(s.args...)); !reflect.DeepEqual(got, s.want) {
			t.Fatalf("step %d %q: got %#v, want %#v", i, s.args, got, s.want)
		}
	}
}

type txStep struct {
	args []string
	want any
}

func cmd(args ...string) []string { return args }

func TestMultiExecReplies(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	steps(t, r, []txStep{
		{cmd("EXEC"), respErr(errExecNoMulti)},
		{cmd("DISCARD"), respErr(errDiscardNoMulti)},
		{cmd("MULTI"), status("OK")},
		{cmd("MULTI"), respErr(errMultiNested)},       // does not flag
		{cmd("WATCH", "x"), respErr(errWatchInMulti)}, // does not flag
		{cmd("SET", "a", "1"), status("QUEUED")},
		{cmd("INCR", "n"), status("QUEUED")},
		{cmd("SET", "s", "str"), status("QUEUED")},
		{cmd("INCR", "s"), status("QUEUED")}, // fails at EXEC only
		{cmd("GET", "a"), status("QUEUED")},
		{cmd("MGET", "a", "n", "zz"), status("QUEUED")},
		{cmd("UNWATCH"), status("QUEUED")}, // queued, as in Redis
		{cmd("EXEC"), []any{status("OK"), int64(1), status("OK"), respErr(command.ErrNotInteger), "1", []any{"1", "1", nil}, status("OK")}},
		{cmd("EXEC"), respErr(errExecNoMulti)},
		// DISCARD drops everything queued.
		{cmd("MULTI"), status("OK")},
		{cmd("SET", "d", "1"), status("QUEUED")},
		{cmd("DISCARD"), status("OK")},
		{cmd("EXISTS", "d"), int64(0)},
		// An empty transaction.
		{cmd("MULTI"), status("OK")},
		{cmd("EXEC"), []any{}},
		// SELECT inside a transaction applies to what follows it.
		{cmd("MULTI"), status("OK")},
		{cmd("SELECT", "3"), status("QUEUED")},
		{cmd("SET", "in3", "x"), status("QUEUED")},
		{cmd("EXEC"), []any{status("OK"), status("OK")}},
		{cmd("GET", "in3"), "x"},
		{cmd("SELECT", "0"), status("OK")},
		{cmd("EXISTS", "in3"), int64(0)},
	})
}

func TestMultiExecAbort(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	steps(t, r, []txStep{
		{cmd("MULTI"), status("OK")},
		{cmd("SET", "a", "1"), status("QUEUED")},
		{cmd("NOPE", "x"), respErr("ERR unknown command 'NOPE', with args beginning with: 'x' ")},
		{cmd("SET", "b", "1"), status("QUEUED")},
		{cmd("EXEC"), respErr(errExecAbort)},
		{cmd("EXISTS", "a", "b"), int64(0)},
		{cmd("EXEC"), respErr(errExecNoMulti)},
		// Arity.
		{cmd("MULTI"), status("OK")},
		{cmd("GET"), respErr(command.ErrWrongArgs("get"))},
		{cmd("EXEC"), respErr(errExecAbort)},
		// Unknown subcommand.
		{cmd("MULTI"), status("OK")},
		{cmd("CLIENT", "NOPE"), respErr("ERR unknown subcommand 'NOPE'. Try CLIENT HELP.")},
		{cmd("EXEC"), respErr(errExecAbort)},
		// NOPERM: FLUSHALL needs the admin role.
		{cmd("MULTI"), status("OK")},
		{cmd("SET", "a", "1"), status("QUEUED")},
		{cmd("FLUSHALL"), respErr(command.ErrNoPerm("flushall"))},
		{cmd("EXEC"), respErr(errExecAbort)},
		{cmd("EXISTS", "a"), int64(0)},
		// A refused EXEC discards the transaction (Redis's execCommandAbort).
		{cmd("MULTI"), status("OK")},
		{cmd("SET", "a", "1"), status("QUEUED")},
		{cmd("EXEC", "x"), respErr("EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command")},
		{cmd("EXEC"), respErr(errExecNoMulti)},
		{cmd("EXISTS", "a"), int64(0)},
		// RESET discards the transaction.
		{cmd("MULTI"), status("OK")},
		{cmd("SET", "a", "1"), status("QUEUED")},
		{cmd("RESET"), status("RESET")},
		{cmd("AUTH", "alice", "alice-pw"), status("OK")},
		{cmd("EXEC"), respErr(errExecNoMulti)},
		{cmd("EXISTS", "a"), int64(0)},
	})

	ro := dialAs(t, srv.addr, "aro", "aro-pw")
	steps(t, ro, []txStep{
		{cmd("MULTI"), status("OK")},
		{cmd("GET", "a"), status("QUEUED")},
		{cmd("SET", "a", "1"), respErr(command.ErrNoPerm("set"))},
		{cmd("EXEC"), respErr(errExecAbort)},
	})

	// Unauthenticated: NOAUTH before MULTI, and an EXEC is aborted.
	cfg := testConfig()
	srv2 := startServer(t, cfg, false)
	u := dial(t, srv2.addr)
	steps(t, u, []txStep{
		{cmd("MULTI"), respErr(errNoAuth)},
		{cmd("EXEC"), respErr("EXECABORT Transaction discarded because of: " + errNoAuth)},
	})
}

// TestMultiQueuedAuth: a queued AUTH that re-binds the connection to
// another tenant runs at EXEC; the commands after it, checked for the old
// user, are refused rather than run against the other tenant.
func TestMultiQueuedAuth(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	steps(t, r, []txStep{
		{cmd("MULTI"), status("OK")},
		{cmd("SET", "k", "a"), status("QUEUED")},
		{cmd("AUTH", "bob", "bob-pw"), status("QUEUED")},
		{cmd("SET", "k", "b"), status("QUEUED")},
		{cmd("EXEC"), []any{status("OK"), status("OK"), respErr(errExecACLChanged)}},
		{cmd("EXISTS", "k"), int64(0)}, // now tenant b
		{cmd("AUTH", "alice", "alice-pw"), status("OK")},
		{cmd("GET", "k"), "a"},
	})
}

func TestMultiOOMInsideExec(t *testing.T) {
	cfg := testConfig()
	cfg.Tenants[0].Quota = 64 << 10
	cfg.Tenants[0].Eviction = config.NoEviction
	srv := startServer(t, cfg, false)
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	big := strings.Repeat("x", 100<<10) // larger than the whole quota
	steps(t, r, []txStep{
		{cmd("MULTI"), status("OK")},
		{cmd("SET", "a", "1"), status("QUEUED")},
		{cmd("SET", "big", big), status("QUEUED")},
		{cmd("SET", "b", "1"), status("QUEUED")},
		// Per-command replies, as Redis: the write that does not fit
		// changes nothing, the others are applied.
		{cmd("EXEC"), []any{status("OK"), respErr(command.ErrOOM), status("OK")}},
		{cmd("EXISTS", "a", "big", "b"), int64(2)},
	})
}

// TestMultiLargeExecReply: EXEC's replies are held while the tenant is
// locked and written afterwards, in order with the pipelined replies
// around them.
func TestMultiLargeExecReply(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	val := strings.Repeat("v", 50<<10)
	var raw bytes.Buffer
	raw.Write(encode("SET", "big", val))
	raw.Write(encode("MULTI"))
	for range 8 {
		raw.Write(encode("GET", "big"))
	}
	raw.Write(encode("EXEC"))
	raw.Write(encode("PING", "after"))
	r.send(raw.Bytes())
	if got := r.read(); got != status("OK") {
		t.Fatalf("SET = %v", got)
	}
	if got := r.read(); got != status("OK") {
		t.Fatalf("MULTI = %v", got)
	}
	for i := range 8 {
		if got := r.read(); got != status("QUEUED") {
			t.Fatalf("GET %d = %v", i, got)
		}
	}
	got, ok := norm(r.read()).([]any)
	if !ok || len(got) != 8 {
		t.Fatalf("EXEC = %T len %d", got, len(got))
	}
	for i, v := range got {
		if v != val {
			t.Fatalf("EXEC reply %d is not the value", i)
		}
	}
	if got := norm(r.read()); got != "after" {
		t.Fatalf("PING after EXEC = %v", got)
	}
}

func TestWatch(t *testing.T) {
	srv := startServer(t, testConfig(), true)
	a := dialAs(t, srv.addr, "aadmin", "aadmin-pw")
	a2 := dialAs(t, srv.addr, "alice", "alice-pw")
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	ops := dialAs(t, srv.addr, "ops", "ops-pw")
	ok := status("OK")

	// tx runs MULTI SET out v EXEC on a and returns EXEC's reply.
	tx := func(v string) any {
		t.Helper()
		if got := a.do("MULTI"); got != ok {
			t.Fatalf("MULTI = %v", got)
		}
		if got := a.do("SET", "out", v); got != status("QUEUED") {
			t.Fatalf("SET = %v", got)
		}
		return norm(a.do("EXEC"))
	}
	applied := []any{ok}
	check := func(name string, got any, want any, outWant any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: EXEC = %#v, want %#v", name, got, want)
		}
		if o := norm(a.do("GET", "out")); o != outWant {
			t.Errorf("%s: out = %#v, want %#v", name, o, outWant)
		}
		a.do("DEL", "out")
	}
	watch := func(keys ...string) {
		t.Helper()
		if got := a.do(append([]string{"WATCH"}, keys...)...); got != ok {
			t.Fatalf("WATCH = %v", got)
		}
	}

	a.do("SET", "k", "1")
	watch("k")
	check("untouched", tx("1"), applied, "1")

	watch("k")
	a2.do("SET", "k", "2")
	check("SET by another connection", tx("1"), nilArray{}, nil)

	// EXEC unwatched: the next transaction runs.
	a2.do("SET", "k", "3")
	check("after EXEC unwatches", tx("1"), applied, "1")

	watch("k", "other")
	a2.do("INCR", "other")
	check("second key", tx("1"), nilArray{}, nil)

	watch("k")
	a.do("SET", "k", "own")
	check("own write before MULTI", tx("1"), nilArray{}, nil)

	watch("k")
	a.do("UNWATCH")
	a2.do("SET", "k", "4")
	check("UNWATCH", tx("1"), applied, "1")

	watch("k")
	a2.do("DEL", "k")
	check("DEL", tx("1"), nilArray{}, nil)

	a.do("SET", "k", "1")
	watch("k")
	a2.do("EXPIRE", "k", "100")
	check("EXPIRE", tx("1"), nilArray{}, nil)

	a.do("SET", "k", "1", "PX", "500")
	watch("k")
	srv.clock.Add(time.Second)
	check("expiry", tx("1"), nilArray{}, nil)

	a.do("SET", "k", "1")
	watch("k")
	a2.do("MSET", "x", "1", "k", "2")
	check("MSET pair", tx("1"), nilArray{}, nil)

	watch("k")
	a2.do("RENAME", "x", "k")
	check("RENAME destination", tx("1"), nilArray{}, nil)

	watch("k")
	a2.do("SELECT", "5")
	a2.do("SET", "k", "5")
	check("same name in another db", tx("1"), applied, "1")

	a2.do("SET", "m", "1")
	watch("k")
	a2.do("MOVE", "m", "0") // from db 5 to a's db 0: a different key
	a2.do("SET", "k", "x")
	a2.do("MOVE", "k", "0") // fails: k exists in db 0, so nothing changed
	check("failed MOVE into watched db", tx("1"), applied, "1")
	a2.do("DEL", "k")
	watch("k")
	a2.do("SET", "k", "x")
	a2.do("SELECT", "0")
	a2.do("DEL", "k")
	a2.do("SELECT", "5")
	a2.do("MOVE", "k", "0") // creates k in db 0 (existence is unchanged)
	check("MOVE into watched db", tx("1"), nilArray{}, nil)
	a2.do("SELECT", "0")

	a.do("SET", "k", "1")
	watch("k")
	a2.do("COPY", "k", "c", "DB", "5")
	check("COPY reads only", tx("1"), applied, "1")
	watch("k")
	a2.do("SELECT", "5")
	a2.do("COPY", "c", "k", "DB", "0", "REPLACE")
	a2.do("SELECT", "0")
	check("COPY ... DB destination", tx("1"), nilArray{}, nil)

	watch("k")
	b.do("SET", "k", "tenant b")
	b.do("DEL", "k")
	b.do("FLUSHALL")
	check("tenant b never touches tenant a's keys", tx("1"), applied, "1")

	a.do("SET", "k", "1")
	watch("k")
	a.do("FLUSHALL")
	check("FLUSHALL", tx("1"), nilArray{}, nil)

	a.do("SET", "k", "1")
	watch("k")
	a.do("SELECT", "1")
	a.do("FLUSHDB")
	a.do("SELECT", "0")
	check("FLUSHDB of another db", tx("1"), applied, "1")

	watch("k")
	a.do("FLUSHDB")
	check("FLUSHDB", tx("1"), nilArray{}, nil)

	a.do("SET", "k", "1")
	watch("k")
	if got := ops.do("TENANT", "FLUSH", "a"); got != ok {
		t.Fatalf("TENANT FLUSH = %v", got)
	}
	check("TENANT FLUSH", tx("1"), nilArray{}, nil)

	// A key absent at WATCH and created since.
	watch("new")
	a2.do("SETNX", "new", "1")
	check("created", tx("1"), nilArray{}, nil)

	// DISCARD and RESET unwatch.
	watch("k")
	a.do("MULTI")
	a.do("DISCARD")
	a2.do("SET", "k", "9")
	check("DISCARD unwatches", tx("1"), applied, "1")
	watch("k")
	a.do("RESET")
	a.do("AUTH", "aadmin", "aadmin-pw")
	a2.do("SET", "k", "9")
	check("RESET unwatches", tx("1"), applied, "1")

	// Watching with no writes at all leaves the registry empty after EXEC.
	watch("k", "k", "z")
	check("duplicate keys", tx("1"), applied, "1")
	tn := srv.reg.Load().tenants["a"]
	if n := tn.watch.n.Load(); n != 0 {
		t.Errorf("registry holds %d entries after every EXEC", n)
	}
	// A closed connection unwatches.
	c := dialAs(t, srv.addr, "alice", "alice-pw")
	c.do("WATCH", "p", "q")
	if n := tn.watch.n.Load(); n != 2 {
		t.Errorf("registry holds %d entries, want 2", n)
	}
	c.c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for tn.watch.n.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := tn.watch.n.Load(); n != 0 {
		t.Errorf("registry holds %d entries after the watcher left", n)
	}
}

// TestWatchEachType: each type's writes, multi-key ones included, mark a
// WATCHed key, so EXEC fails; without WATCH a transaction of the type's
// commands runs them in order.
func TestWatchEachType(t *testing.T) {
	type watched struct {
		key   string   // WATCHed by a, then read inside MULTI
		write []string // by b, another connection of the tenant
	}
	for _, tc := range []struct {
		name   string
		setup  [][]string
		read   func(key string) []string
		writes []watched
		noops  []watched
		tx     [][]string
		want   any
	}{
		{name: "hash", setup: [][]string{{"HSET", "h", "f", "1"}},
			read: func(string) []string { return []string{"HGET", "h", "f"} },
			writes: []watched{
				{"h", []string{"HSET", "h", "f", "2"}},
				{"h", []string{"HINCRBY", "h", "f", "1"}},
				{"h", []string{"HDEL", "h", "f"}},
			},
			noops: []watched{{"h", []string{"HDEL", "h", "nofield"}}, {"h", []string{"HSETNX", "h", "f", "9"}}},
			tx:    [][]string{{"HSET", "h", "x", "1"}, {"HINCRBY", "h", "x", "2"}},
			want:  []any{int64(1), int64(3)}},
		{name: "set", setup: [][]string{{"SADD", "s", "1", "2"}, {"SADD", "t", "2"}},
			read: func(k string) []string { return []string{"SCARD", k} },
			writes: []watched{
				{"s", []string{"SADD", "s", "3"}},
				{"s", []string{"SREM", "s", "3"}},
				{"d", []string{"SINTERSTORE", "d", "s", "t"}},
				{"t", []string{"SMOVE", "s", "t", "1"}},
				{"s", []string{"SMOVE", "s", "t", "2"}},
			},
			noops: []watched{{"s", []string{"SPOP", "s", "0"}}, {"s", []string{"SREM", "s", "nomember"}},
				{"s", []string{"SADD", "s", "2"}}, {"t", []string{"SMOVE", "s", "t", "nomember"}}},
			tx:   [][]string{{"SADD", "x", "a", "b"}, {"SDIFFSTORE", "y", "x", "t"}, {"SMEMBERS", "y"}},
			want: []any{int64(2), int64(2), []any{"a", "b"}}},
		{name: "zset", setup: [][]string{{"ZADD", "z", "1", "m"}},
			read: func(string) []string { return []string{"ZSCORE", "z", "m"} },
			writes: []watched{
				{"z", []string{"ZADD", "z", "2", "m"}},
				{"z", []string{"ZINCRBY", "z", "1", "m"}},
				{"z", []string{"ZPOPMIN", "z"}},
			},
			noops: []watched{{"z", []string{"ZADD", "z", "NX", "5", "m"}}, {"z", []string{"ZREM", "z", "nomember"}}},
			tx:    [][]string{{"ZADD", "z", "1", "x"}, {"ZINCRBY", "z", "2", "x"}, {"ZRANGE", "z", "0", "-1", "WITHSCORES"}},
			want:  []any{int64(1), "3", []any{"x", "3"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, testConfig(), false)
			a := dialAs(t, srv.addr, "alice", "alice-pw")
			b := dialAs(t, srv.addr, "alice", "alice-pw")
			for _, c := range tc.setup {
				a.do(c...)
			}
			// A write that changes nothing leaves watchers alone, as
			// Redis's signalModifiedKey (TestDiffWatchNoopWrites has
			// many more).
			for _, w := range tc.noops {
				a.do("WATCH", w.key)
				a.do("MULTI")
				a.do(tc.read(w.key)...)
				b.do(w.write...)
				if got := a.do("EXEC"); got == (nilArray{}) {
					t.Fatalf("EXEC after %v, which changed nothing, = %v", w.write, got)
				}
			}
			for _, w := range tc.writes {
				a.do("WATCH", w.key)
				a.do("MULTI")
				a.do(tc.read(w.key)...)
				b.do(w.write...)
				if got := a.do("EXEC"); got != (nilArray{}) {
					t.Fatalf("EXEC after %v = %v, want a null array", w.write, got)
				}
			}
			a.do("MULTI")
			for _, c := range tc.tx {
				a.do(c...)
			}
			if got := norm(a.do("EXEC")); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("EXEC = %v", got)
			}
		})
	}
}

// TestWatchAuthSwitch: watching keys of one tenant then re-binding to
// another makes EXEC fail; the old tenant's registry is cleaned.
func TestWatchAuthSwitch(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	steps(t, r, []txStep{
		{cmd("WATCH", "k"), status("OK")},
		{cmd("AUTH", "bob", "bob-pw"), status("OK")},
		{cmd("WATCH", "j"), status("OK")},
		{cmd("MULTI"), status("OK")},
		{cmd("SET", "x", "1"), status("QUEUED")},
		{cmd("EXEC"), nilArray{}},
		{cmd("EXISTS", "x"), int64(0)},
		{cmd("MULTI"), status("OK")},
		{cmd("SET", "x", "1"), status("QUEUED")},
		{cmd("EXEC"), []any{status("OK")}},
	})
	if n := srv.reg.Load().tenants["a"].watch.n.Load(); n != 0 {
		t.Errorf("tenant a's registry holds %d entries", n)
	}
}

// TestExecAtomic: another connection of the tenant never observes the
// state between two commands of a transaction (two keys always equal),
// and no increment is lost.
func TestExecAtomic(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	const writers, rounds = 4, 300
	var wg sync.WaitGroup
	var stop atomic.Bool
	var torn atomic.Int64
	for range 3 {
		r := dialAs(t, srv.addr, "alice", "alice-pw")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				got, ok := norm(r.do("MGET", "a", "b")).([]any)
				if !ok || !reflect.DeepEqual(got[0], got[1]) {
					torn.Add(1)
				}
			}
		}()
	}
	var ww sync.WaitGroup
	for range writers {
		w := dialAs(t, srv.addr, "alice", "alice-pw")
		ww.Add(1)
		go func() {
			defer ww.Done()
			for range rounds {
				var raw bytes.Buffer
				raw.Write(encode("MULTI"))
				raw.Write(encode("INCR", "a"))
				raw.Write(encode("INCR", "b"))
				raw.Write(encode("EXEC"))
				w.send(raw.Bytes())
				for range 3 {
					w.read()
				}
				if got, ok := w.read().([]any); !ok || len(got) != 2 {
					t.Errorf("EXEC = %v", got)
					return
				}
			}
		}()
	}
	ww.Wait()
	stop.Store(true)
	wg.Wait()
	if n := torn.Load(); n != 0 {
		t.Errorf("%d reads saw a != b", n)
	}
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	want := strconv.Itoa(writers * rounds)
	if got := norm(r.do("MGET", "a", "b")); !reflect.DeepEqual(got, []any{want, want}) {
		t.Errorf("MGET a b = %v, want %s twice", got, want)
	}
}

// TestWatchConcurrentRaw: N connections run the optimistic-lock loop
// (WATCH, GET, MULTI, SET n+1, EXEC, retry on nil) over raw sockets.
func TestWatchConcurrentRaw(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	const n, each = 6, 40
	var wg sync.WaitGroup
	var retries atomic.Int64
	for range n {
		r := dialAs(t, srv.addr, "alice", "alice-pw")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < each; {
				r.do("WATCH", "ctr")
				v := 0
				if b, ok := r.do("GET", "ctr").([]byte); ok {
					v, _ = strconv.Atoi(string(b))
				}
				r.do("MULTI")
				r.do("SET", "ctr", strconv.Itoa(v+1))
				switch got := r.do("EXEC").(type) {
				case nilArray:
					retries.Add(1)
				case []any:
					done++
				default:
					t.Errorf("EXEC = %v", got)
					return
				}
			}
		}()
	}
	wg.Wait()
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	if got := norm(r.do("GET", "ctr")); got != fmt.Sprint(n*each) {
		t.Errorf("ctr = %v, want %d (%d retries)", got, n*each, retries.Load())
	}
	t.Logf("%d retries", retries.Load())
}
