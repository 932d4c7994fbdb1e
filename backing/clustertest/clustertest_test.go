package clustertest

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestStartKillFailover(t *testing.T) {
	begin := time.Now()
	c := Start(t)
	t.Logf("Start took %v", time.Since(begin).Round(time.Millisecond))

	if got := len(c.Addrs()); got != 6 {
		t.Fatalf("Addrs() has %d nodes, want 6: %v", got, c.Addrs())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	masters, err := c.Masters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(masters) != 3 {
		t.Fatalf("Masters() = %v, want 3", masters)
	}
	if first := slices.Sorted(slices.Values(c.Addrs()[:3])); !slices.Equal(first, masters) {
		t.Fatalf("Addrs()[:3] = %v, want the masters %v", first, masters)
	}

	// Write 100 keys and remember which master owns each.
	rc := c.Client()
	owner := map[string]string{} // key -> master addr
	slotOwner := slotOwners(t, ctx, rc)
	for i := range 100 {
		k, v := fmt.Sprintf("key:%d", i), fmt.Sprintf("val:%d", i)
		if err := rc.Set(ctx, k, v, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
		slot, err := rc.ClusterKeySlot(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		owner[k] = slotOwner[int(slot)]
	}

	victim := masters[0]
	// Make sure the victim's replica has every write, so its keys survive too.
	vc := redis.NewClient(&redis.Options{Addr: victim, DisableIdentity: true})
	if n, err := vc.Wait(ctx, 1, 5000).Result(); err != nil || n < 1 {
		t.Fatalf("WAIT on %s: %d, %v", victim, n, err)
	}
	vc.Close()

	if err := c.Kill(victim); err != nil {
		t.Fatal(err)
	}
	if err := c.Kill("127.0.0.1:1"); err == nil {
		t.Error("Kill of an unknown address succeeded")
	}

	fctx, fcancel := context.WithTimeout(ctx, 20*time.Second)
	defer fcancel()
	elapsed, err := c.WaitFailover(fctx)
	if err != nil {
		t.Fatalf("WaitFailover: %v", err)
	}
	t.Logf("failover of %s took %v", victim, elapsed.Round(time.Millisecond))

	now, err := c.Masters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(now) != 3 || slices.Contains(now, victim) {
		t.Fatalf("masters after failover = %v; want 3 without %s", now, victim)
	}
	if info, err := rc.ClusterInfo(ctx).Result(); err != nil || infoField(info, "cluster_state") != "ok" {
		t.Fatalf("cluster_state = %q, %v", infoField(info, "cluster_state"), err)
	}

	// Keys on the surviving masters must be readable straight away.
	var moved []string
	for k, m := range owner {
		if m == victim {
			moved = append(moved, k)
			continue
		}
		if got, err := rc.Get(ctx, k).Result(); err != nil || got != "val:"+k[len("key:"):] {
			t.Errorf("GET %s (on %s) = %q, %v", k, m, got, err)
		}
	}
	if len(moved) == 0 || len(moved) == len(owner) {
		t.Fatalf("%d of %d keys were on the victim; want some but not all", len(moved), len(owner))
	}
	// The victim's keys are served by its promoted replica once the client
	// has noticed the new topology (ClientReloadInterval).
	follow := time.Now()
	deadline := follow.Add(5 * time.Second)
	for _, k := range moved {
		var got string
		var err error
		for {
			if got, err = rc.Get(ctx, k).Result(); err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil || got != "val:"+k[len("key:"):] {
			t.Fatalf("GET %s (was on %s) = %q, %v", k, victim, got, err)
		}
	}
	t.Logf("%d keys on surviving masters and %d on the failed-over one readable; client followed the failover in %v",
		len(owner)-len(moved), len(moved), time.Since(follow).Round(time.Millisecond))

	c.Stop()
	c.Stop() // idempotent
}

func slotOwners(t *testing.T, ctx context.Context, rc *redis.ClusterClient) map[int]string {
	t.Helper()
	slots, err := rc.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	m := map[int]string{}
	for _, s := range slots {
		for i := s.Start; i <= s.End; i++ {
			m[i] = s.Nodes[0].Addr
		}
	}
	if len(m) != numSlots {
		t.Fatalf("CLUSTER SLOTS covers %d slots", len(m))
	}
	return m
}

// TestNodesOutliveTheStartingThread: a node is not killed when the thread
// of the goroutine that started the cluster ends. Go ends a thread when a
// goroutine locked to it exits, and a Pdeathsig child dies with the thread
// that forked it: nodes forked from the caller's thread died whenever
// unrelated code in the test binary pinned and released a thread.
func TestNodesOutliveTheStartingThread(t *testing.T) {
	// The process's main thread is never ended (Go parks it instead), so
	// the cluster is started from a goroutine locked to another thread:
	// one that finds itself on the main thread stays parked there until
	// the test ends, and another goroutine tries.
	release := make(chan struct{})
	defer close(release)
	var c *Cluster
	for attempt := 0; c == nil && attempt < 8; attempt++ {
		done := make(chan bool)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
			if syscall.Gettid() == syscall.Getpid() {
				done <- false
				<-release
				return
			}
			defer close(done)
			c = StartWith(t, Options{Masters: 3, ReplicasPerMaster: -1})
		}()
		if ok := <-done; !ok && c == nil {
			continue
		}
	}
	if c == nil {
		t.Fatal("the cluster did not start")
	}
	time.Sleep(200 * time.Millisecond) // a SIGKILL from the thread's end lands within it
	for _, addr := range c.Addrs() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		rc := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		err := rc.Ping(ctx).Err()
		rc.Close()
		cancel()
		if err != nil {
			t.Errorf("node %s died with the thread that started the cluster: %v", addr, err)
		}
	}
}
