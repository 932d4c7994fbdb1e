package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tcached/tcached/backing/clustertest"
)

func backedYAML(addrs []string) string {
	return fmt.Sprintf(`maxmemory: 256MiB
backing:
  key_prefix: "cmdtest:"
  redis_cluster:
    addrs: [%s]
tenants:
  - id: a
    tier: gold
    quota: 8MiB
    l2_quota: 1MiB
    users: [{name: u, password_sha256: %s, role: admin}]
`, strings.Join(addrs, ", "), "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b") // "secret"
}

// TestServeBacked runs the real binary with a backing section: it writes
// through to the cluster, serves from it and exports the L2 metrics.
func TestServeBacked(t *testing.T) {
	cl := clustertest.Start(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "backed.yaml")
	os.WriteFile(path, []byte(backedYAML(cl.Addrs())), 0o600)
	cmd, serving := startMain(t, "--config", path, "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0")
	addr, _ := serving["listen"].(string)
	maddr, _ := serving["metrics"].(string)
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := setGet(t, c, "u secret"); got != "+OK|+OK|$1|v" {
		t.Errorf("session = %q", got)
	}
	if v := cl.Client().Get(context.Background(), "cmdtest:a:0:k").Val(); v != "v" {
		t.Errorf("L2 holds %q", v)
	}
	resp, err := http.Get("http://" + maddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"tcached_l2_masters 3", `tcached_tenant_l2_quota_bytes{tenant="a",tier="gold"} 1.048576e+06`, "tcached_l2_calls_total"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	stopMain(t, cmd) // closes the backend after the server
}

// TestBackingUnreachable: a cluster that does not answer stops start-up
// with a clear message and exit status 1.
func TestBackingUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	path := filepath.Join(t.TempDir(), "b.yaml")
	os.WriteFile(path, []byte(backedYAML([]string{addr})), 0o600)
	var stderr bytes.Buffer
	if code := run([]string{"--config", path, "--listen", "127.0.0.1:0", "--metrics-listen", "off"}, io.Discard, &stderr, nil); code != 1 {
		t.Fatalf("exit %d, want 1; stderr %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "does not answer") {
		t.Errorf("stderr %q", stderr.String())
	}
}
