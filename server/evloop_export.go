//go:build evloop

package server

import "net"

// ServeEventLoop serves ln from loops epoll loops instead of a goroutine
// per connection: the prototype front end of issue 15 (evloop_linux.go),
// for measuring it (bench/evloop.sh). It exists only in binaries built
// with -tags evloop; the production binary has no such path.
func (s *Server) ServeEventLoop(ln net.Listener, loops int) error {
	return s.serveEventLoop(ln, loops)
}
