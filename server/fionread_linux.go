//go:build linux

package server

import (
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// inputPending is how many bytes the kernel holds unread on nc's socket
// (FIONREAD), or 0 when that cannot be known. PUBLISH asks it of each
// recipient that is not on a plain TCP connection (pubsub.go, "Ordering
// across connections").
func inputPending(nc net.Conn) int {
	for {
		u, ok := nc.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		nc = u.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return 0
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	rc.Control(func(fd uintptr) {
		var v int32
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&v))); e == 0 {
			n = int(v)
		}
	})
	return n
}

// bytesReceived is the number of bytes a plain TCP connection's socket has
// received since it was accepted (TCP_INFO's tcpi_bytes_received), read by
// the application or not; ok is false for any other connection (TLS: the
// kernel counts ciphertext, the connection loop plaintext).
func bytesReceived(nc net.Conn) (uint64, bool) {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return 0, false
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return 0, false
	}
	var got uint64
	ok = false
	rc.Control(func(fd uintptr) {
		if info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
			got, ok = info.Bytes_received, true
		}
	})
	return got, ok
}
