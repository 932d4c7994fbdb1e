package server

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcached/tcached/config"
)

// trackingTranscript runs one client-side caching scenario against addr
// and returns what the tracking connections were sent, in order: replies,
// invalidation pushes and redirected messages, with the redirect id
// replaced by "ID".
func trackingTranscript(t *testing.T, addr string) []string {
	x := dial(t, addr) // the tracking connection, RESP3
	y := dial(t, addr) // another connection that writes
	z := dial(t, addr) // a RESP2 redirect target
	w := dial(t, addr) // a RESP2 connection redirecting to z
	y.do("FLUSHALL")
	zID := strconv.FormatInt(z.do("CLIENT", "ID").(int64), 10)
	var out []string
	note := func(who string, v any) {
		s := strings.ReplaceAll(fmt.Sprintf("%#v", norm(v)), zID, "ID")
		out = append(out, who+" "+s)
	}
	drain := func(who string, r *rconn) {
		for {
			v, ok := r.readWithin(150 * time.Millisecond)
			if !ok {
				return
			}
			note(who, v)
		}
	}
	xs := func(args ...string) { note("x", x.do(args...)) }
	ys := func(args ...string) { y.do(args...); drain("x", x) }

	x.do("HELLO", "3")
	xs("CLIENT", "TRACKINGINFO")
	xs("CLIENT", "GETREDIR")
	xs("CLIENT", "TRACKING", "ON", "BCAST", "OPTIN")
	xs("CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT")
	xs("CLIENT", "TRACKING", "ON", "PREFIX", "a")
	xs("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a", "PREFIX", "ab")
	xs("CLIENT", "TRACKING", "ON", "REDIRECT", "999999999")
	xs("CLIENT", "TRACKING", "ON", "REDIRECT", "x")
	xs("CLIENT", "TRACKING", "ON", "NOSUCH")
	xs("CLIENT", "TRACKING", "MAYBE")
	xs("CLIENT", "CACHING", "YES")
	xs("CLIENT", "TRACKING", "ON")
	xs("CLIENT", "CACHING", "YES")
	xs("CLIENT", "CACHING", "NO")
	xs("CLIENT", "CACHING", "MAYBE")
	xs("CLIENT", "TRACKINGINFO")
	xs("CLIENT", "GETREDIR")
	xs("GET", "k1")
	xs("MGET", "k2", "k3")
	xs("HGET", "h", "f")
	ys("SET", "k1", "v")
	ys("MSET", "k2", "1", "k3", "2")
	ys("HSET", "h", "f", "v")
	ys("SET", "k1", "again") // invalidated already: forgotten
	xs("CLIENT", "TRACKING", "ON", "BCAST")
	xs("CLIENT", "TRACKING", "ON", "OPTIN")
	xs("CLIENT", "TRACKING", "OFF")
	xs("CLIENT", "TRACKINGINFO")
	xs("CLIENT", "TRACKING", "ON", "OPTIN", "NOLOOP")
	xs("CLIENT", "CACHING", "YES")
	xs("CLIENT", "TRACKINGINFO")
	xs("GET", "o1")
	xs("GET", "o2")
	xs("CLIENT", "TRACKINGINFO")
	ys("MSET", "o1", "1", "o2", "2")
	xs("CLIENT", "CACHING", "YES")
	xs("GET", "o1")
	xs("SET", "o1", "mine") // NOLOOP: no push
	drain("x", x)
	xs("CLIENT", "TRACKING", "OFF")
	xs("CLIENT", "TRACKING", "ON", "OPTOUT")
	xs("CLIENT", "CACHING", "NO")
	xs("GET", "skip")
	xs("GET", "keep")
	ys("MSET", "skip", "1", "keep", "1")
	xs("CLIENT", "TRACKING", "OFF")
	xs("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p:")
	xs("CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "p:x")
	xs("CLIENT", "TRACKINGINFO")
	ys("MSET", "p:1", "1", "q:1", "2", "p:2", "3")
	ys("FLUSHALL")
	xs("CLIENT", "TRACKING", "OFF")

	// The RESP2 redirect.
	note("z", z.do("SUBSCRIBE", "__redis__:invalidate"))
	note("w", w.do("CLIENT", "TRACKING", "ON", "REDIRECT", zID))
	note("w", w.do("CLIENT", "GETREDIR"))
	w.do("GET", "r1")
	w.do("GET", "r2")
	y.do("SET", "r1", "1")
	y.do("DEL", "r2")
	y.do("SET", "r2", "2")
	drain("z", z)
	note("w", w.do("CLIENT", "TRACKINGINFO"))
	return out
}

// TestTrackingDifferential: the same client-side caching session against
// tcached's default tenant and redis-server 7.0: replies, error strings,
// TRACKINGINFO, and the invalidation pushes and messages, in order.
func TestTrackingDifferential(t *testing.T) {
	rd := startRedisServer(t)
	redisAddr := rd.c.RemoteAddr().String()
	cfg := testConfig()
	cfg.Tenants[0].Tier.DefaultTTL = 0
	cfg.DefaultTenant = "a"
	cfg.DefaultRole = config.RoleAdmin
	srv := startServer(t, cfg, false)
	want := trackingTranscript(t, redisAddr)
	got := trackingTranscript(t, srv.addr)
	pushes := 0
	for _, l := range want {
		if strings.Contains(l, "invalidate") {
			pushes++
		}
	}
	if pushes < 8 {
		t.Fatalf("redis-server's transcript has %d invalidations: the scenario checks nothing\n%s", pushes, strings.Join(want, "\n"))
	}
	t.Logf("%d steps, %d with invalidations", len(want), pushes)
	n := max(len(want), len(got))
	bad := 0
	for i := 0; i < n; i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("step %d:\n tcached %s\n redis   %s", i, g, w)
			if bad++; bad > 10 {
				break
			}
		}
	}
}

// monitorTranscript runs commands on one connection while another
// monitors, and returns the lines with the timestamp and the client's
// port taken out.
func monitorTranscript(t *testing.T, addr string, cmds [][]string) []string {
	mon := dial(t, addr)
	if got := mon.do("MONITOR"); got != ok {
		t.Fatalf("MONITOR = %v", got)
	}
	c := dial(t, addr)
	for _, args := range cmds {
		c.do(args...)
	}
	c.do("ECHO", "end")
	var out []string
	for {
		v, okRead := mon.readWithin(2 * time.Second)
		if !okRead {
			t.Fatalf("MONITOR: no end line; so far %q", out)
		}
		line := string(v.(status))
		m := monitorLineRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("MONITOR line %q", line)
		}
		src := m[2]
		if src != "lua" {
			src = "addr"
		}
		out = append(out, "["+m[1]+" "+src+"] "+m[3])
		if m[3] == `"ECHO" "end"` {
			return out
		}
	}
}

// TestMonitorDifferential: MONITOR's lines for the same commands on
// tcached's default tenant and redis-server 7.0: quoting, the db after
// SELECT, redaction, a script's calls, a transaction, what is not shown.
func TestMonitorDifferential(t *testing.T) {
	rd := startRedisServer(t)
	cfg := testConfig()
	cfg.Tenants[0].Tier.DefaultTTL = 0
	cfg.DefaultTenant = "a"
	cfg.DefaultRole = config.RoleAdmin
	srv := startServer(t, cfg, false)
	cmds := [][]string{
		{"SET", "k", "a\"b\\c\r\n\t\x00\x7f\xff é"},
		{"GET", "k"},
		{"SELECT", "2"},
		{"SET", "in2", "v"},
		{"SELECT", "0"},
		{"HELLO", "2"},
		{"EVAL", "redis.call('set', KEYS[1], ARGV[1]) return redis.pcall('incr', KEYS[1])", "1", "lk", "x"},
		{"MULTI"}, {"INCR", "n"}, {"GET", "n"}, {"EXEC"},
		{"SLOWLOG", "LEN"}, {"LATENCY", "LATEST"}, {"CLIENT", "LIST"},
		{"NOSUCHCOMMAND", "x"}, {"GET"},
		{"PING"}, {"CLIENT", "SETNAME", "n1"}, {"DEL", "k", "lk", "n"},
	}
	want := monitorTranscript(t, rd.c.RemoteAddr().String(), cmds)
	got := monitorTranscript(t, srv.addr, cmds)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("MONITOR lines differ\ntcached:\n  %s\nredis:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}
