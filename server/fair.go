package server

import (
	"time"

	"github.com/tcached/tcached/admission"
)

// Cost accounting and fair sharing (package admission, "Fair sharing when
// contended"). The connection loop measures each command's service time
// with the clock reading it takes anyway (the command's start, for
// admission and latency): the span from one command's start to the next's
// is the first command's cost (parsing the next one included), and the
// span up to the end of the flush is the last one's, plus the write. A
// throttled tenant's connection waits for its allowance before each
// command; nothing else pays for the check but one atomic load.

// maxFlushCharge caps what one flush is charged: a write to a client that
// does not read blocks in the kernel, which is waiting, not work. 2ms is
// several times the cost of writing a 512 KiB reply here.
const maxFlushCharge = 2 * time.Millisecond

// pace runs before each command: it charges the span since the previous
// mark, and for a throttled tenant waits for the tenant's allowance. It
// reports true when it answered the command itself (refused: the wait
// would pass the tier timeout), which must then not be dispatched.
func (s *Server) pace(c *client) bool {
	// One clock reading per command: the end of the previous one, read by
	// dispatch (or the read that brought this one), when there is one.
	now := c.now
	c.now = time.Time{}
	if now.IsZero() {
		now = time.Now()
	}
	s.charge(c, now)
	c.cmdStart = now
	t := c.tenant
	if t == nil || !t.adm.Throttled() {
		return false
	}
	p := t.adm.Pace()
	if p.Wait < admission.MinPaceWait {
		c.pacing = p
		return false
	}
	if to := t.cfg().Tier.Timeout; to > 0 && now.Sub(c.readAt)+p.Wait > to {
		t.adm.Unpace(p)
		t.adm.Refuse(admission.ReasonFairShare)
		c.reject(nil, errFairShare)
		// As after a rate refusal: read nothing more for a while, so a
		// closed-loop client waits in its own socket.
		c.backoff = min(p.Wait, to)
		return true
	}
	// Replies already encoded go out first: the wait must not hold them.
	s.flushCharged(c)
	timer := time.NewTimer(min(p.Wait, admission.MaxPaceWait))
	select {
	case <-timer.C:
	case <-s.stop:
		timer.Stop()
	}
	after := time.Now()
	t.adm.Slept(after.Sub(now))
	c.cmdStart, c.mark = after, after
	c.pacing = p
	return false
}

// charge charges the span from c.mark to now, less unbilled waits, to the
// connection's tenant (or to the server, before AUTH and for operators).
func (s *Server) charge(c *client, now time.Time) {
	if c.mark.IsZero() {
		c.mark, c.unbilled = now, 0 // a client the loop never ran (tests)
		return
	}
	d := now.Sub(c.mark) - c.unbilled
	c.mark, c.unbilled = now, 0
	s.bill(c, d, c.pacing)
	c.pacing = admission.Pacing{}
}

// bill charges d to the connection's tenant, or to the server when it has
// none. An unthrottled tenant's charges collect in the connection and reach
// the tenant's shared counter once per flush (settle): one atomic add per
// pipeline instead of one per command, on a cache line all the tenant's
// connections write. A throttled tenant's are added at once, as its
// schedule moves with every command.
func (s *Server) bill(c *client, d time.Duration, p admission.Pacing) {
	t := c.tenant
	if t == nil {
		s.admission.ChargeServer(int64(d))
		return
	}
	if !p.Reserved() && !t.adm.Throttled() {
		c.owed += d
		return
	}
	t.adm.Charge(int64(d+c.owed), p)
	c.owed = 0
}

// settle adds the connection's owed charges to its tenant.
func (s *Server) settle(c *client) {
	if c.owed != 0 && c.tenant != nil {
		c.tenant.adm.Charge(int64(c.owed), admission.Pacing{})
	}
	c.owed = 0
}

// flushCharged writes the buffered replies, charging the last command's
// span and the write (capped at maxFlushCharge).
func (s *Server) flushCharged(c *client) error {
	now := time.Now()
	s.charge(c, now)
	err := c.conn.flush()
	end := time.Now()
	c.mark = end
	s.bill(c, min(end.Sub(now), maxFlushCharge), admission.Pacing{})
	s.settle(c)
	return err
}

// fairTick runs one round of fair sharing and reports throttling changes
// (log, audit log).
func (s *Server) fairTick() {
	changes := s.admission.Tick()
	if len(changes) == 0 {
		return
	}
	order := s.reg.Load().order
	for _, ch := range changes {
		var t *tenant
		for _, x := range order {
			if x.adm == ch.Tenant {
				t = x
				break
			}
		}
		if t == nil {
			continue // removed by a reload meanwhile
		}
		result := "released"
		if ch.Throttled {
			result = "throttled"
		}
		attrs := []any{"tier", t.cfg().TierName, "usage_cores", round3(ch.Usage),
			"allowance_cores", round3(ch.Allowance), "sched_delay_us", ch.Delay.Microseconds()}
		s.log.Warn("fair share", append([]any{"tenant", t.id, "result", result}, attrs...)...)
		s.audit("fair_share", t.id, "", "", "", result, attrs...)
	}
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }
