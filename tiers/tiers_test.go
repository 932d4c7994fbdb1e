package tiers

import (
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func TestBuiltin(t *testing.T) {
	tests := []struct {
		name string
		want Tier
	}{
		{"platinum", Tier{Name: "platinum", DefaultTTL: time.Hour, Timeout: 200 * time.Millisecond, MaxConcurrent: 1000, MaxArgBytes: 256 << 20, MaxConnections: 2000, L2Quota: 4 << 30, L1CollMax: 64 << 10, Priority: 3, Weight: 4}},
		{"gold", Tier{Name: "gold", DefaultTTL: 30 * time.Minute, Timeout: 500 * time.Millisecond, MaxConcurrent: 500, MaxArgBytes: 128 << 20, MaxConnections: 1000, L2Quota: 1 << 30, L1CollMax: 32 << 10, Priority: 2, Weight: 2}},
		{"silver", Tier{Name: "silver", DefaultTTL: 15 * time.Minute, Timeout: time.Second, MaxConcurrent: 200, MaxArgBytes: 64 << 20, MaxConnections: 500, L2Quota: 256 << 20, L1CollMax: 16 << 10, Priority: 1, Weight: 1}},
	}
	b := Builtin()
	if len(b) != len(tests) {
		t.Fatalf("Builtin() has %d tiers, want %d", len(b), len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := b[tc.name]
			if !ok {
				t.Fatalf("Builtin() lacks %q", tc.name)
			}
			if got != tc.want {
				t.Errorf("Builtin()[%q] = %+v, want %+v", tc.name, got, tc.want)
			}
		})
	}
}

func TestBuiltinPriorityOrder(t *testing.T) {
	b := Builtin()
	if !(b["platinum"].Priority > b["gold"].Priority && b["gold"].Priority > b["silver"].Priority) {
		t.Errorf("priorities not ordered platinum > gold > silver: %+v", b)
	}
	if b["silver"].Priority != DefaultPriority {
		t.Errorf("silver priority %d != DefaultPriority %d", b["silver"].Priority, DefaultPriority)
	}
}

func TestBuiltinFreshMap(t *testing.T) {
	a := Builtin()
	a["gold"] = Tier{Name: "mutated"}
	delete(a, "silver")
	a["bronze"] = Tier{Name: "bronze"}
	b := Builtin()
	if b["gold"].Name != "gold" || b["silver"].Name != "silver" {
		t.Errorf("mutating one Builtin() result leaked into the next: %+v", b)
	}
	if _, ok := b["bronze"]; ok {
		t.Errorf("added tier leaked into the next Builtin() result")
	}
}

func TestWith(t *testing.T) {
	gold := Builtin()["gold"]
	tests := []struct {
		name string
		in   Tier
		o    Overrides
		want Tier
	}{
		{"no overrides", gold, Overrides{}, gold},
		{"default ttl", gold, Overrides{DefaultTTL: ptr(45 * time.Minute)},
			Tier{Name: "gold", DefaultTTL: 45 * time.Minute, Timeout: 500 * time.Millisecond, MaxConcurrent: 500, MaxArgBytes: 128 << 20, MaxConnections: 1000, L2Quota: 1 << 30, L1CollMax: 32 << 10, Priority: 2, Weight: 2}},
		{"zero ttl removes default", gold, Overrides{DefaultTTL: ptr(time.Duration(0))},
			Tier{Name: "gold", DefaultTTL: 0, Timeout: 500 * time.Millisecond, MaxConcurrent: 500, MaxArgBytes: 128 << 20, MaxConnections: 1000, L2Quota: 1 << 30, L1CollMax: 32 << 10, Priority: 2, Weight: 2}},
		{"timeout", gold, Overrides{Timeout: ptr(2 * time.Second)},
			Tier{Name: "gold", DefaultTTL: 30 * time.Minute, Timeout: 2 * time.Second, MaxConcurrent: 500, MaxArgBytes: 128 << 20, MaxConnections: 1000, L2Quota: 1 << 30, L1CollMax: 32 << 10, Priority: 2, Weight: 2}},
		{"max concurrent zero = unlimited", gold, Overrides{MaxConcurrent: ptr(0)},
			Tier{Name: "gold", DefaultTTL: 30 * time.Minute, Timeout: 500 * time.Millisecond, MaxConcurrent: 0, MaxArgBytes: 128 << 20, MaxConnections: 1000, L2Quota: 1 << 30, L1CollMax: 32 << 10, Priority: 2, Weight: 2}},
		{"max connections", gold, Overrides{MaxConnections: ptr(64)},
			Tier{Name: "gold", DefaultTTL: 30 * time.Minute, Timeout: 500 * time.Millisecond, MaxConcurrent: 500, MaxArgBytes: 128 << 20, MaxConnections: 64, L2Quota: 1 << 30, L1CollMax: 32 << 10, Priority: 2, Weight: 2}},
		{"max connections zero = unlimited", gold, Overrides{MaxConnections: ptr(0)},
			Tier{Name: "gold", DefaultTTL: 30 * time.Minute, Timeout: 500 * time.Millisecond, MaxConcurrent: 500, MaxArgBytes: 128 << 20, MaxConnections: 0, L2Quota: 1 << 30, L1CollMax: 32 << 10, Priority: 2, Weight: 2}},
		{"rate limit", gold, Overrides{RateLimit: ptr(1500.5)},
			Tier{Name: "gold", DefaultTTL: 30 * time.Minute, Timeout: 500 * time.Millisecond, RateLimit: 1500.5, MaxConcurrent: 500, MaxArgBytes: 128 << 20, MaxConnections: 1000, L2Quota: 1 << 30, L1CollMax: 32 << 10, Priority: 2, Weight: 2}},
		{"burst", gold, Overrides{Burst: ptr(64)},
			Tier{Name: "gold", DefaultTTL: 30 * time.Minute, Timeout: 500 * time.Millisecond, Burst: 64, MaxConcurrent: 500, MaxArgBytes: 128 << 20, MaxConnections: 1000, L2Quota: 1 << 30, L1CollMax: 32 << 10, Priority: 2, Weight: 2}},
		{"max arg bytes zero = unlimited", gold, Overrides{MaxArgBytes: ptr(int64(0))},
			Tier{Name: "gold", DefaultTTL: 30 * time.Minute, Timeout: 500 * time.Millisecond, MaxConcurrent: 500, MaxArgBytes: 0, MaxConnections: 1000, L2Quota: 1 << 30, L1CollMax: 32 << 10, Priority: 2, Weight: 2}},
		{"l2 quota", gold, Overrides{L2Quota: ptr(int64(512 << 20))},
			Tier{Name: "gold", DefaultTTL: 30 * time.Minute, Timeout: 500 * time.Millisecond, MaxConcurrent: 500, MaxArgBytes: 128 << 20, MaxConnections: 1000, L2Quota: 512 << 20, L1CollMax: 32 << 10, Priority: 2, Weight: 2}},
		{"l2 quota zero = unlimited", gold, Overrides{L2Quota: ptr(int64(0))},
			Tier{Name: "gold", DefaultTTL: 30 * time.Minute, Timeout: 500 * time.Millisecond, MaxConcurrent: 500, MaxArgBytes: 128 << 20, MaxConnections: 1000, L2Quota: 0, L1CollMax: 32 << 10, Priority: 2, Weight: 2}},
		{"priority", gold, Overrides{Priority: ptr(7)},
			Tier{Name: "gold", DefaultTTL: 30 * time.Minute, Timeout: 500 * time.Millisecond, MaxConcurrent: 500, MaxArgBytes: 128 << 20, MaxConnections: 1000, L2Quota: 1 << 30, L1CollMax: 32 << 10, Priority: 7, Weight: 2}},
		{"weight", gold, Overrides{Weight: ptr(9)},
			Tier{Name: "gold", DefaultTTL: 30 * time.Minute, Timeout: 500 * time.Millisecond, MaxConcurrent: 500, MaxArgBytes: 128 << 20, MaxConnections: 1000, L2Quota: 1 << 30, L1CollMax: 32 << 10, Priority: 2, Weight: 9}},
		{"heavy slots", gold, Overrides{HeavySlots: ptr(3)},
			Tier{Name: "gold", DefaultTTL: 30 * time.Minute, Timeout: 500 * time.Millisecond, MaxConcurrent: 500, MaxArgBytes: 128 << 20, MaxConnections: 1000, L2Quota: 1 << 30, L1CollMax: 32 << 10, Priority: 2, Weight: 2, HeavySlots: 3}},
		{"all", Tier{Name: "bronze", Priority: DefaultPriority, Weight: DefaultWeight},
			Overrides{DefaultTTL: ptr(5 * time.Minute), Timeout: ptr(2 * time.Second), RateLimit: ptr(100.0), Burst: ptr(10), MaxConcurrent: ptr(50), MaxArgBytes: ptr(int64(1 << 20)), MaxConnections: ptr(100), L2Quota: ptr(int64(1 << 30)), Priority: ptr(0), Weight: ptr(3)},
			Tier{Name: "bronze", DefaultTTL: 5 * time.Minute, Timeout: 2 * time.Second, RateLimit: 100, Burst: 10, MaxConcurrent: 50, MaxArgBytes: 1 << 20, MaxConnections: 100, L2Quota: 1 << 30, Priority: 0, Weight: 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.in
			if got := tc.in.With(tc.o); got != tc.want {
				t.Errorf("With() = %+v, want %+v", got, tc.want)
			}
			if tc.in != before {
				t.Errorf("With() modified its receiver")
			}
		})
	}
}

// TestBuiltinAdmissionDefaults pins the reasoning in the package doc: no
// built-in rate limit, and argument-byte caps that shrink with the tier and
// stay below the default proto_max_bulk_len (512MiB).
func TestBuiltinAdmissionDefaults(t *testing.T) {
	b := Builtin()
	for name, tr := range b {
		if tr.RateLimit != 0 || tr.Burst != 0 {
			t.Errorf("%s: built-in rate limit %v burst %d, want none", name, tr.RateLimit, tr.Burst)
		}
		if tr.MaxArgBytes <= 0 || tr.MaxArgBytes >= 512<<20 {
			t.Errorf("%s: MaxArgBytes %d outside (0, 512MiB)", name, tr.MaxArgBytes)
		}
	}
	if !(b["platinum"].MaxArgBytes > b["gold"].MaxArgBytes && b["gold"].MaxArgBytes > b["silver"].MaxArgBytes) {
		t.Errorf("MaxArgBytes not ordered platinum > gold > silver")
	}
}

// TestBuiltinL2Quota pins the documented L2 quotas: a factor of four per
// tier, each holding at least four of the tier's largest requests.
func TestBuiltinL2Quota(t *testing.T) {
	b := Builtin()
	want := map[string]int64{"platinum": 4 << 30, "gold": 1 << 30, "silver": 256 << 20}
	for name, q := range want {
		if got := b[name].L2Quota; got != q {
			t.Errorf("%s: L2Quota %d, want %d", name, got, q)
		}
		if b[name].L2Quota < 4*b[name].MaxArgBytes {
			t.Errorf("%s: L2Quota %d holds fewer than four MaxArgBytes %d", name, b[name].L2Quota, b[name].MaxArgBytes)
		}
	}
	if b["platinum"].L2Quota != 4*b["gold"].L2Quota || b["gold"].L2Quota != 4*b["silver"].L2Quota {
		t.Errorf("L2Quota not a factor of four per tier")
	}
}
