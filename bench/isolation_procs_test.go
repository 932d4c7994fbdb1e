package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

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
