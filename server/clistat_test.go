package server

import (
	"bufio"
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCLIStat runs `redis-cli --stat` against a tenant as an operator of
// the tenant would: every column must be a number read from INFO (a
// missing field prints LONG_MIN, -9223372036854775808, or a bogus child
// column), and the numbers must be the tenant's own: its keys, its
// connections, its blocked client.
func TestCLIStat(t *testing.T) {
	bin := cliRequireTool(t, "redis-cli")
	ts := startServer(t, testConfig(), false)
	host, port := splitHostPort(t, ts.addr)

	a := dialAs(t, ts.addr, "alice", "alice-pw")
	for i := 0; i < 5; i++ {
		a.do("SET", "k"+strconv.Itoa(i), "v")
	}
	// Another tenant's keys and connections must not show.
	b := dialAs(t, ts.addr, "bob", "bob-pw")
	for i := 0; i < 7; i++ {
		b.do("SET", "b"+strconv.Itoa(i), "v")
	}
	dialAs(t, ts.addr, "bob", "bob-pw")
	// One blocked client of a's.
	blocker := dialAs(t, ts.addr, "alice", "alice-pw")
	blocker.send(encode("BLPOP", "nothing", "10"))
	deadline := time.Now().Add(5 * time.Second)
	for ts.reg.Load().tenants["a"].blocked.clients.Load() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("BLPOP did not block")
		}
		time.Sleep(5 * time.Millisecond)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-h", host, "-p", port, "--user", "alice", "--pass", "alice-pw",
		"--no-auth-warning", "--stat", "-i", "0.05")
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	// keys mem clients blocked requests connections [child]
	row := regexp.MustCompile(`^(\d+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+) \(\+(\d+)\)\s+(\d+)\s*(\S*)$`)
	sc := bufio.NewScanner(out)
	var rows [][]string
	var lines []string
	for sc.Scan() && len(rows) < 3 {
		line := strings.TrimRight(sc.Text(), " ")
		lines = append(lines, line)
		if strings.HasPrefix(line, "---") || strings.HasPrefix(line, "keys") {
			continue
		}
		m := row.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("redis-cli --stat printed %q, not a row of numbers; all output:\n%s", line, strings.Join(lines, "\n"))
		}
		rows = append(rows, m)
	}
	if len(rows) < 3 {
		t.Fatalf("redis-cli --stat printed %d rows: %q", len(rows), lines)
	}
	for _, m := range rows {
		if m[1] != "5" {
			t.Errorf("keys column = %s, want a's 5 keys: %q", m[1], m[0])
		}
		// a: the command connection, the blocked one, redis-cli itself.
		if m[3] != "3" {
			t.Errorf("clients column = %s, want 3: %q", m[3], m[0])
		}
		if m[4] != "1" {
			t.Errorf("blocked column = %s, want 1: %q", m[4], m[0])
		}
		if n, _ := strconv.Atoi(m[7]); n < 3 || n > 10 {
			t.Errorf("connections column = %s, want a's connections (3 or a few more): %q", m[7], m[0])
		}
		if m[8] != "" {
			t.Errorf("child column = %q, want empty (no save, AOF or load): %q", m[8], m[0])
		}
	}
}
