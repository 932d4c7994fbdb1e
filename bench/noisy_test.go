package bench

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcached/tcached/config"
	"github.com/tcached/tcached/tiers"
)

// The noisy-neighbour scenario of request admission (issue 5):
//
//	go test -run '^$' -bench NoisyNeighbour -benchtime 1x ./bench/
//
// Ten tenants run cache-aside readers over their working sets at a steady,
// open-loop rate (GET; on a miss, SET). After a baseline phase, tenant 0
// spikes to 10x its rate limit with writes of fresh keys. For the nine
// others it reports p50/p99 latency and hit rate in both phases, in one
// run, and the aggressor's admitted and refused commands. b.N is ignored:
// one run is one scenario.
const (
	nnTenants     = 10
	nnReadersEach = 2                      // reader connections per tenant
	nnReadRate    = 400                    // GETs per second per reader (open loop)
	nnWorkingSet  = 2000                   // keys per tenant
	nnValue       = 100                    // bytes per value
	nnRateLimit   = 2000                   // every tenant's rate_limit (commands/s)
	nnSpikeConns  = 4                      // aggressor connections
	nnPhase       = 3 * time.Second        // each phase
	nnQuota       = 8 << 20                // per tenant: the working set fits
	nnTimeout     = 200 * time.Millisecond // tier timeout: the longest admission wait
)

type phaseStats struct {
	mu        sync.Mutex
	lat       []time.Duration
	hits, all int64
}

func (p *phaseStats) add(d time.Duration, hit bool) {
	p.mu.Lock()
	p.lat = append(p.lat, d)
	p.all++
	if hit {
		p.hits++
	}
	p.mu.Unlock()
}

func (p *phaseStats) summary() (p50, p99 time.Duration, hitRate float64, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.lat) == 0 {
		return 0, 0, 0, 0
	}
	s := slices.Clone(p.lat)
	slices.Sort(s)
	return s[len(s)/2], s[len(s)*99/100], float64(p.hits) / float64(p.all), len(s)
}

func nnConfig() *config.Config {
	tier := tiers.Tier{Name: "nn", Priority: tiers.DefaultPriority, RateLimit: nnRateLimit, Timeout: nnTimeout}
	cfg := codeConfig(nnTenants, nnQuota)
	cfg.Tiers = map[string]tiers.Tier{"nn": tier}
	for i := range cfg.Tenants {
		cfg.Tenants[i].TierName, cfg.Tenants[i].Tier = "nn", tier
	}
	return cfg
}

func BenchmarkNoisyNeighbour(b *testing.B) {
	if testing.Short() {
		b.Skip("the scenario takes ~8s")
	}
	addr, srv, _ := serveConfig(b, nnConfig())
	val := strings.Repeat("v", nnValue)
	// Warm every working set (paced under the rate limit).
	for t := 0; t < nnTenants; t++ {
		rc, err := dialRESP(addr, tenantUser(t), tenantPass(t))
		if err != nil {
			b.Fatal(err)
		}
		for k := 0; k < nnWorkingSet; k += 100 {
			args := []string{"MSET"}
			for j := k; j < k+100; j++ {
				args = append(args, "ws:"+strconv.Itoa(j), val)
			}
			if _, err := rc.do(cmd(args...)); err != nil {
				b.Fatal(err)
			}
		}
		rc.close()
	}
	time.Sleep(time.Second) // let the warm-up's token debt clear

	var phase atomic.Int32 // 0 baseline, 1 spike, 2 done
	stats := [2]*phaseStats{{}, {}}
	var wg sync.WaitGroup
	var readerErrs atomic.Int64
	start := time.Now()
	end := start.Add(2 * nnPhase)
	for t := 1; t < nnTenants; t++ { // tenant 0 is the aggressor
		for r := 0; r < nnReadersEach; r++ {
			rc, err := dialRESP(addr, tenantUser(t), tenantPass(t))
			if err != nil {
				b.Fatal(err)
			}
			wg.Add(1)
			go func(rc *respConn, seed uint64) {
				defer wg.Done()
				defer rc.close()
				rng := rand.New(rand.NewPCG(seed, 7))
				interval := time.Second / nnReadRate
				next := time.Now()
				for now := time.Now(); now.Before(end); now = time.Now() {
					if wait := next.Sub(now); wait > 0 {
						time.Sleep(wait)
					}
					next = next.Add(interval)
					key := "ws:" + strconv.Itoa(rng.IntN(nnWorkingSet))
					p := phase.Load()
					t0 := time.Now()
					if err := rc.send(cmd("GET", key)); err != nil {
						readerErrs.Add(1)
						return
					}
					n, err := rc.skip()
					if err != nil {
						readerErrs.Add(1)
						continue
					}
					hit := n >= 0
					if !hit { // cache-aside: fill the miss
						if _, err := rc.do(cmd("SET", key, val)); err != nil {
							readerErrs.Add(1)
						}
					}
					if p < 2 {
						stats[p].add(time.Since(t0), hit)
					}
				}
			}(rc, uint64(t*100+r))
		}
	}
	time.Sleep(nnPhase)
	phase.Store(1)
	// The aggressor: writes of fresh keys at 10x its rate limit, open loop:
	// every 10ms each connection sends its share as one pipelined batch and
	// a separate goroutine reads the replies, so a refusal (a wait past the
	// tier timeout) does not slow what it offers.
	var admitted, refused atomic.Int64
	var aw sync.WaitGroup
	const tick = 10 * time.Millisecond
	perBatch := 10 * nnRateLimit * int(tick) / int(time.Second) / nnSpikeConns
	for c := 0; c < nnSpikeConns; c++ {
		rc, err := dialRESP(addr, tenantUser(0), tenantPass(0))
		if err != nil {
			b.Fatal(err)
		}
		sent := make(chan int, 1024)
		aw.Add(2)
		go func(rc *respConn, c int) { // writer
			defer aw.Done()
			defer close(sent)
			next := time.Now()
			for i := 0; time.Now().Before(end); {
				if wait := time.Until(next); wait > 0 {
					time.Sleep(wait)
				}
				next = next.Add(tick)
				var batch []byte
				for j := 0; j < perBatch; j++ {
					batch = append(batch, cmd("SET", fmt.Sprintf("flood:%d:%d", c, i), val)...)
					i++
				}
				if err := rc.send(batch); err != nil {
					return
				}
				sent <- perBatch
			}
		}(rc, c)
		go func(rc *respConn) { // reader
			defer aw.Done()
			defer rc.close()
			for n := range sent {
				for j := 0; j < n; j++ {
					_, err := rc.skip()
					switch {
					case err == nil:
						admitted.Add(1)
					case strings.HasPrefix(err.Error(), "TCBUSY"):
						refused.Add(1)
					default:
						b.Errorf("aggressor: %v", err)
						return
					}
				}
			}
		}(rc)
	}
	aw.Wait()
	wg.Wait()
	phase.Store(2)

	bp50, bp99, bhit, bn := stats[0].summary()
	sp50, sp99, shit, sn := stats[1].summary()
	st := srv.Snapshot().Tenants[0]
	b.ReportMetric(float64(bp99.Microseconds()), "base-p99-µs")
	b.ReportMetric(float64(sp99.Microseconds()), "spike-p99-µs")
	b.ReportMetric(float64(sp99)/float64(bp99), "p99-ratio")
	b.ReportMetric(shit/bhit, "hit-ratio")
	b.ReportMetric(float64(admitted.Load()), "aggr-admitted")
	b.ReportMetric(float64(refused.Load()), "aggr-refused")
	b.Logf("nine tenants, baseline: %d GETs, p50 %v, p99 %v, hit rate %.4f", bn, bp50, bp99, bhit)
	b.Logf("nine tenants, spike:    %d GETs, p50 %v, p99 %v, hit rate %.4f", sn, sp50, sp99, shit)
	b.Logf("p99 change %+.1f%%, hit rate %.2f%% of baseline", 100*(float64(sp99)/float64(bp99)-1), 100*shit/bhit)
	b.Logf("aggressor (rate_limit %d/s, offered %d/s for %v): admitted %d, refused %d (server: refused %d for rate)",
		nnRateLimit, 10*nnRateLimit, nnPhase, admitted.Load(), refused.Load(), st.Refusals["rate"])
	if e := readerErrs.Load(); e != 0 {
		b.Errorf("%d reader errors", e)
	}
}
