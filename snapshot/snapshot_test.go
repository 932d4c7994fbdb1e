package snapshot

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tcached/tcached/family/dump"
	"github.com/tcached/tcached/rdb"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

const nowMs = int64(1_700_000_000_000)

func clock() int64 { return nowMs }

func newPart(quota int64) *shard.Partition {
	return shard.New(shard.Config{Quota: quota, Now: clock, Shards: 4})
}

func put(t testing.TB, p *shard.Partition, db int, key string, o rdb.Object, exp int64) {
	t.Helper()
	e, err := dump.EntryFromPayload(rdb.Encode(nil, &o, rdb.Options{NodeFill: -2}), value.DefaultLimits(), nil)
	if err != nil {
		t.Fatal(err)
	}
	e.ExpireAt = exp
	if err := p.Mutate(db, []byte(key), func(shard.Entry, bool) (shard.Entry, shard.Action, error) { return e, shard.Put, nil }); err != nil {
		t.Fatal(err)
	}
}

func elems(n int, f string) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, f, i)
	}
	return out
}

// fill stores every type, compact and big, with and without TTLs.
func fill(t testing.TB, p *shard.Partition) {
	put(t, p, 0, "str", rdb.Object{Kind: rdb.KindString, Str: []byte("hello")}, 0)
	put(t, p, 0, "str-ttl", rdb.Object{Kind: rdb.KindString, Str: []byte("bye")}, nowMs+60_000)
	put(t, p, 3, "str-db3", rdb.Object{Kind: rdb.KindString, Str: bytes.Repeat([]byte("x"), 10000)}, 0)
	put(t, p, 0, "list", rdb.Object{Kind: rdb.KindList, Elems: elems(5, "e%d")}, 0)
	put(t, p, 0, "biglist", rdb.Object{Kind: rdb.KindList, Elems: elems(3000, "element-%d")}, nowMs+1)
	put(t, p, 0, "intset", rdb.Object{Kind: rdb.KindSet, Compact: true, Elems: elems(10, "%d")}, 0)
	put(t, p, 0, "set", rdb.Object{Kind: rdb.KindSet, Elems: elems(10, "m%d")}, 0)
	put(t, p, 0, "bigset", rdb.Object{Kind: rdb.KindSet, Elems: elems(2000, "m%d")}, 0)
	h := elems(20, "f%d")
	put(t, p, 0, "hash", rdb.Object{Kind: rdb.KindHash, Compact: true, Elems: h}, 0)
	put(t, p, 0, "bighash", rdb.Object{Kind: rdb.KindHash, Elems: elems(2000, "hf%d")}, nowMs+5_000)
	scores := func(n int) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = float64(i) / 3
		}
		return s
	}
	put(t, p, 0, "zset", rdb.Object{Kind: rdb.KindZSet, Compact: true, Elems: elems(5, "z%d"), Scores: scores(5)}, 0)
	put(t, p, 1, "bigzset", rdb.Object{Kind: rdb.KindZSet, Elems: elems(1000, "z%d"), Scores: scores(1000)}, 0)
}

// dumpAll renders a partition as key -> (expiry, DUMP payload, type,
// big), in LRU order per sub-shard.
func dumpAll(t testing.TB, p *shard.Partition) (map[string]string, []string) {
	t.Helper()
	out := map[string]string{}
	var order []string
	for i := range p.Shards() {
		p.WalkShard(i, func(db int, key []byte, e shard.Entry) {
			_, c, ok := dump.CopyEntry(nil, e)
			if !ok {
				t.Fatalf("no copy of %q", key)
			}
			pl, err := dump.Payload(nil, c, value.DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			k := fmt.Sprintf("%d/%s", db, key)
			out[k] = fmt.Sprintf("exp=%d type=%v big=%v tag=%d %x", e.ExpireAt, e.Type, c.Big, c.Tag, pl)
			order = append(order, k)
		})
	}
	return out, order
}

func lookupOf(ts ...Tenant) Lookup {
	return func(id string) (Tenant, bool) {
		for _, t := range ts {
			if t.ID == id {
				return t, true
			}
		}
		return Tenant{}, false
	}
}

func snap(t testing.TB, ts ...Tenant) []byte {
	t.Helper()
	var b bytes.Buffer
	st, err := Write(&b, ts, nowMs)
	if err != nil {
		t.Fatal(err)
	}
	if st.Bytes != int64(b.Len()) {
		t.Fatalf("Bytes %d, wrote %d", st.Bytes, b.Len())
	}
	return b.Bytes()
}

func TestRoundTripEveryType(t *testing.T) {
	src := newPart(64 << 20)
	fill(t, src)
	// Touch some keys so the LRU order is not insertion order.
	src.View(0, []byte("str"), shard.ViewTouch, nil)
	src.View(0, []byte("list"), shard.ViewTouch, nil)
	want, wantOrder := dumpAll(t, src)
	data := snap(t, Tenant{ID: "a", Part: src, Limits: value.DefaultLimits()})

	dst := newPart(64 << 20)
	st, err := Read(bytes.NewReader(data), lookupOf(Tenant{ID: "a", Part: dst, Limits: value.DefaultLimits()}), nowMs, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, gotOrder := dumpAll(t, dst)
	if len(got) != len(want) || st.Keys != int64(len(want)) || st.Tenants != 1 {
		t.Fatalf("loaded %d keys (stats %+v), want %d", len(got), st, len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s:\n got %.200s\nwant %.200s", k, got[k], v)
		}
	}
	// Same sub-shard count: the LRU order is restored exactly.
	if fmt.Sprint(gotOrder) != fmt.Sprint(wantOrder) {
		t.Errorf("LRU order\n got %v\nwant %v", gotOrder, wantOrder)
	}
	// A big list is rebuilt node by node, so its overhead may differ by
	// a few bytes; the data is the same (compared above).
	if d := dst.UsedBytes() - src.UsedBytes(); d < -src.UsedBytes()/100 || d > src.UsedBytes()/100 {
		t.Errorf("used bytes %d after load, %d before", dst.UsedBytes(), src.UsedBytes())
	}
}

func TestExpiredDropped(t *testing.T) {
	src := newPart(8 << 20)
	put(t, src, 0, "gone", rdb.Object{Kind: rdb.KindString, Str: []byte("v")}, nowMs+1000)
	put(t, src, 0, "stays", rdb.Object{Kind: rdb.KindString, Str: []byte("v")}, nowMs+100_000)
	data := snap(t, Tenant{ID: "a", Part: src})
	dst := newPart(8 << 20)
	st, err := Read(bytes.NewReader(data), lookupOf(Tenant{ID: "a", Part: dst}), nowMs+2000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Expired != 1 || st.Keys != 1 || dst.View(0, []byte("gone"), 0, nil) || !dst.View(0, []byte("stays"), 0, nil) {
		t.Fatalf("stats %+v", st)
	}
	var exp int64
	dst.View(0, []byte("stays"), 0, func(e shard.Entry) { exp = e.ExpireAt })
	if exp != nowMs+100_000 {
		t.Fatalf("expire-at %d, want the absolute time kept", exp)
	}
}

func TestTenantRemovedAndQuotaShrunk(t *testing.T) {
	a, b := newPart(64<<20), newPart(64<<20)
	for i := range 2000 {
		put(t, a, 0, fmt.Sprintf("k%04d", i), rdb.Object{Kind: rdb.KindString, Str: bytes.Repeat([]byte{'v'}, 1000)}, 0)
	}
	put(t, b, 0, "b-key", rdb.Object{Kind: rdb.KindString, Str: []byte("v")}, 0)
	data := snap(t, Tenant{ID: "a", Part: a}, Tenant{ID: "b", Part: b})

	// b is gone from the config; a's quota is now 500 KiB.
	small := shard.New(shard.Config{Quota: 500 << 10, Now: clock, Shards: 4})
	st, err := Read(bytes.NewReader(data), lookupOf(Tenant{ID: "a", Part: small}), nowMs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(st.Unknown) != "[b]" {
		t.Fatalf("unknown %v", st.Unknown)
	}
	if small.UsedBytes() > small.Quota() {
		t.Fatalf("used %d over quota %d", small.UsedBytes(), small.Quota())
	}
	n := liveKeys(small)
	if n == 0 || n >= 2000 || st.Keys != int64(n) || st.OverQuota != int64(2000-n) {
		t.Fatalf("kept %d keys, stats %+v", n, st)
	}
	// The most recently used keys are the ones kept.
	if !small.View(0, []byte("k1999"), 0, nil) {
		t.Fatal("the hottest key was dropped")
	}
	if small.View(0, []byte("k0000"), 0, nil) {
		t.Fatal("the coldest key was kept")
	}
}

func TestCorruptAndTruncated(t *testing.T) {
	a, b := newPart(8<<20), newPart(8<<20)
	fill(t, a)
	put(t, b, 0, "b-key", rdb.Object{Kind: rdb.KindString, Str: []byte("v")}, 0)
	data := snap(t, Tenant{ID: "a", Part: a}, Tenant{ID: "b", Part: b})
	load := func(d []byte) (LoadStats, error, *shard.Partition, *shard.Partition) {
		pa, pb := newPart(8<<20), newPart(8<<20)
		st, err := Read(bytes.NewReader(d), lookupOf(Tenant{ID: "a", Part: pa}, Tenant{ID: "b", Part: pb}), nowMs, nil)
		return st, err, pa, pb
	}
	if _, err, _, pb := load(data); err != nil || liveKeys(pb) != 1 {
		t.Fatal(err)
	}
	// Truncated anywhere: an error, never a panic; tenant a (first
	// section) is empty unless its section was complete.
	secA := bytes.Index(data, []byte("\x01b")) // b's section starts after a's
	for cut := 0; cut < len(data); cut += 1 + cut/50 {
		st, err, pa, pb := load(data[:cut])
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("cut %d: err %v", cut, err)
		}
		if cut < secA && liveKeys(pa) != 0 {
			t.Fatalf("cut %d inside a's section: a kept %d keys (%+v)", cut, liveKeys(pa), st)
		}
		if liveKeys(pb) != 0 {
			t.Fatalf("cut %d: b loaded from a truncated section", cut)
		}
	}
	// A flipped byte anywhere is refused (crc), and the tenant whose
	// section holds it is empty.
	for i := 0; i < len(data); i += 1 + i/40 {
		d := bytes.Clone(data)
		d[i] ^= 0x20
		_, err, pa, _ := load(d)
		if err == nil {
			t.Fatalf("flip at %d accepted", i)
		}
		if i > 16 && i < secA && liveKeys(pa) != 0 {
			t.Fatalf("flip at %d in a's section: a kept %d keys", i, liveKeys(pa))
		}
	}
}

// TestSaveInterrupted: a save that fails midway (disk full, a crash
// simulated by a failing writer) leaves the previous snapshot intact and
// no temporary file behind.
func TestSaveInterrupted(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tcached.snap")
	a := newPart(8 << 20)
	fill(t, a)
	if _, err := Save(path, []Tenant{{ID: "a", Part: a}}, nowMs); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	// A save into a directory that vanished fails before touching path.
	if _, err := Save(filepath.Join(dir, "nodir", "x.snap"), []Tenant{{ID: "a", Part: a}}, nowMs); err == nil {
		t.Fatal("save into a missing dir succeeded")
	}
	// A failing writer: Write returns the error.
	if _, err := Write(failAfter{n: 100}, []Tenant{{ID: "a", Part: a}}, nowMs); err == nil {
		t.Fatal("write error lost")
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("snapshot changed")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("dir holds %v", ents)
	}
	dst := newPart(8 << 20)
	if _, err := Load(path, lookupOf(Tenant{ID: "a", Part: dst}), nowMs, nil); err != nil || liveKeys(dst) != liveKeys(a) {
		t.Fatalf("load: %v, %d keys", err, liveKeys(dst))
	}
	if _, err := Load(filepath.Join(dir, "missing"), lookupOf(), nowMs, nil); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

type failAfter struct{ n int }

func (f failAfter) Write(p []byte) (int, error) { return 0, errors.New("disk full") }

func FuzzRead(f *testing.F) {
	a := newPart(8 << 20)
	fill(f, a)
	good := snap(f, Tenant{ID: "a", Part: a}, Tenant{ID: "b", Part: newPart(1 << 20)})
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(magic[:])
	f.Add([]byte{})
	small := newPart(1 << 20)
	put(f, small, 0, "k", rdb.Object{Kind: rdb.KindSet, Compact: true, Elems: elems(3, "%d")}, nowMs+5)
	f.Add(snap(f, Tenant{ID: "a", Part: small}))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := shard.New(shard.Config{Quota: 1 << 20, Now: clock, Shards: 2})
		Read(bytes.NewReader(data), lookupOf(Tenant{ID: "a", Part: p, Limits: value.DefaultLimits()}), nowMs, nil)
		if p.UsedBytes() > p.Quota() {
			t.Fatalf("over quota")
		}
	})
}

// TestLoadObeysMaxTTL: a tenant whose max_ttl was set after the save gets
// its cap on every loaded key (the partition caps every Put).
func TestLoadObeysMaxTTL(t *testing.T) {
	src := newPart(8 << 20)
	put(t, src, 0, "forever", rdb.Object{Kind: rdb.KindString, Str: []byte("v")}, 0)
	put(t, src, 0, "long", rdb.Object{Kind: rdb.KindString, Str: []byte("v")}, nowMs+10*3600_000)
	put(t, src, 0, "short", rdb.Object{Kind: rdb.KindString, Str: []byte("v")}, nowMs+1000)
	data := snap(t, Tenant{ID: "a", Part: src})
	dst := newPart(8 << 20)
	dst.SetMaxTTL(60_000, false)
	if _, err := Read(bytes.NewReader(data), lookupOf(Tenant{ID: "a", Part: dst}), nowMs, nil); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]int64{"forever": nowMs + 60_000, "long": nowMs + 60_000, "short": nowMs + 1000} {
		var got int64
		dst.View(0, []byte(k), 0, func(e shard.Entry) { got = e.ExpireAt })
		if got != want {
			t.Errorf("%s: expire-at %d, want %d", k, got, want)
		}
	}
}
