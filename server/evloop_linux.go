//go:build linux

package server

// The prototype event-loop front end (issue 15): a measurement, not the
// production path. Serve runs a goroutine per connection; serveEventLoop
// serves a plain TCP listener from n epoll loops instead (package
// server/evloop), with the same parser, dispatch, handlers and reply
// writer: the loop reads a connection's bytes into its buffer and calls
// runBuffered, flushCharged and makeRoom exactly as connLoop does. Only the
// socket calls differ: reads happen when epoll says the socket has data
// (no read that finds nothing, no goroutine parked and woken per
// request), and a reply the socket cannot take yet waits in the
// connection's pending output while the loop polls for writability, with
// the connection's reading paused (Redis's model for a slow reader).
// Measurements and the decision: bench/README.md, "Connection model".
//
// # Waiting
//
// A loop serves many connections, so nothing may wait on it. Every place
// where a connection's goroutine can wait, or run long, calls
// client.beforeWait first: a blocking command (BLPOP, BRPOP, BLMOVE), a
// fair-share pacing sleep or debt, a long command's first checkpoint (it
// may wait for a heavy slot and runs niced), client memory's read pause
// and reply wait, a new subscriber (its writer goroutine writes the
// socket), a read backoff after a rate refusal, and a write whose pending
// output passed maxLoopPending (a large reply to a slow reader). There the
// connection is promoted: it leaves its loop (epoll DEL), the loop is
// handed to a new goroutine at once (evloop.Loop.Handoff), the socket
// becomes a net.Conn (net.FileConn) and the current goroutine carries on
// with that connection alone, as Serve's goroutine would, for the rest of
// its life: connLoop from its current buffer. So a connection that ever
// blocks costs what it costs today, and the others on its loop are not
// held up by it for longer than a long command's first checkpoint (250µs).
//
// Not covered by the prototype: TLS listeners (served by Serve as
// before), EXEC's wait for its tenant's exclusive lock (it waits on the
// loop for the commands in flight), the pending output's client-memory
// charge, and accept's back-off when out of file descriptors.

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tcached/tcached/server/evloop"
)

// maxLoopPending is the reply bytes a connection may have waiting for its
// socket on a loop; past it the connection is promoted and the write
// waits, with the write deadline, on the connection's own goroutine.
const maxLoopPending = 4 * flushThreshold

// loopTick is how often a loop checks idle and AUTH deadlines.
const loopTick = 250 * time.Millisecond

var errLoopRead = errors.New("server: a loop connection is read by its loop")

// serveEventLoop serves ln from n event loops (n <= 0: one) until Close.
// ln stays the listener of record (Close closes it, INFO reports its
// port); the loops accept on a duplicate of its socket.
func (s *Server) serveEventLoop(ln net.Listener, n int) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return net.ErrClosed
	}
	s.listeners = append(s.listeners, ln)
	s.mu.Unlock()
	lfd, err := evloop.ListenerFD(ln)
	if err != nil {
		return err
	}
	defer evloop.Close(lfd)
	es := &evServer{s: s, lfd: lfd}
	for i := 0; i < max(n, 1); i++ {
		el := &evLoop{es: es, s: s, conns: make(map[int]*loopConn)}
		if el.l, err = evloop.New(el, loopTick); err == nil {
			err = el.l.Add(lfd, evloop.In, true)
		}
		if err != nil {
			for _, o := range es.loops {
				o.l.Stop()
				o.l.Run()
			}
			return err
		}
		es.loops = append(es.loops, el)
	}
	s.startBackground()
	for _, el := range es.loops {
		go el.l.Run()
	}
	go func() {
		<-s.stop
		for _, el := range es.loops {
			el.l.Stop()
		}
	}()
	for _, el := range es.loops {
		<-el.l.Done()
	}
	return nil
}

// evServer is one listener's loops.
type evServer struct {
	s     *Server
	lfd   int
	loops []*evLoop
}

// evLoop is one loop's handler: its connections, and what other
// goroutines ask of it.
type evLoop struct {
	es    *evServer
	s     *Server
	l     *evloop.Loop
	conns map[int]*loopConn // by key; the polling goroutine only
	n     atomic.Int64      // connections on the loop, to place new ones

	mu     sync.Mutex  // guards inbox and checks
	inbox  []*loopConn // accepted by another loop, to register here
	checks []*loopConn // killed, or the server is closing: close them
}

// loopConn is one connection on a loop, and the net.Conn its client
// writes through (client.hold.Conn). Until promoted it is used by its
// loop's polling goroutine only, except Close and the deadline setters,
// which any goroutine may call; after promotion every call passes to pc.
type loopConn struct {
	key    int // the fd at accept: the loop's map key, never changed
	fd     int // -1 once closed or promoted; changed under fdMu
	fdMu   sync.Mutex
	el     *evLoop
	c      *client
	buf    []byte
	r, w   int
	out    []byte // replies the socket has not taken yet
	werr   error
	outArm bool      // polled for writability (reading paused) until out drains
	dl     time.Time // idle or AUTH deadline; zero: none
	closed bool      // closing: writes are dropped, nothing is promoted
	laddr  net.Addr
	raddr  net.Addr
	pc     atomic.Pointer[promoted]
}

type promoted struct{ net.Conn }

// accept takes one connection from the listener (level-triggered: more
// are reported again) and places it on the least loaded loop.
func (el *evLoop) accept() {
	s := el.s
	fd, raddr, err := evloop.Accept(el.es.lfd)
	if err != nil {
		if !evloop.IsAgain(err) {
			s.log.Warn("accept failed", "err", err)
		}
		return
	}
	refuse := ""
	if s.conns.Add(1) > int64(s.limits.MaxClients) {
		refuse = errMaxClients
		s.rejected[rejectMaxClients].Add(1)
	} else if s.protected && s.reg.Load().defTenant != nil && !isLoopback(raddr) {
		refuse = errDenied
		s.rejected[rejectProtected].Add(1)
	}
	if refuse != "" {
		s.conns.Add(-1)
		evloop.Write(fd, []byte("-"+refuse+"\r\n"))
		evloop.Close(fd)
		return
	}
	to := el
	for _, o := range el.es.loops {
		if o.n.Load() < to.n.Load() {
			to = o
		}
	}
	to.n.Add(1)
	lc := &loopConn{key: fd, fd: fd, el: to, raddr: raddr, laddr: evloop.LocalAddr(fd), buf: make([]byte, initialReadBuf)}
	s.connWG.Add(1)
	c := s.newClient(lc)
	lc.c = c
	c.onWait = lc.promote
	if !s.bindDefault(c) {
		c.conn.WriteError(errTenantMaxConns)
		c.conn.flush()
		to.n.Add(-1)
		lc.closeFD()
		s.dropClient(c)
		s.conns.Add(-1)
		s.connWG.Done()
		return
	}
	lc.dl = s.readDeadline(c)
	if to == el {
		el.register(lc)
		return
	}
	to.mu.Lock()
	to.inbox = append(to.inbox, lc)
	to.mu.Unlock()
	to.l.Wake()
}

func (el *evLoop) register(lc *loopConn) {
	if err := el.l.Add(lc.fd, evloop.In, false); err != nil {
		el.s.log.Warn("event loop: add failed", "err", err)
		el.conns[lc.key] = lc
		el.close(lc)
		return
	}
	el.conns[lc.key] = lc
}

// Ready is evloop.Handler's: the listener or a connection has events.
func (el *evLoop) Ready(fd int, ev uint32) {
	if fd == el.es.lfd {
		el.accept()
		return
	}
	lc := el.conns[fd]
	if lc == nil {
		return
	}
	if lc.outArm {
		el.writable(lc)
		return
	}
	el.readable(lc)
}

// Woken is evloop.Handler's: connections handed over by other loops, and
// connections to look at.
func (el *evLoop) Woken() {
	el.mu.Lock()
	inbox, checks := el.inbox, el.checks
	el.inbox, el.checks = nil, nil
	el.mu.Unlock()
	for _, lc := range inbox {
		el.register(lc)
	}
	for _, lc := range checks {
		if el.conns[lc.key] == lc && (el.s.closing.Load() || lc.c.killed.Load()) {
			el.close(lc)
		}
	}
}

// Tick is evloop.Handler's: it closes connections past their idle or
// AUTH deadline, as a read deadline does in connLoop.
func (el *evLoop) Tick() {
	now := time.Now()
	for _, lc := range el.conns {
		if !lc.dl.IsZero() && now.After(lc.dl) {
			el.close(lc)
		}
	}
}

// Stopped is evloop.Handler's: the server is closing.
func (el *evLoop) Stopped() {
	el.Woken() // register the inbox, so that it is closed too
	for _, lc := range el.conns {
		el.close(lc)
	}
}

// readable reads what the socket has and runs it: connLoop's body, with
// the read first because epoll said there is something to read.
func (el *evLoop) readable(lc *loopConn) {
	s, c := el.s, lc.c
	n, err := evloop.Read(lc.fd, lc.buf[lc.w:])
	if n == 0 {
		if !evloop.IsAgain(err) {
			el.close(lc) // EOF or error
		}
		return
	}
	c.inBytes.Add(uint64(n)) // PUBLISH's ordering (pubsub.go)
	c.readAt = s.mono()      // commands completed by this read arrived now
	c.mark, c.now = c.readAt, c.readAt
	lc.w += n
	var quit, ok bool
	if lc.r, quit = s.runBuffered(c, lc.buf, lc.r, lc.w); lc.promotedNow(quit) {
		return
	}
	if quit {
		el.close(lc)
		return
	}
	err = s.flushCharged(c)
	if lc.promotedNow(err != nil) {
		return
	}
	if err != nil || s.closing.Load() || c.killed.Load() {
		el.close(lc)
		return
	}
	if c.backoff > 0 {
		// connLoop sleeps it off: not on the loop.
		lc.promote()
		lc.promotedNow(false)
		return
	}
	if lc.buf, lc.r, lc.w, ok = s.makeRoom(c, lc.buf, lc.r, lc.w); lc.promotedNow(!ok) {
		return
	}
	if !ok {
		el.close(lc)
		return
	}
	if len(lc.out) > 0 {
		lc.outArm = true
		el.l.Mod(lc.fd, evloop.Out)
	}
	lc.dl = s.readDeadline(c)
}

// writable writes pending output; once it is all out, reading resumes.
func (el *evLoop) writable(lc *loopConn) {
	n, err := evloop.Write(lc.fd, lc.out)
	lc.out = lc.out[:copy(lc.out, lc.out[n:])]
	if err != nil && !evloop.IsAgain(err) {
		el.close(lc)
		return
	}
	if len(lc.out) > 0 {
		return
	}
	if cap(lc.out) > maxLoopPending {
		lc.out = nil
	}
	lc.outArm = false
	el.l.Mod(lc.fd, evloop.In)
}

// close ends a connection served by the loop: connLoop's endConn.
func (el *evLoop) close(lc *loopConn) {
	s, c := el.s, lc.c
	delete(el.conns, lc.key)
	el.l.Del(lc.fd)
	el.n.Add(-1)
	lc.closed = true
	c.flushBatch()
	c.conn.flush() // what the socket takes now; the rest is dropped
	s.settle(c)
	c.pubsubClose()
	lc.closeFD()
	s.dropClient(c)
	s.conns.Add(-1)
	s.connWG.Done()
}

func (lc *loopConn) closeFD() {
	lc.fdMu.Lock()
	if lc.fd >= 0 {
		evloop.Close(lc.fd)
		lc.fd = -1
	}
	lc.fdMu.Unlock()
}

// promote is the client's onWait: the connection leaves its loop for a
// goroutine of its own (see Waiting). It runs on the loop's polling
// goroutine, which from then on serves this connection only.
func (lc *loopConn) promote() {
	if lc.pc.Load() != nil || lc.closed {
		return
	}
	el, c := lc.el, lc.c
	delete(el.conns, lc.key)
	el.l.Del(lc.fd)
	el.n.Add(-1)
	el.l.Handoff()
	lc.fdMu.Lock()
	f := os.NewFile(uintptr(lc.fd), "tcached-conn")
	nc, err := net.FileConn(f) // a duplicate, in the runtime's netpoller
	f.Close()
	lc.fd = -1
	lc.fdMu.Unlock()
	if err != nil {
		lc.werr = err
		nc = deadConn{lc}
	}
	c.conn.deadline = time.Time{} // arm the write deadline on the new socket
	if len(lc.out) > 0 && lc.werr == nil {
		nc.SetWriteDeadline(time.Now().Add(el.s.limits.WriteTimeout))
		if _, err := nc.Write(lc.out); err != nil {
			lc.werr = err
		}
	}
	lc.out, lc.outArm = nil, false
	lc.pc.Store(&promoted{nc})
}

// promotedNow is checked after each step of readable: when the step
// promoted the connection, the goroutine that ran it serves the
// connection until it ends, as Serve's would, and returns to the loop
// code, which returns too. quit: the step asked to close.
func (lc *loopConn) promotedNow(quit bool) bool {
	if lc.pc.Load() == nil {
		return false
	}
	s, c := lc.el.s, lc.c
	if !quit {
		s.runConn(c, lc, lc.buf, lc.r, lc.w)
		return true
	}
	defer s.connWG.Done()
	defer s.conns.Add(-1)
	defer func() { s.endConn(c, lc, recover()) }()
	return true
}

// Read is the promoted connection's; a loop reads for itself.
func (lc *loopConn) Read(p []byte) (int, error) {
	if pc := lc.pc.Load(); pc != nil {
		return pc.Read(p)
	}
	return 0, errLoopRead
}

// Write sends what the socket takes and keeps the rest pending for the
// loop; past maxLoopPending the connection is promoted and the write
// waits (with the deadline) on its goroutine.
func (lc *loopConn) Write(p []byte) (int, error) {
	if pc := lc.pc.Load(); pc != nil {
		if lc.werr != nil {
			return 0, lc.werr
		}
		return pc.Write(p)
	}
	if lc.werr != nil {
		return 0, lc.werr
	}
	if lc.fd < 0 {
		return 0, net.ErrClosed
	}
	rest := p
	if len(lc.out) == 0 {
		n, err := evloop.Write(lc.fd, p)
		if err == nil {
			return n, nil
		}
		if !evloop.IsAgain(err) {
			lc.werr = err
			return n, err
		}
		rest = p[n:]
	}
	lc.out = append(lc.out, rest...)
	if len(lc.out) > maxLoopPending && !lc.closed {
		lc.c.beforeWait() // promote: the pending output is written there
		if lc.werr != nil {
			return 0, lc.werr
		}
	}
	return len(p), nil
}

// Close shuts the socket down (any goroutine): its loop sees the hang-up
// and closes it.
func (lc *loopConn) Close() error {
	if pc := lc.pc.Load(); pc != nil {
		return pc.Close()
	}
	lc.fdMu.Lock()
	if lc.fd >= 0 {
		evloop.Shutdown(lc.fd)
	}
	lc.fdMu.Unlock()
	return nil
}

// SetReadDeadline: a deadline already past (Close, CLIENT KILL) makes the
// loop look at the connection; others are the loop's own business
// (readDeadline, Tick).
func (lc *loopConn) SetReadDeadline(t time.Time) error {
	if pc := lc.pc.Load(); pc != nil {
		return pc.SetReadDeadline(t)
	}
	if !t.IsZero() && !t.After(time.Now()) {
		el := lc.el
		el.mu.Lock()
		el.checks = append(el.checks, lc)
		el.mu.Unlock()
		el.l.Wake()
	}
	return nil
}

// SetWriteDeadline applies to a promoted connection; a loop never waits
// on a write.
func (lc *loopConn) SetWriteDeadline(t time.Time) error {
	if pc := lc.pc.Load(); pc != nil {
		return pc.SetWriteDeadline(t)
	}
	return nil
}

func (lc *loopConn) SetDeadline(t time.Time) error {
	lc.SetReadDeadline(t)
	return lc.SetWriteDeadline(t)
}

func (lc *loopConn) LocalAddr() net.Addr  { return lc.laddr }
func (lc *loopConn) RemoteAddr() net.Addr { return lc.raddr }

// deadConn stands for a socket that could not be promoted: every call
// fails, and the connection ends.
type deadConn struct{ lc *loopConn }

func (d deadConn) Read([]byte) (int, error)         { return 0, d.lc.werr }
func (d deadConn) Write([]byte) (int, error)        { return 0, d.lc.werr }
func (d deadConn) Close() error                     { return nil }
func (d deadConn) LocalAddr() net.Addr              { return d.lc.laddr }
func (d deadConn) RemoteAddr() net.Addr             { return d.lc.raddr }
func (d deadConn) SetDeadline(time.Time) error      { return nil }
func (d deadConn) SetReadDeadline(time.Time) error  { return nil }
func (d deadConn) SetWriteDeadline(time.Time) error { return nil }
