package server

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tcached/tcached/backing"
	"github.com/tcached/tcached/backing/clustertest"
)

// TestBackedSlotInvalidation: a lost tracking connection and a failover
// drop only the L1 copies of the slots concerned (backed/slots.go).
//
//  1. Killing one master's tracking connection (CLIENT KILL on that node)
//     suspends its slots at once: its keys are read through L2 (a value
//     written behind tcached's back meanwhile, whose invalidation nobody
//     receives, is read), while the other masters' keys go on being L1
//     hits. When the connection is back, that master's copies are gone
//     and the others' are still in L1.
//  2. FLUSHALL on one master drops its slots' copies only, and a slot
//     migrated to another master drops that slot's copies only.
//  3. Killing a master: once its replica took over and is tracked, the
//     dead master's copies are gone and the others' are still in L1;
//     values written behind tcached's back on either side are read.
func TestBackedSlotInvalidation(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a cluster master; not in -short")
	}
	cl := clustertest.Start(t)
	t.Run("tenant figures", func(t *testing.T) { testBackedTenantFigures(t, cl) })
	t.Run("slots", func(t *testing.T) { testBackedSlots(t, cl) })
}

// testBackedTenantFigures: TENANT LIST, TENANT INFO and /tenants show the
// tenant's L2 keys and bytes beside L1's (keys=1 while DBSIZE is 3).
func testBackedTenantFigures(t *testing.T, cl *clustertest.Cluster) {
	srv, bk := startBacked(t, cl, testConfig(), "", nil)
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	for _, k := range []string{"x", "y", "z"} {
		r.do("SET", k, "0123456789")
	}
	if got := r.do("DBSIZE"); got != int64(3) {
		t.Fatalf("DBSIZE %#v", got)
	}
	waitUntil(t, 10*time.Second, "the writes' invalidations", func() bool { return bk.Stats().Invalidations >= 3 })
	r.do("GET", "x") // one L1 copy
	waitUntil(t, 10*time.Second, "the usage flushed", func() bool { return bk.UsageKeys("a") == 3 })
	ta := srv.reg.Load().tenants["a"]
	if n := ta.part.Stats().Keys; n != 1 {
		t.Fatalf("%d L1 copies, want 1", n)
	}
	l2Bytes := bk.Usage("a")
	op := dialAs(t, srv.addr, "ops", "ops-pw")
	list, _ := op.do("TENANT", "LIST").([]any)
	var line string
	for _, l := range list {
		if b, _ := l.([]byte); strings.HasPrefix(string(b), "a ") {
			line = string(b)
		}
	}
	if !strings.Contains(line, " keys=1 ") ||
		!strings.HasSuffix(line, fmt.Sprintf(" l2_keys=3 l2_used_bytes=%d l2_quota_bytes=%d", l2Bytes, ta.cfg().Tier.L2Quota)) {
		t.Fatalf("TENANT LIST line of a: %q (L2 bytes %d)", line, l2Bytes)
	}
	info, _ := op.do("TENANT", "INFO", "a").([]byte)
	for _, want := range []string{"tenant_keys:1\r\n", "l2_keys:3\r\n", fmt.Sprintf("l2_used_bytes:%d\r\n", l2Bytes)} {
		if !strings.Contains(string(info), want) {
			t.Errorf("TENANT INFO a lacks %q:\n%s", want, info)
		}
	}
	h := httptest.NewServer(srv.AdminHandler())
	defer h.Close()
	req, _ := http.NewRequest("GET", h.URL+"/tenants/a", nil)
	req.Header.Set("Authorization", "Bearer ops-token")
	resp, err := h.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Keys int64 `json:"keys"`
		L2   *struct {
			Keys      int64 `json:"keys"`
			UsedBytes int64 `json:"used_bytes"`
		} `json:"l2"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Keys != 1 || got.L2 == nil || got.L2.Keys != 3 || got.L2.UsedBytes != l2Bytes {
		t.Fatalf("/tenants/a: %+v %+v", got, got.L2)
	}
	body := scrape(t, srv)
	if !strings.Contains(body, `tcached_tenant_l2_keys{tenant="a",tier="gold"} 3`) {
		t.Errorf("the scrape lacks tenant a's L2 keys")
	}
}

func testBackedSlots(t *testing.T, cl *clustertest.Cluster) {
	prefix := fmt.Sprintf("sl%d:", prefixSeq.Add(1))
	// A round every second: the test writes behind tcached's back while a
	// master is untracked, before the next round tracks it again.
	srv, bk := startBacked(t, cl, testConfig(), prefix, func(o *backing.Options) { o.TrackInterval = time.Second })
	ta := srv.reg.Load().tenants["a"]
	r := dialAs(t, srv.addr, "alice", "alice-pw")
	raw := cl.Client()
	ctx := context.Background()

	owners := func() map[int]string {
		t.Helper()
		slots, err := raw.ClusterSlots(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		m := map[int]string{}
		for _, s := range slots {
			for i := s.Start; i <= s.End; i++ {
				m[i] = s.Nodes[0].Addr
			}
		}
		return m
	}
	// keys by the master owning their slot, 40 per master.
	own := owners()
	byMaster := map[string][]string{}
	for i := 0; len(byMaster) < 3 || minLen(byMaster) < 40; i++ {
		k := fmt.Sprintf("k%d", i)
		m := own[bk.Slot("a", 0, []byte(k))]
		if len(byMaster[m]) < 40 {
			byMaster[m] = append(byMaster[m], k)
		}
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	fill := func() {
		t.Helper()
		inv := bk.Stats().Invalidations
		for _, ks := range byMaster {
			for _, k := range ks {
				if got := r.do("SET", k, "v1-"+k); got != status("OK") {
					t.Fatalf("SET %s: %#v", k, got)
				}
			}
		}
		// The SETs' own invalidations drop a copy filled before they
		// arrive: let them in first.
		waitFor("the SETs' invalidations", func() bool { return bk.Stats().Invalidations-inv >= 120 })
		for _, ks := range byMaster {
			for _, k := range ks {
				if got := r.do("GET", k); !isBulk(got, "v1-"+k) {
					t.Fatalf("GET %s: %#v", k, got)
				}
			}
		}
		for m, ks := range byMaster {
			if n := inL1(ta, ks); n != len(ks) {
				t.Fatalf("%d of %d keys of %s in L1 after the reads", n, len(ks), m)
			}
		}
	}
	served := func() bool { return bk.Ready() && srv.l2.SlotStats().Suspended == 0 }
	waitFor("every slot served", served)

	// 1. A tracking connection killed on one master.
	fill()
	masters := slices.Sorted(maps.Keys(byMaster))
	victim := masters[0]
	node := goredis.NewClient(&goredis.Options{Addr: victim, Protocol: 2, DisableIdentity: true})
	defer node.Close()
	before := srv.l2.SlotStats()
	killTracking(t, node)
	waitFor("the victim's slots suspended", func() bool { return srv.l2.SlotStats().Suspended > 0 })
	// Behind tcached's back, while nobody tracks the victim: no
	// invalidation is sent for these.
	for _, k := range byMaster[victim][:10] {
		raw.Set(ctx, prefix+"a:0:"+k, "v2-"+k, 0)
	}
	if st := srv.l2.SlotStats(); st.Suspended == 0 || bk.Ready() {
		t.Fatalf("the victim was tracked again before the outside writes (interval 1s): %+v", st)
	}
	hits := ta.l2.L1Hits.Load()
	for _, m := range masters[1:] {
		for _, k := range byMaster[m] {
			if got := r.do("GET", k); !isBulk(got, "v1-"+k) {
				t.Fatalf("GET %s on a tracked master: %#v", k, got)
			}
		}
	}
	if got := ta.l2.L1Hits.Load() - hits; got != 80 {
		t.Fatalf("%d of 80 reads of the tracked masters' keys were L1 hits while another master was untracked", got)
	}
	hits = ta.l2.L1Hits.Load()
	for _, k := range byMaster[victim][:10] {
		if got := r.do("GET", k); !isBulk(got, "v2-"+k) {
			t.Fatalf("GET %s of the untracked master: %#v, want the outside write", k, got)
		}
	}
	if ta.l2.L1Hits.Load() != hits {
		t.Fatal("an untracked master's key was served from L1")
	}
	waitFor("the victim tracked again", served)
	after := srv.l2.SlotStats()
	nSlots := nSlotsOf(own, victim)
	if d := after.Drops - before.Drops; d != uint64(nSlots) {
		t.Errorf("%d slots dropped, the victim owns %d", d, nSlots)
	}
	if n := inL1(ta, byMaster[victim][10:]); n != 0 {
		t.Errorf("%d of the victim's 30 untouched keys still in L1 after it was tracked again", n)
	}
	for _, m := range masters[1:] {
		if n := inL1(ta, byMaster[m]); n != 40 {
			t.Errorf("%d of 40 keys of %s (tracked throughout) still in L1", n, m)
		}
	}
	for _, k := range byMaster[victim][:10] {
		if got := r.do("GET", k); !isBulk(got, "v2-"+k) {
			t.Fatalf("GET %s after the re-track: %#v", k, got)
		}
	}
	t.Logf("tracking connection killed on %s: %d slots suspended and dropped, %d L1 copies dropped; %d copies of other masters kept",
		victim, after.Drops-before.Drops, after.DroppedKeys-before.DroppedKeys, inL1(ta, byMaster[masters[1]])+inL1(ta, byMaster[masters[2]]))

	// A master flushed behind tcached's back (a null invalidation): its
	// slots' copies go, the others' stay.
	flushed := masters[2]
	fnode := goredis.NewClient(&goredis.Options{Addr: flushed, Protocol: 2, DisableIdentity: true})
	defer fnode.Close()
	before = srv.l2.SlotStats()
	if err := fnode.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor("the flushed master's slots dropped", func() bool { return srv.l2.SlotStats().Drops > before.Drops })
	if d := srv.l2.SlotStats().Drops - before.Drops; d != uint64(nSlotsOf(own, flushed)) {
		t.Errorf("%d slots dropped by a FLUSHALL, the master owns %d", d, nSlotsOf(own, flushed))
	}
	if n := inL1(ta, byMaster[flushed]); n != 0 {
		t.Errorf("%d copies of the flushed master's keys still in L1", n)
	}
	if n := inL1(ta, byMaster[masters[1]]); n != 40 {
		t.Errorf("%d of 40 copies of another master's keys still in L1 after a FLUSHALL elsewhere", n)
	}
	if got := r.do("GET", byMaster[flushed][0]); got != nil {
		t.Errorf("GET of a flushed key: %#v", got)
	}

	// A slot migrated between two tracked masters: only that slot's
	// copies go.
	testSlotMigration(t, cl, srv, bk, ta, r, prefix, byMaster, masters)

	// 3. A master killed: its replica takes over. A second server on the
	// same keys, with the default tracking round (50ms here): the rounds
	// that meet the dead master are slow, and must not make the healthy
	// masters' connections look silent.
	srv, bk = startBacked(t, cl, testConfig(), prefix, nil)
	ta = srv.reg.Load().tenants["a"]
	r = dialAs(t, srv.addr, "alice", "alice-pw")
	waitFor("every slot served", served)
	fill()
	victim = masters[1]
	own = owners() // the migration moved one slot
	before = srv.l2.SlotStats()
	if err := cl.Kill(victim); err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	if _, err := cl.WaitFailover(fctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	cancel()
	waitFor("the new master tracked", func() bool {
		return served() && srv.l2.SlotStats().Drops > before.Drops
	})
	after = srv.l2.SlotStats()
	if n := inL1(ta, byMaster[victim]); n != 0 {
		t.Errorf("%d of the failed master's keys still in L1", n)
	}
	for _, m := range []string{masters[0], masters[2]} {
		if n := inL1(ta, byMaster[m]); n != 40 {
			t.Errorf("%d of 40 keys of %s (alive throughout) still in L1 after the failover", n, m)
		}
	}
	// The failed master's slots are dropped at least once. While the
	// failover spreads, a node that has not heard of it yet may answer
	// CLUSTER SLOTS (the cluster client's node is the dead one): its stale
	// map moves the slots back to the dead master for a round, and the
	// next round drops them again (seen in CI: 2 x 5462). That costs
	// nothing: the second drop finds no copy. What must hold is that
	// only the failed master's copies went.
	if d := after.Drops - before.Drops; d < uint64(nSlotsOf(own, victim)) {
		t.Errorf("%d slots dropped by the failover, the failed master owned %d", d, nSlotsOf(own, victim))
	}
	if d := after.DroppedKeys - before.DroppedKeys; d != uint64(len(byMaster[victim])) {
		t.Errorf("%d L1 copies dropped by the failover, the failed master's keys had %d", d, len(byMaster[victim]))
	}
	// Coherence after the failover, on both sides: outside writes are
	// seen within the usual bound.
	for _, k := range []string{byMaster[victim][0], byMaster[masters[2]][0]} {
		r.do("GET", k)
		if err := raw.Set(ctx, prefix+"a:0:"+k, "v3-"+k, 0).Err(); err != nil {
			t.Fatal(err)
		}
		waitFor("the outside write of "+k, func() bool { return isBulk(r.do("GET", k), "v3-"+k) })
	}
	t.Logf("failover of %s: %d slots dropped, %d L1 copies dropped; %d copies of the other masters kept",
		victim, after.Drops-before.Drops, after.DroppedKeys-before.DroppedKeys, inL1(ta, byMaster[masters[0]])+inL1(ta, byMaster[masters[2]]))
}

func minLen(m map[string][]string) int {
	n := -1
	for _, v := range m {
		if n < 0 || len(v) < n {
			n = len(v)
		}
	}
	return n
}

func nSlotsOf(own map[int]string, addr string) int {
	n := 0
	for _, m := range own {
		if m == addr {
			n++
		}
	}
	return n
}

// inL1 counts the keys of tenant t's db 0 that have an L1 copy.
func inL1(t *tenant, keys []string) int {
	n := 0
	for _, k := range keys {
		if _, ok := t.part.Usage(0, []byte(k)); ok {
			n++
		}
	}
	return n
}

func isBulk(v any, want string) bool {
	b, ok := v.([]byte)
	return ok && string(b) == want
}

// killTracking kills tcached's tracking connection on one node.
func killTracking(t *testing.T, node *goredis.Client) {
	t.Helper()
	list, err := node.ClientList(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for _, line := range strings.Split(list, "\n") {
		if !strings.Contains(line, " name=tcached-tracking ") {
			continue
		}
		for _, f := range strings.Fields(line) {
			if id, ok := strings.CutPrefix(f, "id="); ok {
				if err := node.Do(context.Background(), "CLIENT", "KILL", "ID", id).Err(); err != nil {
					t.Fatal(err)
				}
				killed++
			}
		}
	}
	if killed != 1 {
		t.Fatalf("killed %d tracking connections on the node, want 1", killed)
	}
}

// testSlotMigration moves the slot of a few {mig} keys from its master to
// another (CLUSTER SETSLOT IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE on
// every master) and checks that tcached drops that slot's L1 copies only,
// then reads a value written on the new owner behind its back.
func testSlotMigration(t *testing.T, cl *clustertest.Cluster, srv *testServer, bk *backing.Cluster, ta *tenant, r *rconn,
	prefix string, byMaster map[string][]string, masters []string) {
	t.Helper()
	ctx := context.Background()
	raw := cl.Client()
	mig := []string{"{mig}:1", "{mig}:2", "{mig}:3"}
	slot := bk.Slot("a", 0, []byte(mig[0]))
	inv := bk.Stats().Invalidations
	for _, k := range mig {
		r.do("SET", k, "m1")
	}
	deadline := time.Now().Add(5 * time.Second)
	for bk.Stats().Invalidations-inv < 3 {
		if time.Now().After(deadline) {
			t.Fatal("no invalidations for the {mig} SETs")
		}
		time.Sleep(time.Millisecond)
	}
	for _, k := range append(append([]string(nil), mig...), byMaster[masters[1]]...) {
		r.do("GET", k)
	}
	if n := inL1(ta, mig); n != 3 {
		t.Fatalf("%d of 3 {mig} keys in L1", n)
	}
	slots, err := raw.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	var src string
	var addrs []string
	for _, sr := range slots {
		addrs = append(addrs, sr.Nodes[0].Addr)
		if slot >= sr.Start && slot <= sr.End {
			src = sr.Nodes[0].Addr
		}
	}
	dst := ""
	for _, a := range addrs {
		if a != src {
			dst = a
			break
		}
	}
	node := func(addr string) *goredis.Client {
		c := goredis.NewClient(&goredis.Options{Addr: addr, Protocol: 2, DisableIdentity: true})
		t.Cleanup(func() { c.Close() })
		return c
	}
	sn, dn := node(src), node(dst)
	srcID, err := sn.Do(ctx, "CLUSTER", "MYID").Text()
	if err != nil {
		t.Fatal(err)
	}
	dstID, err := dn.Do(ctx, "CLUSTER", "MYID").Text()
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	before := srv.l2.SlotStats()
	must(dn.Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", srcID).Err())
	must(sn.Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", dstID).Err())
	names, err := sn.ClusterGetKeysInSlot(ctx, slot, 100).Result()
	must(err)
	host, port, _ := strings.Cut(dst, ":")
	margs := []any{"MIGRATE", host, port, "", 0, 5000, "KEYS"}
	for _, n := range names {
		margs = append(margs, n)
	}
	if len(names) > 0 {
		must(sn.Do(ctx, margs...).Err())
	}
	seen := map[string]bool{}
	for _, a := range addrs {
		if !seen[a] {
			seen[a] = true
			must(node(a).Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", dstID).Err())
		}
	}
	deadline = time.Now().Add(10 * time.Second)
	for srv.l2.SlotStats().Drops == before.Drops {
		if time.Now().After(deadline) {
			t.Fatal("the migrated slot was never dropped")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Every node learns the new owner by gossip; let one more round pass.
	time.Sleep(1500 * time.Millisecond)
	after := srv.l2.SlotStats()
	// Replicas learn the new owner by gossip: a round that asked one
	// still behind sees the slot move back and forth (the same slot
	// dropped again), never another slot.
	if d := after.Drops - before.Drops; d < 1 || d > 3 {
		t.Errorf("%d slot drops for migrating one slot", d)
	}
	if n := inL1(ta, mig); n != 0 {
		t.Errorf("%d copies of the migrated slot's keys still in L1", n)
	}
	if n := inL1(ta, byMaster[masters[1]]); n != 40 {
		t.Errorf("%d of 40 copies of an unmoved master's keys still in L1 after a migration", n)
	}
	// The new owner is tracked: a write there behind tcached's back is seen.
	must(raw.Set(ctx, prefix+"a:0:"+mig[0], "m2", 0).Err())
	deadline = time.Now().Add(5 * time.Second)
	for !isBulk(r.do("GET", mig[0]), "m2") {
		if time.Now().After(deadline) {
			t.Fatal("the write on the migrated slot's new owner is never read")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("slot %d migrated %s -> %s (%d keys): 1 slot dropped, %d L1 copies", slot, src, dst, len(names), after.DroppedKeys-before.DroppedKeys)
}
