//go:build linux

package server

import (
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"
)

// waitInfoClients waits (bounded) until INFO clients says blocked_clients
// is blocked and connected_clients is connected (with r itself).
func waitInfoClients(t *testing.T, r *rconn, blocked, connected int) {
	t.Helper()
	wantB := fmt.Sprintf("blocked_clients:%d\r\n", blocked)
	wantC := fmt.Sprintf("connected_clients:%d\r\n", connected)
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		info, _ := r.do("INFO", "clients").([]byte)
		if strings.Contains(string(info), wantB) && strings.Contains(string(info), wantC) {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("want %d blocked and %d connected clients: %s", blocked, connected, info)
		}
	}
}

// TestDiffBlockedClientHangup: a client that closes its connection while
// blocked (BLPOP, BZPOPMIN, BLMOVE, XREAD BLOCK, XREADGROUP BLOCK with
// timeout 0) is gone at once, as in Redis: blocked_clients and
// connected_clients fall without any push or timeout (Redis's own units
// close blocked clients and then wait for the count to fall). A blocked
// client that pipelined commands after its blocking one, or sent some
// while blocked, still gets every reply once served: the watch for the
// hang-up reads nothing. Compared with redis-server.
func TestDiffBlockedClientHangup(t *testing.T) {
	addrs := []string{diffMoreServer(t).addr, startRealRedis(t)}
	var got [2][]string
	for s, addr := range addrs {
		r := dial(t, addr)
		r.do("FLUSHALL")
		r.do("XADD", "st", "1-1", "f", "v")
		r.do("XGROUP", "CREATE", "st", "g", "$")
		blocks := [][]string{
			{"BLPOP", "l", "0"},
			{"BZPOPMIN", "z", "0"},
			{"BLMOVE", "l2", "d", "LEFT", "RIGHT", "0"},
			{"XREAD", "BLOCK", "0", "STREAMS", "st", "$"},
			{"XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "st", ">"},
		}
		var conns []*rconn
		for i, b := range blocks {
			c := dial(t, addr)
			c.send(encode(b...))
			conns = append(conns, c)
			waitInfoClients(t, r, i+1, i+2)
		}
		// Closing each one (a FIN; the last with unread input pending)
		// ends its wait.
		conns[len(conns)-1].send(encode("PING"))
		for i, c := range conns {
			c.c.Close()
			waitInfoClients(t, r, len(conns)-1-i, len(conns)-i)
		}
		// A half-close (the client shuts its writing side) is a hang-up
		// too: Redis reads EOF and frees the client.
		h := dial(t, addr)
		h.send(encode("BLPOP", "l", "0"))
		waitInfoClients(t, r, 1, 2)
		h.c.(*net.TCPConn).CloseWrite()
		waitInfoClients(t, r, 0, 1)

		// Pipelined after the blocking command, and sent while blocked.
		p := dial(t, addr)
		p.send(append(encode("BLPOP", "q", "0"), encode("ECHO", "after")...))
		waitInfoClients(t, r, 1, 2)
		p.send(encode("ECHO", "while"))
		time.Sleep(20 * time.Millisecond) // let it reach the server while blocked
		r.do("RPUSH", "q", "x")
		var out []string
		for range 3 {
			out = append(out, fmt.Sprint(p.read()))
		}
		waitInfoClients(t, r, 0, 2)
		got[s] = out
	}
	if !reflect.DeepEqual(got[0], got[1]) {
		t.Fatalf("replies differ:\ntcached %q\nredis   %q", got[0], got[1])
	}
}
