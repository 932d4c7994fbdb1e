package backing

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tcached/tcached/backed"
	"github.com/tcached/tcached/resp"
)

// tracker keeps one RESP3 connection per master with
// CLIENT TRACKING ON BCAST PREFIX <prefix>: Redis then pushes the name of
// every key under the prefix that changes on that master, whoever changed
// it, and a null list when the master is flushed.
//
// Coherence is kept per slot (backed/slots.go). A slot is served from L1
// only while its master has a live tracking connection that was up
// before the slot's L1 copies were last dropped. When a connection drops
// or misses its pings, its master's slots are suspended at once (L1 stops
// serving them; the other masters' slots go on being served); when a new
// slot map moves slots to another master (a failover, a migration), the
// moved slots are suspended. Once a suspended slot's master is tracked
// again (a new connection, acknowledged), the slot's L1 copies are dropped
// and it is served again. A flushed master drops its slots' copies. No
// other slot's copies are touched: L1 never serves a copy made while its
// slot's changes could go unseen, and never loses copies that could not.
//
// ready is true only while every current master has a live, answering
// tracking connection (a report: INFO, metrics).
type tracker struct {
	ready   atomic.Bool
	mu      sync.Mutex // guards conns, masters and owners
	conns   map[string]*trackConn
	masters []string // sorted by their first slot: SCAN's cursor order
	owners  []string // slot -> master address, from the last CLUSTER SLOTS
	// slotMu serialises the slot-scoped invalidations with susp, the
	// slots the consumer holds suspended: a dying connection's suspension
	// and a round's resumption never cross. It is held while the consumer
	// drops L1 copies, never together with mu.
	slotMu sync.Mutex
	susp   backed.SlotSet
	// tracked is set once every master has been tracked: the slots
	// served at start-up are not counted as invalidations.
	tracked bool
}

type trackConn struct {
	addr     string
	nc       net.Conn
	wmu      sync.Mutex
	rd       *resp.Reader
	lastPong atomic.Int64 // unix nanos
	// pingSent is when the oldest unanswered PING was sent (unix nanos,
	// 0: none). Silence is measured from it, not from the last PONG, so a
	// round delayed by a dead node (a slow CLUSTER SLOTS, a dial) does not
	// make the healthy masters' connections look silent.
	pingSent atomic.Int64
	dead     atomic.Bool
}

func (t *tracker) init() {
	t.conns = map[string]*trackConn{}
	t.susp = *backed.AllSlots() // as a new backed.Mode: nothing served yet
}

func (t *tracker) counts() (masters, conns int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.masters), len(t.conns)
}

func (t *tracker) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ready.Store(false)
	for a, tc := range t.conns {
		tc.nc.Close()
		delete(t.conns, a)
	}
}

// mastersSorted returns the masters in SCAN cursor order.
func (c *Cluster) mastersSorted(ctx context.Context) ([]string, error) {
	c.tr.mu.Lock()
	m := c.tr.masters
	c.tr.mu.Unlock()
	if len(m) > 0 {
		return m, nil
	}
	return c.fetchMasters(ctx)
}

// fetchMasters reads CLUSTER SLOTS, records the slot map and returns the
// master addresses ordered by the first slot each serves.
func (c *Cluster) fetchMasters(ctx context.Context) ([]string, error) {
	owners, out, err := c.readSlots(ctx)
	if err != nil {
		return nil, err
	}
	c.tr.mu.Lock()
	c.tr.masters, c.tr.owners = out, owners
	c.tr.mu.Unlock()
	return out, nil
}

// readSlots reads CLUSTER SLOTS: the owner of each slot ("" for none)
// and the masters ordered by the first slot each serves. When the
// cluster client cannot (it may ask a dead node), each known node is
// asked in turn.
func (c *Cluster) readSlots(ctx context.Context) (owners, masters []string, err error) {
	// The cluster client may ask a dead master: half a second for it,
	// then each known node in turn, half a second each, within ctx.
	ctx1, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	slots, err := c.rdb.ClusterSlots(ctx1).Result()
	cancel()
	if err != nil {
		c.tr.mu.Lock()
		seen := map[string]bool{}
		var addrs []string
		for _, a := range append(append([]string(nil), c.tr.masters...), c.opt.Addrs...) {
			if !seen[a] {
				seen[a] = true
				addrs = append(addrs, a)
			}
		}
		c.tr.mu.Unlock()
		for _, a := range addrs {
			if ctx.Err() != nil {
				break
			}
			var e2 error
			ctx1, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			slots, e2 = c.node(a).ClusterSlots(ctx1).Result()
			cancel()
			if e2 == nil {
				err = nil
				break
			}
		}
		if err != nil {
			return nil, nil, err
		}
	}
	first := map[string]int{}
	owners = make([]string, SlotCount)
	for _, s := range slots {
		if len(s.Nodes) == 0 {
			continue
		}
		a := s.Nodes[0].Addr
		for i := max(s.Start, 0); i <= min(s.End, SlotCount-1); i++ {
			owners[i] = a
		}
		if f, ok := first[a]; !ok || s.Start < f {
			first[a] = s.Start
		}
	}
	masters = make([]string, 0, len(first))
	for a := range first {
		masters = append(masters, a)
	}
	sort.Slice(masters, func(i, j int) bool { return first[masters[i]] < first[masters[j]] })
	if len(masters) == 0 {
		return nil, nil, errors.New("cluster serves no slots")
	}
	return owners, masters, nil
}

// setReady records whether every master is tracked, logging changes.
func (c *Cluster) setReady(ready bool, why string, args ...any) {
	if c.tr.ready.Swap(ready) != ready {
		if ready {
			c.log.Info("backing: every master is tracked")
		} else {
			c.log.Warn("backing: L1 off for the slots of untracked masters until they are tracked again: "+why, args...)
		}
	}
}

// suspendLocked suspends the slots of set that are served. c.tr.slotMu
// must be held.
func (c *Cluster) suspendLocked(set *backed.SlotSet) {
	var add backed.SlotSet
	n := 0
	for i := range set {
		add[i] = set[i] &^ c.tr.susp[i]
		if add[i] != 0 {
			n++
		}
	}
	if n == 0 {
		return
	}
	c.inv(backed.Invalidation{Slots: &add, Suspend: true})
	for i := range add {
		c.tr.susp[i] |= add[i]
	}
}

// dropLocked drops the L1 copies of set and serves those slots again.
// c.tr.slotMu must be held.
func (c *Cluster) dropLocked(set *backed.SlotSet) {
	n := set.Len()
	if n == 0 {
		return
	}
	if c.tr.tracked {
		c.slotInvalidations.Add(uint64(n))
	}
	c.inv(backed.Invalidation{Slots: set})
	for i := range set {
		c.tr.susp[i] &^= set[i]
	}
}

// slotsOf is the set of slots owned by addr in the last slot map.
// c.tr.mu must be held.
func (c *Cluster) slotsOf(addr string) *backed.SlotSet {
	var set backed.SlotSet
	for s, o := range c.tr.owners {
		if o == addr {
			set.Add(s)
		}
	}
	return &set
}

// connLost suspends the slots of tc's master unless tc was already
// replaced or retired by a round (which decided about its slots).
func (c *Cluster) connLost(tc *trackConn, err error) {
	c.tr.slotMu.Lock()
	defer c.tr.slotMu.Unlock()
	c.tr.mu.Lock()
	current := c.tr.conns[tc.addr] == tc
	var set *backed.SlotSet
	if current {
		set = c.slotsOf(tc.addr)
	}
	c.tr.mu.Unlock()
	if !current {
		return
	}
	c.setReady(false, "tracking connection dropped", "master", tc.addr, "err", err)
	c.suspendLocked(set)
}

// masterFlushed drops the L1 copies of the slots of tc's master.
func (c *Cluster) masterFlushed(tc *trackConn) {
	c.tr.slotMu.Lock()
	defer c.tr.slotMu.Unlock()
	c.tr.mu.Lock()
	set := c.slotsOf(tc.addr)
	c.tr.mu.Unlock()
	for i := range set {
		set[i] &^= c.tr.susp[i] // suspended ones are dropped when resumed
	}
	c.dropLocked(set)
}

// trackOnce reads the slot map, retires dead, silent and demoted
// tracking connections, opens missing ones, and suspends or drops and
// serves again the slots concerned.
func (c *Cluster) trackOnce() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c.tr.slotMu.Lock()
	defer c.tr.slotMu.Unlock()
	owners, masters, err := c.readSlots(ctx)
	if err != nil {
		// Without a slot map a move goes unseen: serve nothing until one
		// is read again, then drop every slot (no node answered CLUSTER
		// SLOTS: rare enough not to be worth telling the unmoved slots
		// apart).
		c.setReady(false, "cannot read the cluster's slots", "err", err)
		c.suspendLocked(backed.AllSlots())
		return
	}
	want := map[string]bool{}
	for _, m := range masters {
		want[m] = true
	}
	silent := 5 * c.opt.TrackInterval
	if silent < time.Second {
		silent = time.Second
	}
	now := time.Now()
	lost := map[string]bool{}
	c.tr.mu.Lock()
	old := c.tr.owners
	for a, tc := range c.tr.conns {
		ps := tc.pingSent.Load()
		if !want[a] || tc.dead.Load() || (ps != 0 && now.Sub(time.Unix(0, ps)) > silent) {
			tc.dead.Store(true)
			delete(c.tr.conns, a)
			tc.nc.Close()
			lost[a] = true
		}
	}
	c.tr.masters, c.tr.owners = masters, owners
	var dial []string
	for _, m := range masters {
		if c.tr.conns[m] == nil {
			dial = append(dial, m)
		}
	}
	c.tr.mu.Unlock()
	var moved backed.SlotSet
	nMoved := 0
	for s, o := range owners {
		prev := ""
		if old != nil {
			prev = old[s]
		}
		if o != prev || lost[o] || lost[prev] {
			moved.Add(s)
			nMoved++
		}
	}
	if len(lost) > 0 || (nMoved > 0 && old != nil) {
		c.log.Info("backing: tracking connection lost or slots moved", "lost", len(lost), "slots", nMoved)
		c.rdb.ReloadState(ctx)
	}
	var failed []string
	for _, m := range dial { // without mu: key commands read the slot map meanwhile
		tc, err := c.dialTracking(ctx, m)
		if err != nil {
			failed = append(failed, m)
			c.log.Debug("backing: cannot track a master", "master", m, "err", err)
			continue
		}
		c.tr.mu.Lock()
		c.tr.conns[m] = tc
		c.tr.mu.Unlock()
		c.wg.Add(1)
		go c.readTracking(tc)
	}
	var suspend, drop backed.SlotSet
	c.tr.mu.Lock()
	live := map[string]bool{}
	conns := make([]*trackConn, 0, len(c.tr.conns))
	for a, tc := range c.tr.conns {
		live[a] = !tc.dead.Load()
		conns = append(conns, tc)
	}
	for s, o := range owners {
		switch {
		case o == "" || !live[o]:
			suspend.Add(s)
		case moved.Has(s) || c.tr.susp.Has(s):
			drop.Add(s)
		}
	}
	ready := true
	for _, m := range masters {
		ready = ready && live[m]
	}
	c.tr.mu.Unlock()
	for _, tc := range conns {
		tc.ping() // a failed one is retired next round
	}
	c.suspendLocked(&suspend)
	c.dropLocked(&drop)
	if ready {
		c.tr.tracked = true
		c.setReady(true, "")
	} else {
		c.setReady(false, "cannot track a master", "masters", failed)
	}
}

func (tc *trackConn) ping() {
	tc.wmu.Lock()
	defer tc.wmu.Unlock()
	tc.pingSent.CompareAndSwap(0, time.Now().UnixNano())
	tc.nc.SetWriteDeadline(time.Now().Add(time.Second))
	if _, err := tc.nc.Write(resp.AppendCommand(nil, []byte("PING"))); err != nil {
		tc.dead.Store(true)
		tc.nc.Close()
	}
}

// dialTracking opens a RESP3 connection to addr and turns tracking on.
func (c *Cluster) dialTracking(ctx context.Context, addr string) (*trackConn, error) {
	d := net.Dialer{Timeout: time.Second}
	var nc net.Conn
	var err error
	if c.opt.TLS != nil {
		td := tls.Dialer{NetDialer: &d, Config: c.opt.TLS}
		nc, err = td.DialContext(ctx, "tcp", addr)
	} else {
		nc, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(time.Second))
	rd := resp.NewReader(bufio.NewReader(nc))
	hello := [][]byte{[]byte("HELLO"), []byte("3")}
	if c.opt.Password != "" {
		user := c.opt.Username
		if user == "" {
			user = "default"
		}
		hello = append(hello, []byte("AUTH"), []byte(user), []byte(c.opt.Password))
	}
	req := resp.AppendCommand(nil, hello...)
	req = resp.AppendCommand(req, []byte("CLIENT"), []byte("SETNAME"), []byte("tcached-tracking"))
	req = resp.AppendCommand(req, []byte("CLIENT"), []byte("TRACKING"), []byte("ON"), []byte("BCAST"), []byte("PREFIX"), []byte(c.prefix))
	if _, err := nc.Write(req); err != nil {
		nc.Close()
		return nil, err
	}
	for i := 0; i < 3; i++ {
		v, err := rd.ReadReply()
		if err == nil {
			if re, ok := v.(*resp.ReplyError); ok {
				err = fmt.Errorf("%s", re.Msg)
			}
		}
		if err != nil {
			nc.Close()
			return nil, err
		}
	}
	nc.SetDeadline(time.Time{})
	tc := &trackConn{addr: addr, nc: nc}
	tc.lastPong.Store(time.Now().UnixNano())
	tc.rd = rd
	return tc, nil
}

// readTracking delivers a tracking connection's pushes until it fails.
func (c *Cluster) readTracking(tc *trackConn) {
	defer c.wg.Done()
	for {
		v, err := tc.rd.ReadReply()
		if err != nil {
			tc.dead.Store(true)
			tc.nc.Close()
			select {
			case <-c.stop:
			default:
				c.connLost(tc, err)
			}
			return
		}
		switch x := v.(type) {
		case resp.Status:
			tc.lastPong.Store(time.Now().UnixNano())
			tc.pingSent.Store(0)
		case resp.Push:
			if x.Kind != "invalidate" || len(x.Data) == 0 {
				continue
			}
			keys, ok := x.Data[0].([]any)
			if !ok { // null: the master was flushed
				c.masterFlushed(tc)
				continue
			}
			for _, k := range keys {
				b, _ := k.([]byte)
				if t, db, key, ok := c.parse(b); ok {
					c.invalidations.Add(1)
					c.inv(backed.Invalidation{Tenant: t, DB: db, Key: key})
				}
			}
		}
	}
}
