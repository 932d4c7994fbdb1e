package server

import (
	"strings"
	"testing"
	"time"

	"github.com/tcached/tcached/backing/clustertest"
	"github.com/tcached/tcached/config"
)

// testDiffFuzzBacked (TestBackedColl/diff-fuzz) is the differential random tester (diff_fuzz_test.go)
// with tcached in backed mode: the same generators, over a Redis Cluster
// started for the test, against a redis-server 7.0.15, so every family's
// commands are held to Redis's replies in backed mode too (collections
// read through and from L1 alike). Every key carries the hash tag {t}, so
// multi-key commands stay in one slot; the commands backed mode refuses
// or answers differently on purpose are left out (dfBackedExcluded).
func testDiffFuzzBacked(t *testing.T, cl *clustertest.Cluster) {
	cfg := testConfig()
	cfg.Tenants[0].Tier.DefaultTTL = 0
	cfg.Tenants[0].Quota = 256 << 20
	cfg.MaxMemory = 1 << 30
	cfg.DefaultTenant = "a"
	cfg.DefaultRole = config.RoleAdmin
	srv, _ := startBacked(t, cl, cfg, "", nil)
	gens, all := dfCoverage(t, srv.Server)
	if t.Failed() {
		t.FailNow()
	}
	var names []string
	for _, n := range all {
		parent, _, _ := strings.Cut(n, "|")
		if _, ok := dfBackedExcluded[n]; ok {
			continue
		}
		if _, ok := dfBackedExcluded[parent]; ok {
			continue
		}
		names = append(names, n)
	}
	f := &dfFuzz{t: t, tcAddr: srv.addr, rdAddr: startRealRedis(t), srv: srv, names: names, gens: gens, backed: true}
	for _, n := range names {
		f.weightSum += dfWeight(n)
	}
	budget := dfEnvDuration(t, "DIFF_FUZZ_TIME", 10*time.Second)
	base := dfEnvUint(t, "DIFF_FUZZ_SEED", 1)
	start := time.Now()
	seqs, cmds := 0, 0
	for i := 0; i == 0 || time.Since(start) < budget; i++ {
		seed := dfSeqSeed(base, i)
		steps := f.sequence(seed)
		div := f.replay(steps)
		seqs++
		cmds += len(steps)
		if div != nil {
			t.Logf("diff fuzz backed: sequence %d (seed %d) diverges at step %d (%s): %s; shrinking", i, seed, div.at, div.name, div.msg)
			small, sdiv := f.shrink(steps, div, 60*time.Second)
			t.Fatal(f.report(seed, small, sdiv, len(steps)))
		}
	}
	t.Logf("diff fuzz backed: %d sequences, %d commands (%d%% answered an error), %d generated commands, in %v",
		seqs, cmds, 100*f.errs/max(f.replies, 1), len(names), time.Since(start).Round(time.Millisecond))
}

// dfBackedReset brings both servers back to the start state (scripts and
// functions are refused in backed mode).
var dfBackedReset = [][]string{
	{"FLUSHALL"},
	{"CONFIG", "SET", "hash-max-listpack-entries", "128", "hash-max-listpack-value", "64", "set-max-intset-entries", "512"},
	{"CONFIG", "SET", "zset-max-listpack-entries", "128", "zset-max-listpack-value", "64", "list-max-listpack-size", "-2"},
}

// dfBackedExcluded are the commands the backed tester leaves out (a
// parent excludes its subcommands), and why.
var dfBackedExcluded = map[string]string{
	"multi": "refused in backed mode (README)", "exec": "as multi", "discard": "as multi", "watch": "as multi", "unwatch": "as multi",
	"eval": "refused in backed mode (README)", "evalsha": "as eval", "eval_ro": "as eval", "evalsha_ro": "as eval",
	"fcall": "as eval", "fcall_ro": "as eval", "script": "as eval", "function": "as eval",
	"subscribe": "refused in backed mode (README)", "unsubscribe": "as subscribe", "psubscribe": "as subscribe",
	"punsubscribe": "as subscribe", "ssubscribe": "as subscribe", "sunsubscribe": "as subscribe", "publish": "as subscribe",
	"spublish": "as subscribe", "pubsub": "as subscribe",
	"move":         "Redis Cluster answers ERR MOVE is not allowed in cluster mode (README)",
	"config":       "CONFIG SET changes L1's thresholds, not the cluster's (README)",
	"memory|usage": "counts the L2 name, longer than the key by the tenant's prefix",
	"object":       "OBJECT ENCODING answers for the cluster's encodings or L1's, IDLETIME and FREQ for L2's clock or L1's (README)",
	"debug":        "server internals",
	"randomkey":    "picks among the cluster's keys at random",
}

// dfBackedAllowed accepts backed mode's documented difference: a command
// whose keys (as its key spec finds them in the arguments) span slots
// answers CROSSSLOT, as Redis Cluster does, where a single Redis answers
// another error (a numkeys that swallows options: BLMPOP 0 4 k RIGHT ...)
// or runs it.
func dfBackedAllowed(x *dfCheck) bool {
	e, ok := x.tc.(respErr)
	return ok && strings.HasPrefix(string(e), "CROSSSLOT ") && strings.Contains(dfBackedCrossSlotReadme, "CROSSSLOT")
}

const dfBackedCrossSlotReadme = "need their\n  keys in one slot, or answer `-CROSSSLOT`"
