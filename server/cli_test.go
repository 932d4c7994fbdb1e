package server

// Real-client tests: redis-cli and redis-benchmark 7 driven as a user drives
// them, against a server on a loopback ephemeral port. redis-cli prints
// replies "raw" when stdout is not a TTY (tests capture stdout, so it never
// is): a status or bulk string is printed as is, an integer as digits, a nil
// as an empty line, and an error reply as its text followed by a blank line.
// --no-raw forces the TTY formatting ("\"v\"", "(integer) 1", "(nil)").

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// cliRequireTool returns the path of a Redis command-line tool. When it is
// missing the test is skipped, unless TCACHED_REQUIRE_REDIS=1 (CI), where a
// silent skip would hide that the real-client layer never ran.
func cliRequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("TCACHED_REQUIRE_REDIS") == "1" {
			t.Fatalf("%s not found on PATH and TCACHED_REQUIRE_REDIS=1: %v", name, err)
		}
		t.Skipf("%s not found on PATH: %v", name, err)
	}
	return p
}

type cliResult struct {
	stdout, stderr string
	code           int
}

// cliRun runs a tool with a bounded lifetime and returns what it printed.
func cliRun(t *testing.T, timeout time.Duration, stdin string, tool string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.WaitDelay = 2 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %q did not finish within %v\nstdout:\n%s\nstderr:\n%s", tool, args, timeout, out.String(), errb.String())
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %q: %v", tool, args, err)
	}
	return cliResult{stdout: out.String(), stderr: errb.String(), code: code}
}

// cliFor returns a function running redis-cli as user/pass against ts.
func cliFor(t *testing.T, ts *testServer, user, pass string) func(stdin string, args ...string) cliResult {
	t.Helper()
	bin := cliRequireTool(t, "redis-cli")
	host, port := splitHostPort(t, ts.addr)
	return func(stdin string, args ...string) cliResult {
		t.Helper()
		base := []string{"-h", host, "-p", port, "--user", user, "--pass", pass, "--no-auth-warning"}
		return cliRun(t, 20*time.Second, stdin, bin, append(base, args...)...)
	}
}

func splitHostPort(t *testing.T, addr string) (string, string) {
	t.Helper()
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		t.Fatalf("bad address %q", addr)
	}
	return addr[:i], addr[i+1:]
}

// expectOut checks exit 0, exact stdout and empty stderr.
func expectOut(t *testing.T, r cliResult, want string) {
	t.Helper()
	if r.code != 0 || r.stdout != want || r.stderr != "" {
		t.Errorf("got exit %d stdout %q stderr %q; want exit 0 stdout %q", r.code, r.stdout, r.stderr, want)
	}
}

func TestCLIArgv(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	cli := cliFor(t, ts, "alice", "alice-pw")

	expectOut(t, cli("", "SET", "k", "v"), "OK\n")
	expectOut(t, cli("", "GET", "k"), "v\n")
	expectOut(t, cli("", "INCR", "counter"), "1\n")
	expectOut(t, cli("", "GET", "missing"), "\n")
	expectOut(t, cli("", "EXISTS", "k", "missing"), "1\n")
	// The TTY formatting, forced with --no-raw.
	expectOut(t, cli("", "--no-raw", "GET", "k"), "\"v\"\n")
	expectOut(t, cli("", "--no-raw", "INCR", "counter"), "(integer) 2\n")
	expectOut(t, cli("", "--no-raw", "GET", "missing"), "(nil)\n")
	expectOut(t, cli("", "--no-raw", "SET", "k", "w"), "OK\n")
	// Error replies: raw text plus a blank line; exit status stays 0.
	expectOut(t, cli("", "GET"), "ERR wrong number of arguments for 'get' command\n\n")
	expectOut(t, cli("", "NOSUCH", "a", "b"), "ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \n\n")
	expectOut(t, cli("", "--no-raw", "NOSUCH", "a"), "(error) ERR unknown command 'NOSUCH', with args beginning with: 'a' \n")
	expectOut(t, cli("", "DBSIZE"), "2\n")
}

func TestCLIStdin(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	cli := cliFor(t, ts, "alice", "alice-pw")
	in := "SET a 1\nGET a\nINCR a\nINCRBY a 10\nGET nokey\nSET b \"two words\"\nGET b\nDBSIZE\nDEL a b\nDBSIZE\n"
	expectOut(t, cli(in), "OK\n1\n2\n12\n\nOK\ntwo words\n2\n2\n0\n")
}

func TestCLIInfo(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	cli := cliFor(t, ts, "alice", "alice-pw")
	r := cli("", "INFO")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("INFO: exit %d stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{"# Server\n", "\nredis_version:", "# Memory\n", "\nused_memory:", "\nmaxmemory:"} {
		if !strings.Contains(strings.ReplaceAll(r.stdout, "\r\n", "\n"), want) {
			t.Errorf("INFO output lacks %q:\n%s", want, r.stdout)
		}
	}
	r = cli("", "INFO", "server")
	if !strings.HasPrefix(r.stdout, "# Server") || !regexp.MustCompile(`(?m)^redis_version:7\.`).MatchString(r.stdout) {
		t.Errorf("INFO server: %q", r.stdout)
	}
}

func TestCLISelectDB(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	cli := cliFor(t, ts, "alice", "alice-pw")
	expectOut(t, cli("", "-n", "3", "SET", "in3", "x"), "OK\n")
	expectOut(t, cli("", "-n", "3", "GET", "in3"), "x\n")
	expectOut(t, cli("", "-n", "3", "DBSIZE"), "1\n")
	expectOut(t, cli("", "-n", "3", "KEYS", "*"), "in3\n")
	// Other databases are separate namespaces.
	expectOut(t, cli("", "GET", "in3"), "\n")
	expectOut(t, cli("", "DBSIZE"), "0\n")
	expectOut(t, cli("", "-n", "4", "DBSIZE"), "0\n")
	// Out-of-range database: redis-cli reports the SELECT failure and exits.
	r := cli("", "-n", "99", "DBSIZE")
	if !strings.Contains(r.stdout+r.stderr, "ERR DB index is out of range") {
		t.Errorf("-n 99: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestCLIKeysScanDBSize(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	alice := cliFor(t, ts, "alice", "alice-pw")
	bob := cliFor(t, ts, "bob", "bob-pw")

	var in strings.Builder
	var want []string
	for i := range 250 {
		fmt.Fprintf(&in, "SET user:%d v%d\n", i, i)
		want = append(want, fmt.Sprintf("user:%d", i))
	}
	for i := range 30 {
		fmt.Fprintf(&in, "SET order:%d v\n", i)
	}
	r := alice(in.String())
	if r.code != 0 || strings.Count(r.stdout, "OK\n") != 280 {
		t.Fatalf("load: exit %d, %d OKs, stderr %q", r.code, strings.Count(r.stdout, "OK\n"), r.stderr)
	}
	// Tenant b has a colliding name and one of its own.
	expectOut(t, bob("", "SET", "user:0", "bobs"), "OK\n")
	expectOut(t, bob("", "SET", "user:bob", "x"), "OK\n")
	sort.Strings(want)

	lines := func(s string) []string {
		out := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
		sort.Strings(out)
		return out
	}
	r = alice("", "--scan", "--pattern", "user:*")
	if got := lines(r.stdout); r.code != 0 || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("--scan --pattern user:*: exit %d, %d lines (want %d), stderr %q", r.code, len(got), len(want), r.stderr)
	}
	r = alice("", "KEYS", "user:*")
	if got := lines(r.stdout); r.code != 0 || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("KEYS user:*: exit %d, %d lines (want %d)", r.code, len(got), len(want))
	}
	r = alice("", "--scan")
	if got := lines(r.stdout); len(got) != 280 {
		t.Errorf("--scan: %d keys, want 280", len(got))
	}
	expectOut(t, alice("", "DBSIZE"), "280\n")
	expectOut(t, bob("", "DBSIZE"), "2\n")
	r = bob("", "--scan", "--pattern", "user:*")
	if got := lines(r.stdout); strings.Join(got, ",") != "user:0,user:bob" {
		t.Errorf("bob --scan: %q", got)
	}
	expectOut(t, bob("", "GET", "user:0"), "bobs\n")
	expectOut(t, alice("", "GET", "user:0"), "v0\n")
}

func TestCLIBigkeysMemkeys(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	alice := cliFor(t, ts, "alice", "alice-pw")
	bob := cliFor(t, ts, "bob", "bob-pw")
	var in strings.Builder
	for i := range 100 {
		fmt.Fprintf(&in, "SET key:%d %s\n", i, strings.Repeat("x", 10+i))
	}
	fmt.Fprintf(&in, "SET the:biggest %s\n", strings.Repeat("y", 5000))
	if r := alice(in.String()); r.code != 0 || strings.Count(r.stdout, "OK\n") != 101 {
		t.Fatalf("load: %+v", r)
	}
	// A bigger key in another tenant must not show up.
	if r := bob("", "SET", "bobs:huge", strings.Repeat("z", 20000)); r.stdout != "OK\n" {
		t.Fatalf("bob SET: %+v", r)
	}
	for _, mode := range []string{"--bigkeys", "--memkeys"} {
		r := alice("", mode)
		if r.code != 0 {
			t.Errorf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", mode, r.code, r.stdout, r.stderr)
			continue
		}
		for _, want := range []string{"Sampled 101 keys in the keyspace!", `Biggest string found '"the:biggest"' has `, "101 strings with "} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s output lacks %q:\n%s", mode, want, r.stdout)
			}
		}
		if strings.Contains(r.stdout, "bobs:huge") {
			t.Errorf("%s shows another tenant's key:\n%s", mode, r.stdout)
		}
	}
	// --bigkeys reports the value length exactly.
	if r := alice("", "--bigkeys"); !strings.Contains(r.stdout, `Biggest string found '"the:biggest"' has 5000 bytes`) {
		t.Errorf("--bigkeys size:\n%s", r.stdout)
	}
}

func TestCLIWrongPassword(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	// redis-cli reports the failed AUTH on stderr, carries on
	// unauthenticated, prints the NOAUTH reply and exits 0.
	for _, user := range []string{"alice", "nosuchuser"} {
		r := cliFor(t, ts, user, "wrong")("", "GET", "k")
		if r.stderr != "AUTH failed: WRONGPASS invalid username-password pair or user is disabled.\n" ||
			r.stdout != "NOAUTH Authentication required.\n\n" || r.code != 0 {
			t.Errorf("user %s: exit %d stdout %q stderr %q", user, r.code, r.stdout, r.stderr)
		}
	}
	// -a (password only: AUTH pass, i.e. user default) with a wrong password.
	bin := cliRequireTool(t, "redis-cli")
	host, port := splitHostPort(t, ts.addr)
	r := cliRun(t, 20*time.Second, "", bin, "-h", host, "-p", port, "-a", "wrong", "--no-auth-warning", "PING")
	if !strings.Contains(r.stderr, "AUTH failed: WRONGPASS invalid username-password pair or user is disabled.") {
		t.Errorf("-a wrong: stdout %q stderr %q", r.stdout, r.stderr)
	}
	// -a with alice's password works: passwords are unique per user.
	r = cliRun(t, 20*time.Second, "", bin, "-h", host, "-p", port, "-a", "alice-pw", "--no-auth-warning", "PING")
	expectOut(t, r, "PONG\n")
}

func TestCLIResp3(t *testing.T) {
	ts := startServer(t, testConfig(), false)
	cli := cliFor(t, ts, "alice", "alice-pw")
	expectOut(t, cli("", "SET", "k", "v"), "OK\n")
	// redis-cli -3 sends HELLO 3 after AUTH and then prints RESP3 types:
	// a map raw is "key value" on one line (RESP2: two lines), formatted
	// is "1# key => value"; a RESP3 null is "(nil)".
	expectOut(t, cli("", "-3", "GET", "k"), "v\n")
	expectOut(t, cli("", "CONFIG", "GET", "databases"), "databases\n16\n")
	expectOut(t, cli("", "-3", "CONFIG", "GET", "databases"), "databases 16\n")
	expectOut(t, cli("", "-3", "--no-raw", "CONFIG", "GET", "databases"), "1# \"databases\" => \"16\"\n")
	expectOut(t, cli("", "-3", "--no-raw", "GET", "missing"), "(nil)\n")
	r := cli("", "-3", "--no-raw", "HELLO")
	hello := regexp.MustCompile(`^1# "server" => "redis"\n2# "version" => "` + regexp.QuoteMeta(redisVersion) + `"\n` +
		`3# "proto" => \(integer\) 3\n4# "id" => \(integer\) \d+\n5# "mode" => "standalone"\n` +
		`6# "role" => "master"\n7# "modules" => \(empty array\)\n$`)
	if r.code != 0 || !hello.MatchString(r.stdout) || r.stderr != "" {
		t.Errorf("-3 HELLO: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	// INFO is a verbatim string in RESP3; redis-cli prints its text.
	r = cli("", "-3", "INFO", "server")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "# Server\r\nredis_version:") || r.stderr != "" {
		t.Errorf("-3 INFO: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	r = cli("SET k2 v2\nGET k2\nCLIENT INFO\n", "-3")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "OK\nv2\nid=") || !strings.Contains(r.stdout, " resp=3 ") || r.stderr != "" {
		t.Errorf("-3 stdin: exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestRedisBenchmark(t *testing.T) {
	bin := cliRequireTool(t, "redis-benchmark")
	ts := startServer(t, testConfig(), false)
	host, port := splitHostPort(t, ts.addr)
	r := cliRun(t, 60*time.Second, "", bin, "-h", host, "-p", port, "--user", "alice", "-a", "alice-pw",
		"-t", "set,get,incr,mset,ping", "-q", "-n", "2000", "-c", "10")
	// -q prints progress lines ending in \r, then the final line per test.
	var final []string
	for _, l := range strings.Split(strings.ReplaceAll(r.stdout, "\r", "\n"), "\n") {
		if strings.Contains(l, "requests per second") {
			final = append(final, strings.TrimSpace(l))
		}
	}
	if r.code != 0 {
		t.Fatalf("redis-benchmark exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(strings.ToLower(r.stdout+r.stderr), "error") {
		t.Errorf("redis-benchmark reported an error:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	line := regexp.MustCompile(`^([A-Z_]+(?: \(10 keys\))?): ([0-9.]+) requests per second`)
	seen := map[string]bool{}
	for _, l := range final {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("unexpected line %q", l)
			continue
		}
		if m[2] == "0.00" {
			t.Errorf("zero throughput: %q", l)
		}
		seen[m[1]] = true
	}
	for _, name := range []string{"PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "MSET (10 keys)"} {
		if !seen[name] {
			t.Errorf("no result line for %s in:\n%s", name, strings.Join(final, "\n"))
		}
	}
	t.Logf("redis-benchmark:\n%s", strings.Join(final, "\n"))
}
