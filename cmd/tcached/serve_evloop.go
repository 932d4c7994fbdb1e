//go:build evloop

package main

import (
	"net"
	"os"
	"runtime"
	"strconv"

	"github.com/tcached/tcached/server"
)

// serve, in the experimental binary (go build -tags evloop), serves a plain
// TCP listener from the prototype event loop (server.ServeEventLoop, issue
// 15), one loop per GOMAXPROCS or TCACHED_EVLOOP_LOOPS; TLS listeners keep
// a goroutine per connection. Used by bench/evloop.sh only.
func serve(srv *server.Server, ln net.Listener) error {
	if _, plain := ln.(*net.TCPListener); !plain {
		return srv.Serve(ln)
	}
	loops := runtime.GOMAXPROCS(0)
	if n, err := strconv.Atoi(os.Getenv("TCACHED_EVLOOP_LOOPS")); err == nil && n > 0 {
		loops = n
	}
	return srv.ServeEventLoop(ln, loops)
}
