package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
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
		if code := run(tt.args, io.Discard, &stderr, nil); code != 2 {
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
	cmd, serving, _ := startMainUnder(t, nil, args...)
	return cmd, serving
}

// startMainUnder is startMain with the process started by wrapper (a
// command and its arguments, e.g. setpriv's, before the binary; nil for
// none); it also returns the log lines before "tcached serving".
func startMainUnder(t *testing.T, wrapper []string, args ...string) (*exec.Cmd, map[string]any, []map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	argv := append(append(slices.Clone(wrapper), os.Args[0]), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
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
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				// Not a log line: a panic, or the race detector's report
				// (the child then exits 66, which stopMain reports
				// without it). Kept in the test's output.
				fmt.Fprintln(os.Stderr, "tcached child:", sc.Text())
				continue
			}
			select {
			case lines <- m:
			default:
			}
		}
		close(lines)
	}()
	timeout := time.After(10 * time.Second)
	var before []map[string]any
	for {
		select {
		case m, ok := <-lines:
			if !ok {
				t.Fatal("tcached exited before serving")
			}
			if m["msg"] == "tcached serving" {
				return cmd, m, before
			}
			before = append(before, m)
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
	wants := []string{
		`tcached_tenant_keys{tenant="payments",tier="platinum"} 1`,
		`tcached_tenant_quota_bytes{tenant="payments",tier="platinum"} 6.7108864e+07`,
		`tcached_tenant_keys{tenant="catalog",tier="gold"} 0`,
		`tcached_tenant_connected_clients{tenant="payments",tier="platinum"} 1`,
	}
	// The collector's settings (main: GOMEMLIMIT from maxmemory, GOGC
	// gcPercent), unless the environment sets its own.
	if os.Getenv("GOMEMLIMIT") == "" {
		wants = append(wants, "go_gc_gomemlimit_bytes 2.68435456e+08")
	}
	if os.Getenv("GOGC") == "" {
		wants = append(wants, "go_gc_gogc_percent "+strconv.Itoa(gcPercent))
	}
	for _, want := range wants {
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

// TestHeavyThreadNiceWithoutCapSysNice: without CAP_SYS_NICE (and with
// RLIMIT_NICE 0) a thread moved to SCHED_IDLE cannot come back; the binary
// says so at start (an info line naming CAP_SYS_NICE) and in INFO
// (heavy_thread_nice:0), and the idle pool serves either way
// (heavy_thread_pool:1). With the capability it logs and shows 1. Needs
// Linux, setpriv, and the privilege to drop a capability.
func TestHeavyThreadNiceWithoutCapSysNice(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("per-thread nice is Linux-only")
	}
	drop := []string{"setpriv", "--inh-caps=-sys_nice", "--bounding-set=-sys_nice"}
	if err := exec.Command(drop[0], append(drop[1:], "true")...).Run(); err != nil {
		t.Skipf("cannot drop CAP_SYS_NICE with setpriv: %v", err)
	}
	status, _ := os.ReadFile("/proc/self/status")
	for _, c := range []struct {
		name    string
		wrapper []string
		want    int
	}{
		{"without CAP_SYS_NICE", drop, 0},
		{"with CAP_SYS_NICE", nil, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.want == 1 && !capSysNice(string(status)) {
				t.Skip("this process has no CAP_SYS_NICE")
			}
			cmd, serving, before := startMainUnder(t, c.wrapper, "--config", "../../tcached.example.yaml", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0")
			var logged map[string]any
			for _, m := range before {
				if _, ok := m["heavy_thread_nice"]; ok {
					logged = m
				}
			}
			switch {
			case logged == nil:
				t.Errorf("no start-up log line with heavy_thread_nice in %v", before)
			case logged["heavy_thread_nice"] != (c.want == 1):
				t.Errorf("logged %v", logged)
			case c.want == 0 && (logged["level"] != "INFO" || !strings.Contains(logged["msg"].(string), "without CAP_SYS_NICE")):
				t.Errorf("without the capability: %v, want the line saying what changes without CAP_SYS_NICE", logged)
			}
			conn, err := net.DialTimeout("tcp", serving["listen"].(string), 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(5 * time.Second))
			conn.Write([]byte("AUTH pay-app pay-secret\r\nINFO server\r\n"))
			rd := bufio.NewReader(conn)
			if l, _ := rd.ReadString('\n'); l != "+OK\r\n" {
				t.Fatalf("AUTH = %q", l)
			}
			var n int
			if l, _ := rd.ReadString('\n'); len(l) < 2 || l[0] != '$' {
				t.Fatalf("INFO = %q", l)
			} else if _, err := fmt.Sscanf(l, "$%d", &n); err != nil {
				t.Fatal(err)
			}
			info := make([]byte, n)
			if _, err := io.ReadFull(rd, info); err != nil {
				t.Fatal(err)
			}
			// The idle pool serves either way (any thread may enter SCHED_IDLE).
			if want := fmt.Sprintf("\r\nheavy_thread_nice:%d\r\nheavy_thread_pool:1\r\n", c.want); !strings.Contains(string(info), want) {
				t.Errorf("INFO server lacks %q:\n%s", want, info)
			}
			if logged != nil && logged["heavy_thread_pool"] != true {
				t.Errorf("start-up log line without heavy_thread_pool=true: %v", logged)
			}
			stopMain(t, cmd)
		})
	}
}

// capSysNice reports whether /proc/self/status's CapEff has CAP_SYS_NICE.
func capSysNice(status string) bool {
	for _, line := range strings.Split(status, "\n") {
		if hex, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			return err == nil && caps&(1<<23) != 0
		}
	}
	return false
}
