//go:build !linux

package server

import "net"

// inputPending is 0 off Linux: PUBLISH then waits only for input a
// subscriber's connection has read and not run yet.
func inputPending(net.Conn) int { return 0 }

// bytesReceived is not known off Linux (see pubsub.go).
func bytesReceived(net.Conn) (uint64, bool) { return 0, false }
