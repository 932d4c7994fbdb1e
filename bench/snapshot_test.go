package bench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcached/tcached/config"
	"github.com/tcached/tcached/family/dump"
	"github.com/tcached/tcached/rdb"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/snapshot"
	"github.com/tcached/tcached/value"
)

// Warm restarts (README, Warm restarts): how long 1 GiB takes to save and
// to load, and what a periodic snapshot does to another tenant's GET p99.
//
//	go test ./bench -run '^$' -bench 'BenchmarkSnapshot1GiB' -benchtime 1x -timeout 10m
//	go test ./bench -run '^$' -bench 'BenchmarkSnapshotLatency' -benchtime 1x -timeout 10m
//
// The file goes to $TCACHED_SNAPSHOT_DIR (default: the test's temp dir).

func snapDir(b *testing.B) string {
	if d := os.Getenv("TCACHED_SNAPSHOT_DIR"); d != "" {
		return d
	}
	return b.TempDir()
}

// fillGiB stores about target bytes of data in p: 1 KiB strings (90%) and
// hash-table hashes of 1000 fields of 100 bytes (10%), every fifth key with
// a TTL an hour away.
func fillGiB(b *testing.B, p *shard.Partition, target int64) (keys int) {
	lim := value.DefaultLimits()
	val := bytes.Repeat([]byte("v"), 1024)
	exp := time.Now().Add(time.Hour).UnixMilli()
	var stored int64
	for i := 0; stored < target; i++ {
		var e shard.Entry
		var n int64
		if i%1000 == 999 {
			o := rdb.Object{Kind: rdb.KindHash}
			for f := range 1000 {
				o.Elems = append(o.Elems, []byte("field-"+strconv.Itoa(f)), bytes.Repeat([]byte{'h'}, 100))
			}
			var err error
			if e, err = dump.EntryFromPayload(rdb.Encode(nil, &o, rdb.Options{}), lim, nil); err != nil {
				b.Fatal(err)
			}
			n = 1000 * 110
		} else {
			e = shard.Entry{Value: val}
			n = 1024
		}
		if i%5 == 0 {
			e.ExpireAt = exp
		}
		if err := p.Mutate(0, []byte(fmt.Sprintf("key:%09d", i)), func(shard.Entry, bool) (shard.Entry, shard.Action, error) { return e, shard.Put, nil }); err != nil {
			b.Fatal(err)
		}
		stored += n
		keys++
	}
	return keys
}

// BenchmarkSnapshot1GiB saves 1 GiB of one tenant's data (through
// package snapshot, the code the server runs) and loads it into an empty
// partition; it reports seconds and MB/s of each.
func BenchmarkSnapshot1GiB(b *testing.B) {
	const target = 1 << 30
	src := shard.New(shard.Config{Quota: 3 << 30})
	keys := fillGiB(b, src, target)
	path := filepath.Join(snapDir(b), "bench.snap")
	defer os.Remove(path)
	ts := []snapshot.Tenant{{ID: "t", Part: src, Limits: value.DefaultLimits()}}
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		st, err := snapshot.Save(path, ts, time.Now().UnixMilli())
		if err != nil {
			b.Fatal(err)
		}
		save := time.Since(start)
		dst := shard.New(shard.Config{Quota: 3 << 30})
		start = time.Now()
		ls, err := snapshot.Load(path, func(string) (snapshot.Tenant, bool) {
			return snapshot.Tenant{ID: "t", Part: dst, Limits: value.DefaultLimits()}, true
		}, time.Now().UnixMilli(), nil)
		if err != nil || ls.Keys != int64(keys) {
			b.Fatalf("load: %v, %d keys of %d", err, ls.Keys, keys)
		}
		load := time.Since(start)
		b.ReportMetric(save.Seconds(), "save-s")
		b.ReportMetric(load.Seconds(), "load-s")
		b.ReportMetric(float64(st.Bytes)/(1<<20), "file-MiB")
		b.ReportMetric(float64(st.Bytes)/(1<<20)/save.Seconds(), "save-MiB/s")
		b.ReportMetric(float64(st.Bytes)/(1<<20)/load.Seconds(), "load-MiB/s")
		b.Logf("%d keys, data %d MiB (accounted %d MiB), file %d MiB: save %v, load %v",
			keys, target>>20, src.UsedBytes()>>20, st.Bytes>>20, save.Round(time.Millisecond), load.Round(time.Millisecond))
	}
}

// BenchmarkSnapshotLatency measures tenant "probe"'s GET p99 over a real
// socket, idle and while tenant "big" (256 MiB) is being snapshotted back
// to back, and reports the ratio (target: within 1.2x).
func BenchmarkSnapshotLatency(b *testing.B) {
	dir := snapDir(b)
	yaml := `
listen: 127.0.0.1:0
metrics_listen: off
maxmemory: 2GiB
snapshot_path: ` + filepath.Join(dir, "lat.snap") + `
snapshot_interval: 0s
tiers:
  bench: {default_ttl: 0, timeout: 0, max_concurrent: 0}
tenants:
  - id: big
    tier: bench
    quota: 512MiB
    users: [{name: big, password_sha256: ` + sha("big-pw") + `}]
  - id: probe
    tier: bench
    quota: 64MiB
    users: [{name: probe, password_sha256: ` + sha("probe-pw") + `}]
`
	cfg, _, err := config.Parse([]byte(yaml), "bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	addr, srv, _ := serveConfig(b, cfg)
	defer os.Remove(filepath.Join(dir, "lat.snap"))
	loadN(b, addr, "big", "big-pw", 4096, 64<<10) // 256 MiB
	loadN(b, addr, "probe", "probe-pw", 128, 1000)
	c, err := dialRESP(addr, "probe", "probe-pw")
	if err != nil {
		b.Fatal(err)
	}
	defer c.close()
	w := newWorkloadN("GET", 128, 1000)
	sample := func(d time.Duration) []time.Duration {
		var lat []time.Duration
		for end := time.Now().Add(d); time.Now().Before(end); {
			for i := range 200 {
				t0 := time.Now()
				if err := c.run(w, i, 1, 1); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
		}
		slices.Sort(lat)
		return lat
	}
	p := func(lat []time.Duration, q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
	// Idle and snapshot windows alternate (3 of each), so drift in the
	// machine's load (other jobs) hits both alike.
	var saves atomic.Int64
	busyWindow := func(d time.Duration) []time.Duration {
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := srv.SaveSnapshot(); err != nil {
					b.Error(err)
					return
				}
				saves.Add(1)
			}
		}()
		lat := sample(d)
		close(stop)
		<-done
		return lat
	}
	b.ResetTimer()
	for range b.N {
		var idle, busy []time.Duration
		for range 3 {
			idle = append(idle, sample(2*time.Second)...)
			busy = append(busy, busyWindow(2*time.Second)...)
		}
		slices.Sort(idle)
		slices.Sort(busy)
		b.ReportMetric(float64(p(idle, .99).Microseconds()), "idle-p99-µs")
		b.ReportMetric(float64(p(busy, .99).Microseconds()), "snap-p99-µs")
		b.ReportMetric(float64(p(busy, .99))/float64(p(idle, .99)), "p99-ratio")
		b.Logf("idle: %d GETs p50 %v p99 %v; during %d snapshots of 256 MiB: %d GETs p50 %v p99 %v",
			len(idle), p(idle, .5), p(idle, .99), saves.Load(), len(busy), p(busy, .5), p(busy, .99))
	}
}
