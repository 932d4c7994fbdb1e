package shard

import (
	"fmt"
	"testing"
)

// TestWalkShard: least recently used first, expired keys skipped (and
// left in place), every db, nothing touched.
func TestWalkShard(t *testing.T) {
	now := int64(500)
	p := New(Config{Quota: 1 << 20, Shards: 1, Now: func() int64 { return now }, ExactLRU: true})
	p.Set(0, []byte("a"), []byte("1"), 0)
	p.Set(3, []byte("b"), []byte("2"), 0)
	p.Set(0, []byte("gone"), []byte("x"), 999)
	p.Set(0, []byte("c"), []byte("3"), 5000)
	p.View(0, []byte("a"), ViewTouch, nil) // a becomes the newest
	now = 1000                             // gone has expired
	var got []string
	p.WalkShard(0, func(db int, key []byte, e Entry) {
		got = append(got, fmt.Sprintf("%d/%s=%s@%d", db, key, e.Value, e.ExpireAt))
	})
	if want := "[3/b=2@0 0/c=3@5000 0/a=1@0]"; fmt.Sprint(got) != want {
		t.Fatalf("walk %v, want %s", got, want)
	}
	got = nil
	p.WalkShard(0, func(db int, key []byte, e Entry) { got = append(got, string(key)) })
	if fmt.Sprint(got) != "[b c a]" {
		t.Fatalf("a walk changed the order: %v", got)
	}
	if n := p.Len(0); n != 3 {
		t.Fatalf("Len(0) %d: the walk removed the expired key or more", n) // removal is expiry's job
	}
	p.WalkShard(-1, func(int, []byte, Entry) { t.Fatal("called") })
	p.WalkShard(1, func(int, []byte, Entry) { t.Fatal("called") })
}
