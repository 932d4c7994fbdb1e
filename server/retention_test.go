package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/config"
	"github.com/tcached/tcached/tiers"
)

// retentionConfig: tenant a (gold: default TTL 30m) capped at 1h with the
// cap policy; tenant b (silver without a default TTL) capped at 1h with
// the refuse policy.
func retentionConfig() *config.Config {
	cfg := testConfig()
	cfg.Tenants[0].Tier.MaxTTL = time.Hour
	cfg.Tenants[1].Tier.DefaultTTL = 0
	cfg.Tenants[1].Tier.MaxTTL = time.Hour
	cfg.Tenants[1].Tier.MaxTTLPolicy = tiers.TTLRefuse
	return cfg
}

const hourMs = int64(time.Hour / time.Millisecond)

// legacyKey stores key without a TTL behind the cap's back, as a key
// written before a cap was configured would be.
func legacyKey(t *testing.T, ts *testServer, tenant, key string) {
	t.Helper()
	p := ts.reg.Load().tenants[tenant].part
	ms, refuse := p.MaxTTL()
	p.SetMaxTTL(0, false)
	defer p.SetMaxTTL(ms, refuse)
	if err := p.Set(0, []byte(key), []byte("old"), 0); err != nil {
		t.Fatal(err)
	}
}

func pttl(t *testing.T, c *redis.Client, key string) int64 {
	t.Helper()
	n, err := c.Do(context.Background(), "PTTL", key).Int64()
	if err != nil {
		t.Fatalf("PTTL %s: %v", key, err)
	}
	return n
}

// retentionPaths are the ways to ask for a TTL longer than an hour, or
// none, on key "k" (which exists with a short TTL unless fresh is set).
// For each: the command, and its reply under the cap policy.
type retentionPath struct {
	name  string
	fresh bool // k does not exist before
	cmd   func(now time.Time) []any
	reply any // under the cap policy
}

func retentionPaths() []retentionPath {
	const ten = 315360000 // ten years in seconds
	return []retentionPath{
		{"SET EX", true, func(time.Time) []any { return []any{"SET", "k", "v", "EX", ten} }, "OK"},
		{"SET PX", true, func(time.Time) []any { return []any{"SET", "k", "v", "PX", int64(ten) * 1000} }, "OK"},
		{"SET EXAT", true, func(n time.Time) []any { return []any{"SET", "k", "v", "EXAT", n.Unix() + ten} }, "OK"},
		{"SET PXAT", true, func(n time.Time) []any { return []any{"SET", "k", "v", "PXAT", n.UnixMilli() + 2*hourMs} }, "OK"},
		{"SET EX GET", false, func(time.Time) []any { return []any{"SET", "k", "v", "GET", "EX", 3601} }, "v0"},
		{"SET XX EX", false, func(time.Time) []any { return []any{"SET", "k", "v", "XX", "EX", 3601} }, "OK"},
		{"SETEX", true, func(time.Time) []any { return []any{"SETEX", "k", ten, "v"} }, "OK"},
		{"PSETEX", true, func(time.Time) []any { return []any{"PSETEX", "k", hourMs + 1, "v"} }, "OK"},
		{"GETEX EX", false, func(time.Time) []any { return []any{"GETEX", "k", "EX", ten} }, "v0"},
		{"GETEX PXAT", false, func(n time.Time) []any { return []any{"GETEX", "k", "PXAT", n.UnixMilli() + hourMs + 1} }, "v0"},
		{"GETEX PERSIST", false, func(time.Time) []any { return []any{"GETEX", "k", "PERSIST"} }, "v0"},
		{"EXPIRE", false, func(time.Time) []any { return []any{"EXPIRE", "k", ten} }, int64(1)},
		{"EXPIRE GT", false, func(time.Time) []any { return []any{"EXPIRE", "k", ten, "GT"} }, int64(1)},
		{"PEXPIRE", false, func(time.Time) []any { return []any{"PEXPIRE", "k", hourMs + 1} }, int64(1)},
		{"EXPIREAT", false, func(n time.Time) []any { return []any{"EXPIREAT", "k", n.Unix() + ten} }, int64(1)},
		{"PEXPIREAT", false, func(n time.Time) []any { return []any{"PEXPIREAT", "k", n.UnixMilli() + 2*hourMs} }, int64(1)},
		{"PERSIST", false, func(time.Time) []any { return []any{"PERSIST", "k"} }, int64(1)},
	}
}

// TestMaxTTLCapPolicy: under the cap policy every path that asks for a
// longer TTL, or none, answers as Redis would and leaves the key with a
// TTL of max_ttl; a write without a TTL gets the tier's default.
func TestMaxTTLCapPolicy(t *testing.T) {
	ts := startServer(t, retentionConfig(), true)
	ctx := grCtx(t)
	a := grClient(t, &redis.Options{Addr: ts.addr, Username: "alice", Password: "alice-pw"})
	for _, p := range retentionPaths() {
		a.Del(ctx, "k")
		if !p.fresh {
			if err := a.Set(ctx, "k", "v0", time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
		}
		got, err := a.Do(ctx, p.cmd(ts.clock.Now())...).Result()
		if err != nil || got != p.reply {
			t.Errorf("%s: reply %v, %v; want %v", p.name, got, err, p.reply)
			continue
		}
		if n := pttl(t, a, "k"); n != hourMs {
			t.Errorf("%s: PTTL %d, want the cap %d", p.name, n, hourMs)
		}
	}
	// RESTORE: an explicit TTL past the cap is capped, 0 gets the default.
	a.Set(ctx, "src", "v", 0)
	payload, err := a.Dump(ctx, "src").Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Do(ctx, "RESTORE", "r1", int64(10*hourMs), payload).Err(); err != nil || pttl(t, a, "r1") != hourMs {
		t.Errorf("RESTORE with a 10h TTL: %v, PTTL %d", err, pttl(t, a, "r1"))
	}
	if err := a.Do(ctx, "RESTORE", "r2", ts.clock.Now().UnixMilli()+10*hourMs, payload, "ABSTTL").Err(); err != nil || pttl(t, a, "r2") != hourMs {
		t.Errorf("RESTORE ABSTTL 10h ahead: %v, PTTL %d", err, pttl(t, a, "r2"))
	}
	if err := a.Do(ctx, "RESTORE", "r3", 0, payload).Err(); err != nil || pttl(t, a, "r3") != 30*60000 {
		t.Errorf("RESTORE ttl 0: %v, PTTL %d, want default_ttl", err, pttl(t, a, "r3"))
	}
	// Shorter TTLs are kept; a write without one gets default_ttl (30m).
	a.Do(ctx, "SET", "k", "v", "EX", 60)
	if n := pttl(t, a, "k"); n != 60000 {
		t.Errorf("SET EX 60: PTTL %d", n)
	}
	a.Do(ctx, "SET", "k", "v")
	if n := pttl(t, a, "k"); n != 30*60000 {
		t.Errorf("SET: PTTL %d, want default_ttl", n)
	}
	// Carried-over TTLs are capped: KEEPTTL, RENAME, COPY of keys older
	// than the cap.
	for _, c := range []struct {
		name string
		cmd  []any
		key  string
	}{
		{"SET KEEPTTL", []any{"SET", "old", "v", "KEEPTTL"}, "old"},
		{"RENAME", []any{"RENAME", "old", "new"}, "new"},
		{"COPY", []any{"COPY", "old", "copy", "REPLACE"}, "copy"},
		{"APPEND", []any{"APPEND", "old", "x"}, "old"},
		{"SETRANGE", []any{"SETRANGE", "old", "1", "x"}, "old"},
	} {
		legacyKey(t, ts, "a", "old")
		if err := a.Do(ctx, c.cmd...).Err(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if n := pttl(t, a, c.key); n != hourMs {
			t.Errorf("%s of a key without TTL: PTTL %d, want %d", c.name, n, hourMs)
		}
	}
	// Scripts and transactions reach the same store.
	if err := a.Eval(ctx, "return redis.call('SET', KEYS[1], 'v', 'EX', 315360000)", []string{"s"}).Err(); err != nil {
		t.Fatal(err)
	}
	if n := pttl(t, a, "s"); n != hourMs {
		t.Errorf("SET EX in a script: PTTL %d", n)
	}
	if _, err := a.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Do(ctx, "SET", "m", "v", "EX", 315360000)
		p.Do(ctx, "PERSIST", "m")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n := pttl(t, a, "m"); n != hourMs {
		t.Errorf("MULTI SET EX/PERSIST: PTTL %d", n)
	}
	// The cap moves with the clock: a key lives at most max_ttl after its
	// last write.
	ts.clock.Add(time.Hour + time.Millisecond)
	if n, _ := a.Exists(ctx, "k", "m", "s", "new", "copy").Result(); n != 0 {
		t.Errorf("%d keys outlived max_ttl", n)
	}
}

// TestMaxTTLRefusePolicy: under the refuse policy the same paths are
// answered with ErrMaxTTL and change nothing; TTLs within the cap and
// writes without a TTL (which get max_ttl, the tier having no default)
// go through, and carried-over TTLs are capped.
func TestMaxTTLRefusePolicy(t *testing.T) {
	ts := startServer(t, retentionConfig(), true)
	ctx := grCtx(t)
	b := grClient(t, &redis.Options{Addr: ts.addr, Username: "bob", Password: "bob-pw"})
	for _, p := range retentionPaths() {
		b.Del(ctx, "k")
		if !p.fresh {
			if err := b.Set(ctx, "k", "v0", time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
		}
		args := p.cmd(ts.clock.Now())
		cmd := strings.ToLower(args[0].(string))
		want := command.ErrMaxTTL(cmd, hourMs)
		if err := b.Do(ctx, args...).Err(); err == nil || err.Error() != want {
			t.Errorf("%s: err %v, want %q", p.name, err, want)
			continue
		}
		switch n := pttl(t, b, "k"); {
		case p.fresh && n != -2:
			t.Errorf("%s: refused, yet k exists (PTTL %d)", p.name, n)
		case !p.fresh && n != 60000:
			t.Errorf("%s: refused, yet k's PTTL is %d", p.name, n)
		}
		if !p.fresh {
			if v, _ := b.Get(ctx, "k").Result(); v != "v0" {
				t.Errorf("%s: refused, yet k = %q", p.name, v)
			}
		}
	}
	if want := "ERR max_ttl exceeded in 'set' command: this tenant's keys expire within 3600 seconds"; command.ErrMaxTTL("set", hourMs) != want {
		t.Errorf("ErrMaxTTL = %q", command.ErrMaxTTL("set", hourMs))
	}
	// At the cap, below it, in the past (a delete), or absent: accepted.
	for _, c := range [][]any{
		{"SET", "k", "v", "EX", 3600}, {"SETEX", "k2", 10, "v"}, {"EXPIRE", "k", 3600}, {"PEXPIRE", "k", hourMs},
		{"SET", "k3", "v"}, {"HSET", "h", "f", "v"}, {"RPUSH", "l", "x"}, {"SADD", "st", "m"}, {"INCR", "n"},
		{"PERSIST", "nokey"}, {"EXPIRE", "k2", -1},
	} {
		if err := b.Do(ctx, c...).Err(); err != nil {
			t.Errorf("%v: %v", c, err)
		}
	}
	for _, k := range []string{"k", "k3", "h", "l", "st", "n"} {
		if n := pttl(t, b, k); n != hourMs {
			t.Errorf("%s: PTTL %d, want %d", k, n, hourMs)
		}
	}
	// RESTORE: a TTL past the cap is refused before the payload is read;
	// ttl 0 is a write without a TTL (max_ttl here).
	b.Set(ctx, "src", "v", 0)
	payload, err := b.Dump(ctx, "src").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]any{
		{"RESTORE", "r1", hourMs + 1, payload},
		{"RESTORE", "r1", ts.clock.Now().UnixMilli() + 2*hourMs, payload, "ABSTTL"},
		{"RESTORE", "r1", hourMs + 1, "not a payload"},
	} {
		if err := b.Do(ctx, args...).Err(); err == nil || err.Error() != command.ErrMaxTTL("restore", hourMs) {
			t.Errorf("%v: %v", args[:3], err)
		}
	}
	if n := pttl(t, b, "r1"); n != -2 {
		t.Errorf("refused RESTOREs left r1 (PTTL %d)", n)
	}
	for _, args := range [][]any{{"RESTORE", "r2", 0, payload}, {"RESTORE", "r3", hourMs, payload}} {
		if err := b.Do(ctx, args...).Err(); err != nil || pttl(t, b, args[1].(string)) != hourMs {
			t.Errorf("%v: %v, PTTL %d", args[:3], err, pttl(t, b, args[1].(string)))
		}
	}
	// KEEPTTL on a key without a TTL asks to keep none: refused.
	legacyKey(t, ts, "b", "old")
	if err := b.Do(ctx, "SET", "old", "v", "KEEPTTL").Err(); err == nil || err.Error() != command.ErrMaxTTL("set", hourMs) {
		t.Errorf("SET KEEPTTL on a key without TTL: %v", err)
	}
	if v, _ := b.Get(ctx, "old").Result(); v != "old" {
		t.Errorf("refused SET KEEPTTL wrote %q", v)
	}
	// Carrying a key over is not a request: RENAME caps.
	if err := b.Rename(ctx, "old", "new").Err(); err != nil {
		t.Fatal(err)
	}
	if n := pttl(t, b, "new"); n != hourMs {
		t.Errorf("RENAME of a key without TTL: PTTL %d", n)
	}
	// A script sees the refusal as redis.call's error; MULTI as EXEC's
	// reply to that command, the others running.
	err = b.Eval(ctx, "return redis.call('SET', KEYS[1], 'v', 'EX', 315360000)", []string{"s"}).Err()
	if err == nil || !strings.Contains(err.Error(), "max_ttl exceeded in 'set' command") {
		t.Errorf("script: %v", err)
	}
	cmds, err := b.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Do(ctx, "SET", "m", "v")
		p.Do(ctx, "PERSIST", "m")
		p.Do(ctx, "INCR", "cnt")
		return nil
	})
	if err == nil || len(cmds) != 3 || cmds[1].Err() == nil || cmds[1].Err().Error() != command.ErrMaxTTL("persist", hourMs) || cmds[2].Err() != nil {
		t.Errorf("MULTI: %v %v", cmds, err)
	}
	if n := pttl(t, b, "m"); n != hourMs {
		t.Errorf("MULTI: m's PTTL %d", n)
	}
}

// TestMaxTTLReload: a reload that sets a cap gives the keys already
// stored (with a longer TTL or none) the cap; a reload that removes it
// lets PERSIST persist again.
func TestMaxTTLReload(t *testing.T) {
	cfg := testConfig()
	ts := startServer(t, cfg, true)
	ctx := grCtx(t)
	a := grClient(t, &redis.Options{Addr: ts.addr, Username: "alice", Password: "alice-pw"})
	a.Do(ctx, "SET", "none", "v")
	a.Do(ctx, "PERSIST", "none")
	a.Do(ctx, "SET", "long", "v", "EX", 7200)
	a.Do(ctx, "SET", "short", "v", "EX", 60)
	if n := pttl(t, a, "none"); n != -1 {
		t.Fatalf("no cap: PERSIST left PTTL %d", n)
	}
	next := testConfig()
	next.Tenants[0].Tier.DefaultTTL = 10 * time.Minute
	next.Tenants[0].Tier.MaxTTL = 10 * time.Minute
	if err := ts.Reload(next); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]int64{"none": 600000, "long": 600000, "short": 60000} {
		if n := pttl(t, a, k); n != want {
			t.Errorf("after reload %s: PTTL %d, want %d", k, n, want)
		}
	}
	if err := ts.Reload(testConfig()); err != nil {
		t.Fatal(err)
	}
	if n, err := a.Persist(ctx, "none").Result(); err != nil || !n || pttl(t, a, "none") != -1 {
		t.Errorf("cap removed: PERSIST = %v, %v", n, err)
	}
	if info, _ := a.Info(ctx, "tenant").Result(); !strings.Contains(info, "tenant_max_ttl_seconds:0\r\ntenant_max_ttl_policy:cap\r\n") {
		t.Errorf("INFO tenant after the cap was removed:\n%s", info)
	}
	if err := ts.Reload(next); err != nil {
		t.Fatal(err)
	}
	if info, _ := a.Info(ctx, "tenant").Result(); !strings.Contains(info, "tenant_max_ttl_seconds:600\r\n") {
		t.Errorf("INFO tenant with max_ttl 10m:\n%s", info)
	}
}
