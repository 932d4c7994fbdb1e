package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tcached/tcached/backing/clustertest"
	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/shard"
)

// Transactions, scripts and pub/sub in backed mode (multi_backed.go,
// script_backed.go, pubsub_backed.go), over TestBacked's cluster.

const crossSlot = respErr("CROSSSLOT Keys in request don't hash to the same slot")

// atomicScripts give the same replies on the embedded store and backed:
// every transaction and script keeps its keys on one slot ({t}).
func atomicScripts() []script {
	return []script{
		{"multi exec", []step{
			s(ok, "MULTI"), s(status("QUEUED"), "SET", "{t}a", "1"), s(status("QUEUED"), "INCR", "{t}a"),
			s(status("QUEUED"), "GET", "{t}a"), s(status("QUEUED"), "SET", "{t}o", "OK"), s(status("QUEUED"), "GET", "{t}o"),
			s(status("QUEUED"), "TYPE", "{t}a"), s(status("QUEUED"), "MGET", "{t}a", "{t}nope"),
			s([]any{ok, int64(2), "2", ok, "OK", status("string"), []any{"2", nil}}, "EXEC"),
		}},
		{"errors inside exec", []step{
			s(ok, "SET", "{t}s", "x"), s(ok, "MULTI"), s(status("QUEUED"), "INCR", "{t}s"),
			s(status("QUEUED"), "APPEND", "{t}s", "y"), s(status("QUEUED"), "RENAME", "{t}missing", "{t}z"),
			s([]any{respErr(command.ErrNotInteger), int64(2), respErr(command.ErrNoSuchKey)}, "EXEC"),
			s("xy", "GET", "{t}s"),
		}},
		{"execabort discard", []step{
			s(ok, "MULTI"), s(status("QUEUED"), "SET", "{t}k", "v"), s(respErr(command.ErrWrongArgs("get")), "GET"),
			s(respErr(errExecAbort), "EXEC"), s(null, "GET", "{t}k"),
			s(ok, "MULTI"), s(status("QUEUED"), "SET", "{t}k", "v"), s(ok, "DISCARD"), s(null, "GET", "{t}k"),
			s(respErr(errExecNoMulti), "EXEC"), s(ok, "MULTI"), s(respErr(errMultiNested), "MULTI"), s([]any{}, "EXEC"),
		}},
		{"local commands in place", []step{
			s(ok, "MULTI"), s(status("QUEUED"), "PING"), s(status("QUEUED"), "SET", "{t}x", "0"),
			s(status("QUEUED"), "SELECT", "1"), s(status("QUEUED"), "SET", "{t}x", "1"), s(status("QUEUED"), "ECHO", "e"),
			s([]any{status("PONG"), ok, ok, ok, "e"}, "EXEC"),
			s("1", "GET", "{t}x"), s(ok, "SELECT", "0"), s("0", "GET", "{t}x"),
		}},
		{"default ttl", []step{
			s(ok, "MULTI"), s(status("QUEUED"), "SET", "{t}ttl", "v"), s(status("QUEUED"), "SET", "{t}p", "v"),
			s(status("QUEUED"), "PERSIST", "{t}p"), s(status("QUEUED"), "TTL", "{t}ttl"),
			s([]any{ok, ok, int64(1), int64(1800)}, "EXEC"), s(int64(-1), "TTL", "{t}p"),
		}},
		{"watch", []step{
			s(ok, "WATCH", "{w}k"), s(ok, "SET", "{w}k", "1"), s(ok, "MULTI"), s(status("QUEUED"), "SET", "{w}k", "2"),
			s(nilArray{}, "EXEC"), s("1", "GET", "{w}k"),
			s(ok, "WATCH", "{w}k", "{w}missing"), s(ok, "MULTI"), s(status("QUEUED"), "SET", "{w}k", "3"),
			s([]any{ok}, "EXEC"), s("3", "GET", "{w}k"),
			s(ok, "WATCH", "{w}k"), s(ok, "UNWATCH"), s(ok, "SET", "{w}k", "4"), s(ok, "MULTI"), s([]any{}, "EXEC"),
			s(ok, "MULTI"), s(respErr(errWatchInMulti), "WATCH", "{w}k"), s(ok, "DISCARD"),
		}},
		{"eval", []step{
			s(ok, "EVAL", "return redis.call('SET', KEYS[1], ARGV[1])", "1", "{s}k", "v"),
			s("v", "EVAL", "return redis.call('GET', KEYS[1])", "1", "{s}k"),
			s([]any{"{s}k", "{s}j", "a"}, "EVAL", "return {KEYS[1], KEYS[2], ARGV[1]}", "2", "{s}k", "{s}j", "a"),
			s(int64(3), "EVAL", "redis.call('SET', KEYS[2], 2); return redis.call('INCRBY', KEYS[2], ARGV[1])", "2", "{s}k", "{s}j", "1"),
			s(status("fine"), "EVAL", "return redis.status_reply('fine')", "0"),
			s(respErr("MY error"), "EVAL", "return redis.error_reply('MY error')", "0"),
			s(null, "EVAL", "return nil", "0"), s(int64(7), "EVAL", "return 7.9", "0"),
			s(respErr(command.ErrNotInteger), "EVAL", "return redis.pcall('INCR', KEYS[1])", "1", "{s}k"),
			s("e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "SCRIPT", "LOAD", "return 1"),
			s(int64(1), "EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"),
			s("ERR Write commands are not allowed from read-only scripts.", "EVAL_RO", "return redis.pcall('SET', KEYS[1], 'x')['err']", "1", "{s}k"),
			s("v", "EVAL_RO", "#!lua flags=no-writes\nreturn redis.call('GET', KEYS[1])", "1", "{s}k"),
			s(int64(1800), "TTL", "{s}j"),
		}},
		{"fcall", []step{
			s("lib", "FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('set', function(keys, args) return redis.call('SET', keys[1], args[1]) end)\n"+
				"redis.register_function{function_name='get', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}}"),
			s(ok, "FCALL", "set", "1", "{f}k", "val"), s("val", "FCALL_RO", "get", "1", "{f}k"), s("val", "GET", "{f}k"),
			s(respErr(errFunctionNotFound), "FCALL", "nope", "0"),
		}},
	}
}

// TestBackedAtomicEmbedded: the atomic scripts on the embedded store.
func TestBackedAtomicEmbedded(t *testing.T) {
	for _, sc := range atomicScripts() {
		t.Run(sc.name, func(t *testing.T) {
			srv := startServer(t, testConfig(), false)
			runSteps(t, dialAs(t, srv.addr, "alice", "alice-pw"), sc.steps, nil)
		})
	}
}

func testBackedAtomic(t *testing.T, cl *clustertest.Cluster) {
	prefix := fmt.Sprintf("at%d:", prefixSeq.Add(1))
	a, _ := startBacked(t, cl, testConfig(), prefix, nil)
	b, _ := startBacked(t, cl, testConfig(), prefix, nil)
	t.Run("same replies", func(t *testing.T) {
		for _, sc := range atomicScripts() {
			t.Run(sc.name, func(t *testing.T) {
				r := dialAs(t, a.addr, "alice", "alice-pw")
				r.do("FLUSHALL")
				r.do("FUNCTION", "FLUSH")
				runSteps(t, r, sc.steps, nil)
			})
		}
	})
	t.Run("crossslot", func(t *testing.T) {
		r := dialAs(t, a.addr, "aadmin", "aadmin-pw")
		runSteps(t, r, []step{
			// Each command on one slot, together on two: EXEC answers
			// CROSSSLOT and runs nothing, as Redis Cluster does.
			s(ok, "MULTI"), s(status("QUEUED"), "SET", "x1", "1"), s(status("QUEUED"), "SET", "x2", "2"),
			s(crossSlot, "EXEC"), s(null, "GET", "x1"), s(respErr(errExecNoMulti), "EXEC"),
			// One command across slots: refused when queued, EXECABORT.
			s(ok, "MULTI"), s(crossSlot, "MSET", "x1", "1", "x2", "2"), s(respErr(errExecAbort), "EXEC"),
			// Cluster-wide commands and scripts are refused when queued.
			s(ok, "MULTI"), s(respErr("ERR 'keys' is not available inside MULTI when tcached fronts Redis Cluster"), "KEYS", "*"),
			s(respErr("ERR 'flushdb' is not available inside MULTI when tcached fronts Redis Cluster"), "FLUSHDB"),
			s(respErr("ERR 'eval' is not available inside MULTI when tcached fronts Redis Cluster"), "EVAL", "return 1", "0"),
			s(respErr(errExecAbort), "EXEC"),
			// WATCH's keys share a slot, with each other and with the
			// transaction's.
			s(crossSlot, "WATCH", "x1", "x2"), s(ok, "WATCH", "{w}1"), s(crossSlot, "WATCH", "x1"),
			s(ok, "MULTI"), s(status("QUEUED"), "SET", "x1", "1"), s(crossSlot, "EXEC"), s(null, "GET", "x1"),
			s(crossSlot, "EVAL", "return 1", "2", "x1", "x2"),
		}, nil)
	})
	t.Run("watch reads skip l1", func(t *testing.T) {
		// A watcher's reads go to L2: an L1 copy that another node's write
		// has not yet invalidated would hand it an old value that EXEC's
		// fingerprint check (taken at WATCH, after the write) cannot
		// catch, and the increment built on it would be lost. A stale copy
		// is planted in L1 by hand to make that window deterministic.
		ta := a.reg.Load().tenants["a"]
		r := dialAs(t, a.addr, "alice", "alice-pw")
		r.do("SET", "{s}n", "5")
		r.do("HSET", "{s}h", "f", "5")
		r.do("HSET", "{s}old", "f", "1")
		stale := func() {
			if err := ta.part.Set(0, []byte("{s}n"), []byte("1"), time.Now().Add(time.Minute).UnixMilli()); err != nil {
				t.Fatal(err)
			}
			r.do("HGET", "{s}old", "f") // cached in L1: its copy stands in for an old {s}h
			var old shard.Entry
			if !ta.part.View(0, []byte("{s}old"), 0, func(e shard.Entry) {
				old = e
				old.Value = append([]byte(nil), e.Value...)
			}) || old.Obj != nil {
				t.Fatal("the small hash is not in L1 in its compact encoding")
			}
			ta.part.Mutate(0, []byte("{s}h"), func(shard.Entry, bool) (shard.Entry, shard.Action, error) {
				return old, shard.Put, nil
			})
		}
		stale()
		// Without a WATCH the planted copies are served (so this test can fail).
		if got := norm(r.do("GET", "{s}n")); got != "1" {
			t.Fatalf("GET of the planted L1 copy: %#v", got)
		}
		if got := norm(r.do("HGET", "{s}h", "f")); got != "1" {
			t.Fatalf("HGET of the planted L1 copy: %#v", got)
		}
		stale()
		r.do("WATCH", "{s}n", "{s}h")
		if got := norm(r.do("GET", "{s}n")); got != "5" {
			t.Fatalf("GET under WATCH read L1: %#v", got)
		}
		if got := norm(r.do("HGET", "{s}h", "f")); got != "5" {
			t.Fatalf("HGET under WATCH read L1: %#v", got)
		}
		r.do("MULTI")
		r.do("INCR", "{s}n")
		if got := norm(r.do("EXEC")); fmt.Sprint(got) != "[6]" {
			t.Fatalf("EXEC: %#v", got)
		}
	})
	t.Run("watch across nodes", func(t *testing.T) {
		ra := dialAs(t, a.addr, "alice", "alice-pw")
		rb := dialAs(t, b.addr, "alice", "alice-pw")
		raw := cl.Client()
		ctx := context.Background()
		for i := range 20 {
			k := fmt.Sprintf("{n%d}k", i)
			ra.do("SET", k, "0")
			if got := ra.do("WATCH", k); got != ok {
				t.Fatal(got)
			}
			switch i % 3 {
			case 0: // the other node writes
				rb.do("SET", k, "b")
			case 1: // a client behind tcached's back, just before EXEC: only the fingerprint can tell
				raw.Set(ctx, prefix+"a:0:"+k, "raw", 0)
			case 2: // the other node changes only the TTL
				rb.do("EXPIRE", k, "100")
			}
			ra.do("MULTI")
			ra.do("SET", k, "a")
			if got := ra.do("EXEC"); got != (nilArray{}) {
				t.Fatalf("trial %d: EXEC after a write elsewhere: %#v", i, got)
			}
			if got := norm(ra.do("GET", k)); got == "a" {
				t.Fatalf("trial %d: the aborted transaction wrote", i)
			}
		}
		// Without a write the transaction runs, atomically: two nodes
		// incrementing under WATCH never lose an increment.
		deadline := time.Now().Add(30 * time.Second)
		inc := func(r *rconn) {
			for time.Now().Before(deadline) { // bounded: a failing EXEC must not spin forever
				r.do("WATCH", "{c}n")
				v, _ := norm(r.do("GET", "{c}n")).(string)
				n := 0
				fmt.Sscan(v, &n)
				r.do("MULTI")
				r.do("SET", "{c}n", fmt.Sprint(n+1))
				switch got := r.do("EXEC").(type) {
				case []any:
					return
				case nilArray:
				default:
					r.t.Errorf("EXEC: %#v", got)
					return
				}
			}
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range 30 {
				inc(rb)
			}
		}()
		for range 30 {
			inc(ra)
		}
		<-done // inc is bounded by the deadline
		if got := norm(ra.do("GET", "{c}n")); got != "60" {
			t.Fatalf("counter after 60 watched increments on two nodes: %#v", got)
		}
	})
	t.Run("go-redis", func(t *testing.T) {
		ctx := context.Background()
		rdb := goredis.NewClient(&goredis.Options{Addr: a.addr, Username: "alice", Password: "alice-pw"})
		defer rdb.Close()
		rdbB := goredis.NewClient(&goredis.Options{Addr: b.addr, Username: "alice", Password: "alice-pw"})
		defer rdbB.Close()
		sc := goredis.NewScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
		for i := 1; i <= 3; i++ {
			// EVALSHA, NOSCRIPT, EVAL on the first call; then EVALSHA.
			if n, err := sc.Run(ctx, rdb, []string{"{g}n"}, 2).Int(); err != nil || n != 2*i {
				t.Fatalf("Script.Run %d: %d %v", i, n, err)
			}
		}
		// Node B's script cache is its own: go-redis falls back to EVAL.
		if n, err := sc.Run(ctx, rdbB, []string{"{g}n"}, 1).Int(); err != nil || n != 7 {
			t.Fatalf("Script.Run on node B: %d %v", n, err)
		}
		cmds, err := rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			p.Set(ctx, "{g}a", "1", 0)
			p.IncrBy(ctx, "{g}a", 5)
			p.Get(ctx, "{g}a")
			return nil
		})
		if err != nil || len(cmds) != 3 || cmds[2].(*goredis.StringCmd).Val() != "6" {
			t.Fatalf("TxPipelined: %v %v", cmds, err)
		}
		err = rdb.Watch(ctx, func(tx *goredis.Tx) error {
			rdbB.Set(ctx, "{g}w", "other", 0)
			_, err := tx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
				p.Set(ctx, "{g}w", "mine", 0)
				return nil
			})
			return err
		}, "{g}w")
		if !errors.Is(err, goredis.TxFailedErr) {
			t.Fatalf("Watch with a write on node B: %v", err)
		}
		_, err = rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			p.Set(ctx, "g1", "1", 0)
			p.Set(ctx, "g2", "1", 0)
			return nil
		})
		if err == nil || !strings.HasPrefix(err.Error(), "CROSSSLOT") {
			t.Fatalf("TxPipelined across slots: %v", err)
		}
	})
	t.Run("pubsub across nodes", func(t *testing.T) { testBackedPubSub(t, a, b) })
	t.Run("script isolation", func(t *testing.T) { testBackedScriptAttacks(t, cl, a, prefix) })
	t.Run("script timeout", func(t *testing.T) { testBackedScriptTimeout(t, cl) })
	t.Run("quota", func(t *testing.T) {
		cfg := testConfig()
		cfg.Tenants[1].Tier.L2Quota = 4 << 10 // b: 4 KiB in L2
		srv, _ := startBacked(t, cl, cfg, "", nil)
		rb := dialAs(t, srv.addr, "bob", "bob-pw")
		big := strings.Repeat("x", 8<<10)
		runSteps(t, rb, []step{
			// A transaction that does not fit is refused whole, as Redis
			// refuses an EXEC of denyoom commands out of memory.
			s(ok, "MULTI"), s(status("QUEUED"), "SET", "{q}small", "1"), s(status("QUEUED"), "SET", "{q}big", big),
			s(respErr(errExecAbortBecause+"OOM command not allowed when used memory > 'maxmemory'."), "EXEC"),
			s(null, "GET", "{q}small"),
			s(respErr("OOM command not allowed when used memory > 'maxmemory'."), "EVAL", "return redis.call('SET', KEYS[1], ARGV[1])", "1", "{q}big", big),
			s(null, "GET", "{q}big"),
			s(ok, "MULTI"), s(status("QUEUED"), "SET", "{q}small", "1"), s([]any{ok}, "EXEC"),
		}, nil)
	})
}

// testBackedScriptTimeout: a tenant's script that loops forever in L2 is
// answered at its tier timeout and killed on its master (SCRIPT KILL),
// which then serves again.
func testBackedScriptTimeout(t *testing.T, cl *clustertest.Cluster) {
	ctx := context.Background()
	raw := cl.Client()
	setBusy := func(v string) {
		raw.ForEachShard(ctx, func(ctx context.Context, n *goredis.Client) error {
			return n.ConfigSet(ctx, "busy-reply-threshold", v).Err()
		})
	}
	setBusy("100")
	defer setBusy("5000")
	cfg := testConfig()
	cfg.Tenants[0].Tier.Timeout = 300 * time.Millisecond
	srv, _ := startBacked(t, cl, cfg, "", nil)
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	start := time.Now()
	if got := r.do("EVAL", "while true do end", "1", "{loop}k"); got != respErr("ERR backing tier timeout") {
		t.Fatalf("endless script: %#v", got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("endless script answered after %v", d)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := r.do("SET", "{loop}k", "v")
		if got == ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the master still answers %#v 10s after the script's timeout", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("master serving again %v after the endless script started", time.Since(start))
}

func testBackedPubSub(t *testing.T, a, b *testServer) {
	ctx := context.Background()
	sub := func(addr, user, pass string, pattern bool, chans ...string) *goredis.PubSub {
		rdb := goredis.NewClient(&goredis.Options{Addr: addr, Username: user, Password: pass})
		t.Cleanup(func() { rdb.Close() })
		var ps *goredis.PubSub
		if pattern {
			ps = rdb.PSubscribe(ctx, chans...)
		} else {
			ps = rdb.Subscribe(ctx, chans...)
		}
		t.Cleanup(func() { ps.Close() })
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		return ps
	}
	onB := sub(b.addr, "alice", "alice-pw", false, "news")
	patB := sub(b.addr, "alice", "alice-pw", true, "*")
	spyB := sub(b.addr, "bob", "bob-pw", true, "*") // another tenant, every channel
	onA := sub(a.addr, "alice", "alice-pw", false, "news")
	pub := dialAs(t, a.addr, "alice", "alice-pw")
	for i := range 50 {
		// The reply counts this node's receivers only (onA), as Redis
		// Cluster's PUBLISH counts the node's own.
		if n := pub.do("PUBLISH", "news", fmt.Sprint("m", i)); n != int64(1) {
			t.Fatalf("PUBLISH answered %#v", n)
		}
	}
	recv := func(ps *goredis.PubSub, what string) []string {
		var got []string
		ch := ps.Channel()
		timeout := time.After(5 * time.Second)
		for len(got) < 50 {
			select {
			case m := <-ch:
				got = append(got, m.Channel+"/"+m.Payload)
			case <-timeout:
				t.Fatalf("%s: %d of 50 messages", what, len(got))
			}
		}
		return got
	}
	for _, c := range []struct {
		ps   *goredis.PubSub
		what string
	}{{onB, "node B's subscriber"}, {patB, "node B's pattern"}, {onA, "node A's subscriber"}} {
		got := recv(c.ps, c.what)
		for i, m := range got {
			if m != fmt.Sprint("news/m", i) {
				t.Fatalf("%s: message %d is %q (out of order or foreign)", c.what, i, m)
			}
		}
	}
	// bob's PSUBSCRIBE * heard nothing of alice's; its own message only.
	dialAs(t, b.addr, "bob", "bob-pw").do("PUBLISH", "bobs", "x")
	select {
	case m := <-spyB.Channel():
		if m.Channel != "bobs" || m.Payload != "x" {
			t.Fatalf("tenant b heard %q on %q", m.Payload, m.Channel)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("tenant b missed its own message")
	}
	// A message from node B reaches node A.
	dialAs(t, b.addr, "alice", "alice-pw").do("PUBLISH", "news", "fromB")
	select {
	case m := <-onA.Channel():
		if m.Payload != "fromB" {
			t.Fatalf("node A got %q", m.Payload)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("node B's message never reached node A")
	}
	// Shard channels: SPUBLISH on A reaches SSUBSCRIBE on B; PUBLISH does
	// not, and SPUBLISH does not reach B's channel subscribers.
	rdbB := goredis.NewClient(&goredis.Options{Addr: b.addr, Username: "alice", Password: "alice-pw"})
	defer rdbB.Close()
	sps := rdbB.SSubscribe(ctx, "sh")
	defer sps.Close()
	if _, err := sps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	chanSub := sub(b.addr, "alice", "alice-pw", false, "sh")
	pub.do("PUBLISH", "sh", "plain")
	if n := pub.do("SPUBLISH", "sh", "sharded"); n != int64(0) {
		t.Fatalf("SPUBLISH on A counted %#v receivers on A", n)
	}
	select {
	case m := <-sps.Channel():
		if m.Channel != "sh" || m.Payload != "sharded" {
			t.Fatalf("node B's shard subscriber got %q on %q", m.Payload, m.Channel)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("SPUBLISH on A never reached SSUBSCRIBE on B")
	}
	select {
	case m := <-chanSub.Channel():
		if m.Payload != "plain" {
			t.Fatalf("node B's channel subscriber got %q", m.Payload)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("PUBLISH on A never reached SUBSCRIBE on B")
	}
	r := dialAs(t, b.addr, "alice", "alice-pw")
	if got := norm(r.do("PUBSUB", "SHARDNUMSUB", "sh")); fmt.Sprint(got) != "[sh 1]" {
		t.Fatalf("PUBSUB SHARDNUMSUB on node B: %v", got)
	}
	if got := norm(r.do("PUBSUB", "NUMSUB", "news")); fmt.Sprint(got) != "[news 1]" {
		t.Fatalf("PUBSUB NUMSUB on node B: %v", got)
	}
	if got := r.do("PUBSUB", "NUMPAT"); got != int64(1) {
		t.Fatalf("PUBSUB NUMPAT on node B: %v", got)
	}
}

// testBackedScriptAttacks: tenant b's scripts in L2 cannot read, write,
// list or flush tenant a's keys, nor escape the sandbox.
func testBackedScriptAttacks(t *testing.T, cl *clustertest.Cluster, srv *testServer, prefix string) {
	ra := dialAs(t, srv.addr, "alice", "alice-pw")
	rb := dialAs(t, srv.addr, "bob", "bob-pw")
	if got := ra.do("SET", "{x}secret", "a-only"); got != ok {
		t.Fatal(got)
	}
	aName := prefix + "a:0:{x}secret"
	notDeclared := func(k string) respErr {
		return respErr("ERR key '" + k + "' is not declared in KEYS: a script in tcached's backed mode may only access the keys it declares")
	}
	notAvail := func(c string) respErr {
		return respErr("ERR '" + c + "' is not available to scripts when tcached fronts Redis Cluster")
	}
	for _, tc := range []struct {
		args []string
		want any
	}{
		// a key computed in the script, not declared
		{[]string{"return redis.call('GET', ARGV[1])", "0", aName}, notDeclared(aName)},
		{[]string{"return redis.call('GET', KEYS[1] .. 'x')", "1", "{x}secre"}, notDeclared("{x}secrex")},
		{[]string{"return redis.call('SET', ARGV[1], 'pwned')", "1", "{x}mine", aName}, notDeclared(aName)},
		// the other tenant's L2 name, declared: it is b's key of that name
		{[]string{"return redis.call('GET', KEYS[1])", "1", aName}, nil},
		{[]string{"return redis.call('GET', KEYS[1])", "1", "{x}secret"}, nil},
		// listing and flushing
		{[]string{"return redis.call('KEYS', '*')", "0"}, notAvail("keys")},
		{[]string{"return redis.call('SCAN', '0')", "0"}, notAvail("scan")},
		{[]string{"return redis.call('RANDOMKEY')", "0"}, notAvail("randomkey")},
		{[]string{"return redis.call('FLUSHALL')", "0"}, notAvail("flushall")},
		{[]string{"return redis.call('flushdb')", "0"}, notAvail("flushdb")},
		{[]string{"return redis.call('EVAL', 'return 1', '0')", "0"}, notAvail("eval")},
		{[]string{"return redis.call('SORT', KEYS[1], 'BY', 'nosort', 'GET', '*')", "1", "{x}l"}, notAvail("sort")},
		{[]string{"return redis.call('MIGRATE', 'h', 1, KEYS[1], 0, 1)", "1", "{x}l"}, notAvail("migrate")},
		{[]string{"return redis.call('COPY', KEYS[1], KEYS[2], 'DB', '0')", "2", "{x}1", "{x}2"},
			respErr("ERR 'copy' with DB is not available to scripts when tcached fronts Redis Cluster")},
		{[]string{"return redis.pcall('FLUSHALL')['err']", "0"}, "ERR 'flushall' is not available to scripts when tcached fronts Redis Cluster"},
		// escaping the sandbox
		{[]string{"return getfenv(0).redis.call('GET', ARGV[1])", "0", aName}, respErr("ERR user_script:1: Script attempted to access nonexistent global variable 'getfenv'")},
		{[]string{"return loadstring('return 1')()", "0"}, respErr("ERR user_script:1: attempt to call")},
		{[]string{"return load(function() return nil end)", "0"}, respErr("ERR user_script:1: attempt to call")},
		{[]string{"return __redis__err__handler", "0"}, nil},
		{[]string{"return redis.call('GET', KEYS[1])", "1", "{x}secret"}, nil},
		{[]string{"return coroutine.wrap(function() return redis.call('GET', ARGV[1]) end)()", "0", aName}, notDeclared(aName)},
		{[]string{"end return function() return redis.call('FLUSHALL') end --", "0"}, "compile"},
		{[]string{"return _G.redis.call('GET', ARGV[1])", "0", aName}, notDeclared(aName)},
		{[]string{"return rawget(_G, 'setfenv') == nil and 1 or 0", "0"}, int64(1)},
		{[]string{"return debug.getinfo(1)", "0"}, respErr("ERR user_script:1: Script attempted to access nonexistent global variable 'debug'")},
		{[]string{"x = 1", "0"}, respErr("ERR user_script:1: ")},
		{[]string{"end redis.call('FLUSHALL') local function f()", "0"}, "compile"},
		// (tcached's own compiler refuses these before L2 sees them; the
		// header's locals would still be in scope if it did not.)
		{[]string{"end redis.call('FLUSHALL') return function() return 1", "0"}, "compile"},
	} {
		got := norm(rb.do(append([]string{"EVAL"}, tc.args...)...))
		if tc.want == "compile" {
			if e, isErr := got.(respErr); !isErr || !strings.Contains(string(e), "Error compiling script") {
				t.Errorf("EVAL %q: %#v, want a compile error", tc.args[0], got)
			}
			continue
		}
		want := tc.want
		if e, isErr := want.(respErr); isErr && strings.HasPrefix(string(e), "ERR user_script:1: ") {
			if g, isErr := got.(respErr); !isErr || !strings.HasPrefix(string(g), string(e)) {
				t.Errorf("EVAL %q: %#v, want %#v...", tc.args[0], got, want)
			}
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("EVAL %q: %#v, want %#v", tc.args[0], got, want)
		}
	}
	// Transactions: b's keys are b's, whatever their names; a's write to
	// a's key of the same name does not touch b's WATCH.
	runSteps(t, rb, []step{
		s(ok, "WATCH", "{x}secret"), s(ok, "MULTI"), s(status("QUEUED"), "GET", "{x}secret"), s(status("QUEUED"), "GET", aName),
		s(status("QUEUED"), "SET", "{x}mine", "1"),
	}, nil)
	ra.do("SET", "{x}secret", "a-changed")
	if got := norm(rb.do("EXEC")); fmt.Sprint(got) != "[<nil> <nil> OK]" {
		t.Errorf("b's EXEC reading a's key names: %#v", got)
	}
	ra.do("SET", "{x}secret", "a-only")
	// FCALL is per tenant: b cannot call a's function, and its own library
	// is as sandboxed as EVAL.
	ra.do("FUNCTION", "LOAD", "#!lua name=alib\nredis.register_function('aget', function(keys) return redis.call('GET', keys[1]) end)")
	if got := rb.do("FCALL", "aget", "1", "{x}secret"); got != respErr(errFunctionNotFound) {
		t.Errorf("b's FCALL of a's function: %#v", got)
	}
	rb.do("FUNCTION", "LOAD", "#!lua name=blib\nredis.register_function('steal', function(keys, args) return redis.call('GET', args[1]) end)")
	if got := rb.do("FCALL", "steal", "0", aName); got != notDeclared(aName) {
		t.Errorf("b's function reading a's key: %#v", got)
	}
	// a's key is intact, and b wrote nothing outside its namespace.
	if got := norm(ra.do("GET", "{x}secret")); got != "a-only" {
		t.Fatalf("a's key after b's attacks: %#v", got)
	}
	ctx := context.Background()
	var foreign []string
	err := cl.Client().ForEachMaster(ctx, func(ctx context.Context, n *goredis.Client) error {
		keys, err := n.Keys(ctx, prefix+"*").Result()
		for _, k := range keys {
			if !strings.HasPrefix(k, prefix+"a:") && !strings.HasPrefix(k, prefix+"b:") && !strings.HasPrefix(k, prefix+"!usage:") && !strings.HasPrefix(k, prefix+"!keys:") {
				foreign = append(foreign, k)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(foreign) > 0 {
		t.Fatalf("keys outside the tenants' namespaces: %q", foreign)
	}
	if n := norm(cl.Client().Exists(ctx, prefix+"b:0:"+aName).Val()); n != int64(0) {
		t.Logf("b's key named like a's L2 name: %v", n)
	}
}
