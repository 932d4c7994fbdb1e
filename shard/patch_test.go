package shard

import (
	"bytes"
	"errors"
	"testing"
)

// setBit is SETBIT through Patch: it reports the bit's previous value.
func setBit(t *testing.T, p *Partition, key string, off int, expire int64) (int, error) {
	t.Helper()
	idx := off / 8
	old := -1
	err := p.Patch(0, []byte(key), TypeString, expire, func(cur Entry, exists bool) (int, error) {
		if exists && cur.Type != TypeString {
			return -1, errors.New("wrongtype")
		}
		return max(len(cur.Value), idx+1), nil
	}, func(v []byte) bool {
		old = int(v[idx] >> (7 - off%8) & 1)
		v[idx] |= 1 << (7 - off%8)
		return true
	})
	return old, err
}

func getStr(p *Partition, key string) string {
	v, _ := p.GetAppend(nil, 0, []byte(key))
	return string(v)
}

// TestPatchInPlace: a patch that keeps the length rewrites the stored
// bytes (the entry's buffer is the same afterwards) and changes nothing in
// the accounting; growth is stored as a Put; a new key gets expireAt, an
// existing one keeps its TTL.
func TestPatchInPlace(t *testing.T) {
	p, clk := newTest(t, Config{Quota: 1 << 20})
	if old, err := setBit(t, p, "b", 9, clk.now()+5000); err != nil || old != 0 {
		t.Fatalf("new key: %d %v", old, err)
	}
	if got := getStr(p, "b"); got != "\x00\x40" {
		t.Fatalf("value %q", got)
	}
	used := p.UsedBytes()
	var before []byte
	p.View(0, []byte("b"), 0, func(e Entry) { before = e.Value })
	var patched *byte
	err := p.Patch(0, []byte("b"), TypeString, 0, func(cur Entry, _ bool) (int, error) { return len(cur.Value), nil },
		func(v []byte) bool { patched = &v[0]; v[0] |= 0x80; return true })
	if err != nil {
		t.Fatal(err)
	}
	if patched != &before[0] {
		t.Error("a patch of the same length ran on a copy, not on the stored bytes")
	}
	if got := getStr(p, "b"); got != "\x80\x40" || p.UsedBytes() != used {
		t.Fatalf("value %q used %d, want %d", got, p.UsedBytes(), used)
	}
	if old, _ := setBit(t, p, "b", 0, 0); old != 1 {
		t.Errorf("old bit %d, want 1", old)
	}
	if _, err := setBit(t, p, "b", 31, 0); err != nil {
		t.Fatal(err)
	}
	if got := getStr(p, "b"); got != "\x80\x40\x00\x01" || p.UsedBytes() != used+2 {
		t.Fatalf("grown: %q used %d", got, p.UsedBytes())
	}
	var exp int64
	p.View(0, []byte("b"), 0, func(e Entry) { exp = e.ExpireAt })
	if exp != clk.now()+5000 {
		t.Errorf("growth changed the TTL: %d", exp)
	}
	audit(t, p)
}

// TestPatchQuota: growth past the quota is refused before the value is
// built (no callback of patch runs), and under LRU it evicts other keys
// first, never the key being patched.
func TestPatchQuota(t *testing.T) {
	p, _ := newTest(t, Config{Quota: 4096, NoEviction: true})
	ran := false
	err := p.Patch(0, []byte("big"), TypeString, 0, func(Entry, bool) (int, error) { return 1 << 20, nil }, func([]byte) bool { ran = true; return true })
	if !errors.Is(err, ErrOOM) || ran || p.UsedBytes() != 0 {
		t.Fatalf("err %v ran %v used %d", err, ran, p.UsedBytes())
	}
	lru, _ := newTest(t, Config{Quota: 4096, Shards: 1})
	for _, k := range []string{"x", "y", "z"} {
		if err := lru.Set(0, []byte(k), bytes.Repeat([]byte("v"), 1000), 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := setBit(t, lru, "x", 8*2500, 0); err != nil {
		t.Fatal(err)
	}
	if lru.UsedBytes() > 4096 || len(getStr(lru, "x")) != 2501 || getStr(lru, "y") != "" {
		t.Fatalf("used %d, x %d bytes, y %q", lru.UsedBytes(), len(getStr(lru, "x")), getStr(lru, "y"))
	}
	audit(t, lru)
}
