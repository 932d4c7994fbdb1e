//go:build unix

package server

import (
	"io"
	"net"
	"syscall"
)

// sockReader reads a plain socket through its syscall.RawConn so that the
// read system calls can be timed apart from the waits between them: the
// kernel's copy of a request into the read buffer is work the request
// causes (a 512 KiB value costs ~50µs of it), but nc.Read's duration also
// holds the time the goroutine slept waiting for input. The runtime does
// the same thing either way: it tries the read, and on EAGAIN parks the
// goroutine until the poller says the socket is readable, then tries
// again. spent accumulates the time inside read(2), EAGAIN attempts
// included, in Server.mono's ns; the connection loop bills it (fair.go).
type sockReader struct {
	rc    syscall.RawConn
	clock func() int64
	fn    func(fd uintptr) bool // made once: RawConn.Read(fn) then allocates nothing
	buf   []byte
	n     int
	err   error
	spent int64
}

// newSockReader returns a timed reader for nc, or nil when nc is not a
// plain socket (TLS), which is then read with nc.Read, untimed.
func newSockReader(nc net.Conn, clock func() int64) *sockReader {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	if _, ok := nc.(*net.TCPConn); !ok {
		if _, ok := nc.(*net.UnixConn); !ok {
			return nil
		}
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	r := &sockReader{rc: rc, clock: clock}
	r.fn = r.attempt
	return r
}

func (r *sockReader) attempt(fd uintptr) bool {
	t0 := r.clock()
	for {
		n, err := syscall.Read(int(fd), r.buf)
		if err == syscall.EINTR {
			continue
		}
		t1 := r.clock()
		r.spent += t1 - t0
		t0 = t1
		if err == syscall.EAGAIN {
			return false // wait for the poller, then try again
		}
		if n < 0 {
			n = 0
		}
		if n == 0 && err == nil {
			err = io.EOF
		}
		r.n, r.err = n, err
		return true
	}
}

// Read reads into b like nc.Read: deadlines and Close interrupt the wait
// (the RawConn reports them as net errors, so isTimeout still works).
func (r *sockReader) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	r.buf, r.n, r.err = b, 0, nil
	if err := r.rc.Read(r.fn); err != nil {
		r.buf = nil
		return 0, err
	}
	r.buf = nil
	return r.n, r.err
}
