package admission

import (
	"math"
	"testing"
	"time"
)

// fairRig is a Controller with fair sharing on a fake clock, 2 cores and an
// injected scheduling delay.
type fairRig struct {
	clk   *fakeClock
	c     *Controller
	delay time.Duration
}

func newFairRig(t *testing.T) *fairRig {
	t.Helper()
	r := &fairRig{clk: newFake()}
	r.c = NewController(Options{Clock: r.clk, Fair: FairOptions{
		Enabled: true, Cores: 2, DelayTarget: 500 * time.Microsecond,
		Delay: func() time.Duration { return r.delay },
	}})
	return r
}

// work makes tenant tn look as if it used cores of the server over the next
// tick: it admits one command per 10µs of cost and charges the cost.
func (r *fairRig) work(tn *Tenant, cores float64) {
	cost := int64(cores * float64(FairTick))
	n := max(cost/10_000, 1)
	for range n {
		tk, _, ok := tn.Admit(0)
		if !ok {
			panic("refused")
		}
		tn.Done(tk)
	}
	tn.Charge(cost, Pacing{})
}

// tick advances the clock one FairTick after the given usage and ticks.
func (r *fairRig) tick(use map[*Tenant]float64) []Change {
	for tn, u := range use {
		r.work(tn, u)
	}
	r.clk.Advance(FairTick)
	return r.c.Tick()
}

func TestFairAloneIsNeverThrottled(t *testing.T) {
	r := newFairRig(t)
	a := r.c.Tenant(Policy{Weight: 1})
	r.c.Tenant(Policy{Weight: 4}) // configured but idle
	r.delay = 20 * time.Millisecond
	for i := 0; i < 100; i++ {
		if ch := r.tick(map[*Tenant]float64{a: 1.9}); len(ch) != 0 || a.Throttled() {
			t.Fatalf("tick %d: a alone throttled: %+v", i, ch)
		}
	}
	if st := r.c.FairStatus(); st.Contended || st.Active != 1 {
		t.Errorf("status %+v, want uncontended with 1 active", st)
	}
}

// TestFairAlone: Alone follows the activity Tick sees: nobody seen, only
// the tenant itself, or another tenant too, until activeFor after its
// last command.
func TestFairAlone(t *testing.T) {
	r := newFairRig(t)
	a := r.c.Tenant(Policy{Weight: 1})
	b := r.c.Tenant(Policy{Weight: 1})
	alone := func(when string, wantA, wantB bool) {
		t.Helper()
		if a.Alone() != wantA || b.Alone() != wantB {
			t.Errorf("%s: a alone %v, b alone %v; want %v, %v", when, a.Alone(), b.Alone(), wantA, wantB)
		}
	}
	alone("before any tick", true, true)
	r.tick(nil)
	alone("nobody active", true, true)
	r.tick(map[*Tenant]float64{a: 0.5})
	alone("a active", true, false)
	r.tick(map[*Tenant]float64{a: 0.5, b: 0.01})
	alone("both active", false, false)
	// b stops: it still counts as active for activeFor.
	for range int(activeFor/FairTick) - 1 {
		r.tick(map[*Tenant]float64{a: 0.5})
	}
	alone("b quiet for less than activeFor", false, false)
	r.tick(map[*Tenant]float64{a: 0.5})
	r.tick(map[*Tenant]float64{a: 0.5})
	alone("b quiet for activeFor", true, false)

	off := NewController(Options{Clock: newFake()}).Tenant(Policy{Weight: 1})
	if off.Alone() {
		t.Error("fair sharing off: Alone, but activity is not tracked")
	}
}

func TestFairThrottlesTheTenantAboveItsShare(t *testing.T) {
	r := newFairRig(t)
	aggr := r.c.Tenant(Policy{Weight: 1}) // silver
	vict := r.c.Tenant(Policy{Weight: 4}) // platinum
	use := map[*Tenant]float64{aggr: 1.6, vict: 0.05}
	r.tick(use) // both active
	r.delay = 5 * time.Millisecond
	ch := r.tick(use)
	if len(ch) != 1 || ch[0].Tenant != aggr || !ch[0].Throttled {
		t.Fatalf("changes %+v, want aggr throttled", ch)
	}
	if vict.Throttled() {
		t.Fatal("victim under its share throttled")
	}
	// While the delay stays high the allowance shrinks to, and never below,
	// the weighted share: 1/(1+4) of the capacity, which is what the server
	// was seen to serve before the throttle, and is held during it.
	capacity := r.c.FairStatus().Capacity
	if capacity < 0.8 || capacity > 1.65 {
		t.Fatalf("capacity %.3f: want what the two used, smoothed (0.8-1.65)", capacity)
	}
	floor := capacity / 5
	prev := aggr.Allowance()
	for i := 0; i < 50; i++ {
		use[aggr] = aggr.Allowance() // a throttled tenant uses its allowance
		r.tick(use)
		a := aggr.Allowance()
		if a > prev+1e-9 || a < floor-1e-3 {
			t.Fatalf("tick %d: allowance %.3f after %.3f (floor %.3f)", i, a, prev, floor)
		}
		prev = a
	}
	if math.Abs(prev-floor) > 1e-3 {
		t.Errorf("allowance settled at %.3f, want the weighted share %.3f", prev, floor)
	}
	if c := r.c.FairStatus().Capacity; c != capacity {
		t.Errorf("capacity moved from %.3f to %.3f while throttled", capacity, c)
	}
	if st := aggr.Stats(); st.Throttles != 1 || st.Allowance == 0 {
		t.Errorf("stats %+v", st)
	}
	// The delay falls: the allowance grows back and throttling ends.
	r.delay = 50 * time.Microsecond
	var released bool
	for i := 0; i < 200 && !released; i++ {
		for _, c := range r.tick(use) {
			if c.Tenant == aggr && !c.Throttled {
				released = true
			}
		}
	}
	if !released || aggr.Throttled() {
		t.Fatal("aggressor never released once the delay fell")
	}
}

func TestFairReleasesWhenTheOthersGoIdle(t *testing.T) {
	r := newFairRig(t)
	aggr := r.c.Tenant(Policy{Weight: 1})
	vict := r.c.Tenant(Policy{Weight: 1})
	r.tick(map[*Tenant]float64{aggr: 1.5, vict: 0.1})
	r.delay = 5 * time.Millisecond
	r.tick(map[*Tenant]float64{aggr: 1.5, vict: 0.1})
	if !aggr.Throttled() {
		t.Fatal("not throttled")
	}
	// The victim stops; once it has been idle for activeFor the aggressor
	// is alone and gets the whole server, delay or not.
	var ch []Change
	for i := 0; i < int(activeFor/FairTick)+2; i++ {
		ch = append(ch, r.tick(map[*Tenant]float64{aggr: 0.5})...)
	}
	if aggr.Throttled() || len(ch) != 1 || ch[0].Throttled {
		t.Fatalf("still throttled alone: %+v", ch)
	}
}

// TestFairProbation: a tenant that starts while others are already active
// is held to its share from its first tick, before the delay shows any
// contention, and silently: a flooder stays throttled (reported then), a
// light one is released at the next tick without a report. Tenants that
// start together are not on probation.
func TestFairProbation(t *testing.T) {
	r := newFairRig(t)
	v1 := r.c.Tenant(Policy{Weight: 4})
	v2 := r.c.Tenant(Policy{Weight: 2})
	if ch := r.tick(map[*Tenant]float64{v1: 0.1, v2: 0.1}); len(ch) != 0 || v1.Throttled() || v2.Throttled() {
		t.Fatalf("tenants starting together: %+v", ch)
	}
	r.tick(map[*Tenant]float64{v1: 0.1, v2: 0.1})
	// r.delay stays 0: no contention is measured.
	flood := r.c.Tenant(Policy{Weight: 1})
	light := r.c.Tenant(Policy{Weight: 1})
	use := map[*Tenant]float64{v1: 0.1, v2: 0.1, flood: 1.6, light: 0.01}
	if ch := r.tick(use); len(ch) != 0 {
		t.Fatalf("probation reported: %+v", ch)
	}
	if !flood.Throttled() || !light.Throttled() {
		t.Fatal("newcomers not held to their share at their first tick")
	}
	if v1.Throttled() || v2.Throttled() {
		t.Fatal("a tenant already active put on probation")
	}
	share := flood.Allowance()
	if capacity := r.c.FairStatus().Capacity; math.Abs(share-capacity/8) > 1e-5 {
		t.Errorf("allowance %.3f, want the weighted share %.3f", share, capacity/8)
	}
	use[flood] = 2 * share // it wants more than its share: it falls behind its schedule
	ch := r.tick(use)
	if len(ch) != 1 || ch[0].Tenant != flood || !ch[0].Throttled {
		t.Fatalf("changes after probation %+v, want the flooder reported throttled", ch)
	}
	if light.Throttled() {
		t.Error("a light newcomer still held after its probation")
	}
	if st := light.Stats(); st.Throttles != 0 {
		t.Errorf("light newcomer's throttles %d, want 0", st.Throttles)
	}
	if st := flood.Stats(); st.Throttles != 1 {
		t.Errorf("flooder's throttles %d, want 1", st.Throttles)
	}
}

func TestFairDisabled(t *testing.T) {
	clk := newFake()
	c := NewController(Options{Clock: clk, Fair: FairOptions{Delay: func() time.Duration { return time.Second }}})
	a, b := c.Tenant(Policy{}), c.Tenant(Policy{})
	for range 10 {
		a.Charge(int64(FairTick), Pacing{})
		b.Charge(1000, Pacing{})
		clk.Advance(FairTick)
		if ch := c.Tick(); ch != nil || a.Throttled() {
			t.Fatal("fair sharing ran while disabled")
		}
	}
	if a.Stats().CPU != 10*FairTick {
		t.Errorf("cost still counted when disabled: want %v, got %v", 10*FairTick, a.Stats().CPU)
	}
	if p := a.Pace(); p != (Pacing{}) {
		t.Errorf("Pace of an unthrottled tenant = %+v", p)
	}
}

// TestPaceSpacesReservations: a throttled tenant's reservations are spaced
// by cost/allowance after a burst of paceTolerance, so its connections wake
// one after another; an expensive command charged afterwards delays the
// next reservation by what it cost.
func TestPaceSpacesReservations(t *testing.T) {
	clk := newFake()
	c := NewController(Options{Clock: clk})
	tn := c.Tenant(Policy{})
	tn.est.Store(10_000)     // 10µs a command
	tn.allow.Store(ppm / 10) // 0.1 core: one command per 100µs
	tn.paceTat.Store(c.nanotime())
	step := 100 * time.Microsecond
	burst := int(time.Duration(paceTolerance) / step)
	var last time.Duration
	for i := 0; i < burst+5; i++ {
		p := tn.Pace()
		want := time.Duration(0)
		if i > burst {
			want = time.Duration(i-burst) * step
		}
		if p.Wait != want {
			t.Fatalf("reservation %d: wait %v, want %v", i, p.Wait, want)
		}
		tn.Charge(10_000, p) // cost as reserved: the schedule does not move
		last = p.Wait
	}
	// A 10ms command at 0.1 core pushes the schedule 100ms further out.
	p := tn.Pace()
	tn.Charge(int64(10*time.Millisecond), p)
	if q := tn.Pace(); q.Wait < last+100*time.Millisecond {
		t.Errorf("after a 10ms command the next wait is %v, want >= %v", q.Wait, last+100*time.Millisecond)
	} else {
		tn.Unpace(q)
		if r := tn.Pace(); r.Wait != q.Wait {
			t.Errorf("Unpace did not give the slot back: %v then %v", q.Wait, r.Wait)
		}
	}
}

func TestFairWeightsSetTheFloor(t *testing.T) {
	r := newFairRig(t)
	gold := r.c.Tenant(Policy{Weight: 2})
	plat := r.c.Tenant(Policy{Weight: 4})
	silver := r.c.Tenant(Policy{Weight: 1})
	use := map[*Tenant]float64{gold: 1.0, plat: 1.3, silver: 0.01}
	r.tick(use)
	r.delay = 10 * time.Millisecond
	for range 60 {
		r.tick(use)
		// A throttled tenant uses what it is allowed.
		for _, tn := range []*Tenant{gold, plat} {
			if tn.Throttled() {
				use[tn] = tn.Allowance()
			}
		}
	}
	// Both are above their shares and held at them: 2/7 and 4/7 of the
	// capacity.
	c := r.c.FairStatus().Capacity
	if g, p := gold.Allowance(), plat.Allowance(); math.Abs(g-c*2/7) > 1e-3 || math.Abs(p-c*4/7) > 1e-3 {
		t.Errorf("allowances gold %.3f platinum %.3f, want %.3f and %.3f", g, p, c*2/7, c*4/7)
	}
	if silver.Throttled() {
		t.Error("silver under its share throttled")
	}
}

func TestPercentile(t *testing.T) {
	bounds := []float64{0, 1e-6, 1e-5, 1e-4, 1e-3, math.Inf(1)}
	counts := []uint64{0, 90, 9, 1, 0}
	// The 99th sample is in [10µs, 100µs): its upper bound.
	if got := percentile(counts, bounds, 100, 0.99); got != int64(1e-4*1e9) {
		t.Errorf("p99 = %d, want 100000", got)
	}
	if got := percentile(counts, bounds, 100, 1); got != int64(1e-3*1e9) {
		t.Errorf("p100 = %d, want 1000000", got)
	}
	if got := percentile([]uint64{0, 0, 0, 0, 5}, bounds, 5, 0.99); got != int64(1e-3*1e9) {
		t.Errorf("last bucket = %d, want its lower bound", got)
	}
	if percentile(counts, bounds, 0, 0.99) != 0 {
		t.Error("empty window")
	}
}

func TestSchedSamplerReads(t *testing.T) {
	s := newSchedSampler()
	for range delayWindow + 3 {
		if d := s.p99(); d < 0 || d > int64(time.Minute) {
			t.Fatalf("p99 %d out of range", d)
		}
		time.Sleep(time.Millisecond)
	}
	if len(s.bounds) == 0 {
		t.Error("runtime lacks " + schedMetric)
	}
}

// TestFairCapacityIsLearned: the capacity shares divide follows what the
// server serves while nobody is throttled, decays slowly when it serves
// less, and stays within [10% of the cores, the cores].
func TestFairCapacityIsLearned(t *testing.T) {
	r := newFairRig(t)
	a := r.c.Tenant(Policy{Weight: 1})
	for range 20 {
		r.tick(map[*Tenant]float64{a: 1.3})
	}
	if c := r.c.FairStatus().Capacity; math.Abs(c-1.3) > 0.01 {
		t.Errorf("capacity %.3f after serving 1.3 cores, want 1.3", c)
	}
	for range 100 { // one second of light load: about 10% decay
		r.tick(map[*Tenant]float64{a: 0.01})
	}
	if c := r.c.FairStatus().Capacity; c < 1.1 || c > 1.25 {
		t.Errorf("capacity %.3f after 1s of light load, want a slow decay from 1.3", c)
	}
	for range 5000 {
		r.tick(map[*Tenant]float64{a: 0.01})
	}
	if c := r.c.FairStatus().Capacity; math.Abs(c-0.2) > 1e-9 {
		t.Errorf("capacity %.3f after a long idle, want the floor 0.2 (10%% of 2 cores)", c)
	}
	for range 20 {
		r.tick(map[*Tenant]float64{a: 5})
	}
	if c := r.c.FairStatus().Capacity; c != 2 {
		t.Errorf("capacity %.3f, want at most the cores", c)
	}
}

// TestDebt: a long command's checkpoints wait out what a throttled tenant
// ran beyond its allowance; Debt reserves nothing and is 0 unthrottled.
func TestDebt(t *testing.T) {
	r := newFairRig(t)
	a := r.c.Tenant(Policy{Weight: 1})
	b := r.c.Tenant(Policy{Weight: 1})
	if d := a.Debt(); d != 0 {
		t.Fatalf("unthrottled debt %v", d)
	}
	r.delay = 20 * time.Millisecond
	for i := 0; i < 5 && !a.Throttled(); i++ {
		r.tick(map[*Tenant]float64{a: 1.8, b: 0.1})
	}
	if !a.Throttled() {
		t.Fatal("a not throttled")
	}
	allow := a.Allowance()
	if d := a.Debt(); d != 0 {
		t.Fatalf("fresh throttle: debt %v", d)
	}
	// 10ms of work at an allowance of allow cores is 10ms/allow of
	// schedule; less the burst tolerance, that is the debt.
	a.Charge(int64(10*time.Millisecond), Pacing{})
	want := time.Duration(float64(10*time.Millisecond)/allow) - time.Duration(paceTolerance)
	if d := a.Debt(); d < want-time.Millisecond || d > want+time.Millisecond {
		t.Fatalf("debt %v after 10ms of work at %.2f cores, want ~%v", d, allow, want)
	}
	if d1, d2 := a.Debt(), a.Debt(); d1 != d2 {
		t.Fatalf("Debt reserved something: %v then %v", d1, d2)
	}
	r.clk.Advance(time.Hour)
	if d := a.Debt(); d != 0 {
		t.Fatalf("debt %v after it was waited out", d)
	}
}
