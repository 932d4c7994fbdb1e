package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test re-execute this binary as the real tcached process.
func TestMain(m *testing.M) {
	if os.Getenv("TCACHED_AS_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

func TestBadInvocationsExit2(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("maxmemory: 1MiB\ntenants:\n  - id: a\n    tier: gold\n    quota: 12XB\n    users: [{name: u, password: p}]\n"), 0o600)
	over := filepath.Join(dir, "over.yaml")
	os.WriteFile(over, []byte("maxmemory: 1MiB\ntenants:\n  - id: a\n    tier: gold\n    quota: 2MiB\n    users: [{name: u, password: p}]\n"), 0o600)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "flag provided but not defined"},
		{nil, "--config is required"},
		{[]string{"--config", filepath.Join(dir, "missing.yaml")}, "missing.yaml"},
		{[]string{"--config", bad}, "bad.yaml:5: tenants[0].quota"},
		{[]string{"--config", over}, "exceeds maxmemory"},
		{[]string{"--config", "../../tcached.example.yaml", "extra"}, "unexpected argument"},
	}
	for _, tt := range tests {
		var stderr bytes.Buffer
		if code := run(tt.args, &stderr, nil); code != 2 {
			t.Errorf("%q: exit %d, want 2 (stderr %q)", tt.args, code, stderr.String())
		}
		if !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%q: stderr %q lacks %q", tt.args, stderr.String(), tt.want)
		}
	}
}

// startMain runs this test binary as the real tcached with args and waits
// (at most 10s) for its "tcached serving" log line, which it returns. The
// process is killed when the test ends unless the test waited for it.
func startMain(t *testing.T, args ...string) (*exec.Cmd, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), "TCACHED_AS_MAIN=1")
	cmd.WaitDelay = 2 * time.Second
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	lines := make(chan map[string]any, 16)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				select {
				case lines <- m:
				default:
				}
			}
		}
		close(lines)
	}()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-lines:
			if !ok {
				t.Fatal("tcached exited before serving")
			}
			if m["msg"] == "tcached serving" {
				return cmd, m
			}
		case <-timeout:
			t.Fatal("tcached did not start within 10s")
		}
	}
}

// TestServeExampleConfig runs the real binary on the bundled example config
// (as `make run` does, on ephemeral ports), uses it, scrapes /metrics and
// stops it with SIGTERM.
func TestServeExampleConfig(t *testing.T) {
	cmd, serving := startMain(t, "--config", "../../tcached.example.yaml", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0")
	addr, _ := serving["listen"].(string)
	maddr, _ := serving["metrics"].(string)
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := setGet(t, c, "pay-app pay-secret"); got != "+OK|+OK|$1|v" {
		t.Errorf("session = %q", got)
	}
	resp, err := http.Get("http://" + maddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`tcached_tenant_keys{tenant="payments",tier="platinum"} 1`,
		`tcached_tenant_quota_bytes{tenant="payments",tier="platinum"} 6.7108864e+07`,
		`tcached_tenant_keys{tenant="catalog",tier="gold"} 0`,
		`tcached_tenant_connected_clients{tenant="payments",tier="platinum"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	stopMain(t, cmd)
}

// setGet sends "AUTH <auth>", SET k v and GET k on c (5s deadline) and
// returns the four reply lines joined by "|" ("+OK|+OK|$1|v" when served).
func setGet(t *testing.T, c net.Conn, auth string) string {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "AUTH "+auth+"\r\nSET k v\r\nGET k\r\n")
	rd := bufio.NewReader(c)
	var got []string
	for range 4 {
		l, err := rd.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.TrimSpace(l))
	}
	return strings.Join(got, "|")
}

// stopMain sends SIGTERM and requires a clean exit within 10s.
func stopMain(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("tcached did not exit within 10s of SIGTERM")
	}
}
