//go:build !linux

package server

import (
	"errors"
	"net"
)

// serveEventLoop is the prototype event-loop front end (evloop_linux.go),
// which needs epoll.
func (s *Server) serveEventLoop(ln net.Listener, n int) error {
	ln.Close()
	return errors.New("server: the event-loop prototype needs Linux")
}
