package server

// A third real client library: node-redis 5 (npm `redis`, pinned in
// clients/node/package.json and its lock file) runs clients/node/
// test_tcached.mjs with RESP3 and client-side caching on against a server
// on a loopback ephemeral port. .ci/run installs it (`npm ci` in
// clients/node); the test skips when node or the module is missing,
// unless TCACHED_REQUIRE_NODE=1 (CI), where a silent skip would hide that
// this layer never ran.

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

const nodeSuite = "../clients/node/test_tcached.mjs"

func nodeWithRedis(t *testing.T) string {
	t.Helper()
	fail := func(why string) {
		if os.Getenv("TCACHED_REQUIRE_NODE") == "1" {
			t.Fatalf("%s and TCACHED_REQUIRE_NODE=1 (run `npm ci` in clients/node)", why)
		}
		t.Skip(why + " (run `npm ci` in clients/node)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		fail("node not found on PATH: " + err.Error())
	}
	if _, err := os.Stat("../clients/node/node_modules/redis/package.json"); err != nil {
		fail("node-redis not installed: " + err.Error())
	}
	return node
}

// TestNodeRedisClientSideCaching: node-redis 5 with RESP: 3 and
// clientSideCache connects (it sends CLIENT TRACKING ON in its
// handshake), serves repeated GETs from its cache and drops them when
// another connection of the tenant writes, not when another tenant
// writes the same name.
func TestNodeRedisClientSideCaching(t *testing.T) {
	node := nodeWithRedis(t)
	script, err := filepath.Abs(nodeSuite)
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, testConfig(), false)
	host, port := splitHostPort(t, ts.addr)
	const timeout = 60 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.WaitDelay = 2 * time.Second
	cmd.Env = append(os.Environ(),
		"TCACHED_HOST="+host, "TCACHED_PORT="+port,
		"TCACHED_USER=alice", "TCACHED_PASS=alice-pw",
		"TCACHED_OTHER_USER=bob", "TCACHED_OTHER_PASS=bob-pw",
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish within %v; output:\n%s", nodeSuite, timeout, out.String())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("%s exited with %d; output:\n%s", nodeSuite, ee.ExitCode(), out.String())
	} else if err != nil {
		t.Fatalf("run %s: %v\n%s", nodeSuite, err, out.String())
	}
	if !bytes.Contains(out.Bytes(), []byte(" ok")) {
		t.Fatalf("%s did not finish its checks; output:\n%s", nodeSuite, out.String())
	}
	t.Logf("%s:\n%s", nodeSuite, out.String())
}
