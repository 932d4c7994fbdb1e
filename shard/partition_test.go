package shard

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/tcached/tcached/eviction"
)

// clock is a fake Config.Now.
type clock struct{ ms atomic.Int64 }

func (c *clock) now() int64      { return c.ms.Load() }
func (c *clock) advance(d int64) { c.ms.Add(d) }

func newTest(t testing.TB, cfg Config) (*Partition, *clock) {
	t.Helper()
	c := &clock{}
	c.ms.Store(1_000_000)
	if cfg.Now == nil {
		cfg.Now = c.now
	}
	if cfg.Quota == 0 {
		cfg.Quota = 1 << 20
	}
	return New(cfg), c
}

// audit checks exact accounting: used equals the sum of the entry sizes,
// every size is len(name)+len(value)+EntryOverhead, and the per-db counts
// match the entries.
func audit(t testing.TB, p *Partition) {
	t.Helper()
	var sum int64
	for i := range p.shards {
		s := &p.shards[i]
		s.mu.Lock()
		var keys, exps [NumDBs]int64
		for j := range s.lru.Slots() {
			h := eviction.Handle(j)
			if !s.lru.Live(h) {
				continue
			}
			k := s.lru.Key(h)
			if want := entrySize(len(k)-1, len(s.lru.Value(h))); s.lru.Size(h) != want {
				t.Errorf("key %q size %d, want %d", k, s.lru.Size(h), want)
			}
			if p.shardIndex(int(k[0]), []byte(k[1:])) != i {
				t.Errorf("key %q in sub-shard %d", k, i)
			}
			sum += s.lru.Size(h)
			keys[k[0]]++
			if s.lru.ExpireAt(h) != 0 {
				exps[k[0]]++
			}
		}
		if keys != s.keys || exps != s.expires {
			t.Errorf("sub-shard %d counts keys %v exps %v, recorded %v %v", i, keys, exps, s.keys, s.expires)
		}
		s.mu.Unlock()
	}
	if u := p.UsedBytes(); u != sum {
		t.Fatalf("used %d, sum of entries %d", u, sum)
	}
	if sum > p.quota.Load() {
		t.Fatalf("used %d over quota %d", sum, p.quota.Load())
	}
}

func get(p *Partition, db int, k string) (string, bool) {
	v, ok := p.GetAppend(nil, db, []byte(k))
	return string(v), ok
}

func mustSet(t testing.TB, p *Partition, db int, k, v string, exp int64) {
	t.Helper()
	if err := p.Set(db, []byte(k), []byte(v), exp); err != nil {
		t.Fatalf("Set(%d,%q): %v", db, k, err)
	}
}

func TestSetGet(t *testing.T) {
	tests := []struct {
		name string
		sets [][3]string // db, key, value
		db   int
		key  string
		want string
		ok   bool
	}{
		{"missing", nil, 0, "a", "", false},
		{"hit", [][3]string{{"0", "a", "1"}}, 0, "a", "1", true},
		{"overwrite", [][3]string{{"0", "a", "1"}, {"0", "a", "22"}}, 0, "a", "22", true},
		{"shrink", [][3]string{{"0", "a", "long value"}, {"0", "a", "s"}}, 0, "a", "s", true},
		{"empty value", [][3]string{{"0", "a", ""}}, 0, "a", "", true},
		{"empty key", [][3]string{{"0", "", "v"}}, 0, "", "v", true},
		{"other db misses", [][3]string{{"1", "a", "1"}}, 0, "a", "", false},
		{"dbs are separate", [][3]string{{"1", "a", "1"}, {"15", "a", "15"}}, 15, "a", "15", true},
		{"binary", [][3]string{{"0", "\x00\xff", "\x00"}}, 0, "\x00\xff", "\x00", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newTest(t, Config{Shards: 4})
			for _, s := range tt.sets {
				db, _ := strconv.Atoi(s[0])
				mustSet(t, p, db, s[1], s[2], 0)
			}
			got, ok := get(p, tt.db, tt.key)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("get = %q,%v; want %q,%v", got, ok, tt.want, tt.ok)
			}
			audit(t, p)
		})
	}
}

func TestInputsNotRetained(t *testing.T) {
	p, _ := newTest(t, Config{})
	k, v := []byte("key"), []byte("value")
	mustSet(t, p, 0, string(k), string(v), 0)
	if err := p.Set(0, k, v, 0); err != nil {
		t.Fatal(err)
	}
	copy(k, "xxx")
	copy(v, "XXXXX")
	if got, _ := get(p, 0, "key"); got != "value" {
		t.Fatalf("stored value changed with the caller's buffer: %q", got)
	}
	// GetAppend appends, it does not overwrite dst.
	out, _ := p.GetAppend([]byte("pre-"), 0, []byte("key"))
	if string(out) != "pre-value" {
		t.Fatalf("GetAppend = %q", out)
	}
}

func TestBadDB(t *testing.T) {
	p, _ := newTest(t, Config{})
	for _, db := range []int{-1, 16, 1 << 40} {
		if err := p.Set(db, []byte("a"), nil, 0); err != ErrBadDB {
			t.Errorf("Set db %d: %v", db, err)
		}
		if err := p.Mutate(db, []byte("a"), nil); err != ErrBadDB {
			t.Errorf("Mutate db %d: %v", db, err)
		}
		if err := p.Apply([]Key{{DB: db}}, nil); err != ErrBadDB {
			t.Errorf("Apply db %d: %v", db, err)
		}
		if _, ok := p.GetAppend(nil, db, []byte("a")); ok {
			t.Errorf("GetAppend db %d found", db)
		}
		if p.Len(db) != 0 || p.Delete(db, []byte("a")) || p.View(db, []byte("a"), 0, nil) {
			t.Errorf("db %d not rejected", db)
		}
		if n, keys := p.Scan(db, 0, 10, nil); n != 0 || keys != nil {
			t.Errorf("Scan db %d", db)
		}
	}
	if p.Flush(16) != 0 {
		t.Error("Flush(16)")
	}
}

// TestTTL checks Redis's rule (expired when now > expireAt) on every read
// path with a fake clock.
func TestTTL(t *testing.T) {
	type probe func(p *Partition) bool // reports whether "k" is visible
	probes := map[string]probe{
		"GetAppend": func(p *Partition) bool { _, ok := p.GetAppend(nil, 0, []byte("k")); return ok },
		"View":      func(p *Partition) bool { return p.View(0, []byte("k"), 0, func(Entry) {}) },
		"Usage":     func(p *Partition) bool { _, ok := p.Usage(0, []byte("k")); return ok },
		"Delete":    func(p *Partition) bool { return p.Delete(0, []byte("k")) },
		"Mutate": func(p *Partition) bool {
			var seen bool
			p.Mutate(0, []byte("k"), func(_ Entry, ex bool) (Entry, Action, error) { seen = ex; return Entry{}, Keep, nil })
			return seen
		},
		"Apply": func(p *Partition) bool {
			var seen bool
			p.Apply([]Key{{0, []byte("k")}}, func(_ []Entry, ex []bool) ([]Entry, []Action, error) {
				seen = ex[0]
				return make([]Entry, 1), make([]Action, 1), nil
			})
			return seen
		},
		"Scan": func(p *Partition) bool {
			_, keys := p.Scan(0, 0, 100, nil)
			return len(keys) == 1
		},
		"RandomKey": func(p *Partition) bool { _, ok := p.RandomKey(0); return ok },
	}
	offsets := []struct {
		d       int64
		visible bool
	}{{-1, true}, {0, true}, {1, false}, {1000, false}}
	for name, pr := range probes {
		for _, o := range offsets {
			t.Run(fmt.Sprintf("%s/%+d", name, o.d), func(t *testing.T) {
				p, c := newTest(t, Config{})
				mustSet(t, p, 0, "k", "v", c.now()+100)
				c.advance(100 + o.d)
				if got := pr(p); got != o.visible {
					t.Fatalf("visible = %v, want %v", got, o.visible)
				}
				if !o.visible {
					st := p.Stats()
					if st.Expired != 1 || st.Keys != 0 || st.UsedBytes != 0 {
						t.Fatalf("expired key not collected: %+v", st)
					}
				}
				audit(t, p)
			})
		}
	}
}

func TestSetExpiry(t *testing.T) {
	p, c := newTest(t, Config{})
	mustSet(t, p, 0, "k", "v", c.now()+10)
	if st := p.Stats(); st.ExpiresPerDB[0] != 1 || st.KeysPerDB[0] != 1 {
		t.Fatalf("stats %+v", st)
	}
	mustSet(t, p, 0, "k", "v2", 0) // plain SET clears the TTL
	c.advance(100)
	if v, ok := get(p, 0, "k"); !ok || v != "v2" {
		t.Fatalf("get = %q %v", v, ok)
	}
	if st := p.Stats(); st.ExpiresPerDB[0] != 0 {
		t.Fatalf("expires %d", st.ExpiresPerDB[0])
	}
	// A Put already in the past deletes the key (SET ... PXAT past).
	mustSet(t, p, 0, "k", "v3", c.now()-1)
	if _, ok := get(p, 0, "k"); ok {
		t.Fatal("past expiry stored a key")
	}
	if p.UsedBytes() != 0 {
		t.Fatalf("used %d", p.UsedBytes())
	}
	audit(t, p)
}

func TestViewFlags(t *testing.T) {
	p, _ := newTest(t, Config{Shards: 1, Quota: 3 * entrySize(1, 1)})
	for _, k := range []string{"a", "b", "c"} {
		mustSet(t, p, 0, k, "v", 0)
	}
	var got Entry
	if !p.View(0, []byte("a"), 0, func(e Entry) { got = Entry{Value: slices.Clone(e.Value), ExpireAt: e.ExpireAt} }) || string(got.Value) != "v" {
		t.Fatalf("View a = %+v", got)
	}
	p.View(0, []byte("zz"), 0, nil)
	if st := p.Stats(); st.Hits != 0 || st.Misses != 0 {
		t.Fatalf("View without ViewStats counted: %+v", st)
	}
	p.View(0, []byte("a"), ViewStats, nil)
	p.View(0, []byte("zz"), ViewStats, nil)
	if st := p.Stats(); st.Hits != 1 || st.Misses != 1 {
		t.Fatalf("ViewStats: %+v", st)
	}
	// Without ViewTouch "a" stays the oldest and is evicted first.
	p.View(0, []byte("a"), ViewStats, nil)
	mustSet(t, p, 0, "d", "v", 0)
	if _, ok := get(p, 0, "a"); ok {
		t.Fatal("a survived without touch")
	}
	// With ViewTouch "b" survives and "c" goes.
	p.View(0, []byte("b"), ViewTouch, nil)
	mustSet(t, p, 0, "e", "v", 0)
	if _, ok := get(p, 0, "b"); !ok {
		t.Fatal("touched b was evicted")
	}
	if _, ok := get(p, 0, "c"); ok {
		t.Fatal("c survived")
	}
}

func TestGetCountsStats(t *testing.T) {
	p, _ := newTest(t, Config{})
	mustSet(t, p, 0, "a", "1", 0)
	get(p, 0, "a")
	get(p, 0, "a")
	get(p, 0, "b")
	if st := p.Stats(); st.Hits != 2 || st.Misses != 1 {
		t.Fatalf("%+v", st)
	}
}

func incr(cur Entry, exists bool) (Entry, Action, error) {
	n := 0
	if exists {
		var err error
		if n, err = strconv.Atoi(string(cur.Value)); err != nil {
			return Entry{}, Keep, err
		}
	}
	return Entry{Value: strconv.AppendInt(nil, int64(n+1), 10), ExpireAt: cur.ExpireAt}, Put, nil
}

func TestMutate(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		initial string // "" = missing
		initExp int64
		fn      func(Entry, bool) (Entry, Action, error)
		err     error
		want    string // "" = missing afterwards
		wantExp int64
	}{
		{"incr missing", "", 0, incr, nil, "1", 0},
		{"incr keeps ttl", "41", 5e6, incr, nil, "42", 5e6},
		{"error aborts", "x", 0, incr, strconv.ErrSyntax, "x", 0},
		{"custom error", "x", 0, func(Entry, bool) (Entry, Action, error) { return Entry{Value: []byte("y")}, Put, errBoom }, errBoom, "x", 0},
		{"append aliasing", "ab", 0, func(c Entry, _ bool) (Entry, Action, error) {
			return Entry{Value: append(c.Value, 'c')}, Put, nil
		}, nil, "abc", 0},
		{"truncate aliasing", "abcdef", 0, func(c Entry, _ bool) (Entry, Action, error) {
			return Entry{Value: c.Value[2:4]}, Put, nil
		}, nil, "cd", 0},
		{"delete", "x", 0, func(Entry, bool) (Entry, Action, error) { return Entry{}, Delete, nil }, nil, "", 0},
		{"delete missing", "", 0, func(Entry, bool) (Entry, Action, error) { return Entry{}, Delete, nil }, nil, "", 0},
		{"keep", "x", 7e6, func(Entry, bool) (Entry, Action, error) { return Entry{}, Keep, nil }, nil, "x", 7e6},
		{"setttl", "x", 0, func(Entry, bool) (Entry, Action, error) { return Entry{ExpireAt: 9e6}, SetTTL, nil }, nil, "x", 9e6},
		{"persist", "x", 9e6, func(Entry, bool) (Entry, Action, error) { return Entry{}, SetTTL, nil }, nil, "x", 0},
		{"setttl past deletes", "x", 0, func(Entry, bool) (Entry, Action, error) { return Entry{ExpireAt: 1}, SetTTL, nil }, nil, "", 0},
		{"setttl missing no-op", "", 0, func(Entry, bool) (Entry, Action, error) { return Entry{Value: []byte("z"), ExpireAt: 9e6}, SetTTL, nil }, nil, "", 0},
		{"bad action", "x", 0, func(Entry, bool) (Entry, Action, error) { return Entry{}, Action(9), nil }, errBadCallback, "x", 0},
		{"put too big", "x", 0, func(Entry, bool) (Entry, Action, error) { return Entry{Value: make([]byte, 2<<20)}, Put, nil }, ErrOOM, "x", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newTest(t, Config{})
			if tt.initial != "" {
				mustSet(t, p, 3, "k", tt.initial, tt.initExp)
			}
			err := p.Mutate(3, []byte("k"), tt.fn)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			var got Entry
			ok := p.View(3, []byte("k"), 0, func(e Entry) { got = Entry{Value: slices.Clone(e.Value), ExpireAt: e.ExpireAt} })
			if (tt.want == "") == ok || string(got.Value) != tt.want || got.ExpireAt != tt.wantExp {
				t.Fatalf("after: %q exp %d ok %v; want %q exp %d", got.Value, got.ExpireAt, ok, tt.want, tt.wantExp)
			}
			audit(t, p)
		})
	}
}

// TestMutateCannotWriteStoredBuffer: appending to cur.Value must not reach
// the stored buffer's spare capacity, even when fn then aborts.
func TestMutateCannotWriteStoredBuffer(t *testing.T) {
	p, _ := newTest(t, Config{})
	mustSet(t, p, 0, "k", "0123456789", 0)
	mustSet(t, p, 0, "k", "01234", 0) // reuses the 10-byte buffer
	var leaked []byte
	p.Mutate(0, []byte("k"), func(c Entry, _ bool) (Entry, Action, error) {
		leaked = append(c.Value, "XXXXX"...)
		return Entry{}, Keep, errors.New("abort")
	})
	p.Mutate(0, []byte("k"), func(c Entry, _ bool) (Entry, Action, error) {
		if cap(c.Value) != len(c.Value) {
			t.Errorf("cur.Value cap %d > len %d", cap(c.Value), len(c.Value))
		}
		return Entry{}, Keep, nil
	})
	if got, _ := get(p, 0, "k"); got != "01234" || string(leaked) != "01234XXXXX" {
		t.Fatalf("got %q leaked %q", got, leaked)
	}
}

func TestDeleteUsageLenFlush(t *testing.T) {
	p, c := newTest(t, Config{Shards: 4})
	for db := range 3 {
		for i := range 10 * (db + 1) {
			exp := int64(0)
			if i%2 == 0 {
				exp = c.now() + 1000
			}
			mustSet(t, p, db, fmt.Sprint("k", i), "value", exp)
		}
	}
	if u, ok := p.Usage(1, []byte("k3")); !ok || u != entrySize(2, 5) {
		t.Fatalf("Usage = %d %v", u, ok)
	}
	if _, ok := p.Usage(1, []byte("nope")); ok {
		t.Fatal("Usage of missing key")
	}
	for db, want := range []int{10, 20, 30, 0} {
		if p.Len(db) != want {
			t.Fatalf("Len(%d) = %d, want %d", db, p.Len(db), want)
		}
	}
	st := p.Stats()
	if st.Keys != 60 || st.KeysPerDB[2] != 30 || st.ExpiresPerDB[2] != 15 || st.ExpiresPerDB[0] != 5 {
		t.Fatalf("stats %+v", st)
	}
	if !p.Delete(0, []byte("k1")) || p.Delete(0, []byte("k1")) || p.Len(0) != 9 {
		t.Fatal("Delete")
	}
	if n := p.Flush(1); n != 20 || p.Len(1) != 0 || p.Len(2) != 30 {
		t.Fatalf("Flush(1) = %d", n)
	}
	audit(t, p)
	if n := p.Flush(-1); n != 39 || p.UsedBytes() != 0 || p.Stats().Keys != 0 {
		t.Fatalf("Flush(-1) = %d, used %d", n, p.UsedBytes())
	}
	audit(t, p)
	mustSet(t, p, 0, "again", "v", 0)
	audit(t, p)
}

func TestErrOOM(t *testing.T) {
	quota := 10 * entrySize(2, 10)
	t.Run("too big evicts nothing", func(t *testing.T) {
		for _, noEv := range []bool{false, true} {
			p, _ := newTest(t, Config{Quota: quota, NoEviction: noEv, Shards: 2})
			for i := range 5 {
				mustSet(t, p, 0, fmt.Sprint("k", i), "0123456789", 0)
			}
			before := p.Stats()
			big := make([]byte, quota-EntryOverhead) // name adds one more byte
			if err := p.Set(0, []byte("x"), big, 0); err != ErrOOM {
				t.Fatalf("Set too big: %v", err)
			}
			err := p.Mutate(0, []byte("k0"), func(Entry, bool) (Entry, Action, error) { return Entry{Value: big}, Put, nil })
			if err != ErrOOM {
				t.Fatalf("Mutate too big: %v", err)
			}
			if after := p.Stats(); after.Keys != before.Keys || after.Evictions != 0 || after.UsedBytes != before.UsedBytes {
				t.Fatalf("too-big write changed the partition: %+v", after)
			}
			// Exactly the quota fits (evicting everything else in LRU mode).
			if !noEv {
				if err := p.Set(0, []byte("x"), big[:len(big)-1], 0); err != nil {
					t.Fatalf("exact fit: %v", err)
				}
				if p.UsedBytes() != quota || p.Stats().Keys != 1 {
					t.Fatalf("exact fit: %+v", p.Stats())
				}
			}
			audit(t, p)
		}
	})
	t.Run("noeviction full", func(t *testing.T) {
		p, c := newTest(t, Config{Quota: quota, NoEviction: true, Shards: 4})
		for i := range 10 {
			mustSet(t, p, 0, fmt.Sprint("k", i), "0123456789", 0)
		}
		if err := p.Set(0, []byte("kx"), []byte("0123456789"), 0); err != ErrOOM {
			t.Fatalf("Set on full: %v", err)
		}
		// Growing an existing key fails too; same size and shrinking work.
		if err := p.Set(0, []byte("k1"), []byte("0123456789+"), 0); err != ErrOOM {
			t.Fatalf("grow on full: %v", err)
		}
		mustSet(t, p, 0, "k1", "9876543210", 0)
		mustSet(t, p, 0, "k2", "short", 0)
		if p.Stats().Evictions != 0 || p.Stats().Keys != 10 {
			t.Fatalf("noeviction evicted: %+v", p.Stats())
		}
		// Expired keys are dropped to make room.
		p.Flush(-1)
		for i := range 10 {
			mustSet(t, p, 0, fmt.Sprint("k", i), "0123456789", c.now()+5)
		}
		c.advance(10)
		if err := p.Set(0, []byte("kx"), []byte("0123456789"), 0); err != nil {
			t.Fatalf("Set with expired keys to drop: %v", err)
		}
		audit(t, p)
	})
}

func TestLRUEvictsOldest(t *testing.T) {
	p, _ := newTest(t, Config{Quota: 4 * entrySize(2, 1), Shards: 1})
	for _, k := range []string{"k1", "k2", "k3", "k4"} {
		mustSet(t, p, 0, k, "v", 0)
	}
	get(p, 0, "k1") // k2 is now the oldest
	mustSet(t, p, 0, "k5", "v", 0)
	p.Mutate(0, []byte("k3"), func(Entry, bool) (Entry, Action, error) { return Entry{}, Keep, nil }) // touches k3
	mustSet(t, p, 0, "k6", "v", 0)
	var have []string
	for _, k := range []string{"k1", "k2", "k3", "k4", "k5", "k6"} {
		if _, ok := get(p, 0, k); ok {
			have = append(have, k)
		}
	}
	if !slices.Equal(have, []string{"k1", "k3", "k5", "k6"}) {
		t.Fatalf("kept %v", have)
	}
	if p.Stats().Evictions != 2 {
		t.Fatalf("evictions %d", p.Stats().Evictions)
	}
	// Growing a key evicts others, never the key itself.
	if err := p.Set(0, []byte("k6"), make([]byte, 3), 0); err != nil {
		t.Fatal(err)
	}
	if _, ok := get(p, 0, "k6"); !ok {
		t.Fatal("grown key evicted")
	}
	audit(t, p)
}

// TestCrossShardEviction: a value that only fits after evicting keys from
// other sub-shards is stored, and Mutate's fn is re-run for it.
func TestCrossShardEviction(t *testing.T) {
	quota := int64(64 * 1024)
	p, _ := newTest(t, Config{Quota: quota, Shards: 8})
	for i := 0; p.UsedBytes()+entrySize(8, 100) <= quota; i++ {
		mustSet(t, p, 0, fmt.Sprintf("k%07d", i), string(make([]byte, 100)), 0)
	}
	calls := 0
	err := p.Mutate(0, []byte("big"), func(_ Entry, ex bool) (Entry, Action, error) {
		calls++
		return Entry{Value: make([]byte, quota/2)}, Put, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls < 2 {
		t.Fatalf("fn called %d times; the big value cannot fit from one sub-shard", calls)
	}
	if u, ok := p.Usage(0, []byte("big")); !ok || u != entrySize(3, int(quota/2)) {
		t.Fatalf("big not stored: %d %v", u, ok)
	}
	// Evictions were spread over the sub-shards, not one drained.
	emptied := 0
	for i := range p.shards {
		if p.shards[i].lru.Len() == 0 {
			emptied++
		}
	}
	if emptied > 1 {
		t.Fatalf("%d sub-shards drained", emptied)
	}
	audit(t, p)
}

func TestSetQuota(t *testing.T) {
	p, _ := newTest(t, Config{Quota: 1 << 20, Shards: 4})
	for i := range 1000 {
		mustSet(t, p, i%16, fmt.Sprint("k", i), "0123456789", 0)
	}
	q := p.UsedBytes() / 3
	p.SetQuota(q)
	if st := p.Stats(); st.UsedBytes > q || st.Quota != q || st.Evictions == 0 {
		t.Fatalf("after shrink: %+v", st)
	}
	// The most recent keys survive.
	if _, ok := get(p, 999%16, "k999"); !ok {
		t.Fatal("newest key evicted")
	}
	audit(t, p)
	p.SetQuota(-5)
	if p.UsedBytes() != 0 || p.Set(0, []byte("a"), nil, 0) != ErrOOM {
		t.Fatal("quota 0")
	}
	p.SetQuota(1 << 20)
	mustSet(t, p, 0, "a", "b", 0)
}

func TestAutoShards(t *testing.T) {
	for _, tt := range []struct {
		quota int64
		cfg   int
		want  int
	}{
		{1, 0, 1}, {1 << 20, 0, 1}, {2<<20 - 1, 0, 1}, {2 << 20, 0, 2}, {100 << 20, 0, 64}, {1 << 40, 0, 64},
		{1, 3, 4}, {1, 8, 8}, {1, 1, 1},
	} {
		if got := New(Config{Quota: tt.quota, Shards: tt.cfg}).Shards(); got != tt.want {
			t.Errorf("quota %d shards %d: got %d, want %d", tt.quota, tt.cfg, got, tt.want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Quota 0 did not panic")
		}
	}()
	New(Config{})
}

func TestRandomKey(t *testing.T) {
	p, c := newTest(t, Config{Shards: 8})
	if _, ok := p.RandomKey(0); ok {
		t.Fatal("RandomKey on empty")
	}
	for i := range 50 {
		mustSet(t, p, 0, fmt.Sprint("k", i), "v", 0)
	}
	seen := map[string]bool{}
	for range 2000 {
		k, ok := p.RandomKey(0)
		if !ok {
			t.Fatal("RandomKey failed")
		}
		seen[string(k)] = true
	}
	if len(seen) < 40 {
		t.Fatalf("only %d distinct keys in 2000 draws", len(seen))
	}
	// A db that is a tiny minority is still found.
	for i := range 5000 {
		mustSet(t, p, 1, fmt.Sprint("o", i), "v", 0)
	}
	mustSet(t, p, 2, "lonely", "v", 0)
	if k, ok := p.RandomKey(2); !ok || string(k) != "lonely" {
		t.Fatalf("RandomKey(2) = %q %v", k, ok)
	}
	// Expired keys are skipped and collected.
	mustSet(t, p, 3, "gone", "v", c.now()+1)
	c.advance(2)
	if k, ok := p.RandomKey(3); ok {
		t.Fatalf("RandomKey returned expired %q", k)
	}
}

func TestExpireCycle(t *testing.T) {
	p, c := newTest(t, Config{Shards: 4})
	for i := range 1000 {
		exp := int64(0)
		if i%4 != 0 {
			exp = c.now() + 10
		}
		mustSet(t, p, 0, fmt.Sprint("k", i), "v", exp)
	}
	if n := p.ExpireCycle(1000); n != 0 {
		t.Fatalf("removed %d before expiry", n)
	}
	c.advance(11)
	n := p.ExpireCycle(100)
	if n == 0 || n > 100 {
		t.Fatalf("ExpireCycle(100) removed %d", n)
	}
	total := n
	for range 100 {
		total += p.ExpireCycle(100)
	}
	if total != 750 || p.Len(0) != 250 || p.Stats().Expired != 750 {
		t.Fatalf("removed %d, Len %d, stats %+v", total, p.Len(0), p.Stats())
	}
	if p.ExpireCycle(0) != 0 {
		t.Fatal("maxWork 0 did work")
	}
	audit(t, p)
}

// TestExpireCycleAdaptive: with few expired keys a cycle stops early
// (well under maxWork per sub-shard) instead of scanning everything.
func TestExpireCycleAdaptive(t *testing.T) {
	p, c := newTest(t, Config{Shards: 1})
	for i := range 1000 {
		exp := c.now() + 1_000_000
		if i == 500 {
			exp = c.now() + 1
		}
		mustSet(t, p, 0, fmt.Sprint("k", i), "v", exp)
	}
	c.advance(2)
	p.ExpireCycle(1000)
	if s := p.shards[0].expireSlot; s != expireBatchSlots {
		t.Fatalf("examined %d slots, want one batch of %d", s, expireBatchSlots)
	}
}

func TestApply(t *testing.T) {
	put := func(v string) Entry { return Entry{Value: []byte(v)} }
	type kv struct {
		db      int
		k, v    string
		present bool
	}
	tests := []struct {
		name  string
		init  []kv
		keys  []Key
		fn    func([]Entry, []bool) ([]Entry, []Action, error)
		err   error
		after []kv
	}{
		{
			name: "mset across dbs",
			keys: []Key{{0, []byte("a")}, {5, []byte("a")}, {0, []byte("b")}},
			fn: func(c []Entry, ex []bool) ([]Entry, []Action, error) {
				return []Entry{put("1"), put("2"), put("3")}, []Action{Put, Put, Put}, nil
			},
			after: []kv{{0, "a", "1", true}, {5, "a", "2", true}, {0, "b", "3", true}},
		},
		{
			name: "duplicates: later wins",
			keys: []Key{{0, []byte("a")}, {0, []byte("a")}, {0, []byte("a")}},
			fn: func(c []Entry, ex []bool) ([]Entry, []Action, error) {
				return []Entry{put("1"), put("2"), {}}, []Action{Put, Put, Keep}, nil
			},
			after: []kv{{0, "a", "2", true}},
		},
		{
			name: "duplicates see the same state",
			init: []kv{{0, "a", "old", true}},
			keys: []Key{{0, []byte("a")}, {0, []byte("a")}},
			fn: func(c []Entry, ex []bool) ([]Entry, []Action, error) {
				if !ex[0] || !ex[1] || string(c[1].Value) != "old" {
					return nil, nil, errors.New("inconsistent duplicates")
				}
				return []Entry{{}, put("new")}, []Action{Delete, Put}, nil
			},
			after: []kv{{0, "a", "new", true}},
		},
		{
			name: "msetnx refuses: no change",
			init: []kv{{0, "b", "x", true}},
			keys: []Key{{0, []byte("a")}, {0, []byte("b")}},
			fn: func(c []Entry, ex []bool) ([]Entry, []Action, error) {
				if ex[0] || ex[1] {
					return make([]Entry, 2), make([]Action, 2), nil
				}
				return []Entry{put("1"), put("2")}, []Action{Put, Put}, nil
			},
			after: []kv{{0, "a", "", false}, {0, "b", "x", true}},
		},
		{
			name: "error aborts everything",
			init: []kv{{0, "a", "1", true}},
			keys: []Key{{0, []byte("a")}, {0, []byte("b")}},
			fn: func(c []Entry, ex []bool) ([]Entry, []Action, error) {
				return []Entry{{}, put("2")}, []Action{Delete, Put}, strconv.ErrRange
			},
			err:   strconv.ErrRange,
			after: []kv{{0, "a", "1", true}, {0, "b", "", false}},
		},
		{
			name: "too big aborts everything",
			init: []kv{{0, "a", "1", true}},
			keys: []Key{{0, []byte("a")}, {0, []byte("b")}, {0, []byte("c")}},
			fn: func(c []Entry, ex []bool) ([]Entry, []Action, error) {
				half := Entry{Value: make([]byte, 600<<10)}
				return []Entry{{}, half, half}, []Action{Delete, Put, Put}, nil
			},
			err:   ErrOOM,
			after: []kv{{0, "a", "1", true}, {0, "b", "", false}, {0, "c", "", false}},
		},
		{
			name: "rename across dbs",
			init: []kv{{0, "src", "payload", true}, {1, "dst", "old", true}},
			keys: []Key{{0, []byte("src")}, {1, []byte("dst")}},
			fn: func(c []Entry, ex []bool) ([]Entry, []Action, error) {
				return []Entry{{}, c[0]}, []Action{Delete, Put}, nil
			},
			after: []kv{{0, "src", "", false}, {1, "dst", "payload", true}},
		},
		{
			name: "swap aliasing",
			init: []kv{{0, "a", "aaaa", true}, {0, "b", "bbbb", true}},
			keys: []Key{{0, []byte("a")}, {0, []byte("b")}},
			fn: func(c []Entry, ex []bool) ([]Entry, []Action, error) {
				return []Entry{c[1], c[0]}, []Action{Put, Put}, nil
			},
			after: []kv{{0, "a", "bbbb", true}, {0, "b", "aaaa", true}},
		},
		{
			name: "wrong lengths",
			keys: []Key{{0, []byte("a")}, {0, []byte("b")}},
			fn: func(c []Entry, ex []bool) ([]Entry, []Action, error) {
				return []Entry{put("1")}, []Action{Put}, nil
			},
			err:   errBadCallback,
			after: []kv{{0, "a", "", false}},
		},
		{
			name: "empty",
			fn: func(c []Entry, ex []bool) ([]Entry, []Action, error) {
				return nil, nil, nil
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newTest(t, Config{Shards: 8})
			for _, e := range tt.init {
				mustSet(t, p, e.db, e.k, e.v, 0)
			}
			if err := p.Apply(tt.keys, tt.fn); !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			for _, e := range tt.after {
				v, ok := get(p, e.db, e.k)
				if ok != e.present || v != e.v {
					t.Errorf("%d/%s = %q %v, want %q %v", e.db, e.k, v, ok, e.v, e.present)
				}
			}
			audit(t, p)
		})
	}
}

// TestApplyEvicts: an Apply that needs room evicts other keys (never its
// own), including across sub-shards it did not lock.
func TestApplyEvicts(t *testing.T) {
	quota := 100 * entrySize(4, 100)
	p, _ := newTest(t, Config{Quota: quota, Shards: 8})
	for i := range 100 {
		mustSet(t, p, 0, fmt.Sprintf("k%03d", i), string(make([]byte, 100)), 0)
	}
	keys := []Key{{0, []byte("k000")}, {0, []byte("new1")}, {0, []byte("new2")}}
	err := p.Apply(keys, func(c []Entry, ex []bool) ([]Entry, []Action, error) {
		v := Entry{Value: make([]byte, 20*100)}
		return []Entry{{}, v, v}, []Action{Keep, Put, Put}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"k000", "new1", "new2"} {
		if _, ok := get(p, 0, k); !ok {
			t.Errorf("%s missing", k)
		}
	}
	if p.Stats().Evictions == 0 {
		t.Fatal("no evictions")
	}
	audit(t, p)
}

func TestScanAll(t *testing.T) {
	for _, shards := range []int{1, 4, 64} {
		t.Run(fmt.Sprint(shards), func(t *testing.T) {
			p, _ := newTest(t, Config{Shards: shards})
			want := map[string]bool{}
			for i := range 500 {
				k := fmt.Sprint("k", i)
				mustSet(t, p, 0, k, "v", 0)
				mustSet(t, p, 1, k, "v", 0)
				want[k] = true
			}
			for i := 0; i < 500; i += 3 { // holes
				p.Delete(0, []byte(fmt.Sprint("k", i)))
				delete(want, fmt.Sprint("k", i))
			}
			got := map[string]bool{}
			cursor, calls := uint64(0), 0
			for {
				next, keys := p.Scan(0, cursor, 7, nil)
				if len(keys) > 7 {
					t.Fatalf("count 7 returned %d keys", len(keys))
				}
				for _, k := range keys {
					got[string(k)] = true
				}
				calls++
				if next == 0 {
					break
				}
				if calls > 10000 {
					t.Fatal("scan does not finish")
				}
				cursor = next
			}
			if len(got) != len(want) {
				t.Fatalf("scan returned %d keys, want %d", len(got), len(want))
			}
			for k := range want {
				if !got[k] {
					t.Fatalf("missing %s", k)
				}
			}
			// match filters; the result is a subset.
			_, keys := p.Scan(0, 0, 10000, func(k []byte) bool { return bytes.HasSuffix(k, []byte("7")) })
			for _, k := range keys {
				if !bytes.HasSuffix(k, []byte("7")) {
					t.Fatalf("match let %q through", k)
				}
			}
			if len(keys) == 0 {
				t.Fatal("match returned nothing")
			}
		})
	}
}

func TestScanHostileCursor(t *testing.T) {
	p, _ := newTest(t, Config{Shards: 8})
	for i := range 100 {
		mustSet(t, p, 0, fmt.Sprint("k", i), "v", 0)
	}
	for _, c := range []uint64{1, 7, 8, 9, 1 << 31, 1<<32 - 1, 1 << 40, 1<<63 + 5, ^uint64(0), ^uint64(0) - 7} {
		cursor := c
		for i := 0; ; i++ {
			next, _ := p.Scan(0, cursor, 10, nil)
			if next == 0 {
				break
			}
			if i > 1000 {
				t.Fatalf("cursor %d: scan does not finish", c)
			}
			cursor = next
		}
	}
	for _, count := range []int{-1, 0, 1, 1 << 30, int(^uint(0) >> 1)} {
		if next, _ := p.Scan(0, 0, count, nil); count > 1000 && next != 0 {
			t.Fatalf("count %d did not finish a 100-key scan", count)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		p.Scan(r.IntN(16), r.Uint64(), r.IntN(50)-5, nil)
	}
}

// TestScanGuaranteeConcurrent: keys present for the whole scan are returned
// while other goroutines insert and delete churn keys.
func TestScanGuaranteeConcurrent(t *testing.T) {
	p, _ := newTest(t, Config{Shards: 8, Quota: 64 << 20})
	stable := map[string]bool{}
	for i := range 2000 {
		k := fmt.Sprint("stable", i)
		mustSet(t, p, 0, k, "v", 0)
		stable[k] = true
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	for w := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := []byte(fmt.Sprint("churn", w, "-", i%500))
				if i%3 == 2 {
					p.Delete(0, k)
				} else {
					p.Set(0, k, []byte("v"), 0)
				}
			}
		}()
	}
	for round := range 5 {
		got := map[string]bool{}
		cursor := uint64(0)
		for i := 0; ; i++ {
			next, keys := p.Scan(0, cursor, 10, nil)
			for _, k := range keys {
				got[string(k)] = true
			}
			if next == 0 {
				break
			}
			if i > 1_000_000 {
				t.Fatal("scan does not finish")
			}
			cursor = next
		}
		for k := range stable {
			if !got[k] {
				t.Fatalf("round %d: stable key %s not returned", round, k)
			}
		}
	}
	close(stop)
	for range 4 {
		<-done
	}
	audit(t, p)
}

// TestTwoPartitions: flooding B with 10x its quota leaves A untouched.
func TestTwoPartitions(t *testing.T) {
	a, _ := newTest(t, Config{Quota: 256 << 10})
	b, _ := newTest(t, Config{Quota: 256 << 10})
	var keys []string
	for i := 0; a.UsedBytes()+entrySize(10, 200) <= 256<<10; i++ {
		k := fmt.Sprintf("a%09d", i)
		mustSet(t, a, 0, k, string(make([]byte, 200)), 0)
		keys = append(keys, k)
	}
	before := a.Stats()
	var written int64
	for i := 0; written < 10*(256<<10); i++ {
		if err := b.Set(0, []byte(fmt.Sprint("b", i)), make([]byte, 200+i%300), 0); err != nil {
			t.Fatal(err)
		}
		written += int64(200 + i%300)
	}
	if b.Stats().Evictions == 0 {
		t.Fatal("B never evicted")
	}
	for _, k := range keys {
		if !a.View(0, []byte(k), 0, nil) {
			t.Fatalf("A lost %s", k)
		}
	}
	if after := a.Stats(); after.UsedBytes != before.UsedBytes || after.Evictions != 0 {
		t.Fatalf("A changed: %+v", after)
	}
	audit(t, a)
	audit(t, b)
}

func TestSetNoEviction(t *testing.T) {
	p := New(Config{Quota: 4096, Shards: 1})
	for i := 0; i < 100; i++ {
		if err := p.Set(0, []byte(fmt.Sprint("k", i)), make([]byte, 100), 0); err != nil {
			t.Fatalf("lru Set %d: %v", i, err)
		}
	}
	p.SetNoEviction(true)
	var oom bool
	for i := 100; i < 200 && !oom; i++ {
		oom = errors.Is(p.Set(0, []byte(fmt.Sprint("k", i)), make([]byte, 100), 0), ErrOOM)
	}
	if !oom {
		t.Fatal("noeviction partition never refused a write")
	}
	p.SetNoEviction(false)
	if err := p.Set(0, []byte("again"), make([]byte, 100), 0); err != nil {
		t.Fatalf("back to lru: %v", err)
	}
}
