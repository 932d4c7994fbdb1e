package bench

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tcached/tcached/backing"
	"github.com/tcached/tcached/backing/clustertest"
)

// TestFailoverWindow measures how long writes through tcached fail when a
// master of the backing Redis Cluster dies, as a function of the cluster's
// cluster-node-timeout. For each timeout it starts a 6-node cluster
// (3 masters, 3 replicas) with that timeout and a backed tcached, then
// kills each of the three original masters in turn (SIGKILL) while 8
// clients SET keys spread over every slot through tcached. A run's window
// is from the kill to the last failed write of any key; the median of the
// runs is reported, and each run's failures of the dead master's keys and
// of the others are logged. Redis marks a master failed once
// cluster-node-timeout passes without an answer and a majority of masters
// agree through gossip, then its replica waits 500-1000 ms before asking
// for votes: measured, the window is the timeout plus 1-3 s at 1 s, plus
// 2-8 s at 15 s. Meanwhile the other masters' keys are served, but for the
// moment between the failure verdict and the promotion (with the default
// cluster-require-full-coverage yes the cluster refuses every key then).
//
// It takes about 3 x (timeout + 5 s) per timeout plus cluster start-ups,
// so it runs only when asked:
//
//	TCACHED_FAILOVER_WINDOW=1 go test -run TestFailoverWindow -v -timeout 10m ./bench/
//
// TCACHED_FAILOVER_TIMEOUTS (comma-separated milliseconds, default
// "1000,15000") and TCACHED_FAILOVER_RUNS (1-3, default 3) narrow it.
func TestFailoverWindow(t *testing.T) {
	if os.Getenv("TCACHED_FAILOVER_WINDOW") != "1" {
		t.Skip("set TCACHED_FAILOVER_WINDOW=1 to measure failover windows (minutes)")
	}
	timeouts := []int{1000, 15000}
	if s := os.Getenv("TCACHED_FAILOVER_TIMEOUTS"); s != "" {
		timeouts = nil
		for _, f := range strings.Split(s, ",") {
			ms, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || ms < 100 || ms > 60000 {
				t.Fatalf("TCACHED_FAILOVER_TIMEOUTS: %q is not 100-60000 ms", f)
			}
			timeouts = append(timeouts, ms)
		}
	}
	runs := 3
	if s := os.Getenv("TCACHED_FAILOVER_RUNS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 3 {
			t.Fatalf("TCACHED_FAILOVER_RUNS=%q: want 1-3 (one cluster has three masters to kill)", s)
		}
		runs = n
	}
	for _, ms := range timeouts {
		t.Run(fmt.Sprintf("node-timeout=%dms", ms), func(t *testing.T) {
			windows := failoverWindows(t, ms, runs)
			slices.Sort(windows)
			t.Logf("cluster-node-timeout %d ms: write-failure windows %v, median %v",
				ms, windows, windows[len(windows)/2].Round(10*time.Millisecond))
		})
	}
}

// slotOwners maps each slot to its master's address.
func slotOwners(ctx context.Context, cl *clustertest.Cluster) (map[int]string, error) {
	slots, err := cl.Client().ClusterSlots(ctx).Result()
	if err != nil {
		return nil, err
	}
	m := map[int]string{}
	for _, s := range slots {
		for i := s.Start; i <= s.End; i++ {
			m[i] = s.Nodes[0].Addr
		}
	}
	return m, nil
}

// failoverWindows runs the kills of one cluster and returns each window.
func failoverWindows(t *testing.T, nodeTimeoutMs, runs int) []time.Duration {
	cl := clustertest.StartWith(t, clustertest.Options{ExtraArgs: []string{"--cluster-node-timeout", strconv.Itoa(nodeTimeoutMs)}})
	addr, _ := startBackedTcached(t, cl)
	ctx := context.Background()
	victims, err := cl.Masters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	limit := time.Duration(nodeTimeoutMs)*time.Millisecond*3 + 30*time.Second
	var out []time.Duration
	for run := range runs {
		const clients, keys = 8, 64
		owner, err := slotOwners(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		victim := victims[run]
		var mu sync.Mutex
		var errTimes, otherErrs []time.Time // the victim's slots, the others'
		writes := 0
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for c := range clients {
			rdb := redis.NewClient(&redis.Options{Addr: addr, Username: backedUser, Password: backedPass,
				Protocol: 2, MaxRetries: -1, ReadTimeout: 3 * time.Second, PoolSize: 1, DisableIdentity: true})
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer rdb.Close()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					key := fmt.Sprintf("w%d-%d", c, i%keys)
					err := rdb.Set(ctx, key, i, 0).Err()
					mu.Lock()
					writes++
					switch {
					case err == nil:
					case owner[backing.SlotString(l2Name(key))] == victim:
						errTimes = append(errTimes, time.Now())
					default:
						otherErrs = append(otherErrs, time.Now())
					}
					mu.Unlock()
					if err != nil {
						time.Sleep(5 * time.Millisecond) // failing fast: do not spin
					}
				}
			}()
		}
		time.Sleep(500 * time.Millisecond)
		mu.Lock()
		before := len(errTimes) + len(otherErrs)
		mu.Unlock()
		killAt := time.Now()
		if err := cl.Kill(victim); err != nil {
			close(stop)
			wg.Wait()
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, limit)
		took, err := cl.WaitFailover(wctx)
		cancel()
		if err == nil {
			time.Sleep(3 * time.Second) // tcached and go-redis catch up; late errors still count
		}
		close(stop)
		wg.Wait()
		if err != nil {
			t.Fatalf("run %d: %v", run+1, err)
		}
		mu.Lock()
		if before > 0 {
			t.Errorf("run %d: %d writes failed before the kill", run+1, before)
		}
		if len(errTimes) == 0 {
			t.Errorf("run %d: no write failed: the kill was not seen", run+1)
			mu.Unlock()
			continue
		}
		first, last := errTimes[0].Sub(killAt), errTimes[len(errTimes)-1].Sub(killAt)
		others := "none failed"
		if n := len(otherErrs); n > 0 {
			others = fmt.Sprintf("%d failed from +%v to +%v", n, otherErrs[0].Sub(killAt).Round(time.Millisecond), otherErrs[n-1].Sub(killAt).Round(time.Millisecond))
		}
		t.Logf("run %d: killed %s; cluster ok again %v after the kill; %d writes; the dead master's keys: %d failed from +%v to +%v; the other keys: %s",
			run+1, victim, took.Round(time.Millisecond), writes, len(errTimes), first.Round(time.Millisecond), last.Round(time.Millisecond), others)
		if n := len(otherErrs); n > 0 {
			last = max(last, otherErrs[n-1].Sub(killAt))
		}
		out = append(out, last)
		mu.Unlock()
	}
	if len(out) == 0 {
		t.Fatal("no run measured a window")
	}
	return out
}
