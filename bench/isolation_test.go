package bench

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The latency-isolation matrix: does one aggressor tenant's flood raise the
// other tenants' latency?
//
//	make bench-isolation
//	go test -run '^$' -bench '^BenchmarkIsolation$' -benchtime 1x -timeout 20m ./bench/
//
// Three processes share the machine: tcached (the real binary, built by the
// run, serving a YAML config with the shipped admission defaults), the
// aggressor (this test binary re-executed as TestIsolationAggressor) and the
// victims (this process). Nine victim tenants (3 platinum, 3 gold, 3
// silver), 2 connections each, read their preloaded working sets
// cache-aside (GET; SET on a miss) at a fixed open-loop rate, and latency
// is measured from each request's scheduled send time, so a stalled server
// is charged for every request it delayed (no coordinated omission). The
// aggressor (silver) runs one shape per sub-benchmark on a fresh server:
// baseline windows (victims alone), flood windows (victims and aggressor)
// and alone windows (aggressor alone) interleave, so machine drift hits all
// three alike. ISO_TARGET=redis runs the same against one shared
// redis-server with the tenants as key prefixes. Nothing here asserts on
// timing; bench/README.md describes the settings and how to read the tables.

// isoShapeNames are the aggressor shapes ISO_SHAPES=all runs, in order.
// "idle" (opt-in) starts the aggressor process and sends nothing: its
// flood/base ratio is the noise floor of the machine and of the method.
var isoShapeNames = []string{"set8", "set100", "pipe64", "expensive", "big", "churn"}

const isoIdle = "idle"

const (
	isoVictims     = 9
	isoVictimConns = 2
	isoTiers       = 3
	isoVictimsTier = isoVictims / isoTiers
	isoReqTimeout  = 10 * time.Second // socket deadline of every request
	isoServerLife  = 30 * time.Minute // hard lifetime of a started server
	isoAggLife     = 10 * time.Minute // hard lifetime of one aggressor process
	isoCallTimeout = time.Minute      // longest the aggressor may take to answer
	isoCatchUp     = 30 * time.Second // longest the victims may catch up after the last window
)

var isoTierNames = [isoTiers]string{"platinum", "gold", "silver"}

// Window kinds.
const (
	isoBase  = iota // victims alone
	isoFlood        // victims and aggressor
	isoAlone        // aggressor alone
	isoKinds
)

type isoSettings struct {
	phase, window, settle time.Duration
	aloneSettle           time.Duration // after the victims pause, before an alone window
	rate                  int           // GET/s per victim connection
	keys, value           int           // per victim tenant
	order                 string
	shapes, targets       []string
	extra                 string
	agExtra               string // ISO_AGGRESSOR_CONFIG: keys added to the aggressor tenant
	agSeparate            bool   // ISO_AGGRESSOR_SERVER=separate: the aggressor floods a server of its own
}

func isoEnvDur(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}

func isoEnvInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func isoEnvList(name string, def []string) []string {
	s := strings.TrimSpace(os.Getenv(name))
	if s == "" || s == "all" {
		return def
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func isoLoadSettings(b *testing.B) isoSettings {
	s := isoSettings{
		phase:       isoEnvDur("ISO_PHASE", 5*time.Second),
		window:      isoEnvDur("ISO_WINDOW", time.Second),
		settle:      isoEnvDur("ISO_SETTLE", 200*time.Millisecond),
		aloneSettle: isoEnvDur("ISO_ALONE_SETTLE", 300*time.Millisecond),
		rate:        isoEnvInt("ISO_RATE", 250),
		keys:        isoEnvInt("ISO_KEYS", 10000),
		value:       isoEnvInt("ISO_VALUE", 512),
		order:       os.Getenv("ISO_ORDER"),
		shapes:      isoEnvList("ISO_SHAPES", isoShapeNames),
		targets:     isoEnvList("ISO_TARGET", []string{"tcached"}),
		extra:       os.Getenv("ISO_EXTRA_CONFIG"),
		agExtra:     os.Getenv("ISO_AGGRESSOR_CONFIG"),
		agSeparate:  os.Getenv("ISO_AGGRESSOR_SERVER") == "separate",
	}
	if s.order == "" {
		s.order = "interleaved"
	}
	if s.order != "interleaved" && s.order != "sequential" {
		b.Fatalf("ISO_ORDER=%q: want interleaved or sequential", s.order)
	}
	if s.window > s.phase {
		s.window = s.phase
	}
	for _, sh := range s.shapes {
		if !slices.Contains(isoShapeNames, sh) && sh != isoIdle {
			b.Fatalf("ISO_SHAPES: unknown shape %q (have %s)", sh, strings.Join(isoShapeNames, ","))
		}
	}
	for i, t := range s.targets {
		if t == "both" {
			s.targets = []string{"tcached", "redis"}
			break
		}
		if t != "tcached" && t != "redis" {
			b.Fatalf("ISO_TARGET: unknown target %q (want tcached, redis, or tcached,redis)", s.targets[i])
		}
	}
	return s
}

// windows is the number of windows of each kind.
func (s isoSettings) windows() int {
	return max(1, int((s.phase+s.window-1)/s.window))
}

// schedule lists the windows' kinds in run order.
func (s isoSettings) schedule() []int {
	n := s.windows()
	var out []int
	if s.order == "sequential" {
		for _, k := range []int{isoBase, isoFlood, isoAlone} {
			for range n {
				out = append(out, k)
			}
		}
		return out
	}
	for range n {
		out = append(out, isoBase, isoFlood, isoAlone)
	}
	return out
}

// BenchmarkIsolation runs the matrix: one sub-benchmark per target and
// shape, then prints the tables. It runs only when named (-bench Isolation),
// not under `-bench .`, because it takes minutes; b.N is ignored.
func BenchmarkIsolation(b *testing.B) {
	if f := flag.Lookup("test.bench"); f == nil || !strings.Contains(f.Value.String(), "Isolation") {
		b.Skip("runs only when named: make bench-isolation, or -bench '^BenchmarkIsolation$'")
	}
	set := isoLoadSettings(b)
	dir := b.TempDir()
	var tcBin string
	if slices.Contains(set.targets, "tcached") {
		tcBin = filepath.Join(dir, "tcached")
		goBin, err := exec.LookPath("go")
		if err != nil {
			b.Fatal(err)
		}
		build := exec.Command(goBin, "build", "-o", tcBin, "../cmd/tcached")
		if out, err := build.CombinedOutput(); err != nil {
			b.Fatalf("go build ./cmd/tcached: %v\n%s", err, out)
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	results := map[string][]isoResult{}
	var ran []string
	for _, target := range set.targets {
		b.Run(target, func(b *testing.B) {
			if target == "redis" {
				requireRedis(b, "redis-server")
			}
			ran = append(ran, target)
			for _, shape := range set.shapes {
				b.Run(shape, func(b *testing.B) {
					var tgt *isoTarget
					if target == "redis" {
						tgt = isoStartRedis(b)
					} else {
						tgt = isoStartTcached(b, tcBin, set)
					}
					agTgt := tgt
					if set.agSeparate {
						agTgt = isoStartTcached(b, tcBin, set)
					}
					r := isoRunShape(b, set, tgt, agTgt, shape)
					results[target] = append(results[target], r)
					r.report(b)
				})
			}
		})
	}
	if len(ran) == 0 {
		return
	}
	isoPrintReport(set, strings.TrimSpace(string(load)), ran, results)
}

// ---------------------------------------------------------------------------
// Servers

// isoTarget is one started server; tenants are AUTH users on tcached and
// key prefixes on redis-server.
type isoTarget struct {
	name  string // tcached | redis
	addr  string
	redis bool
	log   string // the server's output
}

func (t *isoTarget) victim(i int) (user, pass, prefix string) {
	if t.redis {
		return "", "", fmt.Sprintf("v%d:", i)
	}
	return fmt.Sprintf("v%d", i), fmt.Sprintf("iso-v%d-pw", i), ""
}

func (t *isoTarget) aggressor() (user, pass, prefix string) {
	if t.redis {
		return "", "", "ag:"
	}
	return "ag", "iso-ag-pw", ""
}

// isoYAML: 9 victims and the aggressor on the built-in tiers, admission
// left at its defaults, then ISO_EXTRA_CONFIG verbatim.
func isoYAML(port string, set isoSettings) string {
	var b strings.Builder
	fmt.Fprintf(&b, "listen: 127.0.0.1:%s\nmaxmemory: 1GiB\ntenants:\n", port)
	t := &isoTarget{}
	for i := range isoVictims {
		user, pass, _ := t.victim(i)
		fmt.Fprintf(&b, "  - id: v%d\n    tier: %s\n    quota: 32MiB\n    users:\n      - {name: %s, password_sha256: %s}\n",
			i, isoTierNames[i/isoVictimsTier], user, sha(pass))
	}
	user, pass, _ := t.aggressor()
	fmt.Fprintf(&b, "  - id: ag\n    tier: silver\n    quota: 256MiB\n    users:\n      - {name: %s, password_sha256: %s}\n", user, sha(pass))
	for _, kv := range strings.Split(set.agExtra, ",") {
		if kv = strings.TrimSpace(kv); kv != "" {
			fmt.Fprintf(&b, "    %s\n", kv)
		}
	}
	if set.extra != "" {
		b.WriteString(set.extra)
		b.WriteString("\n")
	}
	return b.String()
}

func isoStartTcached(b *testing.B, bin string, set isoSettings) *isoTarget {
	dir := b.TempDir()
	port := freePort(b)
	cfg := filepath.Join(dir, "tcached.yaml")
	if err := os.WriteFile(cfg, []byte(isoYAML(port, set)), 0o600); err != nil {
		b.Fatal(err)
	}
	t := &isoTarget{name: "tcached", addr: "127.0.0.1:" + port, log: filepath.Join(dir, "tcached.log")}
	exited := isoStartProc(b, t.log, isoServerLife, bin, "--config", cfg, "--metrics-listen", "off")
	user, pass, _ := t.victim(0)
	isoWaitReady(b, t, user, pass, exited)
	return t
}

func isoStartRedis(b *testing.B) *isoTarget {
	bin := requireRedis(b, "redis-server")
	dir := b.TempDir()
	port := freePort(b)
	t := &isoTarget{name: "redis", addr: "127.0.0.1:" + port, redis: true, log: filepath.Join(dir, "redis.log")}
	exited := isoStartProc(b, t.log, isoServerLife, bin, "--port", port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--maxmemory", "1gb", "--maxmemory-policy", "allkeys-lru",
		"--dir", dir, "--daemonize", "no", "--loglevel", "warning")
	isoWaitReady(b, t, "", "", exited)
	return t
}

// isoStartProc starts bin with its output in logPath, kills it when tb ends
// and after maxLife at most, and returns a channel closed when it exits.
func isoStartProc(tb testing.TB, logPath string, maxLife time.Duration, bin string, args ...string) <-chan struct{} {
	tb.Helper()
	f, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), maxLife)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = isoSysProcAttr()
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		f.Close()
		tb.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		cmd.Process.Kill()
		cancel()
		<-exited
		f.Close()
	})
	return exited
}

// isoWaitReady waits (5s at most) until the server answers PING.
func isoWaitReady(tb testing.TB, t *isoTarget, user, pass string, exited <-chan struct{}) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := dialRESP(t.addr, user, pass)
		if err == nil {
			err = c.ping()
			c.close()
			if err == nil {
				return
			}
		}
		select {
		case <-exited:
			tb.Fatalf("%s exited early:\n%s", t.name, isoTail(t.log))
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s on %s never answered PING: %v\n%s", t.name, t.addr, err, isoTail(t.log))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// isoTail returns the end of a log file.
func isoTail(path string) string {
	data, _ := os.ReadFile(path)
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

// ---------------------------------------------------------------------------
// One shape

type isoSample struct {
	sched, lag, lat int64 // ns since the shape's epoch; lag = send - sched, lat = done - sched
	hit, err        bool
}

type isoWindow struct {
	kind       int
	start, end int64 // ns since the shape's epoch
}

// isoStats is one set of victim requests.
type isoStats struct {
	lat, service, lag []int64 // sorted by summarize
	reqs, hits, errs  int64
}

func (s *isoStats) add(x isoSample) {
	s.lat = append(s.lat, x.lat)
	s.service = append(s.service, x.lat-x.lag)
	s.lag = append(s.lag, x.lag)
	s.reqs++
	if x.hit {
		s.hits++
	}
	if x.err {
		s.errs++
	}
}

func (s *isoStats) sort() {
	slices.Sort(s.lat)
	slices.Sort(s.service)
	slices.Sort(s.lag)
}

func (s *isoStats) hitRate() float64 { return float64(s.hits) / float64(max(s.reqs, 1)) }

// isoPct is the nearest-rank percentile of sorted values.
func isoPct(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// isoResult is one shape's outcome.
type isoResult struct {
	shape        string
	all          [isoKinds]isoStats // victims by window kind (isoAlone stays empty)
	tier         [isoKinds][isoTiers]isoStats
	aggOps       [isoKinds]int64 // aggressor commands in the windows of each kind
	aggNs        [isoKinds]int64 // the aggressor's own clock over those windows
	aggErrs      [isoKinds]map[string]int64
	victimErrs   map[string]int64
	victimNetErr int64
	offered      int64 // victim requests scheduled in all baseline windows
	windowNs     [isoKinds]int64
}

func (r *isoResult) aggRate(kind int) float64 {
	return float64(r.aggOps[kind]) / math.Max(float64(r.aggNs[kind])/1e9, 1e-9)
}

func (r *isoResult) p99Ratio() float64 {
	return float64(isoPct(r.all[isoFlood].lat, .99)) / math.Max(float64(isoPct(r.all[isoBase].lat, .99)), 1)
}

func (r *isoResult) report(b *testing.B) {
	b.ReportMetric(float64(isoPct(r.all[isoBase].lat, .99))/1e3, "base-p99-µs")
	b.ReportMetric(float64(isoPct(r.all[isoFlood].lat, .99))/1e3, "flood-p99-µs")
	b.ReportMetric(r.p99Ratio(), "p99-ratio")
	b.ReportMetric(100*r.all[isoBase].hitRate(), "base-hit-%")
	b.ReportMetric(100*r.all[isoFlood].hitRate(), "flood-hit-%")
	b.ReportMetric(r.aggRate(isoAlone), "agg-alone-ops/s")
	b.ReportMetric(r.aggRate(isoFlood), "agg-flood-ops/s")
	var n int64
	for _, m := range r.aggErrs {
		for _, c := range m {
			n += c
		}
	}
	b.ReportMetric(float64(n), "agg-errors")
	b.ReportMetric(0, "ns/op") // b.N is one scenario; its time means nothing
}

// isoRunShape preloads the victims, starts the aggressor process, runs the
// window schedule and summarizes.
func isoRunShape(b *testing.B, set isoSettings, tgt, agTgt *isoTarget, shape string) isoResult {
	val := strings.Repeat("v", set.value)
	for v := range isoVictims {
		isoPreloadVictim(b, tgt, v, set.keys, val)
	}
	agg := isoStartAggressor(b, agTgt, shape)

	epoch := time.Now()
	since := func() int64 { return int64(time.Since(epoch)) }
	var aloneFrom, stopAt atomic.Int64 // ns since epoch; 0 = not set
	conns := make([]*isoVictimConn, 0, isoVictims*isoVictimConns)
	for v := range isoVictims {
		for c := range isoVictimConns {
			vc := &isoVictimConn{tgt: tgt, tenant: v, conn: c, keys: set.keys, val: val, errs: map[string]int64{}}
			if err := vc.dial(); err != nil {
				b.Fatalf("victim %d: %v", v, err)
			}
			conns = append(conns, vc)
		}
	}
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(set.rate)
	for i, vc := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vc.run(epoch, interval, uint64(i), &aloneFrom, &stopAt)
		}()
	}
	time.Sleep(set.settle) // the victims' first requests are not measured

	var wins []isoWindow
	res := isoResult{shape: shape, victimErrs: map[string]int64{}}
	for k := range res.aggErrs {
		res.aggErrs[k] = map[string]int64{}
	}
	for _, kind := range set.schedule() {
		switch kind {
		case isoBase:
			aloneFrom.Store(0)
			if agg.running {
				agg.stop(b)
				time.Sleep(set.settle) // what the aggressor left behind drains
			}
		case isoFlood:
			aloneFrom.Store(0)
			if !agg.running {
				agg.start(b)
			}
		case isoAlone:
			aloneFrom.Store(max(since(), 1))
			if !agg.running {
				agg.start(b)
			}
			// A tenant counts as active for 250ms after its last command
			// (admission's activeFor): the aggressor is alone, and never
			// throttled, only once the victims have been quiet that long.
			time.Sleep(set.aloneSettle)
		}
		w := isoWindow{kind: kind, start: since()}
		m0 := agg.mark(b)
		time.Sleep(set.window)
		m1 := agg.mark(b)
		w.end = since()
		wins = append(wins, w)
		res.windowNs[kind] += w.end - w.start
		res.aggOps[kind] += m1.ops - m0.ops
		res.aggNs[kind] += m1.ns - m0.ns
		for msg, n := range m1.errs {
			if d := n - m0.errs[msg]; d > 0 {
				res.aggErrs[kind][msg] += d
			}
		}
	}
	end := since()
	aloneFrom.Store(0)
	stopAt.Store(end)
	if agg.running {
		agg.stop(b)
	}
	agg.quit()
	wg.Wait() // bounded: see isoVictimConn.run

	// Classify every victim request by the window its scheduled time is in.
	perWin := make([]isoStats, len(wins))
	for _, vc := range conns {
		tier := vc.tenant / isoVictimsTier
		for _, x := range vc.samples {
			i := sort.Search(len(wins), func(i int) bool { return wins[i].end > x.sched })
			if i == len(wins) || x.sched < wins[i].start || wins[i].kind == isoAlone {
				continue
			}
			res.all[wins[i].kind].add(x)
			res.tier[wins[i].kind][tier].add(x)
			perWin[i].add(x)
		}
		for msg, n := range vc.errs {
			res.victimErrs[msg] += n
		}
		res.victimNetErr += vc.netErrs
	}
	for k := range isoKinds {
		res.all[k].sort()
		for t := range isoTiers {
			res.tier[k][t].sort()
		}
	}
	if os.Getenv("ISO_DEBUG") != "" {
		for i, w := range wins {
			st := &perWin[i]
			st.sort()
			b.Logf("window %2d %-5s at %6.2fs: %5d requests, p50 %s, p99 %s, max %s", i, [...]string{"base", "flood", "alone"}[w.kind],
				float64(w.start)/1e9, st.reqs, isoDur(isoPct(st.lat, .5)), isoDur(isoPct(st.lat, .99)), isoDur(isoPct(st.lat, 1)))
		}
	}
	res.offered = int64(float64(res.windowNs[isoBase]) / float64(interval) * float64(len(conns)))
	return res
}

// isoPreloadVictim writes victim v's working set (pipelined) and, on
// tcached, checks that the tenant holds all of it.
func isoPreloadVictim(tb testing.TB, tgt *isoTarget, v, keys int, val string) {
	tb.Helper()
	user, pass, prefix := tgt.victim(v)
	rc, err := dialRESP(tgt.addr, user, pass)
	if err != nil {
		tb.Fatal(err)
	}
	defer rc.close()
	rc.c.SetDeadline(time.Now().Add(time.Minute))
	var req []byte
	for i := 0; i < keys; i += 100 {
		req = req[:0]
		n := min(100, keys-i)
		for j := i; j < i+n; j++ {
			req = appendCmd(req, "SET", isoVictimKey(prefix, j), val)
		}
		if err := isoPipeline(rc, req, n); err != nil {
			tb.Fatalf("preload victim %d: %v", v, err)
		}
	}
	if !tgt.redis {
		got, err := rc.do(cmd("DBSIZE"))
		if err != nil || got != strconv.Itoa(keys) {
			tb.Fatalf("victim %d: DBSIZE %q (%v) after loading %d keys", v, got, err, keys)
		}
	}
}

func isoVictimKey(prefix string, i int) string { return fmt.Sprintf("%skey:%06d", prefix, i) }

// isoPipeline sends req (n commands) and reads n replies; an error reply
// is an error.
func isoPipeline(rc *respConn, req []byte, n int) error {
	if err := rc.send(req); err != nil {
		return err
	}
	var first error
	for range n {
		if _, err := rc.skip(); err != nil {
			if _, ok := err.(respError); !ok {
				return err
			}
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// isoErrKey is how an error reply is counted: its text, cut short.
func isoErrKey(err error) string {
	s := strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, err.Error())
	if len(s) > 90 {
		s = s[:90]
	}
	return s
}

// ---------------------------------------------------------------------------
// Victims

type isoVictimConn struct {
	tgt          *isoTarget
	tenant, conn int
	keys         int
	val          string
	rc           *respConn
	samples      []isoSample
	errs         map[string]int64 // error replies by text
	netErrs      int64
}

func (v *isoVictimConn) dial() error {
	user, pass, _ := v.tgt.victim(v.tenant)
	rc, err := dialRESP(v.tgt.addr, user, pass)
	if err != nil {
		return err
	}
	v.rc = rc
	return nil
}

// run sends one GET every interval (open loop, from a random offset) until
// a scheduled time reaches stopAt (or isoCatchUp after it), skipping the slots scheduled while
// aloneFrom is set. A request scheduled while the connection was still
// busy goes out as soon as it is free, and its latency counts from its
// scheduled time.
func (v *isoVictimConn) run(epoch time.Time, interval time.Duration, seed uint64, aloneFrom, stopAt *atomic.Int64) {
	defer func() {
		if v.rc != nil {
			v.rc.close()
		}
	}()
	rng := rand.New(rand.NewPCG(seed, 0x150))
	_, _, prefix := v.tgt.victim(v.tenant)
	gets := make([][]byte, v.keys)
	for i := range gets {
		gets[i] = cmd("GET", isoVictimKey(prefix, i))
	}
	next := time.Since(epoch) + time.Duration(rng.Int64N(int64(interval)))
	for {
		if d := next - time.Since(epoch); d > 0 {
			isoSleep(d)
		}
		sched := int64(next)
		next += interval
		if s := stopAt.Load(); s != 0 && (sched >= s || time.Since(epoch) > time.Duration(s)+isoCatchUp) {
			return
		}
		if f := aloneFrom.Load(); f != 0 && sched >= f {
			continue
		}
		k := rng.IntN(v.keys)
		send := int64(time.Since(epoch))
		hit, err := v.request(gets[k], prefix, k)
		done := int64(time.Since(epoch))
		v.samples = append(v.samples, isoSample{sched: sched, lag: send - sched, lat: done - sched, hit: hit, err: err != nil})
	}
}

// request is one cache-aside read: GET, and SET on a miss.
func (v *isoVictimConn) request(get []byte, prefix string, k int) (hit bool, err error) {
	if v.rc == nil {
		if err := v.dial(); err != nil {
			v.netErrs++
			return false, err
		}
	}
	v.rc.c.SetDeadline(time.Now().Add(isoReqTimeout))
	if err := v.rc.send(get); err != nil {
		return false, v.fail(err)
	}
	n, err := v.rc.skip()
	if err != nil {
		return false, v.fail(err)
	}
	if n >= 0 {
		return true, nil
	}
	if err := v.rc.send(cmd("SET", isoVictimKey(prefix, k), v.val)); err != nil {
		return false, v.fail(err)
	}
	if _, err := v.rc.skip(); err != nil {
		return false, v.fail(err)
	}
	return false, nil
}

// fail counts an error reply, or drops the connection on any other error
// (the next request redials).
func (v *isoVictimConn) fail(err error) error {
	if _, ok := err.(respError); ok {
		v.errs[isoErrKey(err)]++
		return err
	}
	v.netErrs++
	v.rc.close()
	v.rc = nil
	return err
}

// ---------------------------------------------------------------------------
// The aggressor, from the benchmark's side

type isoAgg struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	lines   chan string
	running bool
	log     string
	exited  chan struct{}
}

type isoMark struct {
	ops, ns int64
	errs    map[string]int64
}

// isoStartAggressor re-executes this test binary as TestIsolationAggressor
// and waits until it has prepared the shape (connections, data to read).
func isoStartAggressor(b *testing.B, tgt *isoTarget, shape string) *isoAgg {
	user, pass, prefix := tgt.aggressor()
	a := &isoAgg{lines: make(chan string, 16), log: filepath.Join(b.TempDir(), "aggressor.log"), exited: make(chan struct{})}
	f, err := os.Create(a.log)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), isoAggLife)
	a.cmd = exec.CommandContext(ctx, os.Args[0], "-test.run=^TestIsolationAggressor$", "-test.count=1",
		"-test.timeout="+(isoAggLife+time.Minute).String())
	a.cmd.Env = append(os.Environ(), "ISO_AGGRESSOR="+shape, "ISO_ADDR="+tgt.addr, "ISO_USER="+user,
		"ISO_PASS="+pass, "ISO_PREFIX="+prefix, "ISO_MAXLIFE="+isoAggLife.String())
	a.cmd.Stderr = f
	a.cmd.SysProcAttr = isoSysProcAttr()
	a.cmd.WaitDelay = 2 * time.Second
	out, err := a.cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if a.in, err = a.cmd.StdinPipe(); err != nil {
		b.Fatal(err)
	}
	if err := a.cmd.Start(); err != nil {
		cancel()
		b.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if l, ok := strings.CutPrefix(sc.Text(), "ISO "); ok {
				a.lines <- l
			} else {
				fmt.Fprintln(f, sc.Text())
			}
		}
		a.cmd.Wait()
		close(a.lines)
		close(a.exited)
	}()
	b.Cleanup(func() {
		a.quit()
		select {
		case <-a.exited:
		case <-time.After(5 * time.Second):
			a.cmd.Process.Kill()
			<-a.exited
		}
		cancel()
		f.Close()
	})
	if l := a.read(b); l != "ready" {
		b.Fatalf("aggressor %s: %q\n%s", shape, l, isoTail(a.log))
	}
	return a
}

// read returns the aggressor's next protocol line.
func (a *isoAgg) read(b *testing.B) string {
	select {
	case l, ok := <-a.lines:
		if !ok {
			b.Fatalf("aggressor exited:\n%s", isoTail(a.log))
		}
		if strings.HasPrefix(l, "fatal") {
			b.Fatalf("aggressor: %s\n%s", l, isoTail(a.log))
		}
		return l
	case <-time.After(isoCallTimeout):
		b.Fatalf("aggressor did not answer within %v\n%s", isoCallTimeout, isoTail(a.log))
	}
	return ""
}

func (a *isoAgg) call(b *testing.B, req string) string {
	if _, err := io.WriteString(a.in, req+"\n"); err != nil {
		b.Fatalf("aggressor: %v\n%s", err, isoTail(a.log))
	}
	return a.read(b)
}

func (a *isoAgg) start(b *testing.B) { a.call(b, "go"); a.running = true }
func (a *isoAgg) stop(b *testing.B)  { a.call(b, "stop"); a.running = false }

func (a *isoAgg) quit() {
	if a.in != nil {
		io.WriteString(a.in, "quit\n")
		a.in.Close()
		a.in = nil
	}
}

// mark reads the aggressor's cumulative counters: "mark\tOPS\tNS[\tMSG\tN]...".
func (a *isoAgg) mark(b *testing.B) isoMark {
	l := a.call(b, "mark")
	f := strings.Split(l, "\t")
	if len(f) < 3 || f[0] != "mark" || len(f)%2 != 1 {
		b.Fatalf("aggressor: bad mark %q", l)
	}
	m := isoMark{errs: map[string]int64{}}
	m.ops, _ = strconv.ParseInt(f[1], 10, 64)
	m.ns, _ = strconv.ParseInt(f[2], 10, 64)
	for i := 3; i+1 < len(f); i += 2 {
		n, _ := strconv.ParseInt(f[i+1], 10, 64)
		m.errs[f[i]] = n
	}
	return m
}

// ---------------------------------------------------------------------------
// The aggressor process

// TestIsolationAggressor is BenchmarkIsolation's aggressor process; it skips
// unless ISO_AGGRESSOR names a shape. It prepares the shape, prints "ISO
// ready", then obeys lines on stdin: go (run), stop (pause, after every
// command in flight has its reply), mark (print the counters), quit or EOF.
func TestIsolationAggressor(t *testing.T) {
	shape := os.Getenv("ISO_AGGRESSOR")
	if shape == "" {
		t.Skip("the aggressor process of BenchmarkIsolation")
	}
	maxLife := isoEnvDur("ISO_MAXLIFE", isoAggLife)
	time.AfterFunc(maxLife, func() {
		fmt.Fprintf(os.Stderr, "aggressor: maximum lifetime %v reached\n", maxLife)
		os.Exit(3)
	})
	ag := &isoAggressor{
		shape: shape, addr: os.Getenv("ISO_ADDR"), user: os.Getenv("ISO_USER"),
		pass: os.Getenv("ISO_PASS"), prefix: os.Getenv("ISO_PREFIX"), errs: map[string]int64{},
		t0: time.Now(),
	}
	ag.cond = sync.NewCond(&ag.mu)
	if r := isoEnvInt("ISO_AGGRESSOR_RATE", 0); r > 0 {
		ag.interval = time.Second / time.Duration(r)
	}
	if err := ag.prepare(); err != nil {
		fmt.Printf("ISO fatal %s: %v\n", shape, err)
		return
	}
	fmt.Println("ISO ready")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		switch sc.Text() {
		case "go":
			ag.setRunning(true)
			fmt.Println("ISO ok")
		case "stop":
			ag.setRunning(false)
			fmt.Println("ISO ok")
		case "mark":
			fmt.Println("ISO " + ag.mark())
		case "quit":
			return
		default:
			fmt.Printf("ISO fatal unknown request %q\n", sc.Text())
			return
		}
	}
}

type isoAggressor struct {
	shape, addr, user, pass, prefix string
	t0                              time.Time
	workers                         []*isoWorker
	step                            func(w *isoWorker) error // one unit of work; a non-reply error drops the connection

	ops  atomic.Int64
	emu  sync.Mutex
	errs map[string]int64

	mu      sync.Mutex
	cond    *sync.Cond
	running atomic.Bool
	parked  int

	interval time.Duration // ISO_AGGRESSOR_RATE: the time between steps; 0 = unpaced
	nextSlot atomic.Int64  // unix ns of the next step's slot
}

type isoWorker struct {
	id     int
	rc     *respConn // nil: dial before the next step
	rng    *rand.Rand
	buf    []byte
	seq    int
	rot    int    // expensive: position in the rotation
	cursor string // expensive: SCAN cursor while a scan is under way
}

func (ag *isoAggressor) dial() (*respConn, error) { return dialRESP(ag.addr, ag.user, ag.pass) }

// count counts a reply: an error reply by its text (and the step goes on),
// anything else ends the step.
func (ag *isoAggressor) count(err error) error {
	if err == nil {
		ag.ops.Add(1)
		return nil
	}
	if _, ok := err.(respError); ok {
		ag.countErr(isoErrKey(err))
		return nil
	}
	return err
}

func (ag *isoAggressor) countErr(key string) {
	ag.emu.Lock()
	ag.errs[key]++
	ag.emu.Unlock()
}

func (ag *isoAggressor) mark() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mark\t%d\t%d", ag.ops.Load(), time.Since(ag.t0).Nanoseconds())
	ag.emu.Lock()
	for k, n := range ag.errs {
		fmt.Fprintf(&b, "\t%s\t%d", k, n)
	}
	ag.emu.Unlock()
	return b.String()
}

// setRunning starts the workers, or pauses them and waits until each has
// finished its step.
func (ag *isoAggressor) setRunning(on bool) {
	ag.mu.Lock()
	defer ag.mu.Unlock()
	ag.running.Store(on)
	ag.cond.Broadcast()
	for !on && ag.parked < len(ag.workers) {
		ag.cond.Wait()
	}
}

// park holds a worker while the aggressor is paused. A paused worker
// wakes every isoTick, as the idle shape's do, rather than sleeping on the
// condition: on this VM a machine with fewer wake-ups answers slower (its
// vCPUs halt and take milliseconds to be scheduled again), and a parked
// aggressor made the baseline windows' p99 4-5x worse than the idle
// shape's flood windows, with nothing sent in either. The baseline must
// differ from the flood by the flood's traffic only.
func (ag *isoAggressor) park() {
	if ag.running.Load() {
		return
	}
	ag.mu.Lock()
	ag.parked++
	ag.cond.Broadcast()
	ag.mu.Unlock()
	for !ag.running.Load() {
		time.Sleep(isoTick)
	}
	ag.mu.Lock()
	ag.parked--
	ag.mu.Unlock()
}

// isoTick is how often a paused (or idle-shape) aggressor worker wakes.
const isoTick = 10 * time.Millisecond

func (ag *isoAggressor) key(parts ...string) string { return ag.prefix + strings.Join(parts, ":") }

// prepare loads what the shape reads, dials its connections and parks its
// workers.
func (ag *isoAggressor) prepare() error {
	conns := 0
	val2k := strings.Repeat("a", 2048)
	set := func(w *isoWorker, n int) error {
		w.buf = w.buf[:0]
		for range n {
			w.seq++
			w.buf = appendCmd(w.buf, "SET", ag.prefix+"u:"+strconv.Itoa(w.id)+":"+strconv.Itoa(w.seq), val2k)
		}
		if err := w.rc.send(w.buf); err != nil {
			return err
		}
		for range n {
			_, err := w.rc.skip()
			if err := ag.count(err); err != nil {
				return err
			}
		}
		return nil
	}
	switch ag.shape {
	case "set8", "set100":
		conns, _ = strconv.Atoi(strings.TrimPrefix(ag.shape, "set"))
		ag.step = func(w *isoWorker) error { return set(w, 1) }
	case "pipe64":
		conns = 4
		ag.step = func(w *isoWorker) error { return set(w, 64) }
	case "big":
		conns = 4
		const bigKeys = 128
		big := strings.Repeat("b", 512<<10)
		if err := ag.load(func(add func(args ...string)) {
			for i := range bigKeys {
				add("SET", ag.key("big", strconv.Itoa(i)), big)
			}
		}, 4); err != nil {
			return err
		}
		ag.step = func(w *isoWorker) error {
			k := ag.key("big", strconv.Itoa(w.rng.IntN(bigKeys)))
			w.buf = w.buf[:0]
			if w.rng.IntN(2) == 0 {
				w.buf = appendCmd(w.buf, "SET", k, big)
			} else {
				w.buf = appendCmd(w.buf, "GET", k)
			}
			if err := w.rc.send(w.buf); err != nil {
				return err
			}
			_, err := w.rc.skip()
			return ag.count(err)
		}
	case "churn":
		conns = 8
		ag.step = func(w *isoWorker) error {
			rc, err := ag.dial()
			if err != nil {
				if _, ok := errors.Unwrap(err).(respError); ok {
					ag.countErr(isoErrKey(errors.Unwrap(err))) // AUTH refused
				} else {
					ag.countErr("dial: " + isoErrKey(err))
					time.Sleep(time.Millisecond)
				}
				return nil
			}
			defer rc.close()
			rc.c.SetDeadline(time.Now().Add(isoReqTimeout))
			w.seq++
			if err := rc.send(cmd("SET", ag.key("c", strconv.Itoa(w.id), strconv.Itoa(w.seq%1000)), "v")); err != nil {
				ag.countErr("net: " + isoErrKey(err))
				return nil
			}
			_, err = rc.skip()
			if err := ag.count(err); err != nil {
				ag.countErr("net: " + isoErrKey(err))
			}
			return nil
		}
	case isoIdle:
		conns = 4
		ag.step = func(*isoWorker) error { time.Sleep(isoTick); return nil }
	case "expensive":
		conns = 4
		if err := ag.loadExpensive(); err != nil {
			return err
		}
		ag.step = ag.expensiveStep
	default:
		return fmt.Errorf("unknown shape %q", ag.shape)
	}
	for i := range conns {
		w := &isoWorker{id: i, rng: rand.New(rand.NewPCG(uint64(i), 0xa66)), rot: i}
		if ag.shape != "churn" {
			rc, err := ag.dial()
			if err != nil {
				return err
			}
			w.rc = rc
		}
		ag.workers = append(ag.workers, w)
	}
	for _, w := range ag.workers {
		go ag.work(w)
	}
	ag.mu.Lock()
	for ag.parked < len(ag.workers) {
		ag.cond.Wait()
	}
	ag.mu.Unlock()
	return nil
}

// work runs steps while the aggressor runs; a connection lost is counted
// and dialled again.
func (ag *isoAggressor) work(w *isoWorker) {
	for {
		ag.park()
		if ag.shape != "churn" && w.rc == nil {
			rc, err := ag.dial()
			if err != nil {
				ag.countErr("dial: " + isoErrKey(err))
				time.Sleep(10 * time.Millisecond)
				continue
			}
			w.rc, w.cursor = rc, ""
		}
		if w.rc != nil {
			w.rc.c.SetDeadline(time.Now().Add(isoReqTimeout))
		}
		ag.pace()
		if err := ag.step(w); err != nil {
			ag.countErr("net: " + isoErrKey(err))
			w.rc.close()
			w.rc = nil
		}
	}
}

// pace holds a step until its slot when ISO_AGGRESSOR_RATE caps the
// aggressor's steps per second (all workers together): an aggressor at a
// fixed rate, the same whatever the server does, to tell what a given rate
// of a shape costs the victims from what the server lets through.
func (ag *isoAggressor) pace() {
	if ag.interval <= 0 {
		return
	}
	now := time.Now().UnixNano()
	next := ag.nextSlot.Add(int64(ag.interval))
	if start := next - int64(ag.interval); start < now-int64(time.Millisecond) {
		// behind (paused, or the server is slower than the rate): no burst to catch up
		ag.nextSlot.CompareAndSwap(next, now+int64(ag.interval))
		return
	}
	if d := next - int64(ag.interval) - now; d > 0 {
		time.Sleep(time.Duration(d))
	}
}

// load sends the commands add is given, perWrite per write, on one
// connection; any error fails it.
func (ag *isoAggressor) load(gen func(add func(args ...string)), perWrite int) error {
	rc, err := ag.dial()
	if err != nil {
		return err
	}
	defer rc.close()
	rc.c.SetDeadline(time.Now().Add(5 * time.Minute))
	var buf []byte
	n := 0
	var failed error
	flush := func() {
		if n > 0 && failed == nil {
			failed = isoPipeline(rc, buf, n)
		}
		buf, n = buf[:0], 0
	}
	gen(func(args ...string) {
		buf = appendCmd(buf, args...)
		if n++; n == perWrite {
			flush()
		}
	})
	flush()
	return failed
}

const (
	isoExpKeys   = 100_000 // small keys
	isoExpLists  = 3       // of isoExpElems elements
	isoExpHashes = 2       // of isoExpElems fields
	isoExpElems  = 10_000
)

// loadExpensive: 100K small keys, 3 lists of 10K integers and 2 hashes of
// 10K fields, the lists and hashes in commands of 100 elements.
func (ag *isoAggressor) loadExpensive() error {
	rng := rand.New(rand.NewPCG(1, 2))
	return ag.load(func(add func(args ...string)) {
		for i := range isoExpKeys {
			add("SET", ag.key("k", strconv.Itoa(i)), "small-value-"+strconv.Itoa(i))
		}
		for l := range isoExpLists {
			for i := 0; i < isoExpElems; i += 100 {
				args := []string{"RPUSH", ag.key("list", strconv.Itoa(l))}
				for range 100 {
					args = append(args, strconv.Itoa(rng.IntN(1_000_000)))
				}
				add(args...)
			}
		}
		for h := range isoExpHashes {
			for i := 0; i < isoExpElems; i += 100 {
				args := []string{"HSET", ag.key("hash", strconv.Itoa(h))}
				for j := i; j < i+100; j++ {
					args = append(args, "field-"+strconv.Itoa(j), "value-"+strconv.Itoa(j))
				}
				add(args...)
			}
		}
	}, 100)
}

// expensiveStep is one command of the rotation KEYS *, a full SCAN COUNT
// 1000 loop (one SCAN per step; the loop counts as one op when its cursor
// is back at 0), SORT of a list, LRANGE 0 -1 of a list, HGETALL of a hash.
func (ag *isoAggressor) expensiveStep(w *isoWorker) error {
	const rotation = 5
	w.buf = w.buf[:0]
	r := w.rot % rotation
	switch r {
	case 0:
		w.buf = appendCmd(w.buf, "KEYS", ag.prefix+"*")
	case 1:
		if w.cursor == "" {
			w.cursor = "0"
		}
		w.buf = appendCmd(w.buf, "SCAN", w.cursor, "MATCH", ag.prefix+"*", "COUNT", "1000")
	case 2:
		w.buf = appendCmd(w.buf, "SORT", ag.key("list", strconv.Itoa(w.rng.IntN(isoExpLists))))
	case 3:
		w.buf = appendCmd(w.buf, "LRANGE", ag.key("list", strconv.Itoa(w.rng.IntN(isoExpLists))), "0", "-1")
	case 4:
		w.buf = appendCmd(w.buf, "HGETALL", ag.key("hash", strconv.Itoa(w.rng.IntN(isoExpHashes))))
	}
	if err := w.rc.send(w.buf); err != nil {
		return err
	}
	if r != 1 {
		w.rot++
		_, err := w.rc.skip()
		return ag.count(err)
	}
	next, err := isoReadScan(w.rc)
	if err != nil {
		w.cursor = ""
		w.rot++
		return ag.count(err)
	}
	if next == "0" {
		w.cursor = ""
		w.rot++
		ag.ops.Add(1)
	} else {
		w.cursor = next
	}
	return nil
}

// isoReadScan reads a SCAN reply and returns its cursor.
func isoReadScan(rc *respConn) (string, error) {
	line, err := rc.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(line, "-") {
		return "", respError(strings.TrimSpace(line[1:]))
	}
	if line != "*2\r\n" {
		return "", fmt.Errorf("SCAN reply %q", line)
	}
	if _, err := rc.r.ReadString('\n'); err != nil { // $len of the cursor
		return "", err
	}
	cur, err := rc.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if _, err := rc.skip(); err != nil { // the keys
		return "", err
	}
	return strings.TrimSpace(cur), nil
}

// ---------------------------------------------------------------------------
// Report

// isoDur formats nanoseconds with three significant digits.
func isoDur(ns int64) string {
	d := float64(ns)
	switch {
	case ns < 1e6:
		return fmt.Sprintf("%.0fµs", d/1e3)
	case ns < 1e7:
		return fmt.Sprintf("%.2fms", d/1e6)
	case ns < 1e8:
		return fmt.Sprintf("%.1fms", d/1e6)
	case ns < 1e9:
		return fmt.Sprintf("%.0fms", d/1e6)
	}
	return fmt.Sprintf("%.2fs", d/1e9)
}

func isoRatio(x float64) string {
	if x >= 10 {
		return fmt.Sprintf("%.0fx", x)
	}
	return fmt.Sprintf("%.2fx", x)
}

// isoErrsByWord sums error counts by the first word of their text.
func isoErrsByWord(m map[string]int64) string {
	by := map[string]int64{}
	for k, n := range m {
		w, _, _ := strings.Cut(k, " ")
		by[strings.TrimSuffix(w, ":")] += n
	}
	return isoFmtCounts(by, "0")
}

func isoFmtCounts(m map[string]int64, none string) string {
	if len(m) == 0 {
		return none
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func isoPrintReport(set isoSettings, load string, targets []string, results map[string][]isoResult) {
	p := func(format string, args ...any) { fmt.Printf(format+"\n", args...) }
	p("")
	p("## Latency isolation matrix")
	p("")
	redisVersion := ""
	if slices.Contains(targets, "redis") {
		if out, err := exec.Command("redis-server", "--version").Output(); err == nil {
			redisVersion = "; " + strings.TrimSpace(string(out))
		}
	}
	p("- %s; nproc %d; load average at start %s; %s%s", time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), load, runtime.Version(), redisVersion)
	p("- victims: %d tenants (3 platinum, 3 gold, 3 silver) x %d connections x %d GET/s = %d GET/s offered, cache-aside over %d keys x %d B each; latency from the scheduled send",
		isoVictims, isoVictimConns, set.rate, isoVictims*isoVictimConns*set.rate, set.keys, set.value)
	p("- windows: %d x %v of each kind (baseline, flood, aggressor alone), %s; settle %v after the aggressor pauses, %v after the victims pause; a fresh server per shape",
		set.windows(), set.window, set.order, set.settle, set.aloneSettle)
	p("- ISO_EXTRA_CONFIG=%q, ISO_AGGRESSOR_CONFIG=%q (tcached only); ISO_AGGRESSOR_RATE=%q; ISO_AGGRESSOR_SERVER=%q", set.extra, set.agExtra, os.Getenv("ISO_AGGRESSOR_RATE"), os.Getenv("ISO_AGGRESSOR_SERVER"))
	for _, target := range targets {
		rs := results[target]
		p("")
		p("### %s", target)
		p("")
		p("| shape | p50 base / flood | p99 base / flood | p99 flood/base | p999 base / flood | hit rate base / flood | aggressor ops/s alone / contended | aggressor errors (flood; alone) |")
		p("|---|---|---|---|---|---|---|---|")
		for _, r := range rs {
			bs, fl := &r.all[isoBase], &r.all[isoFlood]
			p("| %s | %s / %s | %s / %s | **%s** | %s / %s | %.2f%% / %.2f%% | %.0f / %.0f (%.2fx) | %s; %s |", r.shape,
				isoDur(isoPct(bs.lat, .5)), isoDur(isoPct(fl.lat, .5)),
				isoDur(isoPct(bs.lat, .99)), isoDur(isoPct(fl.lat, .99)), isoRatio(r.p99Ratio()),
				isoDur(isoPct(bs.lat, .999)), isoDur(isoPct(fl.lat, .999)),
				100*bs.hitRate(), 100*fl.hitRate(),
				r.aggRate(isoAlone), r.aggRate(isoFlood), r.aggRate(isoFlood)/math.Max(r.aggRate(isoAlone), 1e-9),
				isoErrsByWord(r.aggErrs[isoFlood]), isoErrsByWord(r.aggErrs[isoAlone]))
		}
		p("")
		p("Victim p99 by tier (%s):", target)
		p("")
		p("| shape | platinum base / flood | gold base / flood | silver base / flood |")
		p("|---|---|---|---|")
		for _, r := range rs {
			var cells []string
			for t := range isoTiers {
				bs, fl := &r.tier[isoBase][t], &r.tier[isoFlood][t]
				cells = append(cells, fmt.Sprintf("%s / %s (%s)", isoDur(isoPct(bs.lat, .99)), isoDur(isoPct(fl.lat, .99)),
					isoRatio(float64(isoPct(fl.lat, .99))/math.Max(float64(isoPct(bs.lat, .99)), 1))))
			}
			p("| %s | %s |", r.shape, strings.Join(cells, " | "))
		}
		p("")
		p("Details (%s): victim requests measured vs offered in the baseline windows; p99 of the send lag (scheduled time to", target)
		p("send: waiting for the connection's previous request, or for the victim's goroutine to run) and of the service time (send to")
		p("reply), base / flood; the largest flood latency; error replies by text.")
		p("")
		p("| shape | requests base (offered) / flood | p99 lag base / flood | p99 service base / flood | flood max | victim errors | aggressor error replies (flood + alone) |")
		p("|---|---|---|---|---|---|---|")
		for _, r := range rs {
			bs, fl := &r.all[isoBase], &r.all[isoFlood]
			all := map[string]int64{}
			for _, m := range r.aggErrs {
				for k, n := range m {
					all[k] += n
				}
			}
			verr := isoFmtCounts(r.victimErrs, "0")
			if r.victimNetErr > 0 {
				verr += fmt.Sprintf("; connection errors %d", r.victimNetErr)
			}
			p("| %s | %d (%d) / %d | %s / %s | %s / %s | %s | %s | %s |", r.shape, bs.reqs, r.offered, fl.reqs,
				isoDur(isoPct(bs.lag, .99)), isoDur(isoPct(fl.lag, .99)),
				isoDur(isoPct(bs.service, .99)), isoDur(isoPct(fl.service, .99)), isoDur(isoPct(fl.lat, 1)),
				verr, isoFmtCounts(all, "none"))
		}
	}
	if len(targets) > 1 {
		p("")
		p("### Side by side: p99 flood/base, flood hit rate")
		p("")
		p("| shape | %s |", strings.Join(targets, " | "))
		p("|---|%s", strings.Repeat("---|", len(targets)))
		for i, shape := range set.shapes {
			var cells []string
			for _, target := range targets {
				if i < len(results[target]) && results[target][i].shape == shape {
					r := results[target][i]
					cells = append(cells, fmt.Sprintf("%s, %.2f%%", isoRatio(r.p99Ratio()), 100*r.all[isoFlood].hitRate()))
				} else {
					cells = append(cells, "-")
				}
			}
			p("| %s | %s |", shape, strings.Join(cells, " | "))
		}
	}
	p("")
}
