package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tcached/tcached/config"
)

// readmeSession is one redis-cli transcript of README.md: the arguments
// after "$ redis-cli", and the commands typed at the prompt, each with the
// reply lines shown after it.
type readmeSession struct {
	args  []string
	cmds  []string
	reply []string // expected output, all commands' lines in order
	line  int      // of the "$ redis-cli" line
}

const prompt = "127.0.0.1:6380> "

// readmeSessions extracts the ```text blocks of README.md that start with
// "$ redis-cli".
func readmeSessions(t *testing.T) []readmeSession {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []readmeSession
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] != "```text" || i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "$ redis-cli ") {
			continue
		}
		s := readmeSession{args: strings.Fields(strings.TrimPrefix(lines[i+1], "$ redis-cli ")), line: i + 2}
		for i += 2; i < len(lines) && lines[i] != "```"; i++ {
			if c, ok := strings.CutPrefix(lines[i], prompt); ok {
				s.cmds = append(s.cmds, c)
			} else {
				s.reply = append(s.reply, lines[i])
			}
		}
		out = append(out, s)
	}
	return out
}

// hotFlags are measured on a timer: their values are not the session's.
var hotFlags = regexp.MustCompile(`hot_(memory|commands)=\d`)

// TestReadmeRedisCliSessions pastes each redis-cli session of README.md
// into redis-cli, against the real binary on tcached.example.yaml, in
// order on one server (the operator session lists what the first one
// wrote), and compares every reply line. It also refuses a command line
// with an inline "# comment", which redis-cli would send as arguments.
func TestReadmeRedisCliSessions(t *testing.T) {
	sessions := readmeSessions(t)
	if len(sessions) < 2 {
		t.Fatalf("found %d redis-cli sessions in README.md, want the tenant and operator sessions", len(sessions))
	}
	for _, s := range sessions {
		for _, c := range s.cmds {
			if strings.Contains(c, "#") {
				t.Errorf("README.md:%d: %q has a comment redis-cli would send as arguments", s.line, c)
			}
		}
		if len(s.cmds) == 0 || len(s.reply) == 0 {
			t.Errorf("README.md:%d: session without commands or replies", s.line)
		}
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		if os.Getenv("TCACHED_REQUIRE_REDIS") == "1" {
			t.Fatal("redis-cli not found and TCACHED_REQUIRE_REDIS=1")
		}
		t.Skip("redis-cli not found (apt-get install redis-tools)")
	}
	_, serving := startMain(t, "--config", "../../tcached.example.yaml", "--listen", "127.0.0.1:0", "--metrics-listen", "off")
	addr, _ := serving["listen"].(string)
	host, port, ok := strings.Cut(addr, ":")
	if !ok {
		t.Fatalf("listen %q", addr)
	}
	run := func(args []string, stdin string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, cli, append([]string{"-h", host, "-p", port, "--no-raw"}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("redis-cli %q: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	for _, s := range sessions {
		var args []string
		for i := 0; i < len(s.args); i++ {
			if s.args[i] == "-p" && i+1 < len(s.args) && s.args[i+1] == "6380" {
				i++ // the test server's port instead
				continue
			}
			args = append(args, s.args[i])
		}
		want := hotFlags.ReplaceAllString(strings.Join(s.reply, "\n")+"\n", "hot_$1=?")
		var got string
		// The previous session's connection may not be counted out yet
		// when TENANT LIST shows clients=: that session (TENANT LIST,
		// QUOTA, FLUSH, RELOAD) is idempotent and may run again.
		for try := 0; ; try++ {
			// INFO's lines end in \r\n, which redis-cli prints as is.
			out := strings.ReplaceAll(run(args, strings.Join(s.cmds, "\n")+"\n"), "\r", "")
			got = hotFlags.ReplaceAllString(out, "hot_$1=?")
			if got == want || try == 20 || !strings.Contains(want, " clients=") {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if got != want {
			t.Errorf("README.md:%d: redis-cli %s answered\n%s\nthe README shows\n%s", s.line, strings.Join(s.args, " "), got, want)
		}
	}
}

// TestReadmeTenantCommands runs the README's runtime tenant commands
// (the "redis-cli ... TENANT" lines of its sh blocks) in order against the
// real binary serving a copy of tcached.example.yaml, each answering OK,
// and checks that the copy still loads and has its tenants back.
func TestReadmeTenantCommands(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]string
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 8 && f[0] == "redis-cli" && slices.Contains(f, "TENANT") && slices.Contains(f, "--user") {
			lines = append(lines, f[1:])
		}
	}
	if len(lines) < 5 {
		t.Fatalf("found %d redis-cli TENANT lines in README.md, want CREATE, SET, USER ADD, USER DEL, DELETE", len(lines))
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		if os.Getenv("TCACHED_REQUIRE_REDIS") == "1" {
			t.Fatal("redis-cli not found and TCACHED_REQUIRE_REDIS=1")
		}
		t.Skip("redis-cli not found (apt-get install redis-tools)")
	}
	example, err := os.ReadFile("../../tcached.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tcached.yaml")
	if err := os.WriteFile(path, example, 0o600); err != nil {
		t.Fatal(err)
	}
	_, serving := startMain(t, "--config", path, "--listen", "127.0.0.1:0", "--metrics-listen", "off")
	addr, _ := serving["listen"].(string)
	_, port, _ := strings.Cut(addr, ":")
	for _, args := range lines {
		args = slices.Clone(args)
		if i := slices.Index(args, "-p"); i >= 0 && i+1 < len(args) {
			args[i+1] = port
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput()
		cancel()
		if err != nil || strings.TrimSpace(string(out)) != "OK" {
			t.Errorf("redis-cli %s: %v %q", strings.Join(args, " "), err, out)
		}
	}
	cfg, _, err := config.Load(path)
	if err != nil {
		t.Fatalf("the rewritten example config: %v", err)
	}
	orig, _, _ := config.Load("../../tcached.example.yaml")
	if len(cfg.Tenants) != len(orig.Tenants) {
		t.Errorf("after CREATE and DELETE the copy has %d tenants, the example %d", len(cfg.Tenants), len(orig.Tenants))
	}
}
