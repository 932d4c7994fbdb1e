package server

// The attack suite: tenant b holds data, then an admin of tenant a runs every
// command of the command table (and every subcommand) with hostile
// arguments: b's exact key names, glob metacharacters, hash tags, NUL
// bytes, 70 KB keys, huge and negative numbers, b's SCAN cursors, b's
// client id and address. Afterwards b must be exactly as it was: the same
// stats, values and TTLs, its connection alive, and no byte of a secret in
// anything a received.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcached/tcached/command"
)

// attackMarker is in every secret of tenant b: its values, the name of a
// key a never names, and b's client name. No reply to a may contain it.
const attackMarker = "Kq7Zp"

// attackConn is a raw RESP connection that records every byte it reads, so
// a test can check a reply's bytes, not just its parsed form, and that
// survives the server closing it (the caller re-dials).
type attackConn struct {
	nc   net.Conn
	rd   *bufio.Reader
	seen bytes.Buffer
}

func dialAttack(t *testing.T, addr, user, pass string, db int) *attackConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	a := &attackConn{nc: nc}
	a.rd = bufio.NewReaderSize(io.TeeReader(nc, &a.seen), 64<<10)
	reps, err := a.roundTrip(encode("AUTH", user, pass), encode("SELECT", strconv.Itoa(db)))
	if err != nil || reps[0] != ok || reps[1] != ok {
		t.Fatalf("attacker handshake: %v %v", reps, err)
	}
	return a
}

// roundTrip pipelines the commands and reads one reply for each. An error
// means the connection is gone (or a reply was malformed).
func (a *attackConn) roundTrip(cmds ...[]byte) ([]any, error) {
	a.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := a.nc.Write(bytes.Join(cmds, nil)); err != nil {
		return nil, err
	}
	out := make([]any, 0, len(cmds))
	for range cmds {
		a.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		v, err := readReply(a.rd)
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// attackArgs builds the argument variants for one command row: several
// argument counts derived from the arity (plus one wrong count), each
// filled by rotating through the hostile tokens so that every token lands
// in every position across the variants.
func attackArgs(prefix []string, arity int, tokens []string) [][]string {
	var counts []int
	if arity >= 0 {
		counts = []int{arity, arity, arity, arity + 1}
	} else {
		n := -arity
		counts = []int{n, n + 1, n + 2, n + 4}
	}
	const stride = 7 // coprime with len(tokens) (checked by the caller)
	var out [][]string
	for i := range tokens {
		n := counts[i%len(counts)]
		args := append([]string(nil), prefix...)
		for j := len(prefix); j < n; j++ {
			args = append(args, tokens[(i+(j-len(prefix))*stride)%len(tokens)])
		}
		out = append(out, args)
	}
	return out
}

// attackPayload is a valid DUMP payload (a string "v", from redis-server
// 7.0.15).
var attackPayload = "\x00\x01v\n\x00\x91\b\xce\xb2\x198\x8a\xce"

func TestAttackSuite(t *testing.T) {
	srv := startServer(t, testConfig(), true) // fake clock: TTLs stand still
	long := strings.Repeat("K", 70<<10)
	secret := func(i int) string { return fmt.Sprintf("SECRET-b-%d-%s", i, attackMarker) }

	// Tenant b's data, in db 0 and db 3, some with TTLs.
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	type bkey struct {
		db        int
		name, val string
		ttlArgs   []string
	}
	bkeys := []bkey{
		{0, "user:1", secret(1), nil},
		{0, "session:{b}", secret(2), []string{"EX", "1000"}},
		{0, "b*?[\\key", secret(3), []string{"PX", "500000"}},
		{0, "nul\x00key", secret(4), nil},
		{0, "counter", "12345" + attackMarker, nil},
		{0, long, secret(5), []string{"EXAT", "1900000000"}},
		{0, "hidden-" + attackMarker, secret(6), nil}, // a never names this key
		{0, "big", strings.Repeat("x", 100<<10) + secret(7), nil},
		{3, "db3key", secret(8), []string{"PX", "123456"}},
		{3, "user:1", secret(9), nil},
		{3, "{b}", secret(10), []string{"EX", "77"}},
		{3, "*", secret(11), nil},
	}
	for _, k := range bkeys {
		b.do("SELECT", strconv.Itoa(k.db))
		if got := b.do(append([]string{"SET", k.name, k.val}, k.ttlArgs...)...); got != ok {
			t.Fatalf("b SET %.20q = %v", k.name, got)
		}
	}
	// b's sorted sets and geo sets, under names a's stores and algebra
	// name too.
	bColl := map[string][]string{
		"zb":   {"ZADD", "zb", "1", "zsecret-" + attackMarker, "2", "user:1"},
		"geob": {"GEOADD", "geob", "13.361389", "38.115556", "gsecret-" + attackMarker, "15.087269", "37.502669", "Catania"},
	}
	bCollWant := map[string]any{}
	b.do("SELECT", "0")
	for k, c := range bColl {
		b.do(c...)
		bCollWant[k] = norm(b.do("ZRANGE", k, "0", "-1", "WITHSCORES"))
	}
	// A stream of b with a consumer group and a pending entry, under key,
	// group and consumer names a uses for its own (values hold the
	// secret): a must reach none of it (XREAD, XREADGROUP, XINFO, XCLAIM
	// ... on "events" work on a's own namespace).
	b.do("SELECT", "0")
	for _, c := range [][]string{
		{"XADD", "events", "1-1", "data", secret(12)}, {"XADD", "events", "2-1", "data", secret(13)},
		{"XGROUP", "CREATE", "events", "workers", "0"},
		{"XREADGROUP", "GROUP", "workers", "c1", "COUNT", "1", "STREAMS", "events", ">"},
	} {
		if got := b.do(c...); got == nil {
			t.Fatalf("b %q = %v", c, got)
		} else if e, isErr := got.(respErr); isErr {
			t.Fatalf("b %q = %v", c, e)
		}
	}
	streamState := func() any {
		return norm([]any{b.do("XRANGE", "events", "-", "+"), b.do("XPENDING", "events", "workers", "-", "+", "10"),
			b.do("XINFO", "STREAM", "events", "FULL")})
	}
	bStream := streamState()
	if got := b.do("CLIENT", "SETNAME", "bname-"+attackMarker); got != ok {
		t.Fatalf("b CLIENT SETNAME = %v", got)
	}
	// b's own reads, all before the snapshot: PTTLs, client id, cursors.
	pttl := make([]int64, len(bkeys))
	for i, k := range bkeys {
		b.do("SELECT", strconv.Itoa(k.db))
		pttl[i] = b.do("PTTL", k.name).(int64)
	}
	bID := strconv.FormatInt(b.do("CLIENT", "ID").(int64), 10)
	cursorSet := map[string]bool{}
	for _, db := range []string{"0", "3"} {
		b.do("SELECT", db)
		cur := "0"
		for i := 0; i < 100; i++ {
			rep := norm(b.do("SCAN", cur, "COUNT", "1")).([]any)
			if cur = rep[0].(string); cur == "0" {
				break
			}
			cursorSet[cur] = true
		}
	}
	b.do("SELECT", "0")
	var cursors []string
	for c := range cursorSet {
		cursors = append(cursors, c)
	}
	if len(cursors) == 0 {
		t.Fatal("b's SCAN returned no intermediate cursor")
	}
	bAddr := b.c.LocalAddr().String() // b's address as the server sees it

	before := tenantStats(t, srv.Server, "b")

	tokens := []string{
		"user:1", "session:{b}", "b*?[\\key", "nul\x00key", "counter", long, "big", "db3key", "{b}",
		"*", "?", "[", "\\", "[a-z]*", "*\x00*", "\x00", "", "b:*", "*{b}*",
		"0", "1", "-1", "3", "16", "18446744073709551615", "9223372036854775807",
		"-9223372036854775808", "99999999999999999999999", "1e308", "nan", "-inf",
		"MATCH", "COUNT", "TYPE", "string", "EX", "PX", "KEEPTTL", "GET", "NX", "XX", "GT",
		"BY", "STORE", "LIMIT", "ID", bID, "ADDR", bAddr, "USER", "bob", "SKIPME", "no",
		"ASYNC", "DB", "REPLACE",
		"zb", "geob",
	}
	tokens = append(tokens, cursors...)
	for len(tokens)%7 == 0 {
		tokens = append(tokens, "x")
	}

	// Structured variants the rotation cannot produce on its own.
	extra := [][]string{
		{"KEYS", "*"}, {"KEYS", "?*"}, {"KEYS", "*b*"}, {"KEYS", "[a-z]*"}, {"KEYS", "\\*"},
		{"KEYS", "hidden-*"}, {"KEYS", strings.Repeat("*", 1000) + "x"},
		{"SCAN", "0", "MATCH", "*", "COUNT", "1000000"},
		{"SCAN", "18446744073709551615", "MATCH", "*", "COUNT", "1000"},
		{"SCAN", "0", "MATCH", "hidden-*", "COUNT", "1000", "TYPE", "string"},
		{"RANDOMKEY"}, {"DBSIZE"}, {"INFO"}, {"INFO", "everything"}, {"INFO", "keyspace"},
		{"CLIENT", "LIST"}, {"CLIENT", "LIST", "ID", bID}, {"CLIENT", "INFO"},
		{"CLIENT", "KILL", bAddr}, {"CLIENT", "KILL", "ID", bID}, {"CLIENT", "KILL", "ADDR", bAddr},
		{"CLIENT", "KILL", "USER", "bob"}, {"CLIENT", "KILL", "ID", bID, "SKIPME", "no"},
		{"GET", "hidden-" + "*"}, {"MGET", "user:1", "session:{b}", "db3key", "{b}", long},
		{"COPY", "user:1", "x", "DB", "3", "REPLACE"}, {"MOVE", "user:1", "3"},
		{"RENAME", "user:1", "stolen"}, {"SORT", "user:1", "BY", "*", "GET", "#"},
		{"SORT", "counter", "STORE", "user:1"}, {"OBJECT", "ENCODING", "user:1"},
		{"MEMORY", "USAGE", "big", "SAMPLES", "0"}, {"GETRANGE", "big", "-9223372036854775808", "9223372036854775807"},
		{"SETRANGE", "user:1", "9223372036854775807", "x"}, {"SETRANGE", "user:1", "9223372036854775800", "xyz"},
		{"SETRANGE", "user:1", "536870911", "x"}, {"INCRBY", "counter", "9223372036854775807"},
		{"SET", "user:1", "v", "GET"}, {"GETEX", "session:{b}", "PERSIST"}, {"GETDEL", "db3key"},
		{"EXPIRE", "user:1", "-9223372036854775808"}, {"PEXPIREAT", "session:{b}", "9223372036854775807"},
		{"SELECT", "-1"}, {"SELECT", "18446744073709551615"}, {"SWAPDB", "0", "3"},
		{"FLUSHALL"}, {"FLUSHALL", "ASYNC"}, {"FLUSHDB", "SYNC"}, {"DEBUG", "RELOAD"},
		{"CONFIG", "SET", "maxmemory", "1"}, {"CONFIG", "GET", "*"}, {"ACL", "LIST"}, {"ACL", "USERS"},
		{"HELLO", "2", "AUTH", "bob", "wrong"}, {"AUTH", "bob", ""}, {"AUTH", "default", "bob"},
		{"RESET"}, {"EVAL", "return redis.call('get','user:1')", "1", "user:1"},
		// DUMP and RESTORE name keys of a's own tenant only: b's keys
		// dump as nil, and a restore (REPLACE included) writes a's key.
		{"DUMP", "user:1"}, {"DUMP", "hidden-" + attackMarker}, {"DUMP", long},
		{"RESTORE", "user:1", "0", attackPayload, "REPLACE"}, {"RESTORE", "counter", "0", attackPayload},
		{"RESTORE", "db3key", "1", attackPayload, "ABSTTL", "REPLACE"}, {"RESTORE", "big", "0", "\x00garbage", "REPLACE"},
		{"LMPOP", "2", "user:1", "session:{b}", "LEFT"}, {"SINTERCARD", "2", "user:1", "db3key", "LIMIT", "1"},
		{"RPOPLPUSH", "user:1", "db3key"}, {"BRPOPLPUSH", "user:1", "db3key", "0.01"},
		{"BLMPOP", "0.01", "2", "user:1", "{b}", "RIGHT", "COUNT", "2"},
		// Sorted-set algebra and geo stores over b's key names.
		{"ZUNION", "3", "zb", "geob", "user:1", "WITHSCORES"}, {"ZINTER", "2", "zb", "geob", "WITHSCORES"},
		{"ZDIFF", "2", "geob", "zb", "WITHSCORES"}, {"ZINTERCARD", "2", "zb", "geob"},
		{"ZUNIONSTORE", "zb", "2", "zb", "geob"}, {"ZINTERSTORE", "geob", "1", "zb"}, {"ZDIFFSTORE", "user:1", "1", "geob"},
		{"ZRANGESTORE", "zb", "geob", "0", "-1"}, {"ZRANDMEMBER", "zb", "-5", "WITHSCORES"}, {"ZMPOP", "2", "zb", "geob", "MIN", "COUNT", "10"},
		{"GEOSEARCH", "geob", "FROMMEMBER", "gsecret-" + attackMarker, "BYRADIUS", "1000", "km", "WITHCOORD"},
		{"GEOSEARCH", "geob", "FROMLONLAT", "13.36", "38.1", "BYBOX", "5000", "5000", "km", "WITHDIST", "WITHHASH"},
		{"GEOSEARCHSTORE", "zb", "geob", "FROMLONLAT", "13.36", "38.1", "BYRADIUS", "5000", "km", "STOREDIST"},
		{"GEORADIUS", "geob", "13.36", "38.1", "5000", "km", "STORE", "zb"}, {"GEORADIUSBYMEMBER", "geob", "Catania", "5000", "km", "STOREDIST", "geob"},
		{"GEOPOS", "geob", "Catania", "gsecret-" + attackMarker}, {"GEODIST", "geob", "Catania", "gsecret-" + attackMarker},
		{"GEOHASH", "geob", "Catania"}, {"ZLEXCOUNT", "zb", "-", "+"}, {"ZRANGEBYLEX", "zb", "-", "+"},
		// b's stream, group and consumer by name (no BLOCK: the clock is fake).
		{"XREAD", "STREAMS", "events", "0"}, {"XREAD", "COUNT", "10", "STREAMS", "events", "events", "0", "$"},
		{"XREADGROUP", "GROUP", "workers", "c1", "STREAMS", "events", "0"},
		{"XREADGROUP", "GROUP", "workers", "c1", "STREAMS", "events", ">"},
		{"XINFO", "STREAM", "events", "FULL"}, {"XINFO", "GROUPS", "events"}, {"XINFO", "CONSUMERS", "events", "workers"},
		{"XPENDING", "events", "workers"}, {"XPENDING", "events", "workers", "-", "+", "10", "c1"},
		{"XCLAIM", "events", "workers", "thief", "0", "1-1", "FORCE"}, {"XAUTOCLAIM", "events", "workers", "thief", "0", "0"},
		{"XACK", "events", "workers", "1-1"}, {"XGROUP", "SETID", "events", "workers", "$"},
		{"XGROUP", "DELCONSUMER", "events", "workers", "c1"}, {"XGROUP", "DESTROY", "events", "workers"},
		{"XDEL", "events", "1-1"}, {"XTRIM", "events", "MAXLEN", "0"}, {"XSETID", "events", "99-0"},
		{"XADD", "events", "3-1", "f", "v"}, {"XGROUP", "CREATE", "events", "workers", "0", "MKSTREAM"},
		{"XREADGROUP", "GROUP", "workers", "c1", "STREAMS", "events", "0"}, {"XRANGE", "events", "-", "+"},
		{"COPY", "events", "mine"}, {"RENAME", "events", "stolen2"}, {"DEL", "events", "stolen2", "mine"},
	}

	var (
		rows, subs, variants, redials int
		errReplies, internal          int
		leaks                         []string
	)
	var a *attackConn
	attack := func(db int, args []string) {
		if a == nil {
			a = dialAttack(t, srv.addr, "aadmin", "aadmin-pw", db)
		}
		variants++
		a.seen.Reset()
		// RESET first: it ends a MULTI the variant may have opened.
		reps, err := a.roundTrip(encode(args...), encode("RESET"), encode("AUTH", "aadmin", "aadmin-pw"), encode("SELECT", strconv.Itoa(db)))
		if n := pubsubReplies(args); n > 1 && err == nil {
			// (P)(UN)SUBSCRIBE answer once per channel: read the rest.
			more := make([]any, n-1)
			for i := range more {
				a.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
				if more[i], err = readReply(a.rd); err != nil {
					break
				}
			}
			all := append(reps, more...)
			reps = append([]any{all[0]}, all[n:]...)
		}
		if bytes.Contains(a.seen.Bytes(), []byte(attackMarker)) {
			leaks = append(leaks, fmt.Sprintf("db%d %.200q: %.300q", db, args, a.seen.String()))
		}
		if len(reps) > 0 {
			if e, isErr := reps[0].(respErr); isErr {
				errReplies++
				if string(e) == errInternal {
					internal++
					t.Errorf("db%d %.200q: handler panicked", db, args)
				}
			}
		}
		if err != nil {
			// The command closed a's own connection (CLIENT KILL SKIPME no,
			// CLIENT KILL of its own address): re-dial and go on.
			redials++
			a.nc.Close()
			a = nil
			return
		}
		if reps[1] != status("RESET") || reps[2] != ok || reps[3] != ok {
			t.Errorf("db%d %.200q: RESET/AUTH/SELECT after it = %v", db, args, reps[1:])
		}
	}
	for _, db := range []int{0, 3} {
		for _, cmd := range srv.ordered {
			if cmd.Name == "quit" {
				continue // closes a's own connection and nothing else
			}
			if db == 0 {
				rows++
			}
			name := strings.ToUpper(cmd.Name)
			for i, args := range attackArgs([]string{name}, cmd.Arity, tokens) {
				if cmd.Name == "pfselftest" && (db != 0 || i > 0 && len(args) == 1) {
					// Tens of millions of register operations, over 10s
					// each under -race: run once, and the wrong arities.
					continue
				}
				attack(db, args)
			}
			for _, sub := range cmd.SortedSubs() {
				if db == 0 {
					subs++
				}
				_, short, _ := strings.Cut(sub.Name, "|")
				for _, args := range attackArgs([]string{name, strings.ToUpper(short)}, sub.Arity, tokens) {
					attack(db, args)
				}
			}
		}
		for _, args := range extra {
			attack(db, args)
		}
	}
	for _, l := range leaks {
		t.Errorf("secret of b in a reply to a: %s", l)
	}

	after := tenantStats(t, srv.Server, "b")
	if !reflect.DeepEqual(before, after) {
		t.Errorf("b's stats changed by a's attack:\nbefore %+v\nafter  %+v", before, after)
	}
	// b's connection is alive, and every value and TTL is as it was.
	if got := b.do("PING"); got != status("PONG") {
		t.Fatalf("b's connection after the attack: PING = %v", got)
	}
	for i, k := range bkeys {
		b.do("SELECT", strconv.Itoa(k.db))
		if got := norm(b.do("GET", k.name)); got != k.val {
			t.Errorf("b db%d %.20q = %.40q, want %.40q", k.db, k.name, got, k.val)
		}
		if got := b.do("PTTL", k.name); got != pttl[i] {
			t.Errorf("b db%d %.20q PTTL = %v, want %v", k.db, k.name, got, pttl[i])
		}
	}
	b.do("SELECT", "0")
	for k, want := range bCollWant {
		if got := norm(b.do("ZRANGE", k, "0", "-1", "WITHSCORES")); !reflect.DeepEqual(got, want) {
			t.Errorf("b's %s after the attack = %v, want %v", k, got, want)
		}
	}
	if got := streamState(); !reflect.DeepEqual(got, bStream) {
		t.Errorf("b's stream changed by a's attack:\nbefore %v\nafter  %v", bStream, got)
	}
	if got := norm(b.do("CLIENT", "GETNAME")); got != "bname-"+attackMarker {
		t.Errorf("b's client name = %v", got)
	}
	if n := srv.Panics(); n != 0 {
		t.Errorf("%d handler panics during the attack", n)
	}
	t.Logf("attack suite: %d commands + %d subcommands, %d argument variants (%d tokens, %d structured, in db 0 and db 3), %d error replies, %d internal errors, %d re-dials after a closed its own connection",
		rows, subs, variants, len(tokens), len(extra), errReplies, internal, redials)
}

// tenantStats returns the Stats entry of one tenant.
func tenantStats(t *testing.T, s *Server, id string) TenantStats {
	t.Helper()
	for _, st := range s.Stats() {
		if st.ID == id {
			return st
		}
	}
	t.Fatalf("no tenant %q in Stats", id)
	return TenantStats{}
}

// TestSetRangeHugeOffset: offset+len(value) must not overflow into a
// panic (found by the attack suite: SETRANGE k 9223372036854775807 x).
func TestSetRangeHugeOffset(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	a.do("SET", "k", "v")
	for _, off := range []string{"9223372036854775807", "9223372036854775806", "9223372036854775000", "536870911", "536870910"} {
		want := respErr(command.ErrStringTooBig)
		if off == "536870910" {
			want = respErr(command.ErrOOM) // fits proto-max-bulk-len, not the 8 MiB quota
		}
		if got := a.do("SETRANGE", "k", off, "xy"); got != want {
			t.Errorf("SETRANGE k %s xy = %v, want %v", off, got, want)
		}
	}
	if got := norm(a.do("GET", "k")); got != "v" {
		t.Errorf("k = %v", got)
	}
	if n := srv.Panics(); n != 0 {
		t.Errorf("%d handler panics", n)
	}
}

// pubsubReplies is how many replies a command of the attack sends: one,
// except SUBSCRIBE and its kin, which answer once per channel or pattern
// (the connection holds no subscription when the command runs).
func pubsubReplies(args []string) int {
	switch strings.ToLower(args[0]) {
	case "subscribe", "psubscribe", "unsubscribe", "punsubscribe", "ssubscribe", "sunsubscribe":
		if len(args) > 1 {
			return len(args) - 1
		}
	}
	return 1
}

// drainRaw reads what c has been sent until nothing arrives for quiet.
func drainRaw(c net.Conn, quiet time.Duration) []byte {
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		c.SetReadDeadline(time.Now().Add(quiet))
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			return out
		}
	}
}

// rawSession dials user and sends the commands without reading: what the
// connection is sent (replies, pushes, MONITOR lines) is read at the end
// with drainRaw.
func rawSession(t *testing.T, addr string, cmds ...[]string) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	var b []byte
	for _, c := range cmds {
		b = append(b, encode(c...)...)
	}
	nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Write(b); err != nil {
		t.Fatal(err)
	}
	return nc
}

// TestAttackTrackingMonitor: tenant a listens with every client-side
// caching mode (BCAST on the empty prefix, the default mode on the same
// names b uses, a RESP2 redirect) and with MONITOR, while tenant b writes,
// expires, evaluates, transacts and flushes keys and values carrying the
// marker. Nothing a is sent names b's keys or shows b's commands; a's own
// probe write reaches every listener (so the check can fail); a cannot
// redirect to b's connection nor monitor b.
func TestAttackTrackingMonitor(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	names := []string{"user:1", "shared", "k" + attackMarker, ""}
	hello3 := []string{"HELLO", "3", "AUTH", "aadmin", "aadmin-pw"}
	auth := []string{"AUTH", "aadmin", "aadmin-pw"}

	bcast := rawSession(t, srv.addr, hello3, []string{"CLIENT", "TRACKING", "ON", "BCAST"})
	readNames := [][]string{hello3, {"CLIENT", "TRACKING", "ON"}}
	for _, n := range names {
		readNames = append(readNames, []string{"GET", n}, []string{"HGETALL", n})
	}
	deflt := rawSession(t, srv.addr, readNames...)
	sub := dialAs(t, srv.addr, "aadmin", "aadmin-pw")
	subID := strconv.FormatInt(sub.do("CLIENT", "ID").(int64), 10)
	sub.do("SUBSCRIBE", "__redis__:invalidate")
	redir := [][]string{auth, {"CLIENT", "TRACKING", "ON", "REDIRECT", subID}}
	for _, n := range names {
		redir = append(redir, []string{"GET", n})
	}
	rawSession(t, srv.addr, redir...)
	mon := rawSession(t, srv.addr, auth, []string{"MONITOR"})

	// a's refusals: b's connection as a redirect target, b's MONITOR.
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	bID := strconv.FormatInt(b.do("CLIENT", "ID").(int64), 10)
	a := dialAs(t, srv.addr, "aadmin", "aadmin-pw")
	if got := a.do("CLIENT", "TRACKING", "ON", "REDIRECT", bID); got != respErr(errTrackRedirMissing) {
		t.Errorf("a REDIRECT to b's connection = %v", got)
	}
	if got := a.do("TENANT", "MONITOR", "b"); got == ok {
		t.Errorf("a's TENANT MONITOR b = %v", got)
	}
	time.Sleep(50 * time.Millisecond) // the listeners' commands ran

	// b's writes of every kind, names and values carrying the marker.
	bc := b
	for _, n := range names {
		k := n + attackMarker
		bc.do("SET", n, attackMarker)
		bc.do("SET", k, attackMarker)
		bc.do("HSET", "h"+k, "f"+attackMarker, attackMarker)
		bc.do("PEXPIRE", k, "20")
		bc.do("APPEND", n, attackMarker)
		bc.do("EVAL", "redis.call('SET', KEYS[1], ARGV[1]) return redis.call('DEL', KEYS[1])", "1", "lua"+k, attackMarker)
		bc.do("MULTI")
		bc.do("INCR", "c"+k)
		bc.do("RENAME", "h"+k, "r"+k)
		bc.do("EXEC")
	}
	bc.do("SET", "exp"+attackMarker, "v", "PX", "10")
	time.Sleep(250 * time.Millisecond) // active expiry of b's keys
	bc.do("FLUSHALL")
	bc.do("CLIENT", "TRACKING", "ON", "BCAST")
	bc.do("MONITOR")

	// a's probe: every listener must hear it.
	a.do("SET", "probe", "p")
	a.do("SET", "user:1", "p")
	for name, c := range map[string]net.Conn{"BCAST": bcast, "default": deflt, "redirect target": sub.c, "MONITOR": mon} {
		got := drainRaw(c, 300*time.Millisecond)
		leak := got
		if name == "MONITOR" {
			// a's own reads of the marked names (the default-mode
			// listener's GET/HGETALL) may run after MONITOR started and
			// show there, rightly: only lines of other commands count.
			leak = nil
			for _, line := range bytes.Split(got, []byte("\r\n")) {
				if !bytes.Contains(line, []byte(`] "GET" `)) && !bytes.Contains(line, []byte(`] "HGETALL" `)) {
					leak = append(append(leak, line...), "\r\n"...)
				}
			}
		}
		if bytes.Contains(leak, []byte(attackMarker)) {
			t.Errorf("a's %s connection was sent b's data: %.400q", name, leak)
		}
		want := "user:1"
		if name == "BCAST" || name == "MONITOR" {
			want = "probe"
		}
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("a's %s connection did not hear a's own write of %s: %.400q", name, want, got)
		}
	}
}
