package shard

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strconv"
	"testing"
)

// vmRSS is the process's resident set size in bytes (VmRSS of
// /proc/self/status), or 0 where that file does not exist.
func vmRSS() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Bytes()
		if rest, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			rest = bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte("kB")))
			kb, _ := strconv.ParseUint(string(rest), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// load1MKeys, load1MKey and load1MValue are the shape of the issue's
// memory comparison with redis-server: 1 M keys of 16 bytes with 100-byte
// values (redis-server 7 uses about 192 bytes of RSS per key for it).
const (
	load1MKeys  = 1_000_000
	load1MKey   = 16
	load1MValue = 100
)

// TestLoad1M loads 1 M entries (16-byte keys, 100-byte values) into one
// partition with a large quota and logs the live heap per entry after a
// full GC and the process RSS growth per entry. The RSS figure is only
// meaningful when the test runs alone in its process:
//
//	go test -run 'TestLoad1M$' -v ./shard
//
// It fails if the live heap per entry exceeds load1MMaxHeap, a regression
// guard well above the measured figure.
func TestLoad1M(t *testing.T) {
	if testing.Short() {
		t.Skip("1 M entries: skipped in -short")
	}
	heap, rss, p := load1M(t)
	payload := float64(load1MKey + load1MValue)
	t.Logf("%d entries of %d+%d bytes, %d sub-shards: live heap %.1f B/entry (%.1f beyond key+value), RSS delta %.1f B/entry, accounted %.1f B/entry",
		load1MKeys, load1MKey, load1MValue, p.Shards(), heap, heap-payload, rss, float64(p.UsedBytes())/load1MKeys)
	if heap > load1MMaxHeap {
		t.Fatalf("live heap %.1f B/entry, want <= %d", heap, load1MMaxHeap)
	}
}

// load1MMaxHeap is TestLoad1M's bound on live heap bytes per entry
// (measured: 179.4 with go1.26.8 linux/amd64; 265.7 before the
// one-allocation entries and pointer-free index).
const load1MMaxHeap = 200

// BenchmarkLoad1M reports the same figures as TestLoad1M as benchmark
// metrics (heap-B/key, rss-B/key); run it alone, once:
//
//	go test -run '^$' -bench Load1M -benchtime 1x ./shard
func BenchmarkLoad1M(b *testing.B) {
	for b.Loop() {
		heap, rss, _ := load1M(b)
		b.ReportMetric(heap, "heap-B/key")
		b.ReportMetric(rss, "rss-B/key")
	}
}

// load1M fills a fresh partition and returns live heap growth and RSS
// growth per entry.
func load1M(t testing.TB) (heap, rss float64, p *Partition) {
	t.Helper()
	heap0 := heapAfterGC()
	rss0 := vmRSS()
	p = New(Config{Quota: 1 << 40})
	key := make([]byte, load1MKey)
	val := make([]byte, load1MValue)
	for i := range val {
		val[i] = byte('a' + i%26)
	}
	for i := range load1MKeys {
		b := strconv.AppendInt(key[:0], int64(i), 10)
		for len(b) < load1MKey {
			b = append(b, ':')
		}
		if err := p.Set(0, b, val, 0); err != nil {
			t.Fatal(err)
		}
	}
	rss1 := vmRSS()
	heap1 := heapAfterGC()
	runtime.KeepAlive(p)
	return float64(heap1-heap0) / load1MKeys, (float64(rss1) - float64(rss0)) / load1MKeys, p
}
