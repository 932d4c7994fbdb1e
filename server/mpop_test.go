package server

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestGoRedisMPop drives LMPOP, BLMPOP, RPOPLPUSH, BRPOPLPUSH and
// SINTERCARD through go-redis: immediate answers, a blocked BLMPOP and
// BRPOPLPUSH woken by a push from another connection, timeouts, and a
// WATCH on a key LMPOP pops (its keys follow numkeys).
func TestGoRedisMPop(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	ctx := grCtx(t)
	a := grClient(t, &redis.Options{Addr: ts.addr, Username: "alice", Password: "alice-pw"})
	b := grClient(t, &redis.Options{Addr: ts.addr, Username: "alice", Password: "alice-pw"})

	a.RPush(ctx, "l", "1", "2", "3", "4")
	key, vals, err := a.LMPop(ctx, "left", 2, "missing", "l").Result()
	if err != nil || key != "l" || !reflect.DeepEqual(vals, []string{"1", "2"}) {
		t.Fatalf("LMPOP = %q %q %v", key, vals, err)
	}
	if _, _, err := a.LMPop(ctx, "left", 1, "missing").Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("LMPOP of missing keys: %v, want redis.Nil", err)
	}
	if v, err := a.RPopLPush(ctx, "l", "d").Result(); err != nil || v != "4" {
		t.Fatalf("RPOPLPUSH = %q %v", v, err)
	}

	a.SAdd(ctx, "s1", "a", "b", "c")
	a.SAdd(ctx, "s2", "b", "c", "d")
	if n, err := a.SInterCard(ctx, 0, "s1", "s2").Result(); err != nil || n != 2 {
		t.Fatalf("SINTERCARD = %d %v", n, err)
	}
	if n, err := a.SInterCard(ctx, 1, "s1", "s2").Result(); err != nil || n != 1 {
		t.Fatalf("SINTERCARD LIMIT 1 = %d %v", n, err)
	}

	// BLMPOP blocks until another connection pushes.
	type res struct {
		key  string
		vals []string
		err  error
	}
	done := make(chan res, 1)
	go func() {
		k, v, err := a.BLMPop(ctx, 5*time.Second, "right", 10, "q1", "q2").Result()
		done <- res{k, v, err}
	}()
	time.Sleep(50 * time.Millisecond)
	b.RPush(ctx, "q2", "x", "y")
	select {
	case r := <-done:
		if r.err != nil || r.key != "q2" || !reflect.DeepEqual(r.vals, []string{"y", "x"}) {
			t.Fatalf("BLMPOP woken = %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("BLMPOP not woken")
	}

	// BRPOPLPUSH blocks, then moves the pushed element.
	moved := make(chan string, 1)
	go func() {
		v, _ := a.BRPopLPush(ctx, "src", "dst", 5*time.Second).Result()
		moved <- v
	}()
	time.Sleep(50 * time.Millisecond)
	b.LPush(ctx, "src", "job")
	select {
	case v := <-moved:
		if v != "job" {
			t.Fatalf("BRPOPLPUSH = %q", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("BRPOPLPUSH not woken")
	}
	if got := b.LRange(ctx, "dst", 0, -1).Val(); !reflect.DeepEqual(got, []string{"job"}) {
		t.Fatalf("dst = %q", got)
	}

	// A BRPOPLPUSH into a string blocks (its source is empty), and the
	// push that wakes it gets WRONGTYPE, leaving the element in the source.
	b.Set(ctx, "notalist", "x", 0)
	errc := make(chan error, 1)
	go func() { errc <- a.BRPopLPush(ctx, "jobs", "notalist", 5*time.Second).Err() }()
	time.Sleep(100 * time.Millisecond)
	b.LPush(ctx, "jobs", "j1")
	select {
	case err := <-errc:
		if err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
			t.Fatalf("BRPOPLPUSH into a string: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("BRPOPLPUSH into a string not answered")
	}
	if got := b.LRange(ctx, "jobs", 0, -1).Val(); len(got) != 1 || got[0] != "j1" {
		t.Fatalf("jobs after the refused move = %q", got)
	}

	// Timeouts answer nil.
	if _, _, err := a.BLMPop(ctx, 50*time.Millisecond, "left", 1, "none").Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("BLMPOP timeout: %v", err)
	}
	if err := a.BRPopLPush(ctx, "none", "d", 50*time.Millisecond).Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("BRPOPLPUSH timeout: %v", err)
	}

	// WATCH sees LMPOP's write to a key after numkeys.
	b.RPush(ctx, "w", "1")
	err = a.Watch(ctx, func(tx *redis.Tx) error {
		b.LMPop(ctx, "left", 1, "other", "w")
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "after", "1", 0)
			return nil
		})
		return err
	}, "w")
	if !errors.Is(err, redis.TxFailedErr) {
		t.Fatalf("WATCH after LMPOP: %v, want TxFailedErr", err)
	}
}
