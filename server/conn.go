package server

import (
	"net"
	"runtime/debug"
	"time"

	"github.com/tcached/tcached/admission"
	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/config"
	"github.com/tcached/tcached/resp"
)

// Limits are the connection and protocol bounds (config.Limits: Redis's
// limits plus tcached's deadlines and AUTH throttling).
type Limits = config.Limits

// protoFor is the parser's limits before and after AUTH.
func protoFor(l Limits) (pre, auth resp.Limits) {
	pre = resp.Limits{
		MaxArgs:      l.PreAuthMaxArgs,
		MaxBulk:      l.PreAuthMaxBulkLen,
		MaxBuffered:  l.PreAuthQueryBufferLimit,
		MaxInlineLen: int(l.MaxInlineLen),
	}
	auth = resp.Limits{
		MaxArgs:      1<<31 - 1,
		MaxBulk:      l.ProtoMaxBulkLen,
		MaxBuffered:  l.ClientQueryBufferLimit,
		MaxInlineLen: int(l.MaxInlineLen),
	}
	return pre, auth
}

const initialReadBuf = 4 << 10

// refuse answers a connection that will not be served and closes it.
func (s *Server) refuse(nc net.Conn, msg string) {
	nc.SetWriteDeadline(time.Now().Add(time.Second))
	nc.Write([]byte("-" + msg + "\r\n"))
	nc.Close()
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func isLoopback(addr net.Addr) bool {
	if ta, ok := addr.(*net.TCPAddr); ok {
		return ta.IP.IsLoopback()
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// serveConn runs one connection: read, parse with the bounded parser,
// dispatch each command, flush replies. It returns when the client leaves,
// breaks a limit, times out, or the server shuts down (after finishing the
// command in progress).
func (s *Server) serveConn(nc net.Conn) {
	c := s.newClient(nc)
	if !s.bindDefault(c) {
		c.conn.WriteError(errTenantMaxConns)
		c.conn.flush()
		nc.Close()
		s.dropClient(c)
		s.conns.Add(-1)
		s.connWG.Done()
		return
	}
	// The first read buffer is part of the connection's fixed cost
	// (config.ConnOverhead); its growth is charged (clientmem.go).
	s.runConn(c, nc, make([]byte, initialReadBuf), 0, 0)
}

// runConn serves c from buf[r:w] (connLoop) and ends the connection, on
// this goroutine, or on a new one connLoop handed the connection to: a
// command left this goroutine locked to a thread at SCHED_IDLE that it
// may not move back (fair.go, endWork), so this goroutine ends, and with
// it the thread.
func (s *Server) runConn(c *client, nc net.Conn, buf []byte, r, w int) {
	handed := false
	defer func() {
		if handed {
			return
		}
		s.endConn(c, nc, recover())
		s.conns.Add(-1)
		s.connWG.Done()
	}()
	handed = s.connLoop(c, nc, buf, r, w)
}

// endConn, run by the goroutine that ends a connection, logs a panic of
// its loop (p, recovered), flushes, and releases everything the client
// holds.
func (s *Server) endConn(c *client, nc net.Conn, p any) {
	if r := p; r != nil {
		s.panics.Add(1)
		s.log.Error("panic in connection", "panic", panicText(r), "stack", string(debug.Stack()))
	}
	start := s.mono()
	c.flushBatch()
	c.conn.flush()
	c.gone.Store(true)
	c.trackOff()    // tracking.go
	c.stopMonitor() // monitor.go
	c.pubsubClose() // pub/sub (pubsub.go): unsubscribe, drain the queue
	nc.Close()
	// Closing is the connection's tenant's work too, with what the kernel
	// and the runtime spend outside this goroutine (fair.go, connCost).
	s.bill(c, time.Duration(s.mono()-start)+connCost/2, admission.Pacing{})
	s.settle(c)
	s.dropClient(c)
}

// connLoop is the goroutine-per-connection loop over nc, from a read
// buffer whose bytes buf[r:w] are not executed yet. It returns when the
// connection must close, or true when it handed the connection to a new
// goroutine (c.retire: see runConn).
func (s *Server) connLoop(c *client, nc net.Conn, buf []byte, r, w int) (handed bool) {
	sr := newSockReader(nc, s.mono)
	for {
		var quit, ok bool
		if c.retire {
			c.retire = false
			s.retired.Add(1)
			go s.runConn(c, nc, buf, r, w) // the read deadline set stays set: harmless
			return true
		}
		if r, quit = s.runBuffered(c, buf, r, w); quit {
			return false
		} else if c.retire {
			continue // the rest of the buffer runs on the new goroutine
		}
		if s.flushCharged(c) != nil || s.closing.Load() || c.killed.Load() {
			return false
		}
		if c.backoff > 0 {
			d := c.backoff
			c.backoff = 0
			select {
			case <-time.After(d):
			case <-s.stop:
				return false
			}
		}
		if buf, r, w, ok = s.makeRoom(c, buf, r, w); !ok {
			return false
		}
		if d := s.readDeadline(c); d != c.readDL {
			nc.SetReadDeadline(d)
			c.readDL = d
			// Close and CLIENT KILL wake readers by setting a deadline of
			// now; re-check in case that happened just before ours.
			if s.closing.Load() || c.killed.Load() {
				return false
			}
		}
		// What the read buffer holds while the connection waits for
		// input, for CLIENT LIST (qbuf, qbuf-free).
		c.mem.qbuf.Store(int64(w - r))
		c.mem.qfree.Store(int64(len(buf) - w))
		// A queue another connection started for this one (a tracking
		// redirect, tracking.go) is adopted between reads; its waker may
		// interrupt the read to get here.
		if c.wakeReq.Load() && !s.adoptWoken(c, c.readDL) {
			return false
		}
		var n int
		var err error
		if sr != nil {
			n, err = sr.Read(buf[w:])
		} else {
			n, err = nc.Read(buf[w:])
		}
		c.inBytes.Add(uint64(n))
		c.readAt = s.mono() // commands completed by this read arrived now
		c.mark, c.now = c.readAt, c.readAt
		if sr != nil && sr.spent > 0 {
			// The read system calls are the request's work, the sleep
			// between them is not (sockread_unix.go).
			s.bill(c, time.Duration(sr.spent), admission.Pacing{})
			sr.spent = 0
		}
		w += n
		if err != nil && n == 0 {
			if c.wakeReq.Load() && isTimeout(err) {
				if !s.adoptWoken(c, c.readDL) {
					return false
				}
				continue
			}
			return false
		}
	}
}

// runBuffered executes every complete command in buf[r:w] and returns
// where the unexecuted bytes start; quit reports that the connection must
// close (a protocol error, whose reply is buffered, a write error, QUIT,
// CLIENT KILL, shutdown).
func (s *Server) runBuffered(c *client, buf []byte, r, w int) (int, bool) {
	for {
		lim := &s.authLimits
		if !c.authed() {
			lim = &s.preLimits
		}
		args, n, err := c.parser.Next(buf[r:w], lim)
		if err == resp.ErrNeedMore {
			c.ranBytes.Store(c.inBytes.Load())
			if s := c.ps; s != nil {
				s.ranInput() // a PUBLISH may be waiting for it (pubsub.go)
			}
			return r, false
		}
		// A type switch, not errors.As: errors.As makes its target
		// escape, one allocation per command.
		if pe, ok := err.(resp.ProtocolError); ok {
			c.conn.WriteError(string(pe))
			return r, true
		}
		r += n
		if args != nil {
			if !s.pace(c) {
				c.pubsubBegin() // pub/sub (pubsub.go): hold messages during the command
				if c.reply == replyOn {
					s.dispatch(c, args)
				} else {
					s.dispatchQuiet(c, args) // CLIENT REPLY OFF|SKIP (cmd_reply.go)
				}
				if st := c.trk; st != nil && st.caching && !c.multi && !command.EqFold(args[0], "client") {
					// CLIENT CACHING holds for the next command (or
					// transaction) only, as Redis's resetClient.
					st.caching = false
				}
				c.pubsubEnd()
			}
			if c.conn.err != nil || c.conn.closeAfter {
				return r, true
			}
			if c.retire {
				return r, false // connLoop moves the connection to a new goroutine first
			}
		}
		if s.closing.Load() || c.killed.Load() {
			return r, true
		}
	}
}

// makeRoom makes room in buf for more input once buf[r:w] is all that is
// left unexecuted: it moves or grows the buffer (charging the growth to
// client memory, which may pause), and reports false, with the reply
// buffered, when the connection must close instead.
func (s *Server) makeRoom(c *client, buf []byte, r, w int) ([]byte, int, int, bool) {
	if r == w {
		// A big buffer goes back unless the commands it just held filled
		// half of it: a connection streaming big values (a 512 KiB SET
		// after another) keeps its buffer, still charged to its client
		// memory, instead of growing a fresh one for each, which allocated
		// twice the value and copied it once more, and the garbage
		// collector's cycles that this paid for slowed every tenant
		// (bench-isolation's big shape). One grown by an overdraft (past
		// the budget) always goes back.
		if len(buf) > 64<<10 && (w < len(buf)/2 || c.mem.odPool != nil) {
			buf = make([]byte, initialReadBuf)
			c.mem.set(&c.mem.query, 0)
		}
		r, w = 0, 0
		if c.mem.odPool != nil {
			// Its commands are in and its buffer is gone: another
			// connection may overdraw now (clientmem.go).
			c.endOverdraft()
		}
		return buf, r, w, true
	}
	if w < len(buf) {
		return buf, r, w, true
	}
	if r > 0 {
		w = copy(buf, buf[r:w])
		r = 0
	}
	if w < len(buf) {
		return buf, r, w, true
	}
	// Double as bytes arrive, never to a size a header merely announces:
	// a "$536870000" header followed by nothing must not cost 512 MiB.
	// Memory stays within 2x what was sent.
	size := 2 * len(buf)
	// A bulk whose length is known and below that is given exactly its
	// room: a 1 MiB value costs 1 MiB, not 2.
	if need := c.parser.Need(); need > len(buf) && need < size {
		size = need
	}
	lim := s.authLimits.MaxBuffered
	if !c.authed() {
		lim = s.preLimits.MaxBuffered
	}
	if max := int(lim) + s.authLimits.MaxInlineLen + 2; size > max {
		size = max
	}
	if size <= len(buf) {
		c.conn.WriteError(string(resp.ErrQueryBufLimit))
		return buf, r, w, false
	}
	// The growth is charged to the connection's client-memory pool,
	// pausing reads while it has no room (clientmem.go).
	c.mem.qbuf.Store(int64(w)) // CLIENT LIST, while it pauses
	c.mem.qfree.Store(0)
	if !s.growQuery(c, int64(size-len(buf))) {
		if !s.closing.Load() && !c.killed.Load() {
			c.conn.WriteError(c.oomText())
		}
		return buf, r, w, false
	}
	t0 := s.mono()
	nb := make([]byte, size)
	copy(nb, buf[:w])
	// Growing is the big command's work (zeroing and copying): charged,
	// unlike the pause above.
	s.bill(c, time.Duration(s.mono()-t0), admission.Pacing{})
	return nb, r, w, true
}

// readDeadline (real time, whatever clock TTLs use) is the earliest of the idle timeout and, for a connection
// not yet authenticated, the auth deadline.
func (s *Server) readDeadline(c *client) time.Time {
	var d time.Time
	if s.limits.Timeout > 0 {
		d = time.Now().Add(s.limits.Timeout)
	}
	if !c.authed() && s.limits.AuthTimeout > 0 {
		ad := c.connected.Add(s.limits.AuthTimeout)
		if d.IsZero() || ad.Before(d) {
			d = ad
		}
	}
	return d
}
