package server

import (
	"bytes"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcached/tcached/config"
)

// readAll reads what arrives on nc until it has been quiet for quiet.
func readQuiet(t *testing.T, nc net.Conn, quiet time.Duration) []byte {
	t.Helper()
	var out bytes.Buffer
	buf := make([]byte, 64<<10)
	for {
		nc.SetReadDeadline(time.Now().Add(quiet))
		n, err := nc.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() || err == io.EOF {
				return out.Bytes()
			}
			t.Fatal(err)
		}
	}
}

// TestClientReplyDiff: the same pipeline of CLIENT REPLY ON|OFF|SKIP
// around other commands sent to tcached and to redis-server 7.0.15 gives
// the same bytes back.
func TestClientReplyDiff(t *testing.T) {
	cfg := testConfig()
	cfg.DefaultTenant = "a"
	cfg.DefaultRole = config.RoleAdmin
	cfg.Tenants[0].Tier.DefaultTTL = 0
	srv := startServer(t, cfg, false)
	tc := dial(t, srv.addr)
	rd := startRedisServer(t)
	big := strings.Repeat("x", 300<<10) // past several flushes
	var in bytes.Buffer
	for _, cmd := range [][]string{
		{"SET", "k", "v"}, {"SET", "big", big},
		{"CLIENT", "REPLY", "SKIP"}, {"GET", "k"}, {"ECHO", "after-skip"},
		{"CLIENT", "REPLY", "OFF"}, {"GET", "k"}, {"GET", "big"}, {"NOSUCH"}, {"CLIENT", "REPLY", "SKIP"},
		{"MULTI"}, {"GET", "big"}, {"EXEC"}, {"CLIENT", "REPLY", "ON"}, {"ECHO", "after-on"},
		{"CLIENT", "REPLY", "SKIP"}, {"CLIENT", "REPLY", "SKIP"}, {"GET", "k"}, {"ECHO", "after-skip-skip"},
		{"CLIENT", "REPLY", "SKIP"}, {"CLIENT", "REPLY", "ON"}, {"ECHO", "after-skip-on"},
		{"CLIENT", "REPLY", "SKIP"}, {"GET", "big"}, {"CLIENT", "REPLY", "maybe"}, {"CLIENT", "REPLY"},
		{"CLIENT", "REPLY", "OFF"}, {"CLIENT", "REPLY", "SKIP"}, {"ECHO", "off-skip"}, {"CLIENT", "REPLY", "ON"},
		{"GET", "k"}, {"PING"},
	} {
		in.Write(encode(cmd...))
	}
	for _, c := range []*rconn{tc, rd} {
		c.send(in.Bytes())
	}
	got, want := readQuiet(t, tc.c, 300*time.Millisecond), readQuiet(t, rd.c, 300*time.Millisecond)
	if !bytes.Equal(got, want) {
		t.Errorf("tcached answered\n%.600q\nredis-server answered\n%.600q", got, want)
	}
	if !bytes.HasSuffix(got, []byte("$1\r\nv\r\n+PONG\r\n")) {
		t.Errorf("replies did not come back on: %.200q", got)
	}
}

// TestClientUnblock: CLIENT UNBLOCK ends a BLPOP of the caller's tenant
// as its timeout does, or with the UNBLOCKED error; another tenant's
// blocked client cannot be reached.
func TestClientUnblock(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	waitBlocked := func(tenant string, n int64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for srv.reg.Load().tenants[tenant].blocked.clients.Load() != n {
			if time.Now().After(deadline) {
				t.Fatalf("tenant %s: %d blocked clients, want %d", tenant, srv.reg.Load().tenants[tenant].blocked.clients.Load(), n)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	blocker := dialAs(t, srv.addr, "alice", "alice-pw")
	bid := strconv.FormatInt(blocker.do("CLIENT", "ID").(int64), 10)
	if got := a.do("CLIENT", "UNBLOCK", bid); got != int64(0) {
		t.Errorf("UNBLOCK of a client not blocked = %v, want 0", got)
	}
	blocker.send(encode("BLPOP", "q", "0"))
	waitBlocked("a", 1)
	if got := a.do("CLIENT", "UNBLOCK", bid); got != int64(1) {
		t.Fatalf("UNBLOCK = %v, want 1", got)
	}
	if got := blocker.read(); got != (nilArray{}) {
		t.Errorf("unblocked BLPOP answered %v, want the timeout's nil array", got)
	}
	blocker.send(encode("BLPOP", "q", "0"))
	waitBlocked("a", 1)
	if got := a.do("CLIENT", "UNBLOCK", bid, "error"); got != int64(1) {
		t.Fatalf("UNBLOCK ERROR = %v, want 1", got)
	}
	if got := blocker.read(); got != respErr(errUnblocked) {
		t.Errorf("unblocked BLPOP answered %v, want %q", got, errUnblocked)
	}
	if got := blocker.do("PING"); got != status("PONG") {
		t.Errorf("the unblocked connection: PING = %v", got)
	}

	// Tenant b's blocked client: invisible to a.
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	bbid := strconv.FormatInt(b.do("CLIENT", "ID").(int64), 10)
	b.send(encode("BLPOP", "q", "0"))
	waitBlocked("b", 1)
	if got := a.do("CLIENT", "UNBLOCK", bbid); got != int64(0) {
		t.Errorf("a UNBLOCKs b's client: %v, want 0", got)
	}
	time.Sleep(20 * time.Millisecond)
	waitBlocked("b", 1)

	for _, c := range []struct {
		args []string
		want any
	}{
		{[]string{"CLIENT", "UNBLOCK", bid, "later"}, respErr(errUnblockReason)},
		{[]string{"CLIENT", "UNBLOCK", "x"}, respErr("ERR value is not an integer or out of range")},
		{[]string{"CLIENT", "UNBLOCK", bid, "timeout", "x"}, respErr("ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP.")},
		{[]string{"CLIENT", "UNBLOCK"}, respErr("ERR wrong number of arguments for 'client|unblock' command")},
	} {
		if got := a.do(c.args...); got != c.want {
			t.Errorf("%q = %v, want %v", c.args, got, c.want)
		}
	}
	b.c.Close()
}
