package server

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestPeriodicSnapshot: with snapshot_interval, saves happen while serving
// (INFO persistence shows them), and a new server on the same file starts
// with the data, before it serves.
func TestPeriodicSnapshot(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.SnapshotPath = filepath.Join(dir, "s.snap")
	cfg.SnapshotInterval = 20 * time.Millisecond
	ts := startServer(t, cfg, false)
	c := dialAs(t, ts.addr, "alice", "alice-pw")
	if got := c.do("SET", "k", "v"); got != status("OK") {
		t.Fatal(got)
	}
	b := dialAs(t, ts.addr, "bob", "bob-pw")
	b.do("HSET", "h", "f", "1")
	deadline := time.Now().Add(10 * time.Second)
	for {
		info := snapStr(c.do("INFO", "persistence"))
		if strings.Contains(info, "rdb_changes_since_last_save:0\r") && strings.Contains(info, "rdb_last_bgsave_status:ok") {
			if _, err := os.Stat(cfg.SnapshotPath); err != nil {
				t.Fatal(err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no periodic save within 10s:\n%s", info)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cfg2 := testConfig()
	cfg2.SnapshotPath = cfg.SnapshotPath
	ts2 := startServer(t, cfg2, false)
	if got := dialAs(t, ts2.addr, "alice", "alice-pw").do("GET", "k"); snapStr(got) != "v" {
		t.Fatalf("GET k on the restarted server: %v", got)
	}
	if got := dialAs(t, ts2.addr, "bob", "bob-pw").do("HGET", "h", "f"); snapStr(got) != "1" {
		t.Fatalf("HGET on the restarted server: %v", got)
	}
	if got := dialAs(t, ts2.addr, "bob", "bob-pw").do("GET", "k"); got != nil {
		t.Fatalf("tenant b sees a's key: %v", got)
	}
}

// TestSnapshotSaveFails: a save that cannot write reports
// rdb_last_bgsave_status:err and the server keeps serving.
func TestSnapshotSaveFails(t *testing.T) {
	cfg := testConfig()
	cfg.SnapshotPath = filepath.Join(t.TempDir(), "missing-dir", "s.snap")
	ts := startServer(t, cfg, false)
	c := dialAs(t, ts.addr, "alice", "alice-pw")
	c.do("SET", "k", "v")
	if err := ts.SaveSnapshot(); err == nil {
		t.Fatal("save into a missing directory succeeded")
	}
	raw := c.do("INFO", "persistence")
	info := snapStr(raw)
	if !strings.Contains(info, "rdb_last_bgsave_status:err") || !strings.Contains(info, "rdb_changes_since_last_save:1\r") {
		t.Fatalf("INFO persistence: %#v", raw)
	}
	if got := c.do("GET", "k"); snapStr(got) != "v" {
		t.Fatal(got)
	}
}

func snapStr(v any) string {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	s, _ := v.(string)
	return s
}

// TestSnapshotStream: a stream with a consumer group and pending entries
// survives a snapshot and a restart (its DUMP payload, as every type's),
// and nothing is skipped.
func TestSnapshotStream(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.SnapshotPath = filepath.Join(dir, "s.snap")
	var logs strings.Builder
	var mu sync.Mutex
	ts := startServerWith(t, cfg, Options{Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))})
	c := dialAs(t, ts.addr, "alice", "alice-pw")
	for _, cmd := range [][]string{
		{"XADD", "s", "1-1", "f", "v"}, {"XADD", "s", "2-1", "f", "w", "g", "x"}, {"XADD", "s", "3-1", "f", "y"},
		{"XDEL", "s", "2-1"}, {"XGROUP", "CREATE", "s", "grp", "0"},
		{"XREADGROUP", "GROUP", "grp", "c1", "COUNT", "1", "STREAMS", "s", ">"},
	} {
		if got := c.do(cmd...); got == nil {
			t.Fatalf("%v: nil", cmd)
		} else if e, isErr := got.(respErr); isErr {
			t.Fatalf("%v: %v", cmd, e)
		}
	}
	c.do("SET", "k", "v")
	reads := func(c *rconn) []any {
		return []any{c.do("XRANGE", "s", "-", "+"), c.do("XPENDING", "s", "grp", "-", "+", "10"), c.do("XLEN", "s"),
			c.do("XINFO", "GROUPS", "s")}
	}
	want := reads(c)
	if err := ts.SaveSnapshot(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if strings.Contains(out, "skipped_no_encoder=\"stream") {
		t.Fatalf("the stream was skipped: %q", out)
	}
	cfg2 := testConfig()
	cfg2.SnapshotPath = cfg.SnapshotPath
	ts2 := startServer(t, cfg2, false)
	c2 := dialAs(t, ts2.addr, "alice", "alice-pw")
	if got := c2.do("GET", "k"); snapStr(got) != "v" {
		t.Fatalf("GET k: %#v", got)
	}
	// XPENDING's idle times and XINFO GROUPS's lag read the clock: compare
	// what does not (the PEL's ids, consumers and delivery counts).
	got := reads(c2)
	if !reflect.DeepEqual(got[0], want[0]) || !reflect.DeepEqual(got[2], want[2]) {
		t.Fatalf("stream after restart:\n got %#v\nwant %#v", got, want)
	}
	pel := func(v any) []any {
		var out []any
		for _, e := range v.([]any) {
			f := e.([]any)
			out = append(out, f[0], f[1], f[3])
		}
		return out
	}
	if g, w := pel(got[1]), pel(want[1]); !reflect.DeepEqual(g, w) || len(w) != 3 {
		t.Fatalf("PEL after restart = %v, want %v", g, w)
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
