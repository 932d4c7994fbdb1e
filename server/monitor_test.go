package server

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// monitorLines reads n MONITOR lines (status replies) from r.
func monitorLines(t *testing.T, r *rconn, n int) []string {
	t.Helper()
	var out []string
	for len(out) < n {
		v, ok := r.readWithin(3 * time.Second)
		if !ok {
			t.Fatalf("MONITOR: %d lines within 3s, want %d: %q", len(out), n, out)
		}
		s, isStatus := v.(status)
		if !isStatus {
			t.Fatalf("MONITOR sent %#v, not a status line", v)
		}
		out = append(out, string(s))
	}
	return out
}

var monitorLineRE = regexp.MustCompile(`^\d{10}\.\d{6} \[(\d+) ([^\]]+)\] (.*)$`)

// monitorArgs checks line's format and returns "db src" and the quoted
// arguments.
func monitorArgs(t *testing.T, line string) (string, string) {
	t.Helper()
	m := monitorLineRE.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("MONITOR line %q is not Redis's format", line)
	}
	src := m[2]
	if src != "lua" && !strings.HasPrefix(src, "127.0.0.1:") && !strings.Contains(src, " tenant=") {
		t.Fatalf("MONITOR line %q: source %q", line, src)
	}
	return m[1] + " " + src, m[3]
}

// TestMonitor: a tenant's MONITOR sees its own tenant's commands only, in
// Redis 7.0's format, credentials redacted, a script's calls as [db lua]
// after the EVAL; an operator sees every tenant's, or one tenant's.
func TestMonitor(t *testing.T) {
	srv := startServer(t, testConfig(), false)
	mon := dialAs(t, srv.addr, "alice", "alice-pw")
	if got := mon.do("MONITOR"); got != ok {
		t.Fatalf("MONITOR = %v", got)
	}
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	b := dialAs(t, srv.addr, "bob", "bob-pw")
	b.do("SET", "b-secret", "b-value") // another tenant: never shown
	a.do("SET", "k", "va\"l\n")
	a.do("SELECT", "1")
	a.do("GET", "k")
	a.do("SELECT", "0")
	a.do("SLOWLOG", "LEN") // not shown, as in Redis
	a.do("EVAL", "return redis.call('GET', KEYS[1])", "1", "k")
	a.do("AUTH", "alice", "alice-pw")
	a.do("HELLO", "2", "AUTH", "alice", "alice-pw")
	b.do("GET", "b-secret")
	want := []struct{ src, args string }{
		{"0 ", `"AUTH" "(redacted)" "(redacted)"`}, // a's dial
		{"0 ", `"SET" "k" "va\"l\n"`},
		{"1 ", `"SELECT" "1"`}, // the db after the command, as Redis's call()
		{"1 ", `"GET" "k"`},
		{"0 ", `"SELECT" "0"`},
		{"0 ", `"EVAL" "return redis.call('GET', KEYS[1])" "1" "k"`},
		{"0 lua", `"GET" "k"`},
		{"0 ", `"AUTH" "(redacted)" "(redacted)"`},
		{"0 ", `"HELLO" "2" "AUTH" "(redacted)" "(redacted)"`},
	}
	lines := monitorLines(t, mon, len(want))
	for i, w := range want {
		src, args := monitorArgs(t, lines[i])
		if !strings.HasPrefix(src, w.src) || args != w.args {
			t.Errorf("line %d = %q, want [%s...] %s", i, lines[i], w.src, w.args)
		}
	}
	expectNothing(t, mon, "bob's commands in alice's MONITOR")
	// A transaction: MULTI, then its commands as EXEC runs them, then EXEC
	// (Redis feeds each from call(), EXEC's after its own).
	a.do("MULTI")
	a.do("INCR", "n")
	a.do("EXEC")
	var order []string
	for _, l := range monitorLines(t, mon, 3) {
		_, args := monitorArgs(t, l)
		order = append(order, args)
	}
	if strings.Join(order, " ") != `"MULTI" "INCR" "n" "EXEC"` {
		t.Errorf("MULTI/INCR/EXEC shown as %q", order)
	}

	// An operator's MONITOR: every tenant, each line naming its tenant;
	// TENANT MONITOR b: b's only.
	all := dialAs(t, srv.addr, "ops", "ops-pw")
	if got := all.do("MONITOR"); got != ok {
		t.Fatalf("operator MONITOR = %v", got)
	}
	one := dialAs(t, srv.addr, "ops", "ops-pw")
	if got := one.do("TENANT", "MONITOR", "b"); got != ok {
		t.Fatalf("TENANT MONITOR b = %v", got)
	}
	a.do("GET", "a-key")
	b.do("GET", "b-key")
	got := monitorLines(t, all, 2)
	if !strings.Contains(got[0], " tenant=a] \"GET\" \"a-key\"") || !strings.Contains(got[1], " tenant=b] \"GET\" \"b-key\"") {
		t.Errorf("operator MONITOR lines %q", got)
	}
	got = monitorLines(t, one, 1)
	if _, args := monitorArgs(t, got[0]); args != `"GET" "b-key"` {
		t.Errorf("TENANT MONITOR b line %q", got[0])
	}
	expectNothing(t, one, "a's commands in TENANT MONITOR b")
	if got := a.do("TENANT", "MONITOR", "b"); got == ok {
		t.Errorf("a tenant's TENANT MONITOR b = %v", got)
	}
	// Inside MULTI, MONITOR is refused as Redis refuses it.
	a.do("MULTI")
	a.do("MONITOR")
	if got := normAny(a.do("EXEC")); !strings.Contains(got, "MONITOR isn't allowed") {
		t.Errorf("MONITOR in EXEC = %s", got)
	}
	// RESET ends it.
	mon.send(encode("RESET"))
	for {
		v, okRead := mon.readWithin(3 * time.Second)
		if !okRead {
			t.Fatal("no RESET reply")
		}
		if v == status("RESET") {
			break
		}
	}
	a.do("SET", "after", "reset")
	expectNothing(t, mon, "after RESET")
}

func normAny(v any) string { return fmt.Sprint(norm(v)) }

// TestMonitorSlowReader: a MONITOR that does not read is disconnected at
// its output limit, and the monitored tenant's commands never wait on it.
func TestMonitorSlowReader(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.WriteTimeout = 30 * time.Second
	cfg.Limits.ClientOutputBufferLimit = 1 << 20
	srv := startServer(t, cfg, false)
	mon := dialAs(t, srv.addr, "alice", "alice-pw")
	mon.do("MONITOR")
	a := dialAs(t, srv.addr, "alice", "alice-pw")
	n0 := srv.conns.Load()
	v := strings.Repeat("v", 32<<10)
	start := time.Now()
	gone := false
	for i := 0; i < 2000 && !gone; i++ {
		a.do("SET", "k", v)
		gone = srv.conns.Load() == n0-1
	}
	if !gone {
		t.Fatalf("a MONITOR that does not read is still connected after 2000 x 32 KiB")
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the writer took %v", d)
	}
}

// TestMonitorCLI: redis-cli monitor as a tenant's user prints the tenant's
// commands in Redis's format.
func TestMonitorCLI(t *testing.T) {
	bin := cliRequireTool(t, "redis-cli")
	ts := startServer(t, testConfig(), false)
	host, port := splitHostPort(t, ts.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-h", host, "-p", port, "--user", "alice", "--pass", "alice-pw",
		"--no-auth-warning", "monitor")
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "OK" {
		t.Fatalf("redis-cli monitor printed %q first, want OK", sc.Text())
	}
	a := dialAs(t, ts.addr, "alice", "alice-pw")
	b := dialAs(t, ts.addr, "bob", "bob-pw")
	b.do("SET", "b-only", "1")
	a.do("SET", "cli-key", "x y")
	re := regexp.MustCompile(`^\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "(AUTH" "\(redacted\)" "\(redacted\)|SET" "cli-key" "x y)"$`)
	for sc.Scan() {
		line := sc.Text()
		if !re.MatchString(line) {
			t.Fatalf("redis-cli monitor printed %q", line)
		}
		if strings.Contains(line, "cli-key") {
			return
		}
	}
	t.Fatalf("redis-cli monitor ended without the SET: %v", sc.Err())
}
