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
// ready is true only while every current master has a live, answering
// tracking connection. Whenever that stops being true (a connection drops
// or misses its pings, the set of masters changes, slots cannot be read)
// ready goes false and every L1 copy is dropped at once; when every master
// is tracked again, L1 is dropped once more and ready comes back. So L1
// never serves a copy made while some master's changes could go unseen.
type tracker struct {
	ready   atomic.Bool
	mu      sync.Mutex
	conns   map[string]*trackConn
	masters []string // sorted by their first slot: SCAN's cursor order
	owners  []string // slot -> master address, from the last CLUSTER SLOTS
}

type trackConn struct {
	addr     string
	nc       net.Conn
	wmu      sync.Mutex
	rd       *resp.Reader
	lastPong atomic.Int64 // unix nanos
	dead     atomic.Bool
}

func (t *tracker) init() { t.conns = map[string]*trackConn{} }

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

// fetchMasters reads CLUSTER SLOTS and returns the master addresses
// ordered by the first slot each serves.
func (c *Cluster) fetchMasters(ctx context.Context) ([]string, error) {
	slots, err := c.rdb.ClusterSlots(ctx).Result()
	if err != nil {
		return nil, err
	}
	first := map[string]int{}
	owners := make([]string, SlotCount)
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
	out := make([]string, 0, len(first))
	for a := range first {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return first[out[i]] < first[out[j]] })
	if len(out) == 0 {
		return nil, errors.New("cluster serves no slots")
	}
	c.tr.mu.Lock()
	c.tr.masters, c.tr.owners = out, owners
	c.tr.mu.Unlock()
	return out, nil
}

// notReady drops L1 wholesale if it was being served.
func (c *Cluster) notReady(why string, args ...any) {
	if c.tr.ready.Swap(false) {
		c.log.Warn("backing: L1 off until every master is tracked again: "+why, args...)
		c.invalidateAll.Add(1)
		c.inv(backed.Invalidation{All: true})
	}
}

func (c *Cluster) trackOnce() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	masters, err := c.fetchMasters(ctx)
	if err != nil {
		c.notReady("cannot read the cluster's slots", "err", err)
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
	c.tr.mu.Lock()
	defer c.tr.mu.Unlock()
	changed := false
	for a, tc := range c.tr.conns {
		if !want[a] || tc.dead.Load() || now.Sub(time.Unix(0, tc.lastPong.Load())) > silent {
			tc.dead.Store(true)
			tc.nc.Close()
			delete(c.tr.conns, a)
			changed = true
		}
	}
	if changed {
		c.notReady("tracking connection lost or topology changed")
		c.rdb.ReloadState(ctx)
	}
	for _, m := range masters {
		if c.tr.conns[m] != nil {
			continue
		}
		tc, err := c.dialTracking(ctx, m)
		if err != nil {
			c.notReady("cannot track a master", "master", m, "err", err)
			continue
		}
		c.tr.conns[m] = tc
		changed = true
		c.wg.Add(1)
		go c.readTracking(tc)
	}
	for _, tc := range c.tr.conns {
		tc.ping()
	}
	if len(c.tr.conns) == len(masters) && (changed || !c.tr.ready.Load()) {
		// Every master is tracked from here on: drop what was cached
		// before, then serve L1 again.
		c.invalidateAll.Add(1)
		c.inv(backed.Invalidation{All: true})
		c.tr.ready.Store(true)
	}
}

func (tc *trackConn) ping() {
	tc.wmu.Lock()
	defer tc.wmu.Unlock()
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
				c.notReady("tracking connection dropped", "master", tc.addr, "err", err)
			}
			return
		}
		switch x := v.(type) {
		case resp.Status:
			tc.lastPong.Store(time.Now().UnixNano())
		case resp.Push:
			if x.Kind != "invalidate" || len(x.Data) == 0 {
				continue
			}
			keys, ok := x.Data[0].([]any)
			if !ok { // null: the master was flushed
				c.invalidateAll.Add(1)
				c.inv(backed.Invalidation{All: true})
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
