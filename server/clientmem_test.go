package server

// Client memory (clientmem.go): the three attacks of a hostile tenant that
// stores nothing but makes the server hold memory through its connections
// (pub/sub fan-out to subscribers that never read, MULTI queues never
// EXEC'd, partial commands never completed), each reproduced over real
// sockets with the bound holding: heap growth within the tenant's budget
// plus a stated slack, the neighbour unaffected, nothing acknowledged lost.
//
// TCACHED_TEST_CLIENT_MEMORY=1GiB runs the same attacks with a budget that
// bounds nothing (the behaviour before client memory was accounted) and
// only logs the figures, for comparison.

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tcached/tcached/config"
)

// memSlack is what heap measurements may exceed the tenant's budget by:
// the test's own client-side buffers, the publisher's and neighbour's
// buffers, runtime and GC bookkeeping, generous for a busy CI machine.
const memSlack = 24 << 20

// memConfig is testConfig with the budget under test for tenant a (quota
// 8 MiB: the default client_memory is the 8 MiB floor) and a short
// write_timeout, which bounds how long a paused read waits.
func memConfig(t *testing.T) (cfg *config.Config, bounded bool) {
	cfg = testConfig()
	cfg.Limits.WriteTimeout = 2 * time.Second
	bounded = true
	if v := os.Getenv("TCACHED_TEST_CLIENT_MEMORY"); v != "" {
		n, err := config.ParseSize(v)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Tenants[0].ClientMemory = n
		bounded = false
		t.Logf("client_memory of tenant a forced to %d MiB: figures only, no assertions", n>>20)
	}
	return cfg, bounded
}

func poolOf(srv *testServer, id string) *memPool { return &srv.reg.Load().tenants[id].cmem }

// heapInUse is HeapInuse+StackInuse now, garbage included (no GC).
func heapInUse() int64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse)
}

// rssBytes is the process's resident set (Linux; 0 elsewhere).
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.ParseInt(f[1], 10, 64)
	return n * int64(os.Getpagesize())
}

// memPeaks samples the heap, the RSS and pool p's charge every
// millisecond until stop is called, which returns the peaks.
func memPeaks(p *memPool) (stop func() (heap, rss, pool int64)) {
	var heap, rss, used int64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			heap = max(heap, heapInUse())
			rss = max(rss, rssBytes())
			used = max(used, p.used.Load())
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	return func() (int64, int64, int64) {
		close(done)
		<-finished
		return heap, rss, used
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// tryDo is rconn.do that returns errors instead of failing the test, for
// goroutines and for connections the server may close.
func (r *rconn) tryDo(args ...string) (any, error) {
	r.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.c.Write(encode(args...)); err != nil {
		return nil, err
	}
	r.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	return readReply(r.rd)
}

// waitPool waits until pool p holds at most max bytes.
func waitPool(t *testing.T, p *memPool, max int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for p.used.Load() > max {
		if time.Now().After(deadline) {
			t.Fatalf("pool %q still holds %d bytes, want <= %d", p.tenant, p.used.Load(), max)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitConnMem waits until tenant id's connections hold at most max bytes
// of its pool: what the pool holds but its slow log and tracking table
// (slowlog.go, tracking.go), which a slow command under -race may fill.
func waitConnMem(t *testing.T, srv *testServer, id string, max int64) {
	t.Helper()
	tn := srv.reg.Load().tenants[id]
	held := func() int64 {
		tn.diag.mu.Lock()
		d := tn.diag.charged
		tn.diag.mu.Unlock()
		return tn.cmem.used.Load() - d - tn.trk.charged.Load()
	}
	deadline := time.Now().Add(10 * time.Second)
	for held() > max {
		if time.Now().After(deadline) {
			t.Fatalf("tenant %q's connections still hold %d bytes of its pool, want <= %d", id, held(), max)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkNeighbour: tenant b's connection works normally and its data is
// intact.
func checkNeighbour(t *testing.T, b *rconn, want string) {
	t.Helper()
	st := time.Now()
	if got := norm(b.do("GET", "mine")); got != want {
		t.Errorf("tenant b: GET mine = %v, want %q", got, want)
	}
	if got := b.do("SET", "probe", "x"); got != ok {
		t.Errorf("tenant b: SET = %v", got)
	}
	if d := time.Since(st); d > time.Second {
		t.Errorf("tenant b's commands took %v", d)
	}
}

// TestClientMemoryPubSubFanout: 16 subscribers of tenant a that never read
// and 33 PUBLISHes of 1 MiB. Before, each subscriber queued up to 32 MiB
// (about twice that allocated): ~1 GiB. Now the biggest queues are
// evicted once the tenant's queues pass its budget; a subscriber of
// tenant b on the same channel name gets every message.
func TestClientMemoryPubSubFanout(t *testing.T) {
	cfg, bounded := memConfig(t)
	var audit syncBuffer
	srv := startServerWith(t, cfg, Options{Audit: slog.New(slog.NewJSONHandler(&audit, nil))})
	pa := poolOf(srv, "a")
	budget := pa.limit.Load()

	b := dialAs(t, srv.addr, "bob", "bob-pw")
	b.do("SET", "mine", "b-value")
	bsub := dialAs(t, srv.addr, "bob", "bob-pw")
	rawExchange(t, bsub, subBytes("subscribe", "feed", 1), "SUBSCRIBE", "feed")

	const subs, msgs = 16, 33
	for i := 0; i < subs; i++ {
		r := dialAs(t, srv.addr, "alice", "alice-pw")
		rawExchange(t, r, subBytes("subscribe", "feed", 1), "SUBSCRIBE", "feed")
		// and never reads again
	}
	pub := dialAs(t, srv.addr, "alice", "alice-pw")
	base, rss0 := liveHeap(), rssBytes()
	stop := memPeaks(pa)
	payload := strings.Repeat("m", 1<<20)
	var maxLive int64
	for i := 0; i < msgs; i++ {
		if _, isInt := pub.do("PUBLISH", "feed", payload).(int64); !isInt {
			t.Fatalf("PUBLISH %d did not answer a count", i)
		}
		// b's own channel of the same name: one receiver, every message.
		if got := b.do("PUBLISH", "feed", "b"+strconv.Itoa(i)); got != int64(1) {
			t.Errorf("tenant b PUBLISH = %v, want 1", got)
		}
		expectRaw(t, bsub, msgBytes("feed", "b"+strconv.Itoa(i)))
		if i%8 == 7 {
			maxLive = max(maxLive, int64(liveHeap())-int64(base))
		}
	}
	peakHeap, peakRSS, peakPool := stop()
	maxLive = max(maxLive, int64(liveHeap())-int64(base))
	evicted := pa.evicted.Load()
	t.Logf("pub/sub: %d subscribers x %d PUBLISH of 1 MiB; budget %s; tenant a client memory peak %s; live heap growth (after GC) max %s; heap in use peak growth %s (garbage included); RSS growth %s; %d subscribers evicted",
		subs, msgs, mib(budget), mib(peakPool), mib(maxLive), mib(peakHeap-int64(base)), mib(peakRSS-rss0), evicted)
	checkNeighbour(t, b, "b-value")
	if !bounded {
		return
	}
	if evicted < 1 {
		t.Errorf("no subscriber evicted")
	}
	// Past the budget: the message that triggers an eviction and the
	// chunks victims' writers still hold until their sockets close.
	if peakPool > 2*budget {
		t.Errorf("tenant a's client memory peaked at %s, budget %s", mib(peakPool), mib(budget))
	}
	if maxLive > budget+memSlack {
		t.Errorf("live heap grew by %s, want <= budget %s + %s", mib(maxLive), mib(budget), mib(memSlack))
	}
	if peakHeap-int64(base) > 4*(budget+memSlack) {
		t.Errorf("heap in use grew by %s", mib(peakHeap-int64(base)))
	}
	// Counted: INFO, metrics, audit.
	if info := rawVerbatimOrBulk(t, pub, "INFO", "tenant"); !strings.Contains(info, "tenant_clients_evicted:"+strconv.FormatInt(evicted, 10)) {
		t.Errorf("INFO tenant lacks tenant_clients_evicted:%d:\n%s", evicted, info)
	}
	if body := scrape(t, srv); !strings.Contains(body, `tcached_tenant_clients_evicted_total{tenant="a",tier="gold"} `+strconv.FormatInt(evicted, 10)) {
		t.Errorf("metrics lack tcached_tenant_clients_evicted_total %d", evicted)
	}
	if !strings.Contains(audit.String(), `"event":"client_evicted"`) {
		t.Errorf("no client_evicted audit record")
	}
	if poolOf(srv, "b").evicted.Load() != 0 {
		t.Errorf("tenant b had connections evicted")
	}
}

// rawVerbatimOrBulk runs a command answering a bulk string (RESP2) and
// returns its text.
func rawVerbatimOrBulk(t *testing.T, r *rconn, args ...string) string {
	t.Helper()
	v := r.do(args...)
	bs, isBytes := v.([]byte)
	if !isBytes {
		t.Fatalf("%q = %v, want a bulk string", args, v)
	}
	return string(bs)
}

// TestClientMemoryMultiQueues: 4 connections of tenant a each queue 60
// SETs of 1 MiB and never EXEC. Before, all 240 were queued: +253 MiB.
// Now queueing stops at the tenant's budget with OOM (nothing queued for
// the refused command, the transaction flagged so EXEC runs nothing),
// and the budget frees when the transactions end.
func TestClientMemoryMultiQueues(t *testing.T) {
	cfg, bounded := memConfig(t)
	srv := startServer(t, cfg, false)
	pa := poolOf(srv, "a")
	budget := pa.limit.Load()
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	b.do("SET", "mine", "b-value")

	const conns, per = 4, 60
	rs := make([]*rconn, conns)
	for i := range rs {
		rs[i] = dialAs(t, srv.addr, "alice", "alice-pw")
		if got := rs[i].do("MULTI"); got != ok {
			t.Fatalf("MULTI = %v", got)
		}
	}
	base, rss0 := liveHeap(), rssBytes()
	stop := memPeaks(pa)
	val := strings.Repeat("q", 1<<20)
	var queued, refused, other atomic.Int64
	var wg sync.WaitGroup
	for i, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < per; j++ {
				v, err := r.tryDo("SET", "k"+strconv.Itoa(i)+"-"+strconv.Itoa(j), val)
				switch {
				case err != nil:
					other.Add(1)
					return
				case v == status("QUEUED"):
					queued.Add(1)
				case v == respErr(errClientOOM):
					refused.Add(1)
				default:
					other.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	live := int64(liveHeap()) - int64(base)
	peakHeap, peakRSS, peakPool := stop()
	t.Logf("MULTI: %d x %d queued SET of 1 MiB; budget %s; %d QUEUED, %d OOM, %d other; tenant a client memory peak %s; live heap growth %s; heap in use peak growth %s; RSS growth %s",
		conns, per, mib(budget), queued.Load(), refused.Load(), other.Load(), mib(peakPool), mib(live), mib(peakHeap-int64(base)), mib(peakRSS-rss0))
	checkNeighbour(t, b, "b-value")
	if !bounded {
		return
	}
	if other.Load() != 0 {
		t.Errorf("%d replies were neither QUEUED nor the client-memory OOM", other.Load())
	}
	if refused.Load() == 0 {
		t.Errorf("no queued command refused")
	}
	if queued.Load()<<20 > budget {
		t.Errorf("%d MiB queued, budget %s", queued.Load(), mib(budget))
	}
	// Past the budget: one 1 MiB command read through the overdraft (and
	// then refused), and small reply buffers.
	if peakPool > budget+(1<<20+4<<10)+conns*evictMinOutput {
		t.Errorf("tenant a's client memory peaked at %s, over its budget %s + one command read in the overdraft", mib(peakPool), mib(budget))
	}
	if live > budget+memSlack {
		t.Errorf("live heap grew by %s, want <= budget %s + %s", mib(live), mib(budget), mib(memSlack))
	}
	// A refused command flagged each transaction: EXEC runs nothing.
	for _, r := range rs {
		if got := r.do("EXEC"); got != respErr(errExecAbort) {
			t.Errorf("EXEC after a refusal = %v, want EXECABORT", got)
		}
	}
	if got := rs[0].do("DBSIZE"); got != int64(0) {
		t.Errorf("DBSIZE after aborted transactions = %v", got)
	}
	// The budget is free again, and transactions work.
	waitPool(t, pa, conns*64<<10)
	r := rs[0]
	r.do("MULTI")
	r.do("SET", "x", val)
	r.do("SET", "y", "small")
	if got := norm(r.do("EXEC")); fmt.Sprint(got) != "[OK OK]" {
		t.Errorf("EXEC = %v", got)
	}
	if got := norm(r.do("STRLEN", "x")); got != int64(1<<20) {
		t.Errorf("STRLEN x = %v", got)
	}
}

// partialAttack opens n connections of tenant a that each announce a SET
// of size bytes and send all of it but the last byte, and waits for the
// server to close them all.
func partialAttack(t *testing.T, srv *testServer, n, size int, bounded bool) (peakHeap, peakRSS, peakPool, live int64, closedAfter time.Duration) {
	t.Helper()
	pa := poolOf(srv, "a")
	rs := make([]*rconn, n)
	for i := range rs {
		rs[i] = dialAs(t, srv.addr, "alice", "alice-pw")
	}
	n0 := srv.conns.Load()
	base := liveHeap()
	stop := memPeaks(pa)
	start := time.Now()
	chunk := bytes.Repeat([]byte("p"), 256<<10)
	var sent atomic.Int64
	var wg sync.WaitGroup
	for i, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hdr := "*3\r\n$3\r\nSET\r\n$" + strconv.Itoa(len("partial"+strconv.Itoa(i))) + "\r\npartial" + strconv.Itoa(i) + "\r\n$" + strconv.Itoa(size) + "\r\n"
			r.c.SetWriteDeadline(time.Now().Add(20 * time.Second))
			if _, err := r.c.Write([]byte(hdr)); err != nil {
				return
			}
			for left := size - 1; left > 0; {
				c := chunk[:min(left, len(chunk))]
				m, err := r.c.Write(c)
				sent.Add(int64(m))
				left -= m
				if err != nil {
					return // closed by the server, or the deadline
				}
			}
		}()
	}
	// Bounded bytes are only held while the server reads; measure while
	// the writers push, then wait for the connections to be closed.
	var maxLive int64
	for srv.conns.Load() > n0-int64(n) && time.Since(start) < 20*time.Second {
		time.Sleep(50 * time.Millisecond)
		if time.Since(start) < 3*time.Second {
			maxLive = max(maxLive, int64(liveHeap())-int64(base))
		}
		if !bounded && time.Since(start) > 4*time.Second {
			break
		}
	}
	closedAfter = time.Since(start)
	peakHeap, peakRSS, peakPool = stop()
	for _, r := range rs {
		r.c.Close()
	}
	wg.Wait()
	t.Logf("partial commands: %d x %d MiB; %s sent; closed by the server after %v", n, size>>20, mib(sent.Load()), closedAfter.Round(time.Millisecond))
	return peakHeap - int64(base), peakRSS, peakPool, maxLive, closedAfter
}

// TestClientMemoryPartialCommands: connections of tenant a that send most
// of a large SET and never finish it. Before, 8 x 15 MiB cost +166-174
// MiB and 12 x 96 MiB +1,744 MiB, since an incomplete command is never
// dispatched. Now the read buffers stop growing at the tenant's budget: a
// command that can never fit closes its connection with OOM at once,
// others pause (backpressure) and are closed after write_timeout.
func TestClientMemoryPartialCommands(t *testing.T) {
	for _, tc := range []struct{ n, size int }{{8, 15 << 20}, {12, 96 << 20}} {
		t.Run(fmt.Sprintf("%dx%dMiB", tc.n, tc.size>>20), func(t *testing.T) {
			cfg, bounded := memConfig(t)
			srv := startServer(t, cfg, false)
			pa := poolOf(srv, "a")
			budget := pa.limit.Load()
			b := dialAs(t, srv.addr, "bob", "bob-pw")
			b.do("SET", "mine", "b-value")
			rss0 := rssBytes()
			heap, rss, pool, live, after := partialAttack(t, srv, tc.n, tc.size, bounded)
			t.Logf("budget %s; tenant a client memory peak %s; live heap growth %s; heap in use peak growth %s; RSS growth %s",
				mib(budget), mib(pool), mib(live), mib(heap), mib(rss-rss0))
			checkNeighbour(t, b, "b-value")
			if !bounded {
				return
			}
			// The overdraft lets one partial command (at most the budget)
			// past the budget; the others pause.
			if pool > 2*budget+int64(tc.n)*evictMinOutput {
				t.Errorf("tenant a's client memory peaked at %s, over twice its budget %s (+ 64 KiB of output per connection)", mib(pool), mib(budget))
			}
			if live > 2*budget+memSlack {
				t.Errorf("live heap grew by %s, want <= twice the budget %s + %s", mib(live), mib(budget), mib(memSlack))
			}
			if after > cfg.Limits.WriteTimeout+5*time.Second {
				t.Errorf("partial commands closed after %v, want within write_timeout %v", after, cfg.Limits.WriteTimeout)
			}
			if got := pa.refused.Load(); got < int64(tc.n) {
				t.Errorf("%d reads given up, want %d", got, tc.n)
			}
			// Nothing of the partial commands was stored, and a legitimate
			// large value within the budget still round-trips.
			a := dialAs(t, srv.addr, "alice", "alice-pw")
			if got := a.do("EXISTS", "partial0"); got != int64(0) {
				t.Errorf("EXISTS partial0 = %v", got)
			}
			waitPool(t, pa, 64<<10)
			big := strings.Repeat("L", 3<<20)
			if got := a.do("SET", "big", big); got != ok {
				t.Fatalf("SET of 3 MiB within an 8 MiB budget = %v", got)
			}
			if got := norm(a.do("GET", "big")); got != big {
				t.Errorf("GET big: %d bytes back", len(fmt.Sprint(got)))
			}
		})
	}
}

// TestClientMemoryPartialPaused: while another connection holds the
// pool's overdraft with a partial command and a MULTI queue holds most of
// the budget, a third connection's large SET pauses (its read waits, it is
// not refused), and completes once the first command is in.
func TestClientMemoryPartialPaused(t *testing.T) {
	cfg, bounded := memConfig(t)
	if !bounded {
		t.Skip("needs the bound")
	}
	cfg.Limits.WriteTimeout = 10 * time.Second
	srv := startServer(t, cfg, false)
	pa := poolOf(srv, "a")
	// Holder: a MULTI queue of all but about 1 MiB of the budget.
	holder := dialAs(t, srv.addr, "alice", "alice-pw")
	holder.do("MULTI")
	for i := 0; i < int((pa.limit.Load()-1<<20)/(512<<10+256)); i++ {
		if got := holder.do("SET", "h"+strconv.Itoa(i), strings.Repeat("h", 512<<10)); got != status("QUEUED") {
			t.Fatalf("queue %d = %v", i, got)
		}
	}
	// X: a 3 MiB SET but its last byte. It does not fit beside the queue,
	// so X takes the overdraft.
	x := dialAs(t, srv.addr, "alice", "alice-pw")
	xcmd := encode("SET", "x", strings.Repeat("x", 3<<20))
	x.send(xcmd[:len(xcmd)-1])
	deadline := time.Now().Add(5 * time.Second)
	for pa.overdraft.Load() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("X did not take the overdraft (pool %s of %s)", mib(pa.used.Load()), mib(pa.limit.Load()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	// W: a whole 2 MiB SET. No room and no overdraft: it waits.
	w := dialAs(t, srv.addr, "alice", "alice-pw")
	go func() {
		w.c.SetWriteDeadline(time.Now().Add(15 * time.Second))
		w.c.Write(encode("SET", "w", strings.Repeat("w", 2<<20)))
	}()
	time.Sleep(300 * time.Millisecond)
	w.c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := w.rd.Peek(1); err == nil {
		t.Fatalf("the paused SET was answered while the budget and the overdraft were held")
	} else if ne, isNet := err.(net.Error); !isNet || !ne.Timeout() {
		t.Fatalf("paused connection: %v", err)
	}
	if used, lim := pa.used.Load(), pa.limit.Load(); used > 2*lim {
		t.Errorf("pool %d over twice its budget %d", used, lim)
	}
	// X's last byte: its SET is in (its own buffer does not count against
	// it), the overdraft frees, W's SET follows. Nothing was refused.
	x.send(xcmd[len(xcmd)-1:])
	if got := x.read(); got != ok {
		t.Fatalf("X's SET = %v", got)
	}
	if got := w.read(); got != ok {
		t.Fatalf("W's SET after the pause = %v", got)
	}
	if got := w.do("STRLEN", "w"); got != int64(2<<20) {
		t.Errorf("STRLEN w = %v", got)
	}
	if got := holder.do("DISCARD"); got != ok {
		t.Errorf("DISCARD = %v", got)
	}
	if n := pa.refused.Load(); n != 0 {
		t.Errorf("%d refusals", n)
	}
}

// TestClientMemoryWriteRefused: while the tenant's connections hold more
// than its budget, denyoom writes get the client-memory OOM and change
// nothing; reads still work; other tenants are untouched.
func TestClientMemoryWriteRefused(t *testing.T) {
	cfg, bounded := memConfig(t)
	if !bounded {
		t.Skip("needs the bound")
	}
	srv := startServer(t, cfg, false)
	pa := poolOf(srv, "a")
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	a.do("SET", "k", "v")
	// Over the budget by output we cannot provoke deterministically; set
	// the pool's limit under what is held instead.
	pa.limit.Store(pa.used.Load() - 1)
	if got := a.do("SET", "k", "v2"); got != respErr(errClientOOM) {
		t.Errorf("SET over the client budget = %v, want %q", got, errClientOOM)
	}
	if got := norm(a.do("GET", "k")); got != "v" {
		t.Errorf("GET k = %v", got)
	}
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	if got := b.do("SET", "k", "b"); got != ok {
		t.Errorf("tenant b SET = %v", got)
	}
	if got := pa.refused.Load(); got != 1 {
		t.Errorf("refusals = %d", got)
	}
}

// TestClientMemoryAccounting: what connections charge is released when
// they let go, and follows a connection from pool to pool: a pre-AUTH read
// buffer that grew is charged to the unattributed pool, moves to the
// tenant at AUTH and to the next tenant at the next AUTH, and nothing is
// left once the connection closes. (The first 4 KiB read buffer is the
// connection's fixed cost, not charged.)
func TestClientMemoryAccounting(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	pa, pb := poolOf(srv, "a"), poolOf(srv, "b")
	un := &srv.unattributed
	r := dial(t, srv.addr)
	r.send([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$16000\r\n" + strings.Repeat("x", 15000)))
	deadline := time.Now().Add(5 * time.Second)
	for un.used.Load() < 8<<10 {
		if time.Now().After(deadline) {
			t.Fatalf("unattributed pool %d with a 15 KB partial command before AUTH", un.used.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.send([]byte(strings.Repeat("x", 1000) + "\r\n"))
	if got := r.read(); got != respErr(errNoAuth) {
		t.Fatalf("pre-AUTH SET = %v", got)
	}
	held := un.used.Load()
	r.do("AUTH", "alice", "alice-pw")
	waitPool(t, un, 0)
	if pa.used.Load() < held-1<<10 {
		t.Errorf("tenant a's pool %d after AUTH, the connection held %d", pa.used.Load(), held)
	}
	r.do("SET", "big", strings.Repeat("x", 1<<20))
	r.do("GET", "big")
	r.do("SUBSCRIBE", "ch")
	r.do("UNSUBSCRIBE", "ch")
	r.do("WATCH", "a", "b")
	r.do("MULTI")
	r.do("SET", "a", "1")
	r.do("DISCARD")
	if u := pa.used.Load(); u > 64<<10 {
		t.Errorf("tenant a's pool %d after the big value's round trip", u)
	}
	r.do("AUTH", "bob", "bob-pw")
	waitConnMem(t, srv, "a", 0)
	if u := pb.used.Load(); u > 64<<10 {
		t.Errorf("tenant b's pool %d after AUTH bob", u)
	}
	r.c.Close()
	waitConnMem(t, srv, "b", 0)
	waitPool(t, un, 0)
}

// TestClientMemoryGetHitNoAllocs: accounting adds no allocation (nor lock)
// to a GET hit through dispatch and flush.
func TestClientMemoryGetHitNoAllocs(t *testing.T) {
	s, err := New(testConfig(), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	tn := s.reg.Load().tenants["a"]
	tn.part.Set(0, []byte("k"), []byte("value"), 0)
	c := s.newClient(discardConn{})
	c.bind(tn, "alice", config.RoleReadWrite, false)
	args := [][]byte{[]byte("GET"), []byte("k")}
	s.dispatch(c, args)
	c.conn.flush()
	if n := testing.AllocsPerRun(1000, func() {
		s.dispatch(c, args)
		c.conn.flush()
	}); n != 0 {
		t.Errorf("GET hit: %v allocations per command", n)
	}
	if errors.Is(c.conn.err, errOutputLimit) {
		t.Fatal(c.conn.err)
	}
}

// TestClientMemoryPreAuthPool: connections that never authenticate belong
// to no tenant. Each is bounded by the preauth_* limits; together they are
// bounded by the unattributed pool (what maxmemory_clients leaves after
// the tenants' budgets): partial commands past it pause until auth_timeout
// closes them, and no tenant's budget or data pays.
func TestClientMemoryPreAuthPool(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.AuthTimeout = 2 * time.Second
	srv := startServer(t, cfg, false)
	un := &srv.unattributed
	pa, pb := poolOf(srv, "a"), poolOf(srv, "b")
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	b.do("SET", "mine", "b-value")
	n0 := srv.conns.Load()
	const conns = 150
	// 9 arguments of 16000 bytes and a tenth never sent: about 144 KB
	// buffered per connection, under preauth_query_buffer_limit (1 MiB).
	var partial bytes.Buffer
	partial.WriteString("*10\r\n")
	for i := 0; i < 9; i++ {
		partial.WriteString("$16000\r\n" + strings.Repeat("u", 16000) + "\r\n")
	}
	partial.WriteString("$16000\r\n")
	base := liveHeap()
	stop := memPeaks(un)
	rs := make([]net.Conn, 0, conns)
	for i := 0; i < conns; i++ {
		c, err := net.DialTimeout("tcp", srv.addr, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		rs = append(rs, c)
		go func() {
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			c.Write(partial.Bytes())
		}()
	}
	time.Sleep(500 * time.Millisecond)
	live := int64(liveHeap()) - int64(base)
	checkNeighbour(t, b, "b-value")
	start := time.Now()
	for srv.conns.Load() > n0 && time.Since(start) < 10*time.Second {
		time.Sleep(20 * time.Millisecond)
	}
	_, _, peak := stop()
	limit := un.limit.Load()
	t.Logf("pre-AUTH: %d connections x ~144 KB partial; unattributed pool %s, peak %s; live heap growth %s; all closed %v after",
		conns, mib(limit), mib(peak), mib(live), time.Since(start).Round(time.Millisecond))
	if srv.conns.Load() > n0 {
		t.Errorf("%d pre-AUTH connections still open after auth_timeout", srv.conns.Load()-n0)
	}
	if peak > limit+conns*evictMinOutput {
		t.Errorf("unattributed pool peaked at %s, limit %s", mib(peak), mib(limit))
	}
	if live > limit+memSlack {
		t.Errorf("live heap grew by %s, want <= pool %s + %s", mib(live), mib(limit), mib(memSlack))
	}
	if pa.used.Load() != 0 || pa.refused.Load() != 0 || pb.refused.Load() != 0 {
		t.Errorf("a tenant paid: a used %d refused %d, b refused %d", pa.used.Load(), pa.refused.Load(), pb.refused.Load())
	}
}

// TestClientMemoryConfig: the budgets follow the configuration: a parsed
// config's client_memory and maxmemory_clients, a reload that changes
// them, and TENANT QUOTA keeping quotas + client memory + overhead under
// maxmemory.
func TestClientMemoryConfig(t *testing.T) {
	yaml := func(clientMemory string) []byte {
		return []byte(`maxmemory: 200MiB
maxmemory_clients: 64MiB
maxclients: 100
tenants:
  - {id: a, tier: gold, quota: 64MiB, client_memory: ` + clientMemory + `, users: [{name: alice, password: alice-pw}]}
operators:
  - {name: ops, password: ops-pw}
`)
	}
	cfg, _, err := config.Parse(yaml("24MiB"), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, cfg, false)
	pa := poolOf(srv, "a")
	if pa.limit.Load() != 24<<20 || srv.unattributed.limit.Load() != 40<<20 {
		t.Errorf("budgets: a %d, unattributed %d; want 24MiB and 64-24 = 40MiB", pa.limit.Load(), srv.unattributed.limit.Load())
	}
	next, _, err := config.Parse(yaml("8MiB"), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Reload(next); err != nil {
		t.Fatal(err)
	}
	if pa.limit.Load() != 8<<20 || srv.unattributed.limit.Load() != 56<<20 {
		t.Errorf("after reload: a %d, unattributed %d; want 8MiB and 56MiB", pa.limit.Load(), srv.unattributed.limit.Load())
	}
	// 200MiB - 64MiB clients - (16MiB + 100 x 12KiB) leaves ~118.8MiB for quotas.
	op := dialAs(t, srv.addr, "ops", "ops-pw")
	if got, isErr := op.do("TENANT", "QUOTA", "a", "120MiB").(respErr); !isErr || !strings.Contains(string(got), "less maxmemory_clients") {
		t.Errorf("TENANT QUOTA past the guarantee = %v", got)
	}
	if got := op.do("TENANT", "QUOTA", "a", "118MiB"); got != ok {
		t.Errorf("TENANT QUOTA within it = %v", got)
	}
}

// TestTenantQuotaRescalesClientMemory: TENANT QUOTA rescales a
// client_memory derived from the quota (and a derived maxmemory_clients
// with it) exactly as a reload of the file with the new quota computes
// them; an explicit client_memory stays, and an explicit maxmemory_clients
// that cannot hold the new budget refuses the quota. INFO, TENANT INFO and
// /metrics show the new budget, and a MULTI-queue attack is bounded by it.
func TestTenantQuotaRescalesClientMemory(t *testing.T) {
	yaml := func(quotaA, clients string) []byte {
		return []byte(`maxmemory: 256MiB
maxclients: 100
` + clients + `tenants:
  - {id: a, tier: gold, quota: ` + quotaA + `, users: [{name: alice, password: alice-pw}]}
  - {id: b, tier: silver, quota: 8MiB, client_memory: 8MiB, users: [{name: bob, password: bob-pw}]}
operators:
  - {name: ops, password: ops-pw}
`)
	}
	parse := func(b []byte) *config.Config {
		t.Helper()
		cfg, _, err := config.Parse(b, "test.yaml")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Limits.WriteTimeout = 2 * time.Second
		return cfg
	}
	srv := startServer(t, parse(yaml("8MiB", "")), false)
	pa, pb := poolOf(srv, "a"), poolOf(srv, "b")
	ctx := grCtx(t)
	op := grClient(t, &redis.Options{Addr: srv.addr, Username: "ops", Password: "ops-pw"})
	alice := grClient(t, &redis.Options{Addr: srv.addr, Username: "alice", Password: "alice-pw"})
	infoField := func(text, key string) string {
		for _, line := range strings.Split(text, "\r\n") {
			if v, ok := strings.CutPrefix(line, key+":"); ok {
				return v
			}
		}
		return ""
	}
	// What a reload of the file with quota q would compute.
	want := func(q string) (budget, clients, pool int64) {
		c := parse(yaml(q, ""))
		return c.Tenants[0].ClientMemory, c.MaxMemoryClients, c.MaxMemoryClients - c.Tenants[0].ClientMemory - c.Tenants[1].ClientMemory
	}
	check := func(q string) {
		t.Helper()
		budget, clients, pool := want(q)
		if got := pa.limit.Load(); got != budget {
			t.Errorf("quota %s: tenant a's client_memory %d, a reload computes %d", q, got, budget)
		}
		if got := srv.unattributed.limit.Load(); got != pool {
			t.Errorf("quota %s: unattributed pool %d, a reload computes %d", q, got, pool)
		}
		if got := pb.limit.Load(); got != 8<<20 {
			t.Errorf("quota %s: tenant b's explicit client_memory became %d", q, got)
		}
		info, err := alice.Info(ctx, "tenant").Result()
		if err != nil {
			t.Fatal(err)
		}
		if got := infoField(info, "tenant_client_memory_limit_bytes"); got != strconv.FormatInt(budget, 10) {
			t.Errorf("quota %s: INFO tenant_client_memory_limit_bytes:%s, want %d", q, got, budget)
		}
		ti, err := op.Do(ctx, "TENANT", "INFO", "a").Text()
		if err != nil {
			t.Fatal(err)
		}
		if got := infoField(ti, "tenant_client_memory_limit_bytes"); got != strconv.FormatInt(budget, 10) {
			t.Errorf("quota %s: TENANT INFO tenant_client_memory_limit_bytes:%s, want %d", q, got, budget)
		}
		body := scrape(t, srv)
		for _, m := range []string{
			fmt.Sprintf("tcached_tenant_client_memory_limit_bytes{tenant=\"a\",tier=\"gold\"} %g\n", float64(budget)),
			fmt.Sprintf("tcached_maxmemory_clients_bytes %g\n", float64(clients)),
		} {
			if !strings.Contains(body, m) {
				t.Errorf("quota %s: /metrics lacks %q", q, m)
			}
		}
	}
	check("8MiB")
	if err := op.Do(ctx, "TENANT", "QUOTA", "a", "64MiB").Err(); err != nil {
		t.Fatalf("TENANT QUOTA a 64MiB: %v", err)
	}
	check("64MiB") // a quarter of 64MiB: 16MiB; maxmemory_clients grows by 8MiB
	if err := op.Do(ctx, "TENANT", "QUOTA", "b", "64MiB").Err(); err != nil {
		t.Fatalf("TENANT QUOTA b 64MiB: %v", err)
	}
	if got := pb.limit.Load(); got != 8<<20 {
		t.Errorf("TENANT QUOTA b: its explicit client_memory became %d", got)
	}

	// The attack of TestClientMemoryMultiQueues, bounded by the new budget:
	// more is queued than the old 8MiB allowed, no more than the new 16MiB.
	budget := pa.limit.Load()
	val := strings.Repeat("q", 1<<20)
	var queued, refused int
	for i := range 2 {
		r := dialAs(t, srv.addr, "alice", "alice-pw")
		r.do("MULTI")
		for j := range 20 {
			switch v, err := r.tryDo("SET", fmt.Sprintf("k%d-%d", i, j), val); {
			case err != nil:
				t.Fatal(err)
			case v == status("QUEUED"):
				queued++
			case v == respErr(errClientOOM):
				refused++
			default:
				t.Fatalf("queued SET = %v", v)
			}
		}
		defer r.do("DISCARD")
	}
	t.Logf("budget %s: %d x 1MiB SET queued, %d refused", mib(budget), queued, refused)
	if refused == 0 || queued<<20 > int(budget) || queued<<20 <= 8<<20 {
		t.Errorf("%d MiB queued (%d refused) under a %s budget raised from 8MiB", queued, refused, mib(budget))
	}

	// Shrinking the quota shrinks the budget back to its 8MiB floor.
	if err := op.Do(ctx, "TENANT", "QUOTA", "a", "4MiB").Err(); err != nil {
		t.Fatalf("TENANT QUOTA a 4MiB: %v", err)
	}
	check("4MiB")

	// An explicit maxmemory_clients stays; the pool gets what it leaves,
	// and a budget it cannot hold refuses the quota, as Parse would.
	srv2 := startServer(t, parse(yaml("8MiB", "maxmemory_clients: 26MiB\n")), false)
	op2 := dialAs(t, srv2.addr, "ops", "ops-pw")
	if got := op2.do("TENANT", "QUOTA", "a", "64MiB"); got != ok {
		t.Fatalf("TENANT QUOTA a 64MiB under maxmemory_clients 26MiB = %v", got)
	}
	if a, un := poolOf(srv2, "a").limit.Load(), srv2.unattributed.limit.Load(); a != 16<<20 || un != 2<<20 {
		t.Errorf("budgets: a %d, unattributed %d; want 16MiB and 26-16-8 = 2MiB", a, un)
	}
	got, isErr := op2.do("TENANT", "QUOTA", "a", "80MiB").(respErr)
	if !isErr || !strings.Contains(string(got), "over maxmemory_clients 27262976") {
		t.Errorf("TENANT QUOTA a 80MiB (budget 20MiB + 8MiB > 26MiB - 1MiB) = %v", got)
	}
	if _, _, err := config.Parse(yaml("80MiB", "maxmemory_clients: 26MiB\n"), "test.yaml"); err == nil || !strings.Contains(err.Error(), "maxmemory_clients") {
		t.Errorf("Parse of the same file refuses it too: %v", err)
	}
	if q := srv2.reg.Load().tenants["a"].part.Quota(); q != 64<<20 || poolOf(srv2, "a").limit.Load() != 16<<20 {
		t.Errorf("a refused TENANT QUOTA changed the quota to %d, the budget to %d", q, poolOf(srv2, "a").limit.Load())
	}
}

// TestClientMemorySlowReaders: connections of tenant a that pipeline GETs
// of a 1 MiB value and never read each hold a reply in a blocked write.
// Past the budget, the others' blocked replies are evicted (biggest
// first), not the writer's own, and a reading client of the same tenant
// still gets its value.
func TestClientMemorySlowReaders(t *testing.T) {
	cfg, bounded := memConfig(t)
	if !bounded {
		t.Skip("needs the bound")
	}
	cfg.Limits.WriteTimeout = 10 * time.Second // evictions, not deadlines, must free them
	srv := startServer(t, cfg, false)
	pa := poolOf(srv, "a")
	budget := pa.limit.Load()
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	big := strings.Repeat("g", 1<<20)
	a.do("SET", "big", big)
	stop := memPeaks(pa)
	const slow = 24
	for i := 0; i < slow; i++ {
		r := dialAs(t, srv.addr, "alice", "alice-pw")
		r.send(bytes.Repeat(encode("GET", "big"), 40))
	}
	deadline := time.Now().Add(5 * time.Second)
	for pa.evicted.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := norm(a.do("GET", "big")); got != big {
		t.Errorf("a reading client's GET big: %d bytes", len(fmt.Sprint(got)))
	}
	_, _, peak := stop()
	t.Logf("%d slow readers x 40 GET of 1 MiB: budget %s, client memory peak %s, %d evicted", slow, mib(budget), mib(peak), pa.evicted.Load())
	if pa.evicted.Load() == 0 {
		t.Errorf("no slow reader evicted")
	}
	// Past the budget: the replies being written at that moment (never
	// evicted for themselves) and those of victims whose sockets are
	// closing; on 2 cores about 2-5 MiB here.
	if peak > 2*budget {
		t.Errorf("client memory peaked at %s, budget %s", mib(peak), mib(budget))
	}
}

// TestClientMemoryExecReplies: EXEC holds its replies while it holds the
// tenant's lock, so it cannot wait for room: a transaction whose replies
// do not fit the budget ends its connection (as an output buffer limit
// does) instead of holding them; a transaction that fits is answered.
func TestClientMemoryExecReplies(t *testing.T) {
	cfg, bounded := memConfig(t)
	if !bounded {
		t.Skip("needs the bound")
	}
	srv := startServer(t, cfg, false)
	pa := poolOf(srv, "a")
	budget := pa.limit.Load()
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	big := strings.Repeat("e", 1<<20)
	a.do("SET", "big", big)
	stop := memPeaks(pa)
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	r.do("MULTI")
	for i := 0; i < 20; i++ {
		r.do("GET", "big")
	}
	r.send(encode("EXEC"))
	r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if v, err := readReply(r.rd); err == nil {
		t.Errorf("EXEC of 20 MiB of replies under an 8 MiB budget answered %T", v)
	}
	_, _, peak := stop()
	t.Logf("EXEC of 20 x GET of 1 MiB: budget %s, client memory peak %s", mib(budget), mib(peak))
	if peak > budget+2<<20 {
		t.Errorf("client memory peaked at %s, budget %s", mib(peak), mib(budget))
	}
	a.do("MULTI")
	a.do("GET", "big")
	a.do("GET", "big")
	if got, isArr := a.do("EXEC").([]any); !isArr || len(got) != 2 || string(got[1].([]byte)) != big {
		t.Errorf("EXEC of 2 MiB of replies: %d elements", len(got))
	}
}

// clientFields parses one CLIENT LIST / CLIENT INFO line into its keys, in
// order, and values.
func clientFields(line string) (keys []string, vals map[string]string) {
	vals = map[string]string{}
	for _, f := range strings.Fields(line) {
		k, v, _ := strings.Cut(f, "=")
		keys = append(keys, k)
		vals[k] = v
	}
	return keys, vals
}

// TestClientListMemory: CLIENT LIST and CLIENT INFO report the
// connections' client-memory charges as Redis 7.0 reports its clients'
// memory, in its field order: a subscriber that does not read has a
// growing omem, a partial command shows in qbuf, a MULTI queue in
// multi-mem, and every line has tot-mem >= qbuf + omem. What the lines
// add up to is what the tenant's pool holds.
func TestClientListMemory(t *testing.T) {
	cfg := testConfig()
	cfg.Tenants[0].ClientMemory = 64 << 20 // room to queue without evictions
	srv := startServer(t, cfg, false)
	pa := poolOf(srv, "a")
	ctx := grCtx(t)
	rdb := grClient(t, &redis.Options{Addr: srv.addr, Username: "alice", Password: "alice-pw"})
	line := func(id int64) map[string]string {
		t.Helper()
		list, err := rdb.ClientList(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(list), "\n") {
			keys, vals := clientFields(l)
			// Redis 7.0's catClientInfoString, then 7.2's lib-name and lib-ver.
			want := "id addr laddr fd name age idle flags db sub psub ssub multi qbuf qbuf-free argv-mem multi-mem rbs rbp obl oll omem tot-mem events cmd user redir resp lib-name lib-ver"
			if got := strings.Join(keys, " "); got != want {
				t.Fatalf("CLIENT LIST fields\n%s\nwant\n%s", got, want)
			}
			n := func(k string) int64 {
				v, err := strconv.ParseInt(vals[k], 10, 64)
				if err != nil || v < 0 {
					t.Fatalf("%s=%q in %q", k, vals[k], l)
				}
				return v
			}
			if n("tot-mem") < n("qbuf")+n("omem") {
				t.Errorf("tot-mem < qbuf + omem: %s", l)
			}
			if vals["id"] == strconv.FormatInt(id, 10) {
				return vals
			}
		}
		t.Fatalf("client %d not in CLIENT LIST", id)
		return nil
	}
	num := func(vals map[string]string, k string) int64 {
		v, _ := strconv.ParseInt(vals[k], 10, 64)
		return v
	}

	// A partial command: its bytes are in qbuf.
	part := dialAs(t, srv.addr, "alice", "alice-pw")
	partID := part.do("CLIENT", "ID").(int64)
	part.send([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n" + strings.Repeat("x", 50_000)))
	waitUntil(t, 5*time.Second, "the partial command in qbuf", func() bool { return num(line(partID), "qbuf") >= 50_000 })
	if v := line(partID); num(v, "tot-mem") < 50_000 {
		t.Errorf("a partial command of 50KB: tot-mem %s", v["tot-mem"])
	}
	// A MULTI queue: its charge is multi-mem.
	tx := dialAs(t, srv.addr, "alice", "alice-pw")
	txID := tx.do("CLIENT", "ID").(int64)
	tx.do("MULTI")
	tx.do("SET", "x", strings.Repeat("v", 10_000))
	if v := line(txID); num(v, "multi-mem") < 10_000 || num(v, "tot-mem") < num(v, "multi-mem") {
		t.Errorf("a queued SET of 10KB: multi-mem %s, tot-mem %s", v["multi-mem"], v["tot-mem"])
	}

	// A subscriber that does not read: omem grows with every message the
	// socket does not take.
	sub := dialAs(t, srv.addr, "alice", "alice-pw")
	subID := sub.do("CLIENT", "ID").(int64)
	sub.do("SUBSCRIBE", "ch")
	omem0 := num(line(subID), "omem")
	msg := strings.Repeat("m", 1<<20)
	var omem int64
	for i := 0; i < 28 && omem < omem0+4<<20; i++ {
		if err := rdb.Publish(ctx, "ch", msg).Err(); err != nil {
			t.Fatal(err)
		}
		omem = num(line(subID), "omem")
	}
	v := line(subID)
	t.Logf("subscriber: omem %d before, %d after; tot-mem %s; partial: qbuf %s; MULTI: multi-mem %s",
		omem0, omem, v["tot-mem"], line(partID)["qbuf"], line(txID)["multi-mem"])
	if omem < omem0+4<<20 {
		t.Errorf("a subscriber that does not read: omem %d after 28 x 1MiB, %d before", omem, omem0)
	}
	if num(v, "tot-mem") < omem+config.ConnOverhead {
		t.Errorf("subscriber: tot-mem %d < omem %d + the fixed cost", num(v, "tot-mem"), omem)
	}

	// Quiet, the lines add up to what tenant a's pool holds, whatever the
	// connections did: a reply larger than one flush, WATCH, EXEC.
	big := dialAs(t, srv.addr, "alice", "alice-pw")
	big.do("SET", "big", msg)
	big.do("GET", "big")
	big.do("WATCH", "a", "b")
	if got := norm(tx.do("EXEC")); fmt.Sprint(got) != "[OK]" {
		t.Errorf("EXEC = %v", got)
	}
	if v := line(txID); v["multi-mem"] != "0" {
		t.Errorf("multi-mem %s after EXEC", v["multi-mem"])
	}
	waitUntil(t, 5*time.Second, "CLIENT LIST's tot-mem adding up to the pool", func() bool {
		var sum int64
		srv.mu.Lock()
		for _, c := range srv.clients {
			if c.mem.pool.Load() == pa {
				sum += c.mem.used.Load()
			}
		}
		srv.mu.Unlock()
		// The tenant's slow log and tracking table are charged to the
		// pool too, outside any connection (slowlog.go, tracking.go).
		tn := srv.reg.Load().tenants["a"]
		tn.diag.mu.Lock()
		sum += tn.diag.charged
		tn.diag.mu.Unlock()
		sum += tn.trk.charged.Load()
		return sum == pa.used.Load()
	})
}
