//go:build !unix

package server

import "net"

// sockReader is the unix timed socket reader (sockread_unix.go); elsewhere
// sockets are read with nc.Read, untimed.
type sockReader struct{ spent int64 }

func newSockReader(net.Conn, func() int64) *sockReader { return nil }

func (r *sockReader) Read([]byte) (int, error) { panic("unreachable") }
