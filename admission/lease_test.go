package admission

import (
	"testing"
	"time"
)

// TestLease: a connection's lease keeps one slot across the commands of a
// batch, and every limit holds as if each command had taken its own.
func TestLease(t *testing.T) {
	clk := newFake()
	clk.frozen = true
	c := NewController(Options{Clock: clk, MaxInFlight: 100})
	tn := c.Tenant(Policy{MaxConcurrent: 1, MaxArgBytes: 100, Priority: 1})
	check := func(step string, inflight, bytes, global int64) {
		t.Helper()
		if st := tn.Stats(); st.InFlight != inflight || st.InFlightArgBytes != bytes || c.InFlight() != global {
			t.Errorf("%s: in flight %d, arg bytes %d, global %d; want %d, %d, %d",
				step, st.InFlight, st.InFlightArgBytes, c.InFlight(), inflight, bytes, global)
		}
	}
	var l, other Lease
	tk, r, ok := tn.AdmitLeased(&l, 10, 0, 0)
	if !ok || tk.lease != nil {
		t.Fatalf("first command: ok %v (%v), leased %v: want a plain admission", ok, r, tk.lease != nil)
	}
	tn.DoneLeased(&l, tk, 0)
	check("held after the first command", 1, 10, 1)

	// The next commands of the batch run on the held slot: max_concurrent 1
	// does not refuse them, and only a change of size touches the bytes.
	for i, size := range []int64{10, 40, 40, 5} {
		tk, r, ok := tn.AdmitLeased(&l, size, 0, 0)
		if !ok || tk.lease != &l {
			t.Fatalf("command %d: ok %v (%v), leased %v", i, ok, r, tk.lease == &l)
		}
		check("leased command", 1, size, 1)
		tn.DoneLeased(&l, tk, 0)
	}
	// Another connection is refused while the slot is held, as it would be
	// while a command runs.
	if _, r, ok := tn.AdmitLeased(&other, 1, 0, 0); ok || r != ReasonConcurrency {
		t.Errorf("second connection while the lease holds the slot: ok %v, %v; want concurrency", ok, r)
	}
	l.Release()
	check("released", 0, 0, 0)
	if st := tn.Stats(); st.Admitted != 5 || st.Wait.Counts[0] != 5 {
		t.Errorf("admitted %d (no-wait %d), want 5", st.Admitted, st.Wait.Counts[0])
	}
	tk, _, ok = tn.AdmitLeased(&other, 1, 0, 0)
	if !ok {
		t.Fatal("second connection refused after the release")
	}
	tn.Done(tk)

	// max_arg_bytes: a leased command that would pass it gives the lease
	// back and is judged as a new one (refused here: 60 + 50 > 100).
	tk, _, _ = tn.AdmitLeased(&l, 60, 0, 0)
	tn.DoneLeased(&l, tk, 0)
	tn.argBytes.Add(50) // another connection's command of the tenant
	if tk, r, ok := tn.AdmitLeased(&l, 60, 0, 0); !ok {
		t.Errorf("same size again refused (%v): its bytes are already held", r)
	} else {
		tn.DoneLeased(&l, tk, 0)
	}
	if _, r, ok := tn.AdmitLeased(&l, 70, 0, 0); ok || r != ReasonArgBytes {
		t.Errorf("growing past max_arg_bytes: ok %v, %v; want arg_bytes", ok, r)
	}
	if l.t != nil {
		t.Error("a refused command left the lease holding")
	}
	tn.argBytes.Add(-50)
	check("after the refusal", 0, 0, 0)

	// Done (not DoneLeased) of a leased ticket gives everything back: the
	// paths that end a command early (a refusal after admission, MULTI's
	// queueing, a blocking command's wait, a panic).
	tk, _, _ = tn.AdmitLeased(&l, 8, 0, 0)
	tn.DoneLeased(&l, tk, 0)
	tk, _, _ = tn.AdmitLeased(&l, 9, 0, 0)
	tn.Done(tk)
	check("Done of a leased ticket", 0, 0, 0)
	tn.DoneLeased(&l, tk, 0) // a late DoneLeased of it holds nothing again
	check("DoneLeased after Done", 0, 0, 0)
}

// TestLeaseFallsBack: what the lease would skip is checked again when it
// can refuse: a rate limit takes a token per command, and shedding in
// force refuses a leased command as it would a new one.
func TestLeaseFallsBack(t *testing.T) {
	clk := newFake()
	clk.frozen = true
	c := NewController(Options{Clock: clk, MaxInFlight: 100})
	rated := c.Tenant(Policy{Rate: 1, Burst: 1, Timeout: time.Millisecond, Priority: 1})
	var l Lease
	tk, _, ok := rated.AdmitLeased(&l, 1, 0, 0)
	if !ok {
		t.Fatal("first command refused")
	}
	rated.DoneLeased(&l, tk, 0)
	if _, r, ok := rated.AdmitLeased(&l, 1, 0, 0); ok || r != ReasonRate {
		t.Errorf("second command within the rate's interval: ok %v, %v; want rate", ok, r)
	}
	l.Release()

	low := c.Tenant(Policy{Priority: 1})
	c.Tenant(Policy{Priority: 3})
	tk, _, _ = low.AdmitLeased(&l, 1, 0, 0)
	low.DoneLeased(&l, tk, 0)
	c.inflight.Add(c.ShedThreshold(1)) // the server is past priority 1's threshold
	if _, r, ok := low.AdmitLeased(&l, 1, 0, 0); ok || r != ReasonShed {
		t.Errorf("leased command past the shedding threshold: ok %v, %v; want shed", ok, r)
	}
	c.inflight.Add(-c.ShedThreshold(1))
	if l.t != nil || c.InFlight() != 0 {
		t.Errorf("after the shed: lease holds %v, global %d", l.t != nil, c.InFlight())
	}
}

// TestLeaseCountsLongBatches: a lease adds its commands to the admitted
// count every leaseCount, so the fair-sharing tick sees a long batch.
func TestLeaseCountsLongBatches(t *testing.T) {
	tn := NewController(Options{Clock: newFake()}).Tenant(Policy{})
	var l Lease
	for range 2*leaseCount + 1 {
		tk, _, _ := tn.AdmitLeased(&l, 1, 0, 0)
		tn.DoneLeased(&l, tk, 0)
	}
	if got := tn.admitted(); got < 2*leaseCount {
		t.Errorf("admitted %d before the release, want at least %d", got, 2*leaseCount)
	}
	l.Release()
	if got := tn.admitted(); got != 2*leaseCount+1 {
		t.Errorf("admitted %d after the release, want %d", got, 2*leaseCount+1)
	}
}
