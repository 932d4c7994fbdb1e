package admission

import (
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcached/tcached/tiers"
)

// fakeClock is a Clock for tests. Sleep records the duration and, unless
// frozen, advances Now by it (plus overshoot, to model a late wake-up).
// Frozen models commands arriving at the same instant from several
// connections: the sleep happens "elsewhere" and the next Admit still sees
// the same Now.
type fakeClock struct {
	mu        sync.Mutex
	now       time.Time
	frozen    bool
	overshoot time.Duration
	slept     []time.Duration
}

func newFake() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.slept = append(f.slept, d)
	if !f.frozen {
		f.now = f.now.Add(d + f.overshoot)
	}
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func (f *fakeClock) takeSlept() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.slept
	f.slept = nil
	return s
}

const ms = time.Millisecond

// step is one Admit in a scripted table: advance the clock, admit, and
// check the outcome and the sleep it took.
type step struct {
	advance time.Duration
	args    int64
	ok      bool
	reason  Reason
	slept   time.Duration // 0 = must not sleep
	done    bool          // call Done right away
}

func runSteps(t *testing.T, clk *fakeClock, tn *Tenant, steps []step) []Ticket {
	t.Helper()
	var held []Ticket
	for i, s := range steps {
		clk.Advance(s.advance)
		tk, r, ok := tn.Admit(s.args)
		if ok != s.ok || r != s.reason {
			t.Fatalf("step %d: Admit = (%v, %v), want (%v, %v)", i, ok, r, s.ok, s.reason)
		}
		slept := clk.takeSlept()
		switch {
		case s.slept == 0 && len(slept) != 0:
			t.Fatalf("step %d: slept %v, want no sleep", i, slept)
		case s.slept != 0 && (len(slept) != 1 || slept[0] != s.slept):
			t.Fatalf("step %d: slept %v, want [%v]", i, slept, s.slept)
		}
		if ok && s.done {
			tn.Done(tk)
		} else if ok {
			held = append(held, tk)
		}
	}
	return held
}

func TestAdmitTables(t *testing.T) {
	tests := []struct {
		name   string
		policy Policy
		frozen bool
		steps  []step
		check  func(t *testing.T, st Stats)
	}{
		{
			name:   "rate: burst then one token per interval, refused when the wait exceeds the timeout",
			policy: Policy{Rate: 10, Burst: 3, Timeout: 50 * ms},
			steps: []step{
				{ok: true, done: true}, {ok: true, done: true}, {ok: true, done: true},
				{reason: ReasonRate}, // next token in 100ms > 50ms
				{advance: 100 * ms, ok: true, done: true},
				{reason: ReasonRate},
				{advance: 60 * ms, ok: true, slept: 40 * ms, done: true}, // 40ms <= 50ms: wait, then run
				{advance: 10 * time.Second, ok: true, done: true},        // idle refills only up to Burst
				{ok: true, done: true}, {ok: true, done: true},
				{reason: ReasonRate},
			},
			check: func(t *testing.T, st Stats) {
				if st.Admitted != 8 || st.Refused[ReasonRate] != 3 {
					t.Errorf("admitted %d refused %v", st.Admitted, st.Refused)
				}
				if st.Wait.Counts != [NumWaitBuckets]uint64{7, 0, 0, 0, 1} || st.Wait.Sum != 40*ms {
					t.Errorf("wait histogram %+v", st.Wait)
				}
			},
		},
		{
			name:   "rate: simultaneous arrivals wait in turn up to the timeout, the rest are refused",
			policy: Policy{Rate: 10, Burst: 1, Timeout: 250 * ms},
			frozen: true,
			steps: []step{
				{ok: true, done: true},
				{ok: true, slept: 100 * ms, done: true},
				{ok: true, slept: 200 * ms, done: true},
				{reason: ReasonRate}, // would wait 300ms
				{reason: ReasonRate}, // a refusal took no token: still 300ms
				{advance: 100 * ms, ok: true, slept: 200 * ms, done: true},
			},
			check: func(t *testing.T, st Stats) {
				if st.Admitted != 4 || st.Refused[ReasonRate] != 2 || st.Wait.Counts[4] != 1 || st.Wait.Counts[5] != 2 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name:   "rate: timeout 0 waits as long as it takes",
			policy: Policy{Rate: 1, Burst: 1},
			frozen: true,
			steps: []step{
				{ok: true, done: true},
				{ok: true, slept: time.Second, done: true},
				{ok: true, slept: 2 * time.Second, done: true},
			},
		},
		{
			name:   "rate: burst 0 means one second of rate",
			policy: Policy{Rate: 2.5, Timeout: 10 * ms}, // burst ceil(2.5) = 3
			steps: []step{
				{ok: true, done: true}, {ok: true, done: true}, {ok: true, done: true},
				{reason: ReasonRate},
			},
		},
		{
			name:   "concurrency cap",
			policy: Policy{MaxConcurrent: 2},
			steps: []step{
				{ok: true}, {ok: true},
				{reason: ReasonConcurrency}, {reason: ReasonConcurrency},
			},
			check: func(t *testing.T, st Stats) {
				if st.InFlight != 2 || st.Refused[ReasonConcurrency] != 2 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name:   "argument bytes cap, and a single command over the cap",
			policy: Policy{MaxArgBytes: 100},
			steps: []step{
				{args: 60, ok: true},
				{args: 50, reason: ReasonArgBytes},
				{args: 40, ok: true},
				{args: 1, reason: ReasonArgBytes},
				{args: 0, ok: true},
			},
			check: func(t *testing.T, st Stats) {
				if st.InFlight != 3 || st.InFlightArgBytes != 100 || st.Refused[ReasonArgBytes] != 2 {
					t.Errorf("stats %+v", st)
				}
			},
		},
		{
			name:   "argument bytes: larger than the cap is refused even when idle",
			policy: Policy{MaxArgBytes: 100},
			steps:  []step{{args: 101, reason: ReasonArgBytes}, {args: 100, ok: true, done: true}},
		},
		{
			name:   "rate wait is not taken when another limit refuses",
			policy: Policy{Rate: 10, Burst: 1, Timeout: time.Second, MaxConcurrent: 1},
			frozen: true,
			steps: []step{
				{ok: true},                  // holds the only slot and the token
				{reason: ReasonConcurrency}, // would wait 100ms, but refused at once
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFake()
			clk.frozen = tc.frozen
			tn := NewController(Options{Clock: clk}).Tenant(tc.policy)
			runSteps(t, clk, tn, tc.steps)
			if tc.check != nil {
				tc.check(t, tn.Stats())
			}
		})
	}
}

// TestRefusedWaitTakesNoToken continues the last table case: after the
// slot frees, the token the refused commands did not take is still there.
func TestRefusedWaitTakesNoToken(t *testing.T) {
	clk := newFake()
	clk.frozen = true
	tn := NewController(Options{Clock: clk}).Tenant(Policy{Rate: 10, Burst: 1, Timeout: time.Second, MaxConcurrent: 1})
	held := runSteps(t, clk, tn, []step{{ok: true}, {reason: ReasonConcurrency}, {reason: ReasonConcurrency}})
	tn.Done(held[0])
	clk.Advance(100 * ms)
	runSteps(t, clk, tn, []step{{ok: true, done: true}, {ok: true, slept: 100 * ms, done: true}})
}

func TestLateWakeUpIsRefused(t *testing.T) {
	clk := newFake()
	clk.overshoot = 60 * ms // the scheduler wakes the sleeper 60ms late
	tn := NewController(Options{Clock: clk}).Tenant(Policy{Rate: 10, Burst: 1, Timeout: 150 * ms})
	runSteps(t, clk, tn, []step{
		{ok: true, done: true},
		{reason: ReasonRate, slept: 100 * ms}, // waited 160ms > 150ms: never run late
	})
	if st := tn.Stats(); st.InFlight != 0 || st.Admitted != 1 || st.Refused[ReasonRate] != 1 || st.Waiting != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestZeroIsUnlimited(t *testing.T) {
	tests := []struct {
		name string
		p    Policy
	}{
		{"all zero", Policy{}},
		{"rate 0 with a timeout", Policy{Timeout: 10 * ms, MaxConcurrent: 0}},
		{"burst without rate", Policy{Burst: 1}},
		{"negative values", Policy{Rate: -5, Burst: -1, MaxConcurrent: -1, MaxArgBytes: -1, Timeout: -time.Second}},
		{"NaN rate", Policy{Rate: math.NaN()}},
		{"+Inf rate", Policy{Rate: math.Inf(1), Burst: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFake()
			clk.frozen = true
			c := NewController(Options{Clock: clk}) // MaxInFlight 0: no shedding
			tn := c.Tenant(tc.p)
			var held []Ticket
			for i := 0; i < 10000; i++ {
				tk, r, ok := tn.Admit(1 << 40)
				if !ok {
					t.Fatalf("command %d refused: %v", i, r)
				}
				held = append(held, tk)
			}
			if s := clk.takeSlept(); len(s) != 0 {
				t.Fatalf("slept %d times", len(s))
			}
			if st := tn.Stats(); st.InFlight != 10000 || c.InFlight() != 0 || st.InFlightArgBytes != 10000<<40 {
				t.Errorf("stats %+v, global %d", st, c.InFlight())
			}
			for _, tk := range held {
				tn.Done(tk)
			}
			if st := tn.Stats(); st.InFlight != 0 || c.InFlight() != 0 || st.InFlightArgBytes != 0 {
				t.Errorf("after Done: %+v, global %d", st, c.InFlight())
			}
		})
	}
}

func TestShedOrder(t *testing.T) {
	const silver, gold, platinum = 1, 2, 3
	c := NewController(Options{MaxInFlight: 100, Clock: newFake()})
	tn := map[int]*Tenant{
		silver:   c.Tenant(Policy{Priority: silver}),
		gold:     c.Tenant(Policy{Priority: gold}),
		platinum: c.Tenant(Policy{Priority: platinum}),
	}
	c.Tenant(Policy{Priority: gold}) // a second gold tenant changes nothing
	for p, want := range map[int]int64{silver: 70, gold: 85, platinum: 100} {
		if got := c.ShedThreshold(p); got != want {
			t.Errorf("ShedThreshold(%d) = %d, want %d", p, got, want)
		}
	}
	tests := []struct {
		inflight int64 // global in-flight before the Admit (fake state)
		admitted []int // priorities admitted; the others are shed
	}{
		{0, []int{silver, gold, platinum}},
		{69, []int{silver, gold, platinum}},
		{70, []int{gold, platinum}}, // silver first
		{84, []int{gold, platinum}},
		{85, []int{platinum}}, // then gold
		{99, []int{platinum}},
		{100, nil}, // platinum last, at capacity
		{150, nil},
	}
	for _, tc := range tests {
		for _, p := range []int{silver, gold, platinum} {
			c.inflight.Store(tc.inflight)
			want := false
			for _, a := range tc.admitted {
				want = want || a == p
			}
			tk, r, ok := tn[p].Admit(0)
			if ok != want || !ok && r != ReasonShed {
				t.Errorf("in-flight %d, priority %d: Admit = (%v, %v), want admitted=%v", tc.inflight, p, ok, r, want)
			}
			if ok && c.InFlight() != tc.inflight+1 {
				t.Errorf("in-flight %d: admitted but global count %d", tc.inflight, c.InFlight())
			}
			tn[p].Done(tk)
			if c.InFlight() != tc.inflight {
				t.Errorf("in-flight %d, priority %d: count %d after Done", tc.inflight, p, c.InFlight())
			}
		}
	}
	if got := tn[silver].Stats().Refused[ReasonShed]; got != 6 {
		t.Errorf("silver shed %d times, want 6", got)
	}
}

func TestShedThresholds(t *testing.T) {
	tests := []struct {
		name  string
		max   int
		prios []int
		want  map[int]int64
	}{
		{"disabled", 0, []int{1, 2, 3}, map[int]int64{1: 0, 2: 0, 3: 0}},
		{"one priority gets capacity", 4096, []int{2}, map[int]int64{2: 4096}},
		{"two priorities", 1000, []int{2, 3}, map[int]int64{2: 700, 3: 1000}},
		{"defaults: silver gold platinum", 4096, []int{3, 1, 2}, map[int]int64{1: 2867, 2: 3481, 3: 4096}},
		{"custom priorities rank, not value", 1000, []int{0, 1, 2, 7}, map[int]int64{0: 700, 1: 800, 2: 900, 7: 1000}},
		{"tiny capacity keeps thresholds >= 1", 1, []int{1, 2, 3}, map[int]int64{1: 1, 2: 1, 3: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewController(Options{MaxInFlight: tc.max, Clock: newFake()})
			for _, p := range tc.prios {
				c.Tenant(Policy{Priority: p})
			}
			for p, want := range tc.want {
				if got := c.ShedThreshold(p); got != want {
					t.Errorf("ShedThreshold(%d) = %d, want %d", p, got, want)
				}
			}
		})
	}
}

func TestShedThresholdsFollowTenants(t *testing.T) {
	c := NewController(Options{MaxInFlight: 100, Clock: newFake()})
	s := c.Tenant(Policy{Priority: 1})
	g := c.Tenant(Policy{Priority: 2})
	p := c.Tenant(Policy{Priority: 3})
	if c.ShedThreshold(2) != 85 {
		t.Fatalf("gold threshold %d", c.ShedThreshold(2))
	}
	s.Close()
	s.Close() // idempotent
	if c.ShedThreshold(2) != 70 || c.ShedThreshold(3) != 100 {
		t.Errorf("after closing silver: gold %d platinum %d", c.ShedThreshold(2), c.ShedThreshold(3))
	}
	p.SetPolicy(Policy{Priority: 1}) // platinum demoted below gold
	if c.ShedThreshold(1) != 70 || c.ShedThreshold(2) != 100 {
		t.Errorf("after demotion: 1 -> %d, 2 -> %d", c.ShedThreshold(1), c.ShedThreshold(2))
	}
	if got := p.Policy().Priority; got != 1 {
		t.Errorf("Policy().Priority = %d", got)
	}
	g.Close()
	p.Close()
	if got := c.ShedThreshold(1); got != 100 {
		t.Errorf("no tenants: threshold %d, want capacity", got)
	}
}

func TestSLAViolations(t *testing.T) {
	clk := newFake()
	tn := NewController(Options{Clock: clk}).Tenant(Policy{Timeout: 200 * ms})
	serve := func(d time.Duration) {
		tk, r, ok := tn.Admit(0)
		if !ok {
			t.Fatalf("refused: %v", r)
		}
		clk.Advance(d)
		tn.Done(tk)
	}
	serve(150 * ms)
	serve(200 * ms) // exactly the bound is within it
	serve(201 * ms)
	if got := tn.Stats().SLAViolations; got != 1 {
		t.Errorf("violations %d, want 1", got)
	}

	// The bound in force at Admit applies, whatever SetPolicy does meanwhile.
	tk, _, _ := tn.Admit(0)
	tn.SetPolicy(Policy{Timeout: time.Second})
	clk.Advance(300 * ms)
	tn.Done(tk)
	serve(300 * ms)
	if got := tn.Stats().SLAViolations; got != 2 {
		t.Errorf("violations %d, want 2", got)
	}

	// The admission wait counts toward service time.
	tn.SetPolicy(Policy{Rate: 10, Burst: 1, Timeout: 150 * ms})
	serve(0)
	serve(60 * ms) // waits 100ms, runs 60ms: 160ms > 150ms
	if got := tn.Stats().SLAViolations; got != 3 {
		t.Errorf("violations %d, want 3", got)
	}

	// Timeout 0: no SLA.
	tn.SetPolicy(Policy{})
	serve(time.Hour)
	if got := tn.Stats().SLAViolations; got != 3 {
		t.Errorf("violations %d, want 3", got)
	}
}

func TestDoneZeroTicket(t *testing.T) {
	c := NewController(Options{MaxInFlight: 10, Clock: newFake()})
	tn := c.Tenant(Policy{MaxConcurrent: 1})
	tk, _, _ := tn.Admit(5)
	refusedTk, _, ok := tn.Admit(5)
	if ok {
		t.Fatal("second command admitted")
	}
	tn.Done(refusedTk) // a refusal's ticket is ignored
	tn.Done(Ticket{})
	if st := tn.Stats(); st.InFlight != 1 || st.InFlightArgBytes != 5 || c.InFlight() != 1 {
		t.Errorf("zero tickets changed counters: %+v", st)
	}
	tn.Done(tk)
	if st := tn.Stats(); st.InFlight != 0 || st.InFlightArgBytes != 0 || c.InFlight() != 0 {
		t.Errorf("after Done: %+v", st)
	}
}

func TestStats(t *testing.T) {
	clk := newFake()
	clk.frozen = true
	tn := NewController(Options{Clock: clk}).Tenant(Policy{Rate: 1000, Burst: 1, Timeout: 2 * time.Second, MaxConcurrent: 3, MaxArgBytes: 1000})
	var held []Ticket
	admit := func(args int64) bool {
		tk, _, ok := tn.Admit(args)
		if ok {
			held = append(held, tk)
		}
		return ok
	}
	admit(10)  // no wait
	admit(20)  // waits 1ms
	admit(30)  // waits 2ms
	admit(40)  // concurrency (checked before waiting)
	admit(999) // concurrency first: the tenant's own limits in file order
	tn.Done(held[0])
	admit(980) // arg bytes: 50 + 980 > 1000
	st := tn.Stats()
	want := Stats{
		Admitted:         3,
		InFlight:         2,
		InFlightArgBytes: 50,
		Wait:             WaitHistogram{Counts: [NumWaitBuckets]uint64{1, 1, 1}, Sum: 3 * ms},
	}
	want.Refused[ReasonConcurrency] = 2
	want.Refused[ReasonArgBytes] = 1
	if st != want {
		t.Errorf("Stats() =\n %+v\nwant\n %+v", st, want)
	}
}

func TestWaitBuckets(t *testing.T) {
	tests := []struct {
		wait time.Duration
		want int
	}{
		{0, 0}, {1, 1}, {ms, 1}, {ms + 1, 2}, {5 * ms, 2}, {25 * ms, 3}, {100 * ms, 4},
		{250 * ms, 5}, {time.Second, 6}, {time.Second + 1, 7}, {time.Hour, 7},
	}
	for _, tc := range tests {
		if got := waitBucket(int64(tc.wait)); got != tc.want {
			t.Errorf("waitBucket(%v) = %d, want %d", tc.wait, got, tc.want)
		}
	}
	if WaitBucketBound(NumWaitBuckets-1) != -1 || WaitBucketBound(6) != time.Second {
		t.Error("WaitBucketBound ends")
	}
}

func TestReasonString(t *testing.T) {
	want := map[Reason]string{ReasonNone: "none", ReasonRate: "rate", ReasonConcurrency: "concurrency",
		ReasonArgBytes: "arg_bytes", ReasonShed: "shed", ReasonFairShare: "fair_share", NumReasons: "Reason(6)"}
	for r, s := range want {
		if r.String() != s {
			t.Errorf("%d.String() = %q, want %q", r, r.String(), s)
		}
	}
}

func TestPolicyFromTier(t *testing.T) {
	gold := tiers.Builtin()["gold"]
	gold.RateLimit, gold.Burst = 5000, 100
	want := Policy{Rate: 5000, Burst: 100, MaxConcurrent: 500, MaxArgBytes: 128 << 20, Timeout: 500 * ms, Priority: 2, Weight: 2}
	if got := PolicyFromTier(gold); got != want {
		t.Errorf("PolicyFromTier(gold) = %+v, want %+v", got, want)
	}
	tn := NewController(Options{}).Tenant(Policy{Rate: 0.5})
	if got := tn.Policy(); got.Burst != 1 {
		t.Errorf("Rate 0.5 burst %d, want 1", got.Burst)
	}
}

// TestConcurrentNeverExceeds runs many goroutines through Admit/Done while
// policies change, and checks the caps hold and every counter returns to
// zero. Run with -race.
func TestConcurrentNeverExceeds(t *testing.T) {
	const maxConc, maxBytes = 4, 40
	c := NewController(Options{MaxInFlight: 6})
	a := c.Tenant(Policy{MaxConcurrent: maxConc, MaxArgBytes: maxBytes, Priority: 1, Timeout: time.Second})
	b := c.Tenant(Policy{Priority: 3, Rate: 1e7, Burst: 1000, Timeout: time.Second})
	var running, runBytes, peak, peakBytes, peakGlobal, global atomic.Int64
	bump := func(p *atomic.Int64, v int64) {
		for {
			old := p.Load()
			if v <= old || p.CompareAndSwap(old, v) {
				return
			}
		}
	}
	var wg sync.WaitGroup
	const workers, iters = 8, 3000
	var attempts atomic.Uint64
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tn := a
			if g%2 == 1 {
				tn = b
			}
			for i := 0; i < iters; i++ {
				args := int64(i%15 + 1)
				attempts.Add(1)
				tk, _, ok := tn.Admit(args)
				if !ok {
					continue
				}
				bump(&peakGlobal, global.Add(1))
				if tn == a {
					bump(&peak, running.Add(1))
					bump(&peakBytes, runBytes.Add(args))
					running.Add(-1)
					runBytes.Add(-args)
				}
				global.Add(-1)
				tn.Done(tk)
			}
		}()
	}
	wg.Add(1)
	go func() { // hot reload while serving
		defer wg.Done()
		for i := 0; i < 200; i++ {
			b.SetPolicy(Policy{Priority: 3 - i%2, Rate: 1e7, Burst: 1000, Timeout: time.Second})
		}
	}()
	wg.Wait()
	if peak.Load() > maxConc || peakBytes.Load() > maxBytes || peakGlobal.Load() > 6 {
		t.Errorf("peaks: concurrency %d (max %d), bytes %d (max %d), global %d (max 6)",
			peak.Load(), maxConc, peakBytes.Load(), maxBytes, peakGlobal.Load())
	}
	var total uint64
	for _, tn := range []*Tenant{a, b} {
		st := tn.Stats()
		if st.InFlight != 0 || st.InFlightArgBytes != 0 || st.Waiting != 0 {
			t.Errorf("left in flight: %+v", st)
		}
		total += st.Admitted
		for _, n := range st.Refused {
			total += n
		}
	}
	if total != attempts.Load() || c.InFlight() != 0 {
		t.Errorf("admitted+refused %d, attempts %d, global %d", total, attempts.Load(), c.InFlight())
	}
}

// TestConcurrentRateExact has many goroutines arrive at one frozen instant:
// exactly Burst + Timeout/interval of them may be admitted, which holds only
// if the bucket's compare-and-swap never loses or double-spends a token.
func TestConcurrentRateExact(t *testing.T) {
	clk := newFake()
	clk.frozen = true
	tn := NewController(Options{Clock: clk}).Tenant(Policy{Rate: 100, Burst: 5, Timeout: 95 * ms}) // 5 + 9
	var wg sync.WaitGroup
	var admitted atomic.Int64
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if tk, _, ok := tn.Admit(0); ok {
					admitted.Add(1)
					tn.Done(tk)
				}
			}
		}()
	}
	wg.Wait()
	if admitted.Load() != 14 {
		t.Errorf("admitted %d at one instant, want 14", admitted.Load())
	}
	if st := tn.Stats(); st.Refused[ReasonRate] != 400-14 {
		t.Errorf("rate refusals %d", st.Refused[ReasonRate])
	}
}

// BenchmarkAdmitDone measures the admitted path with the system clock.
// "unlimited" takes no clock reads ("-noshed": nor the global in-flight
// count, with shedding disabled); "gold" is the built-in gold tier (a
// timeout, so two clock reads for the SLA, plus the caps and shedding);
// "rate" adds a token bucket that never makes the benchmark wait.
func BenchmarkAdmitDone(b *testing.B) {
	gold := PolicyFromTier(tiers.Builtin()["gold"])
	rated := gold
	rated.Rate, rated.Burst = 1e9, 1<<20
	cases := []struct {
		name string
		p    Policy
		max  int
	}{
		{"unlimited-noshed", Policy{}, 0},
		{"unlimited", Policy{}, 4096},
		{"gold", gold, 4096},
		{"rate", rated, 4096},
	}
	for _, tc := range cases {
		newTenant := func() *Tenant {
			c := NewController(Options{MaxInFlight: tc.max})
			c.Tenant(Policy{Priority: 1})
			c.Tenant(Policy{Priority: 3})
			return c.Tenant(tc.p)
		}
		b.Run(tc.name, func(b *testing.B) {
			tn := newTenant()
			b.ReportAllocs()
			for b.Loop() {
				tk, _, ok := tn.Admit(64)
				if !ok {
					b.Fatal("refused")
				}
				tn.Done(tk)
			}
		})
		b.Run(tc.name+"/parallel", func(b *testing.B) {
			tn := newTenant()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					tk, _, ok := tn.Admit(64)
					if !ok {
						b.Error("refused")
						return
					}
					tn.Done(tk)
				}
			})
		})
	}
}

// TestAdmitAfterCountsQueueTime: a command that already waited in its
// connection's buffer has only the rest of the timeout left for a token,
// so a pipelined flood is refused once it would run later than the tier
// timeout after arriving.
func TestAdmitAfterCountsQueueTime(t *testing.T) {
	tests := []struct {
		name   string
		queued time.Duration
		wantOK bool
		slept  time.Duration
	}{
		{"no queue: 10ms wait fits 50ms", 0, true, 10 * time.Millisecond},
		{"queued 39ms: 10ms wait fits", 39 * time.Millisecond, true, 10 * time.Millisecond},
		{"queued 41ms: 10ms wait does not", 41 * time.Millisecond, false, 0},
		{"queued past timeout, no token wait needed", time.Second, true, 0},
	}
	for _, tt := range tests {
		clk := newFake()
		c := NewController(Options{Clock: clk})
		tn := c.Tenant(Policy{Rate: 100, Burst: 1, Timeout: 50 * time.Millisecond})
		if tt.slept > 0 || !tt.wantOK {
			// Use up the burst so the next command needs a 10ms token.
			tk, _, ok := tn.Admit(0)
			if !ok {
				t.Fatalf("%s: first Admit refused", tt.name)
			}
			tn.Done(tk)
		}
		tk, r, ok := tn.AdmitAfter(0, tt.queued)
		if ok != tt.wantOK {
			t.Errorf("%s: ok=%v reason=%v", tt.name, ok, r)
			continue
		}
		if ok {
			tn.Done(tk)
		} else if r != ReasonRate {
			t.Errorf("%s: reason %v, want rate", tt.name, r)
		}
		var slept time.Duration
		for _, d := range clk.slept {
			slept += d
		}
		if slept != tt.slept {
			t.Errorf("%s: slept %v, want %v", tt.name, slept, tt.slept)
		}
	}
}

// TestAdmitAtDoneAt: with a reading of Now handed in, admission and the
// SLA use that reading and read no clock of their own: the fake clock
// never moves here, yet the service time is what the readings say.
func TestAdmitAtDoneAt(t *testing.T) {
	clk := newFake()
	c := NewController(Options{Clock: clk})
	tn := c.Tenant(Policy{Timeout: 200 * ms})
	at := c.Now()
	for _, tc := range []struct {
		service time.Duration
		queued  time.Duration
		want    uint64
	}{
		{150 * ms, 0, 0},
		{200 * ms, 0, 0}, // the bound itself is within it
		{201 * ms, 0, 1},
		{150 * ms, 60 * ms, 2}, // the queue time counts toward it
	} {
		tk, r, ok := tn.AdmitAt(0, at, tc.queued)
		if !ok {
			t.Fatalf("refused: %v", r)
		}
		tn.DoneAt(tk, at+int64(tc.service))
		if got := tn.Stats().SLAViolations; got != tc.want {
			t.Errorf("service %v queued %v: violations %d, want %d", tc.service, tc.queued, got, tc.want)
		}
	}
	if st := tn.Stats(); st.InFlight != 0 {
		t.Errorf("in flight %d after every DoneAt", st.InFlight)
	}
}
