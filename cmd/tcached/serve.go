//go:build !evloop

package main

import (
	"net"

	"github.com/tcached/tcached/server"
)

// serve serves one listener (plain or TLS) with a goroutine per
// connection. A binary built with -tags evloop serves plain listeners from
// the prototype event loop instead (serve_evloop.go).
func serve(srv *server.Server, ln net.Listener) error { return srv.Serve(ln) }
