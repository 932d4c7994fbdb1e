package server

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/config"
)

// quotaType is one row of TestQuotaEachType: how a key of the type grows
// by one element and how its length and a removal read.
type quotaType struct {
	name string
	// add adds element i, of about len(val) bytes, to key; reply is its
	// reply when accepted.
	add   func(key string, i int, val string) []string
	reply func(i int) any
	// length reads the length of key "big", which is n*per after n adds.
	length []string
	per    int64
	// shrink removes from the full "big" under noeviction; want is its
	// reply.
	shrink []string
	want   any
	// lru and noeviction are the type's own checks, run once its growth
	// was refused, on tenant a (LRU) and b (noeviction).
	lru, noeviction func(t *testing.T, r *rconn)
	// slack is how far under the quota the full key may be charged when
	// its growth is refused: the type's allocation step (0: 2000 bytes, an
	// element's worth).
	slack int64
}

// quotaTypes are the rows: one for each type a key can hold.
func quotaTypes() []quotaType {
	return []quotaType{{
		name:   "string",
		add:    func(k string, _ int, v string) []string { return []string{"APPEND", k, v} },
		reply:  func(i int) any { return int64((i + 1) * 1000) },
		length: []string{"STRLEN", "big"}, per: 1000,
		shrink: []string{"SET", "big", "x"}, want: ok,
		lru: func(t *testing.T, r *rconn) {
			// A SET that can never fit is refused like an APPEND.
			if got := r.do("SET", "huge", strings.Repeat("x", 70<<10)); got != respErr(command.ErrOOM) {
				t.Errorf("too-large SET = %v", got)
			}
		},
	}, {
		name:   "hash",
		add:    func(k string, i int, v string) []string { return []string{"HSET", k, fmt.Sprintf("f%d", i), v} },
		reply:  func(int) any { return int64(1) },
		length: []string{"HLEN", "big"}, per: 1,
		shrink: []string{"HDEL", "big", "f0"}, want: int64(1),
		noeviction: func(t *testing.T, r *rconn) {
			if got := r.do("HINCRBY", "big", "counter-field-that-does-not-fit", "1"); got != respErr(command.ErrOOM) && got != int64(1) {
				t.Fatalf("HINCRBY near quota = %v", got)
			}
		},
	}, {
		name:   "list",
		add:    func(k string, _ int, v string) []string { return []string{"RPUSH", k, v} },
		reply:  func(i int) any { return int64(i + 1) },
		length: []string{"LLEN", "big"}, per: 1,
		shrink: []string{"LPOP", "big"}, want: strings.Repeat("v", 1000),
		// Past 8 KiB a list is a quicklist, whose tail node's buffer
		// grows by size classes a quarter apart or more: the refused push
		// may have needed up to 1.4 KiB more, its buffer's next step.
		slack: 1408 + 200,
	}, {
		name:   "set",
		add:    func(k string, i int, v string) []string { return []string{"SADD", k, fmt.Sprintf("%s%03d", v, i)} },
		reply:  func(int) any { return int64(1) },
		length: []string{"SCARD", "big"}, per: 1,
		shrink: []string{"SREM", "big", strings.Repeat("v", 1000) + "000"}, want: int64(1),
		noeviction: func(t *testing.T, r *rconn) {
			// A copy of the big set cannot fit: OOM, nothing stored.
			if got := r.do("SUNIONSTORE", "copy", "big"); got != respErr(command.ErrOOM) {
				t.Fatalf("SUNIONSTORE of the big set = %v", got)
			}
			if got := r.do("EXISTS", "copy"); got != int64(0) {
				t.Fatalf("failed STORE left a key: %v", got)
			}
		},
	}, {
		name: "zset",
		add: func(k string, i int, v string) []string {
			return []string{"ZADD", k, fmt.Sprint(i), fmt.Sprintf("%s%d", v, i)}
		},
		reply:  func(int) any { return int64(1) },
		length: []string{"ZCARD", "big"}, per: 1,
		shrink: []string{"ZPOPMIN", "big"}, want: []any{strings.Repeat("v", 1000) + "0", "0"},
	}, {
		name: "stream",
		add: func(k string, i int, v string) []string {
			return []string{"XADD", k, fmt.Sprint(i + 1), "f", v}
		},
		reply:  func(i int) any { return fmt.Sprintf("%d-0", i+1) },
		length: []string{"XLEN", "big"}, per: 1,
		shrink: []string{"XDEL", "big", "1-0"}, want: int64(1),
		noeviction: func(t *testing.T, r *rconn) {
			// A consumer group's growth is refused the same way.
			if got := r.do("XGROUP", "CREATE", "big", strings.Repeat("g", 5000), "0"); got != respErr(command.ErrOOM) {
				t.Fatalf("XGROUP CREATE on a full tenant = %v", got)
			}
		},
		slack: 4200, // a node's data buffer doubles (value/stream.go)
	}}
}

// quotaEachTypeBytes is both tenants' quota in TestQuotaEachType.
const quotaEachTypeBytes = 64 << 10

// TestQuotaEachType grows one key of each type past its tenant's quota, on
// tenant a under LRU and tenant b under noeviction, with the same key names
// in both. Accounted bytes never pass either quota (checked after every
// write).
//
// Under LRU a value that can never fit is refused with OOM and evicts
// nothing; the growing key evicts the tenant's other keys (never the other
// tenant's) and stays until it alone cannot grow (OOM, nothing changed);
// it is charged whole (MEMORY USAGE within 2000 bytes of the quota) and
// the next write evicts it as one key.
//
// Under noeviction the growth is refused with OOM as the key nears the
// quota, no key is lost, a new key is refused too, a write that shrinks
// the key is accepted, and deleting makes room again.
func TestQuotaEachType(t *testing.T) {
	const quota = quotaEachTypeBytes
	val := strings.Repeat("v", 1000)
	oom := respErr(command.ErrOOM)
	for _, typ := range quotaTypes() {
		t.Run(typ.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Tenants[0].Quota = quota
			cfg.Tenants[1].Quota = quota
			cfg.Tenants[1].Eviction = config.NoEviction
			srv := startServer(t, cfg, false)
			// used is tenant id's accounted bytes; it fails the test if
			// any tenant is over its quota.
			used := func(id string) int64 {
				t.Helper()
				var u int64 = -1
				for _, st := range srv.Stats() {
					if st.UsedBytes > st.Quota {
						t.Fatalf("tenant %s: used %d > quota %d", st.ID, st.UsedBytes, st.Quota)
					}
					if st.ID == id {
						u = st.UsedBytes
					}
				}
				if u < 0 {
					t.Fatalf("no tenant %s", id)
				}
				return u
			}
			// grow adds elements to "big" until one is refused, and
			// checks that the refusal is OOM, that the key kept every
			// accepted element (at least 50) and is charged whole.
			grow := func(r *rconn, id string) {
				t.Helper()
				var n int
				var refused any
				for i := range 100 {
					got := r.do(typ.add("big", i, val)...)
					used(id)
					if !reflect.DeepEqual(norm(got), typ.reply(i)) {
						refused = got
						break
					}
					n++
				}
				if refused != oom || n < 50 {
					t.Fatalf("%s growing past the quota: %d elements, then %v; want OOM after at least 50", typ.name, n, refused)
				}
				if got := r.do(typ.length...); got != int64(n)*typ.per {
					t.Fatalf("%q = %v after %d accepted adds", typ.length, got, n)
				}
				mem := r.do("MEMORY", "USAGE", "big").(int64)
				slack := typ.slack
				if slack == 0 {
					slack = 2000
				}
				if u := used(id); mem > u || mem < quota-slack {
					t.Fatalf("MEMORY USAGE big = %d, tenant used %d", mem, u)
				}
			}

			a := dialAs(t, srv.addr, "alice", "alice-pw")
			b := dialAs(t, srv.addr, "bob", "bob-pw")
			if got := b.do("SET", "keep", "v"); got != ok {
				t.Fatalf("b SET keep = %v", got)
			}

			// LRU, tenant a. A value that can never fit, new or added to
			// a key, is refused and evicts nothing.
			a.do("SET", "keep", "1")
			a.do(typ.add("small", 0, "x")...)
			if got := a.do(typ.add("small", 1, strings.Repeat("x", 70<<10))...); got != oom {
				t.Errorf("too-large %s add to an existing key = %v", typ.name, got)
			}
			if got := a.do(typ.add("huge", 0, strings.Repeat("x", 70<<10))...); got != oom {
				t.Errorf("too-large %s add to a new key = %v", typ.name, got)
			}
			if typ.lru != nil {
				typ.lru(t, a)
			}
			if got := norm(a.do("GET", "keep")); got != "1" {
				t.Errorf("too-large write evicted a key: %v", got)
			}
			if got := a.do("EXISTS", "small", "huge"); got != int64(1) {
				t.Errorf("too-large writes: EXISTS small huge = %v, want 1", got)
			}
			strs := make([]string, 20)
			for i := range strs {
				strs[i] = fmt.Sprintf("s%d", i)
				a.do("SET", strs[i], val)
				used("a")
			}
			grow(a, "a")
			if got := a.do(append([]string{"EXISTS"}, strs...)...); got != int64(0) {
				t.Fatalf("string keys not evicted for the %s: EXISTS = %v", typ.name, got)
			}
			if got := a.do("EXISTS", "keep", "small"); got != int64(0) {
				t.Fatalf("older keys not evicted for the %s: EXISTS = %v", typ.name, got)
			}
			if got := b.do("EXISTS", "keep"); got != int64(1) {
				t.Fatalf("tenant a's eviction took tenant b's key: EXISTS = %v", got)
			}
			// Another write of the tenant evicts the big key as one key.
			a.do("SET", "after", strings.Repeat("x", 2000))
			used("a")
			if got := a.do("EXISTS", "big"); got != int64(0) {
				t.Fatalf("the %s was not evicted whole: EXISTS = %v, %q = %v", typ.name, got, typ.length, a.do(typ.length...))
			}

			// noeviction, tenant b, whose key names are a's.
			grow(b, "b")
			if typ.noeviction != nil {
				typ.noeviction(t, b)
			}
			if got := b.do("EXISTS", "keep"); got != int64(1) {
				t.Fatalf("noeviction lost a key: EXISTS = %v", got)
			}
			if got := b.do("SET", "new", strings.Repeat("y", 2000)); got != oom {
				t.Fatalf("new key on a full noeviction tenant = %v", got)
			}
			if got := norm(b.do(typ.shrink...)); !reflect.DeepEqual(got, typ.want) {
				t.Fatalf("%q under noeviction = %#v, want %#v", typ.shrink, got, typ.want)
			}
			used("b")
			if got := b.do("DEL", "big"); got != int64(1) {
				t.Fatalf("DEL big = %v", got)
			}
			if got := b.do("SET", "new", strings.Repeat("y", 2000)); got != ok {
				t.Fatalf("SET after DEL = %v", got)
			}
			if got := a.do("EXISTS", "after"); got != int64(1) {
				t.Fatalf("tenant b's writes took tenant a's key: EXISTS = %v", got)
			}
			used("b")
		})
	}
}
