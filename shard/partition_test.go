package shard

import (
	"errors"
	"fmt"
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
// every size is len(name)+len(value)+EntryOverhead (plus, for an object,
// its Bytes, as recorded), every object slot belongs to exactly one entry,
// and the per-db counts match the entries.
func audit(t testing.TB, p *Partition) {
	t.Helper()
	var sum int64
	for i := range p.shards {
		s := &p.shards[i]
		s.mu.Lock()
		var keys, exps [NumDBs]int64
		var objBytes int64
		objs := 0
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
			if s.isObj(h) {
				slot := s.objs[s.objID(h)]
				if slot.obj == nil || slot.size != slot.obj.Bytes() {
					t.Errorf("key %q object %v charged %d", k, slot.obj, slot.size)
				} else {
					objBytes += slot.size
					objs++
				}
			}
			sum += s.sizeOf(h)
			keys[k[0]]++
			if s.lru.ExpireAt(h) != 0 {
				exps[k[0]]++
			}
		}
		if keys != s.keys || exps != s.expires {
			t.Errorf("sub-shard %d counts keys %v exps %v, recorded %v %v", i, keys, exps, s.keys, s.expires)
		}
		if objBytes != s.objBytes || objs != len(s.objs)-len(s.objFree) {
			t.Errorf("sub-shard %d: %d objects of %d bytes in entries, table has %d of %d bytes",
				i, objs, objBytes, len(s.objs)-len(s.objFree), s.objBytes)
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

func TestViewFlags(t *testing.T) {
	p, _ := newTest(t, Config{Shards: 1, Quota: 3 * entrySize(1, 1), ExactLRU: true})
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
