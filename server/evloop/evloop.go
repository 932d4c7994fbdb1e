//go:build linux

// Package evloop is the machinery of tcached's prototype event-loop front
// end (issue 15, "decide the connection model on data"): an epoll loop,
// level-triggered, that a caller runs once per core, with the socket calls
// it needs. It knows nothing of RESP or clients; server/evloop_linux.go
// drives tcached's connections with it. It is not the production path:
// bench/README.md ("Connection model") has the measurements and the
// decision.
//
// # One loop, many goroutines over time
//
// A Loop is polled by one goroutine at a time, which runs the Handler's
// callbacks one after the other. A callback that is about to wait (a
// blocking command, a pacing sleep, a write to a client that does not
// read) must not hold up the loop's other connections, so it calls
// Handoff first: a new goroutine takes over the polling at once, and the
// caller's goroutine, which has removed its connection from the loop,
// carries on with that connection alone. When the callback returns, Run
// sees the loop was handed off and returns too. This is the runtime's own
// answer to a blocking syscall (handing its P to another thread), applied
// to the loop; level-triggered epoll makes it simple, because events the
// old goroutine had not handled yet are reported again to the new one.
//
// Level-triggered rather than edge-triggered: a connection can stop
// reading (while its replies wait for the socket) without draining its
// input, and no event is lost when a callback hands off.
package evloop

import (
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Event bits, as epoll reports them.
const (
	In  = unix.EPOLLIN
	Out = unix.EPOLLOUT
	// Hup reports a peer that hung up or an error on the socket; a read
	// then returns what is left and EOF.
	Hup = unix.EPOLLHUP | unix.EPOLLERR | unix.EPOLLRDHUP
)

// Handler receives a Loop's events. Its methods run on the goroutine that
// currently polls the loop, one at a time.
type Handler interface {
	// Ready reports events ev (In, Out, Hup bits) on fd, added with Add.
	Ready(fd int, ev uint32)
	// Woken runs after one or more calls to Wake.
	Woken()
	// Tick runs about every tick interval given to New, busy or idle.
	Tick()
	// Stopped runs once, on the last polling goroutine, after Stop and
	// before the epoll instance closes: the handler closes what it has.
	Stopped()
}

// Loop is one epoll instance and the goroutine polling it.
type Loop struct {
	ep, efd int
	tick    time.Duration
	h       Handler
	gen     atomic.Uint64 // the generation of the polling goroutine; Handoff moves it
	stop    atomic.Bool
	woken   atomic.Bool // a Wake not yet seen by the poller
	done    chan struct{}

	mu     sync.Mutex // guards closed and the writes to efd, so none reaches a reused fd number
	closed bool
}

// New makes a loop whose callbacks go to h; tick is how often h.Tick runs
// (0: never).
func New(h Handler, tick time.Duration) (*Loop, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(ep)
		return nil, err
	}
	l := &Loop{ep: ep, efd: efd, tick: tick, h: h, done: make(chan struct{})}
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, efd, &unix.EpollEvent{Events: In, Fd: int32(efd)}); err != nil {
		unix.Close(ep)
		unix.Close(efd)
		return nil, err
	}
	return l, nil
}

// Add registers fd for events ev (In, Out). exclusive sets EPOLLEXCLUSIVE,
// for a listening socket shared by several loops: one of them is woken
// per connection, not all.
func (l *Loop) Add(fd int, ev uint32, exclusive bool) error {
	if exclusive {
		ev |= unix.EPOLLEXCLUSIVE
	}
	return unix.EpollCtl(l.ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: ev, Fd: int32(fd)})
}

// Mod changes the events fd is polled for.
func (l *Loop) Mod(fd int, ev uint32) error {
	return unix.EpollCtl(l.ep, unix.EPOLL_CTL_MOD, fd, &unix.EpollEvent{Events: ev, Fd: int32(fd)})
}

// Del stops polling fd.
func (l *Loop) Del(fd int) error {
	return unix.EpollCtl(l.ep, unix.EPOLL_CTL_DEL, fd, nil)
}

// Wake makes the poller call Woken soon; any goroutine may call it.
func (l *Loop) Wake() {
	if l.woken.CompareAndSwap(false, true) {
		l.signal()
	}
}

func (l *Loop) signal() {
	one := [8]byte{1}
	l.mu.Lock()
	if !l.closed {
		unix.Write(l.efd, one[:])
	}
	l.mu.Unlock()
}

// Stop makes the poller return after its current callback; Done is
// closed then. Any goroutine may call it.
func (l *Loop) Stop() {
	l.stop.Store(true)
	l.signal()
}

// Done is closed when the loop has stopped and its epoll instance is
// closed.
func (l *Loop) Done() <-chan struct{} { return l.done }

// Run polls the loop until Stop, or until a callback hands it off.
func (l *Loop) Run() { l.run(l.gen.Load()) }

// Handoff, called from a callback, gives the loop to a new goroutine at
// once: the caller's goroutine may then wait, and Run returns when its
// callback does. Call it only from a callback, at most once per callback,
// after removing from the loop (Del) whatever the caller keeps serving.
func (l *Loop) Handoff() {
	g := l.gen.Add(1)
	go l.run(g)
}

func (l *Loop) run(gen uint64) {
	events := make([]unix.EpollEvent, 256)
	next := time.Now().Add(l.tick)
	wait := -1
	if l.tick > 0 {
		wait = int(l.tick / time.Millisecond)
	}
	busy := false // the last wait returned events: look again without blocking
	for {
		if l.stop.Load() {
			l.close()
			return
		}
		var n int
		var err error
		if busy {
			n, err = pollNow(l.ep, events)
			if n == 0 && err == nil {
				// Nothing ready: let other goroutines run before
				// blocking, as they would before the runtime's netpoll.
				busy = false
				runtime.Gosched()
				continue
			}
		} else {
			n, err = unix.EpollWait(l.ep, events, wait)
		}
		if err != nil && !errors.Is(err, unix.EINTR) {
			l.close()
			return
		}
		busy = n > 0
		for i := 0; i < n; i++ {
			fd := int(events[i].Fd)
			if fd == l.efd {
				var b [8]byte
				unix.Read(l.efd, b[:])
				l.woken.Store(false)
				if l.stop.Load() {
					break
				}
				l.h.Woken()
			} else {
				l.h.Ready(fd, events[i].Events)
			}
			if l.gen.Load() != gen {
				return // handed off: another goroutine polls now
			}
		}
		if l.tick > 0 {
			if now := time.Now(); !now.Before(next) {
				next = now.Add(l.tick)
				l.h.Tick()
				if l.gen.Load() != gen {
					return
				}
			}
		}
	}
}

// pollNow is epoll_wait with a zero timeout as a raw syscall: it cannot
// block, so it skips the runtime's syscall bookkeeping, under which a
// goroutine that blocks loses its P to sysmon and must win one back (a
// futex wake and a context switch) when it returns. The loop blocks in
// EpollWait only when a poll found nothing.
func pollNow(ep int, events []unix.EpollEvent) (int, error) {
	r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(ep), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func (l *Loop) close() {
	l.h.Stopped()
	l.mu.Lock()
	l.closed = true
	unix.Close(l.ep)
	unix.Close(l.efd)
	l.mu.Unlock()
	close(l.done)
}

// ListenerFD returns a non-blocking duplicate of a TCP listener's socket,
// which the caller closes. The listener itself stays open (closing it
// does not stop the duplicate) and should not be accepted from.
func ListenerFD(ln net.Listener) (int, error) {
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return -1, errors.New("evloop: not a TCP listener")
	}
	rc, err := tl.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var derr error
	if err := rc.Control(func(s uintptr) {
		fd, derr = unix.Dup(int(s))
	}); err != nil {
		return -1, err
	}
	if derr != nil {
		return -1, derr
	}
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// Accept accepts one connection on the listening socket lfd, non-blocking
// and with TCP_NODELAY (as Go's net package sets it); err is unix.EAGAIN
// when none is waiting.
func Accept(lfd int) (fd int, remote net.Addr, err error) {
	for {
		fd, sa, err := unix.Accept4(lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err == unix.EINTR || err == unix.ECONNABORTED {
			continue
		}
		if err != nil {
			return -1, nil, err
		}
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		return fd, TCPAddr(sa), nil
	}
}

// LocalAddr is fd's bound address.
func LocalAddr(fd int) net.Addr {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return &net.TCPAddr{}
	}
	return TCPAddr(sa)
}

// TCPAddr converts a socket address to a *net.TCPAddr.
func TCPAddr(sa unix.Sockaddr) net.Addr {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(append([]byte(nil), a.Addr[:]...)), Port: a.Port}
	case *unix.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(append([]byte(nil), a.Addr[:]...)), Port: a.Port}
	}
	return &net.TCPAddr{}
}

// Read reads from the non-blocking fd: n > 0 bytes, or err unix.EAGAIN
// when nothing is there, or n == 0 and err == nil at EOF.
func Read(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Read(fd, p)
		if err == unix.EINTR {
			continue
		}
		if n < 0 {
			n = 0
		}
		return n, err
	}
}

// Write writes what the non-blocking fd takes now: n < len(p) with err
// unix.EAGAIN when its send buffer is full.
func Write(fd int, p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n, err := unix.Write(fd, p[done:])
		if err == unix.EINTR {
			continue
		}
		if n > 0 {
			done += n
		}
		if err != nil {
			return done, err
		}
		if n == 0 {
			return done, unix.EAGAIN
		}
	}
	return done, nil
}

// Shutdown shuts fd down both ways from any goroutine: the peer sees EOF,
// the loop sees Hup and closes it. The fd itself is closed by its owner
// only, so its number cannot be reused under a concurrent caller.
func Shutdown(fd int) { unix.Shutdown(fd, unix.SHUT_RDWR) }

// Close closes fd.
func Close(fd int) error { return unix.Close(fd) }

// IsAgain reports a non-blocking call that would have blocked.
func IsAgain(err error) bool { return err == unix.EAGAIN }
