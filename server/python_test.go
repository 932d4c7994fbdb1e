package server

// A second real client library, from another ecosystem: redis-py (Debian's
// python3-redis) runs clients/python/test_tcached.py, a unittest suite, against
// a server on a loopback ephemeral port with testConfig's tenants and users.
// The suite runs every test per protocol redis-py speaks (RESP2; RESP3 only
// with redis-py >= 5). It skips when no python3 can import redis, unless
// TCACHED_REQUIRE_PYTHON=1 (CI), where a silent skip would hide that this
// layer never ran.

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

const pythonSuite = "../clients/python/test_tcached.py"

// pythonWithRedis returns a python3 that can import redis: $TCACHED_PYTHON,
// then python3 on PATH, then /usr/bin/python3 (Debian's python3-redis lives
// in the system interpreter's dist-packages, which a pyenv or venv python3
// earlier on PATH does not see).
func pythonWithRedis(t *testing.T) string {
	t.Helper()
	var tried []string
	var candidates []string
	if p := os.Getenv("TCACHED_PYTHON"); p != "" {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "python3", "/usr/bin/python3")
	seen := map[string]bool{}
	for _, c := range candidates {
		p, err := exec.LookPath(c)
		if err != nil {
			tried = append(tried, c+": "+err.Error())
			continue
		}
		if seen[p] {
			continue
		}
		seen[p] = true
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		cmd := exec.CommandContext(ctx, p, "-c", "import redis")
		cmd.WaitDelay = 2 * time.Second
		out, err := cmd.CombinedOutput()
		cancel()
		if err == nil {
			return p
		}
		tried = append(tried, p+": "+err.Error()+": "+string(bytes.TrimSpace(lastLine(out))))
	}
	if os.Getenv("TCACHED_REQUIRE_PYTHON") == "1" {
		t.Fatalf("no python3 with the redis module and TCACHED_REQUIRE_PYTHON=1 (apt-get install python3-redis): %q", tried)
	}
	t.Skipf("no python3 with the redis module (apt-get install python3-redis): %q", tried)
	return ""
}

func lastLine(b []byte) []byte {
	b = bytes.TrimRight(b, "\n")
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

func TestPythonRedisPy(t *testing.T) {
	py := pythonWithRedis(t)
	script, err := filepath.Abs(pythonSuite)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(script); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, testConfig(), false)
	host, port := splitHostPort(t, ts.addr)

	const timeout = 60 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, script)
	cmd.WaitDelay = 2 * time.Second
	cmd.Env = append(os.Environ(),
		"PYTHONDONTWRITEBYTECODE=1",
		"PYTHONUNBUFFERED=1",
		"TCACHED_PY_VANILLA=",
		"TCACHED_HOST="+host,
		"TCACHED_PORT="+port,
		"TCACHED_USER=alice", "TCACHED_PASS=alice-pw",
		"TCACHED_ADMIN_USER=aadmin", "TCACHED_ADMIN_PASS=aadmin-pw",
		"TCACHED_RO_USER=aro", "TCACHED_RO_PASS=aro-pw",
		"TCACHED_OTHER_USER=bob", "TCACHED_OTHER_PASS=bob-pw",
		"TCACHED_OPERATOR_USER=ops", "TCACHED_OPERATOR_PASS=ops-pw",
		"TCACHED_QUOTA="+strconv.FormatInt(testConfig().Tenants[0].Quota, 10),
		"TCACHED_DEFAULT_TTL="+strconv.Itoa(int(testConfig().Tenants[0].Tier.DefaultTTL/time.Second)),
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish within %v; output:\n%s", pythonSuite, timeout, out.String())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("%s exited with %d; output:\n%s", pythonSuite, ee.ExitCode(), out.String())
	} else if err != nil {
		t.Fatalf("run %s %s: %v\n%s", py, pythonSuite, err, out.String())
	}
	t.Logf("%s (%s):\n%s", pythonSuite, py, out.String())
}
