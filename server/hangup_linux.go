//go:build linux

package server

import (
	"errors"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// watchHangup watches the connection's socket, while its goroutine waits
// in a blocking command, for the peer closing it: a blocked connection
// does not read its socket, so without this a client that disconnects
// while blocked would stay blocked (and counted in blocked_clients, and
// holding its registrations and client memory) until the wait ended,
// where Redis frees it at once. Redis's own tests close blocked clients
// and then wait for blocked_clients to fall.
//
// The watch reads nothing: a goroutine waits on the runtime's poller for
// the socket to become readable and then asks poll(2) for POLLRDHUP
// (the peer shut its side: FIN or RST), so bytes a client pipelined after
// its blocking command stay in the socket for the connection's loop.
// gone is closed when the peer hung up; stop ends the watch and must be
// called before the connection is read again. It puts back the read
// deadline connLoop set (c.readDL). nil gone: the connection is not a
// plain socket (TLS, the event-loop prototype), whose hang-up is noticed
// when the wait ends, as before.
func (c *client) watchHangup() (gone <-chan struct{}, stop func()) {
	nc := c.hold.Conn // the socket itself (c.conn.nc wraps it)
	switch nc.(type) {
	case *net.TCPConn, *net.UnixConn:
	default:
		return nil, func() {}
	}
	rc, err := nc.(syscall.Conn).SyscallConn()
	if err != nil {
		return nil, func() {}
	}
	// An idle-connection deadline must not end the watch (blocked clients
	// are exempt from it, as in Redis); Close, CLIENT KILL and stop set one
	// in the past, which does.
	nc.SetReadDeadline(time.Time{})
	hup := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		fds := []unix.PollFd{{Events: unix.POLLRDHUP}}
		hungUp := false
		err := rc.Read(func(fd uintptr) bool {
			fds[0].Fd, fds[0].Revents = int32(fd), 0
			n, err := unix.Poll(fds, 0)
			if err == nil && n > 0 && fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0 {
				hungUp = true
				return true
			}
			return false // wait for the poller's next readiness (new input or the hang-up)
		})
		if hungUp || err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			close(hup) // a closed or failed socket is gone too
		}
	}()
	return hup, func() {
		nc.SetReadDeadline(time.Unix(1, 0))
		<-done
		nc.SetReadDeadline(c.readDL)
	}
}
