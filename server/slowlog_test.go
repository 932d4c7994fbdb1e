package server

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcached/tcached/config"
)

// slowArgs is the arguments array of each SLOWLOG GET entry.
func slowArgs(t *testing.T, rep any) [][]string {
	t.Helper()
	entries, ok := norm(rep).([]any)
	if !ok {
		t.Fatalf("SLOWLOG GET = %v", rep)
	}
	out := make([][]string, len(entries))
	for i, e := range entries {
		f := e.([]any)
		if len(f) != 6 {
			t.Fatalf("entry %v has %d fields, want 6", f, len(f))
		}
		for _, a := range f[3].([]any) {
			out[i] = append(out[i], a.(string))
		}
	}
	return out
}

// TestSlowlogDiff: with slowlog-log-slower-than 0 the same commands give
// tcached and redis-server 7.0.15 the same entries: arguments (redacted
// credentials, 32 arguments at most, 128 bytes each), client name, and
// the entry shape (id, time, duration, args, addr, name).
func TestSlowlogDiff(t *testing.T) {
	cfg := testConfig()
	cfg.DefaultTenant = "a"
	cfg.DefaultRole = config.RoleAdmin
	srv := startServer(t, cfg, false)
	tc := dial(t, srv.addr)
	rd := startRedisServer(t)
	long := strings.Repeat("L", 300)
	many := []string{"MSET"}
	for i := 0; i < 40; i++ {
		many = append(many, "k"+strconv.Itoa(i), "v")
	}
	for _, c := range []*rconn{tc, rd} {
		c.do("CONFIG", "SET", "slowlog-log-slower-than", "0")
		c.do("SLOWLOG", "RESET")
		c.do("CLIENT", "SETNAME", "slowpoke")
		c.do("SET", "k", long)
		c.do(many...)
		c.do("AUTH", "someone", "secret-pw")
		c.do("AUTH", "secret-pw2")
		c.do("HELLO", "2", "AUTH", "someone", "secret-pw3", "SETNAME", "slowpoke")
		c.do("GET", "k")
	}
	got, want := slowArgs(t, tc.do("SLOWLOG", "GET", "-1")), slowArgs(t, rd.do("SLOWLOG", "GET", "-1"))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SLOWLOG GET args:\ntcached %q\nredis   %q", got, want)
	}
	if strings.Contains(fmtAny(got), "secret") {
		t.Errorf("a credential in the slow log: %q", got)
	}
	rd.do("SLOWLOG", "GET", "1")
	e := norm(tc.do("SLOWLOG", "GET", "1")).([]any)[0].([]any)
	if e[5] != "slowpoke" || e[4] != tc.c.LocalAddr().String() {
		t.Errorf("entry's client = %v %v, want %s slowpoke", e[4], e[5], tc.c.LocalAddr())
	}
	if ts := e[1].(int64); ts < time.Now().Add(-time.Minute).Unix() || ts > time.Now().Unix()+1 {
		t.Errorf("entry's time = %d", ts)
	}
	for _, args := range [][]string{{"SLOWLOG", "LEN"}, {"SLOWLOG", "GET", "-2"}, {"SLOWLOG", "GET", "x"}, {"SLOWLOG", "GET", "1", "2"},
		{"SLOWLOG", "NOPE"}, {"SLOWLOG", "RESET", "x"}, {"SLOWLOG", "LEN"}, {"SLOWLOG", "RESET"}, {"SLOWLOG", "LEN"}} {
		if got, want := norm(tc.do(args...)), norm(rd.do(args...)); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: tcached %v, redis %v", args, got, want)
		}
	}
	for _, args := range [][]string{{"CONFIG", "SET", "slowlog-log-slower-than", "-2"}, {"CONFIG", "SET", "slowlog-max-len", "-1"},
		{"CONFIG", "SET", "latency-monitor-threshold", "x"}, {"CONFIG", "SET", "tracking-table-max-keys", "-5"},
		{"CONFIG", "GET", "slowlog-*"}, {"CONFIG", "GET", "latency-monitor-threshold"}} {
		if got, want := configMap(norm(tc.do(args...))), configMap(norm(rd.do(args...))); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: tcached %v, redis %v", args, got, want)
		}
	}
}

func fmtAny(v any) string { return fmt.Sprint(v) }

// TestSlowlogPerTenant: each tenant has its own slow log and settings:
// another tenant's commands, arguments and addresses never show, and its
// RESET or thresholds change nothing of the other's.
func TestSlowlogPerTenant(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	a := dialAs(t, srv.addr, "aadmin", "aadmin-pw")
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	a.do("CONFIG", "SET", "slowlog-log-slower-than", "0")
	a.do("SLOWLOG", "RESET")
	b.do("SET", "b-secret-key", "b-secret-value") // b's threshold is still 10ms
	if got := b.do("SLOWLOG", "LEN"); got != int64(0) {
		t.Errorf("b's SLOWLOG LEN = %v: a's threshold leaked into b", got)
	}
	if got := norm(b.do("CONFIG", "GET", "slowlog-log-slower-than")); !reflect.DeepEqual(got, []any{"slowlog-log-slower-than", "10000"}) {
		t.Errorf("b's CONFIG GET slowlog-log-slower-than = %v", got)
	}
	b.do("CONFIG", "SET", "slowlog-log-slower-than", "0")
	b.do("SET", "b-secret-key", "b-secret-value")
	a.do("SET", "a-key", "a-value")
	for _, e := range slowArgs(t, a.do("SLOWLOG", "GET", "-1")) {
		if strings.Contains(strings.Join(e, " "), "b-secret") {
			t.Errorf("a's slow log shows b's command %q", e)
		}
	}
	before := b.do("SLOWLOG", "LEN").(int64)
	a.do("SLOWLOG", "RESET")
	if got := b.do("SLOWLOG", "LEN").(int64); got < before {
		t.Errorf("a's SLOWLOG RESET shortened b's log from %d to %d", before, got)
	}
	found := false
	for _, e := range slowArgs(t, b.do("SLOWLOG", "GET", "-1")) {
		found = found || reflect.DeepEqual(e, []string{"SET", "b-secret-key", "b-secret-value"})
	}
	if !found {
		t.Error("b's own SET is not in its slow log")
	}
	// slowlog-max-len trims.
	a.do("CONFIG", "SET", "slowlog-max-len", "3")
	for i := 0; i < 10; i++ {
		a.do("PING")
	}
	if got := a.do("SLOWLOG", "LEN"); got != int64(3) {
		t.Errorf("SLOWLOG LEN with slowlog-max-len 3 = %v", got)
	}
	// The log is charged to the tenant's client memory and freed by RESET.
	tn := srv.reg.Load().tenants["a"]
	tn.diag.mu.Lock()
	charged := tn.diag.charged
	tn.diag.mu.Unlock()
	if charged <= 0 {
		t.Errorf("the slow log charges %d bytes", charged)
	}
	a.do("CONFIG", "SET", "slowlog-log-slower-than", "-1")
	a.do("SLOWLOG", "RESET")
	if got := a.do("SLOWLOG", "LEN"); got != int64(0) {
		t.Errorf("SLOWLOG LEN after RESET with logging off = %v", got)
	}
	tn.diag.mu.Lock()
	charged = tn.diag.charged
	tn.diag.mu.Unlock()
	if charged != 0 {
		t.Errorf("an empty slow log charges %d bytes", charged)
	}
}

// TestLatencyMonitor: LATENCY LATEST/HISTORY/RESET per tenant, fed by the
// tenant's commands slower than its latency-monitor-threshold.
func TestLatencyMonitor(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	a := dialAs(t, srv.addr, "aadmin", "aadmin-pw")
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	if got := norm(a.do("LATENCY", "LATEST")); !reflect.DeepEqual(got, []any{}) {
		t.Errorf("LATENCY LATEST with the monitor off = %v", got)
	}
	a.do("CONFIG", "SET", "latency-monitor-threshold", "1")
	slow := `local i = 0 while i < 300000 do i = i + 1 end return i`
	if got := a.do("EVAL", slow, "0"); got != int64(300000) {
		t.Fatalf("EVAL = %v", got)
	}
	latest := norm(a.do("LATENCY", "LATEST")).([]any)
	if len(latest) != 1 || latest[0].([]any)[0] != "command" || latest[0].([]any)[2].(int64) < 1 {
		t.Fatalf("LATENCY LATEST = %v, want one 'command' event of at least 1 ms", latest)
	}
	hist := norm(a.do("LATENCY", "HISTORY", "command")).([]any)
	if len(hist) != 1 || len(hist[0].([]any)) != 2 {
		t.Errorf("LATENCY HISTORY command = %v", hist)
	}
	if got := norm(b.do("LATENCY", "LATEST")); !reflect.DeepEqual(got, []any{}) {
		t.Errorf("b's LATENCY LATEST = %v: a's events leaked", got)
	}
	if got := a.do("LATENCY", "DOCTOR"); !strings.Contains(string(got.([]byte)), "command: 1 latency spikes") {
		t.Errorf("LATENCY DOCTOR = %q", got)
	}
	if got := a.do("LATENCY", "RESET", "nosuch"); got != int64(0) {
		t.Errorf("LATENCY RESET nosuch = %v", got)
	}
	if got := a.do("LATENCY", "RESET"); got != int64(1) {
		t.Errorf("LATENCY RESET = %v, want 1", got)
	}
	if got := norm(a.do("LATENCY", "HISTORY", "command")); !reflect.DeepEqual(got, []any{}) {
		t.Errorf("LATENCY HISTORY after RESET = %v", got)
	}
}

// configMap turns a CONFIG GET reply into a map (the order is Redis's
// dict order); other replies are returned as they are.
func configMap(v any) any {
	arr, ok := v.([]any)
	if !ok {
		return v
	}
	m := map[any]any{}
	for i := 0; i+1 < len(arr); i += 2 {
		m[arr[i]] = arr[i+1]
	}
	return m
}
