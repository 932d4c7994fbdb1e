package shard

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
)

const benchKeys = 1 << 14

func benchPartition(b *testing.B, valueSize int) (*Partition, [][]byte, []byte) {
	b.Helper()
	p := New(Config{Quota: 256 << 20})
	keys := make([][]byte, benchKeys)
	val := make([]byte, valueSize)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key:%012d", i)
		if err := p.Set(0, keys[i], val, 0); err != nil {
			b.Fatal(err)
		}
	}
	return p, keys, val
}

func benchGet(b *testing.B, size int) {
	p, keys, _ := benchPartition(b, size)
	dst := make([]byte, 0, size)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	i := 0
	for b.Loop() {
		var ok bool
		dst, ok = p.GetAppend(dst[:0], 0, keys[i&(benchKeys-1)])
		if !ok {
			b.Fatal("miss")
		}
		i++
	}
}

func BenchmarkGetAppendHit16(b *testing.B)   { benchGet(b, 16) }
func BenchmarkGetAppendHit128(b *testing.B)  { benchGet(b, 128) }
func BenchmarkGetAppendHit1024(b *testing.B) { benchGet(b, 1024) }

func benchSet(b *testing.B, size int) {
	p, keys, val := benchPartition(b, size)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	i := 0
	for b.Loop() {
		if err := p.Set(0, keys[i&(benchKeys-1)], val, 0); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// Set of an existing key with a same-size value reuses the value buffer.
func BenchmarkSetExisting16(b *testing.B)   { benchSet(b, 16) }
func BenchmarkSetExisting128(b *testing.B)  { benchSet(b, 128) }
func BenchmarkSetExisting1024(b *testing.B) { benchSet(b, 1024) }

// BenchmarkSetEvicting: new keys into a full partition, each insertion
// evicting the LRU tail (two allocations: key string and value copy).
func BenchmarkSetEvicting(b *testing.B) {
	p := New(Config{Quota: 4 << 20})
	val := make([]byte, 128)
	key := make([]byte, 16)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		key = strconv.AppendInt(append(key[:0], "key:"...), int64(i), 10)
		if err := p.Set(0, key, val, 0); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkMutateIncr: an INCR-style read-modify-write; the new value is
// built in a caller-owned scratch buffer and copied into the stored one.
func BenchmarkMutateIncr(b *testing.B) {
	p, keys, _ := benchPartition(b, 0)
	scratch := make([]byte, 0, 20)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := keys[i&(benchKeys-1)]
		if err := p.Mutate(0, k, func(cur Entry, ex bool) (Entry, Action, error) {
			n, _ := strconv.ParseInt(string(cur.Value), 10, 64)
			scratch = strconv.AppendInt(scratch[:0], n+1, 10)
			return Entry{Value: scratch, ExpireAt: cur.ExpireAt}, Put, nil
		}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkParallelGet(b *testing.B) {
	p, keys, _ := benchPartition(b, 128)
	var seed atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seed.Add(7919))
		dst := make([]byte, 0, 128)
		for pb.Next() {
			dst, _ = p.GetAppend(dst[:0], 0, keys[i&(benchKeys-1)])
			i++
		}
	})
}

// BenchmarkParallelMixed: 90% GET, 10% SET of existing keys.
func BenchmarkParallelMixed(b *testing.B) {
	p, keys, val := benchPartition(b, 128)
	var seed atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seed.Add(7919))
		dst := make([]byte, 0, 128)
		for pb.Next() {
			k := keys[i&(benchKeys-1)]
			if i%10 == 0 {
				p.Set(0, k, val, 0)
			} else {
				dst, _ = p.GetAppend(dst[:0], 0, k)
			}
			i++
		}
	})
}
