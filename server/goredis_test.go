package server

// go-redis v9 with default options, as an application would configure it.
// Protocol is left unset, so every new connection first sends
// "HELLO 3 [AUTH user pass]" and speaks RESP3 (an error reply would make
// go-redis fall back to RESP2 and a plain AUTH), then SELECT when DB > 0.
// resp3_test.go covers Protocol 3 and 2 explicitly.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tcached/tcached/command"
)

func grClient(t *testing.T, opt *redis.Options) *redis.Client {
	t.Helper()
	// Bound every call so a server bug shows up as a failure, not a hang.
	opt.DialTimeout = 2 * time.Second
	opt.ReadTimeout = 5 * time.Second
	opt.WriteTimeout = 5 * time.Second
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

func grCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestGoRedisConnect(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	ctx := grCtx(t)

	// Username + password: HELLO 3 AUTH alice alice-pw.
	alice := grClient(t, &redis.Options{Addr: ts.addr, Username: "alice", Password: "alice-pw"})
	if err := alice.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got, err := alice.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET = %q, %v", got, err)
	}

	// Password only: go-redis sends HELLO 3 AUTH default pw.
	// Both resolve to alice because passwords are unique per user.
	pwOnly := grClient(t, &redis.Options{Addr: ts.addr, Password: "alice-pw"})
	if got, err := pwOnly.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("password-only GET = %q, %v", got, err)
	}
	if err := pwOnly.Set(ctx, "k2", "v2", 0).Err(); err != nil {
		t.Fatalf("password-only SET: %v", err)
	}
	if got, err := alice.Get(ctx, "k2").Result(); err != nil || got != "v2" {
		t.Fatalf("alice sees password-only write: %q, %v", got, err)
	}

	// DB 2: SELECT 2 on every new connection.
	db2 := grClient(t, &redis.Options{Addr: ts.addr, Username: "alice", Password: "alice-pw", DB: 2})
	if err := db2.Set(ctx, "in2", "x", 0).Err(); err != nil {
		t.Fatalf("db2 SET: %v", err)
	}
	if n, err := db2.DBSize(ctx).Result(); err != nil || n != 1 {
		t.Fatalf("db2 DBSIZE = %d, %v", n, err)
	}
	if err := alice.Get(ctx, "in2").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("db0 GET in2: %v, want redis.Nil", err)
	}
	if got, err := db2.Get(ctx, "in2").Result(); err != nil || got != "x" {
		t.Fatalf("db2 GET = %q, %v", got, err)
	}

	// Wrong password or unknown user: the dial fails with WRONGPASS.
	for _, opt := range []*redis.Options{
		{Addr: ts.addr, Username: "alice", Password: "nope"},
		{Addr: ts.addr, Username: "mallory", Password: "alice-pw"},
		{Addr: ts.addr, Password: "nope"},
	} {
		c := grClient(t, opt)
		err := c.Ping(ctx).Err()
		if err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
			t.Errorf("user %q pass %q: err = %v, want WRONGPASS", opt.Username, opt.Password, err)
		}
	}

	// A readonly user connects fine and is refused writes with NOPERM.
	ro := grClient(t, &redis.Options{Addr: ts.addr, Username: "aro", Password: "aro-pw"})
	if got, err := ro.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("aro GET = %q, %v", got, err)
	}
	if err := ro.Set(ctx, "k", "w", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
		t.Errorf("aro SET: %v, want NOPERM", err)
	}
}

func TestGoRedisConcurrentPool(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	ctx := grCtx(t)
	c := grClient(t, &redis.Options{Addr: ts.addr, Username: "alice", Password: "alice-pw", PoolSize: 20, MinIdleConns: 5})

	const workers, iters = 20, 150
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fail := func(format string, a ...any) { errc <- fmt.Errorf("worker %d: "+format, append([]any{w}, a...)...) }
			ctr := fmt.Sprintf("ctr:%d", w)
			for i := range iters {
				k := fmt.Sprintf("w%d:k%d", w, i)
				v := fmt.Sprintf("v%d-%d", w, i)
				if err := c.Set(ctx, k, v, 0).Err(); err != nil {
					fail("SET: %v", err)
					return
				}
				if got, err := c.Get(ctx, k).Result(); err != nil || got != v {
					fail("GET %s = %q, %v; want %q", k, got, err, v)
					return
				}
				if n, err := c.Incr(ctx, ctr).Result(); err != nil || n != int64(i+1) {
					fail("INCR = %d, %v; want %d", n, err, i+1)
					return
				}
				m1, m2 := k+":m1", k+":m2"
				if err := c.MSet(ctx, m1, "a", m2, "b").Err(); err != nil {
					fail("MSET: %v", err)
					return
				}
				vals, err := c.MGet(ctx, m1, "missing", m2).Result()
				if err != nil || len(vals) != 3 || vals[0] != "a" || vals[1] != nil || vals[2] != "b" {
					fail("MGET = %v, %v", vals, err)
					return
				}
				if ok, err := c.Expire(ctx, k, time.Hour).Result(); err != nil || !ok {
					fail("EXPIRE = %v, %v", ok, err)
					return
				}
				if ttl, err := c.TTL(ctx, k).Result(); err != nil || ttl <= 59*time.Minute || ttl > time.Hour {
					fail("TTL = %v, %v", ttl, err)
					return
				}
				if i%50 == 0 {
					// A short SCAN iteration concurrently with writers.
					it := c.Scan(ctx, 0, fmt.Sprintf("w%d:*", w), 100).Iterator()
					for it.Next(ctx) {
					}
					if err := it.Err(); err != nil {
						fail("SCAN: %v", err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if n, err := c.DBSize(ctx).Result(); err != nil || n != workers*iters*3+workers {
		t.Errorf("DBSIZE = %d, %v; want %d", n, err, workers*iters*3+workers)
	}
	if st := c.PoolStats(); st.TotalConns > 20 {
		t.Errorf("pool grew to %d conns", st.TotalConns)
	}
}

func TestGoRedisScanIterator(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	ctx := grCtx(t)
	c := grClient(t, &redis.Options{Addr: ts.addr, Username: "alice", Password: "alice-pw"})
	const n = 1000
	pipe := c.Pipeline()
	for i := range n {
		pipe.Set(ctx, fmt.Sprintf("scan:%04d", i), i, 0)
	}
	pipe.Set(ctx, "other", 1, 0)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	for _, count := range []int64{0, 10, 100, 5000} {
		seen := make(map[string]int, n)
		it := c.Scan(ctx, 0, "scan:*", count).Iterator()
		for it.Next(ctx) {
			seen[it.Val()]++
		}
		if err := it.Err(); err != nil {
			t.Fatalf("count %d: %v", count, err)
		}
		dups := 0
		for i := range n {
			k := fmt.Sprintf("scan:%04d", i)
			if seen[k] == 0 {
				t.Errorf("count %d: %s never returned", count, k)
			}
			if seen[k] > 1 {
				dups++
			}
		}
		if len(seen) != n {
			t.Errorf("count %d: %d distinct keys, want %d", count, len(seen), n)
		}
		// SCAN guarantees "at least once"; duplicates are legal but worth seeing.
		if dups > 0 {
			t.Logf("count %d: %d keys returned more than once", count, dups)
		}
	}
}

func TestGoRedisPipeline(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	ctx := grCtx(t)
	c := grClient(t, &redis.Options{Addr: ts.addr, Username: "alice", Password: "alice-pw", PoolSize: 4})
	for round := range 5 {
		pipe := c.Pipeline()
		var sets []*redis.StatusCmd
		var incrs []*redis.IntCmd
		var gets []*redis.StringCmd
		for i := range 100 {
			switch i % 3 {
			case 0:
				sets = append(sets, pipe.Set(ctx, fmt.Sprintf("p:%d:%d", round, i), i, 0))
			case 1:
				incrs = append(incrs, pipe.Incr(ctx, fmt.Sprintf("pc:%d", round)))
			default:
				gets = append(gets, pipe.Get(ctx, fmt.Sprintf("p:%d:%d", round, i-2)))
			}
		}
		cmds, err := pipe.Exec(ctx)
		if err != nil {
			t.Fatalf("round %d: Exec: %v", round, err)
		}
		if len(cmds) != 100 {
			t.Fatalf("round %d: %d replies", round, len(cmds))
		}
		for _, s := range sets {
			if s.Val() != "OK" {
				t.Errorf("SET reply %q", s.Val())
			}
		}
		for i, in := range incrs {
			if in.Val() != int64(i+1) {
				t.Errorf("INCR #%d = %d", i, in.Val())
			}
		}
		for i, g := range gets {
			if want := fmt.Sprint(i * 3); g.Val() != want {
				t.Errorf("GET #%d = %q, want %q", i, g.Val(), want)
			}
		}
	}
	// A pipeline with a failing command reports that command's error only.
	pipe := c.Pipeline()
	ok1 := pipe.Set(ctx, "x", "1", 0)
	bad := pipe.Incr(ctx, "p:0:0:notint")
	pipe.Set(ctx, "p:0:0:notint", "abc", 0)
	bad2 := pipe.Incr(ctx, "p:0:0:notint")
	ok2 := pipe.Get(ctx, "x")
	_, err := pipe.Exec(ctx)
	if err == nil || bad.Err() != nil || ok1.Err() != nil || ok2.Val() != "1" ||
		bad2.Err() == nil || bad2.Err().Error() != command.ErrNotInteger {
		t.Errorf("mixed pipeline: exec %v, set %v, incr %v, incr2 %v, get %q", err, ok1.Err(), bad.Err(), bad2.Err(), ok2.Val())
	}
}

// TestGoRedisTxPipeline: go-redis sends MULTI, the commands and EXEC in
// one write and reads EXEC's array; Watch runs the optimistic-lock
// callback, and a conflicting write makes it fail with redis.TxFailedErr.
func TestGoRedisTxPipeline(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	ctx := grCtx(t)
	// One connection, so a connection left with unread replies would be reused.
	c := grClient(t, &redis.Options{Addr: ts.addr, Username: "alice", Password: "alice-pw", PoolSize: 1})
	if err := c.Set(ctx, "before", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	var set *redis.StatusCmd
	var incr *redis.IntCmd
	var get *redis.StringCmd
	cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		set = p.Set(ctx, "tx:a", "1", 0)
		incr = p.Incr(ctx, "tx:n")
		get = p.Get(ctx, "before")
		return nil
	})
	if err != nil || len(cmds) != 3 || set.Val() != "OK" || incr.Val() != 1 || get.Val() != "1" {
		t.Fatalf("TxPipelined = %v, %v: set %q incr %d get %q", cmds, err, set.Val(), incr.Val(), get.Val())
	}
	// An error inside EXEC is that command's; the others still run.
	var bad *redis.IntCmd
	var after *redis.IntCmd
	_, err = c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		bad = p.Incr(ctx, "tx:a2") // fine
		p.Set(ctx, "tx:s", "str", 0)
		p.Incr(ctx, "tx:s") // ERR not an integer
		after = p.Incr(ctx, "tx:n")
		return nil
	})
	if err == nil || err.Error() != command.ErrNotInteger || bad.Val() != 1 || after.Val() != 2 {
		t.Errorf("TxPipelined with a failing command: err %v, incr %d, after %d", err, bad.Val(), after.Val())
	}
	// The connection must still pair replies with commands.
	for i := range 20 {
		k := fmt.Sprintf("after:%d", i)
		if err := c.Set(ctx, k, k, 0).Err(); err != nil {
			t.Fatalf("SET after tx: %v", err)
		}
		if got, err := c.Get(ctx, k).Result(); err != nil || got != k {
			t.Fatalf("GET %s after tx = %q, %v (reply stream out of step)", k, got, err)
		}
	}

	// Watch without a conflict applies; with one it fails and applies nothing.
	other := grClient(t, &redis.Options{Addr: ts.addr, Username: "alice", Password: "alice-pw"})
	for _, conflict := range []bool{false, true} {
		err := c.Watch(ctx, func(tx *redis.Tx) error {
			v, err := tx.Get(ctx, "before").Int()
			if err != nil {
				return err
			}
			if conflict {
				if err := other.Set(ctx, "before", "100", 0).Err(); err != nil {
					return err
				}
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "before", v+1, 0)
				p.Set(ctx, "watched:applied", conflict, 0)
				return nil
			})
			return err
		}, "before")
		switch {
		case !conflict && err != nil:
			t.Errorf("Watch without conflict: %v", err)
		case conflict && !errors.Is(err, redis.TxFailedErr):
			t.Errorf("Watch with conflict: err = %v, want redis.TxFailedErr", err)
		}
	}
	if got, _ := c.Get(ctx, "before").Result(); got != "100" {
		t.Errorf("before = %q, want the conflicting write's 100", got)
	}
	if got, _ := c.Get(ctx, "watched:applied").Result(); got != "0" {
		t.Errorf("watched:applied = %q: the conflicting transaction was applied", got)
	}
}

// TestGoRedisWatchConcurrent: N goroutines increment one counter with the
// optimistic-lock recipe from go-redis's documentation (Watch, Get,
// TxPipelined, retry on TxFailedErr). Every increment must land once.
func TestGoRedisWatchConcurrent(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	ctx := grCtx(t)
	const workers, each = 8, 50
	c := grClient(t, &redis.Options{Addr: ts.addr, Username: "alice", Password: "alice-pw", PoolSize: workers})
	// Tenant b increments the same key name throughout: it must never
	// conflict with tenant a's transactions, nor be affected by them.
	b := grClient(t, &redis.Options{Addr: ts.addr, Username: "bob", Password: "bob-pw"})
	stop := make(chan struct{})
	var bWG sync.WaitGroup
	bWG.Add(1)
	bIncrs := 0
	go func() {
		defer bWG.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := b.Incr(ctx, "counter").Err(); err != nil {
				t.Errorf("tenant b INCR: %v", err)
				return
			}
			bIncrs++
		}
	}()
	incr := func() (retries int, err error) {
		for {
			err := c.Watch(ctx, func(tx *redis.Tx) error {
				n, err := tx.Get(ctx, "counter").Int()
				if err != nil && !errors.Is(err, redis.Nil) {
					return err
				}
				_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.Set(ctx, "counter", n+1, 0)
					return nil
				})
				return err
			}, "counter")
			if !errors.Is(err, redis.TxFailedErr) {
				return retries, err
			}
			retries++
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				r, err := incr()
				if err != nil {
					t.Errorf("increment: %v", err)
					return
				}
				mu.Lock()
				total += r
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(stop)
	bWG.Wait()
	if got, err := c.Get(ctx, "counter").Int(); err != nil || got != workers*each {
		t.Errorf("counter = %d, %v; want %d", got, err, workers*each)
	}
	if got, err := b.Get(ctx, "counter").Int(); err != nil || got != bIncrs {
		t.Errorf("tenant b's counter = %d, %v; want %d", got, err, bIncrs)
	}
	t.Logf("%d increments, %d retries; tenant b: %d increments", workers*each, total, bIncrs)
}

func TestGoRedisTenantIsolation(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	ctx := grCtx(t)
	a := grClient(t, &redis.Options{Addr: ts.addr, Username: "alice", Password: "alice-pw"})
	b := grClient(t, &redis.Options{Addr: ts.addr, Username: "bob", Password: "bob-pw"})
	bPw := grClient(t, &redis.Options{Addr: ts.addr, Password: "bob-pw", DB: 0})

	var want []string
	for i := range 200 {
		k := fmt.Sprintf("secret:%d", i)
		want = append(want, k)
		if err := a.Set(ctx, k, "a-data", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Set(ctx, "secret:0", "b-data", 0).Err(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*redis.Client{b, bPw} {
		if got, err := c.Get(ctx, "secret:0").Result(); err != nil || got != "b-data" {
			t.Errorf("b GET secret:0 = %q, %v", got, err)
		}
		if err := c.Get(ctx, "secret:1").Err(); !errors.Is(err, redis.Nil) {
			t.Errorf("b GET secret:1: %v, want redis.Nil", err)
		}
		if keys, err := c.Keys(ctx, "*").Result(); err != nil || len(keys) != 1 || keys[0] != "secret:0" {
			t.Errorf("b KEYS * = %v, %v", keys, err)
		}
		var scanned []string
		it := c.Scan(ctx, 0, "*", 1000).Iterator()
		for it.Next(ctx) {
			scanned = append(scanned, it.Val())
		}
		if it.Err() != nil || len(scanned) != 1 {
			t.Errorf("b SCAN = %v, %v", scanned, it.Err())
		}
		if n, err := c.DBSize(ctx).Result(); err != nil || n != 1 {
			t.Errorf("b DBSIZE = %d, %v", n, err)
		}
		if n, err := c.Exists(ctx, "secret:5", "secret:6").Result(); err != nil || n != 0 {
			t.Errorf("b EXISTS = %d, %v", n, err)
		}
		vals, err := c.MGet(ctx, "secret:1", "secret:2").Result()
		if err != nil || vals[0] != nil || vals[1] != nil {
			t.Errorf("b MGET = %v, %v", vals, err)
		}
		if err := c.Del(ctx, "secret:7").Err(); err != nil {
			t.Errorf("b DEL: %v", err)
		}
	}
	// b flushing its own data leaves a's intact.
	if err := b.FlushAll(ctx).Err(); err != nil {
		t.Fatalf("b FLUSHALL: %v", err)
	}
	keys, err := a.Keys(ctx, "secret:*").Result()
	sort.Strings(keys)
	sort.Strings(want)
	if err != nil || strings.Join(keys, ",") != strings.Join(want, ",") {
		t.Errorf("a lost keys after b's DEL/FLUSHALL: %d keys, %v", len(keys), err)
	}
	if got, err := a.Get(ctx, "secret:0").Result(); err != nil || got != "a-data" {
		t.Errorf("a GET secret:0 = %q, %v", got, err)
	}
}
