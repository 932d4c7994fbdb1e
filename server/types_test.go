package server

// Socket tests of the types and commands of issue 18 (bitmaps,
// HyperLogLog, streams, LCS and the server commands): go-redis v9 in both
// protocols, redis-cli as a user types them, their bounds (quota, client
// memory), and tenant isolation through their multi-key forms.

import (
	"strings"
	"testing"
)

// TestLCSClientMemory: LCS's table (4 bytes a cell) is charged to the
// tenant's client_memory while it runs. Two 2000-byte strings need a 16 MB
// table, past tenant a's 8 MiB budget: refused with the client-memory OOM,
// and nothing stays charged. LEN needs two rows only and answers; strings
// whose table fits answer as Redis does.
func TestLCSClientMemory(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	x := strings.Repeat("ab", 1000)
	y := strings.Repeat("ba", 1000)
	a.do("SET", "x", x)
	a.do("SET", "y", y)
	pool := poolOf(srv, "a")
	before := pool.used.Load()
	if got := a.do("LCS", "x", "y"); got != respErr(errClientOOM) {
		t.Errorf("LCS of a 16 MB table = %.80v, want %q", got, errClientOOM)
	}
	if got := a.do("LCS", "x", "y", "IDX"); got != respErr(errClientOOM) {
		t.Errorf("LCS IDX of a 16 MB table = %.80v", got)
	}
	if got := a.do("LCS", "x", "y", "LEN"); got != int64(1999) {
		t.Errorf("LCS LEN = %v, want 1999", got)
	}
	// Buffers move the pool by a few bytes; a table left charged would
	// be 16 KB (LEN's rows) or more.
	if after := pool.used.Load(); after-before > 8<<10 {
		t.Errorf("client memory %d after LCS, %d before: the table stayed charged", after, before)
	}
	a.do("SET", "p", "ohmytext")
	a.do("SET", "q", "mynewtext")
	if got := norm(a.do("LCS", "p", "q")); got != "mytext" {
		t.Errorf("LCS = %v", got)
	}
	// The table may not pass proto-max-bulk-len either, as in Redis.
	big := strings.Repeat("z", 20000)
	a.do("SET", "big", big)
	a.do("SET", "big2", big)
	if got := a.do("LCS", "big", "big2", "LEN"); got != respErr("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len") {
		t.Errorf("LCS of a 1.6 GB table = %v", got)
	}
}
