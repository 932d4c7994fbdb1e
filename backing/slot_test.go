package backing

import (
	"strings"
	"testing"
)

func TestSlotCRC16(t *testing.T) {
	if got := slotCRC16("123456789"); got != 0x31C3 {
		t.Fatalf("crc16(123456789) = %#04x, want 0x31c3", got)
	}
	if got := slotCRC16([]byte("123456789")); got != 0x31C3 {
		t.Fatalf("crc16([]byte 123456789) = %#04x, want 0x31c3", got)
	}
	if got := slotCRC16(""); got != 0 {
		t.Fatalf("crc16(\"\") = %#04x, want 0", got)
	}
}

func TestSlotKnownValues(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want int
	}{
		{"foo", 12182},
		{"bar", 5061},
		{"hello", 866},
		{"", 0},
		{"123456789", 0x31C3 % 16384},
	} {
		if got := Slot([]byte(tc.key)); got != tc.want {
			t.Errorf("Slot(%q) = %d, want %d", tc.key, got, tc.want)
		}
		if got := SlotString(tc.key); got != tc.want {
			t.Errorf("SlotString(%q) = %d, want %d", tc.key, got, tc.want)
		}
	}
}

func TestSlotHashTags(t *testing.T) {
	whole := func(s string) int { return int(slotCRC16(s) % 16384) }
	for _, tc := range []struct {
		key, same string // key must hash like same
		wantWhole bool   // same is hashed as a whole, bypassing tag logic
	}{
		{"{user1000}.following", "user1000", false},
		{"{user1000}.followers", "user1000", false},
		{"foo{}{bar}", "foo{}{bar}", true},
		{"foo{{bar}}zap", "{bar", true},
		{"foo{bar}{zap}", "bar", false},
		{"{}", "{}", true},
		{"{", "{", true},
		{"}", "}", true},
		{"}{a}", "a", false},
		{"a{b", "a{b", true},
		{"{a}", "a", false},
		{"x{a}}", "a", false},
	} {
		var want int
		if tc.wantWhole {
			want = whole(tc.same)
		} else {
			want = SlotString(tc.same)
		}
		if got := Slot([]byte(tc.key)); got != want {
			t.Errorf("Slot(%q) = %d, want %d (as %q)", tc.key, got, want, tc.same)
		}
		if got := SlotString(tc.key); got != want {
			t.Errorf("SlotString(%q) = %d, want %d (as %q)", tc.key, got, want, tc.same)
		}
	}
	if a, b := SlotString("{user1000}.following"), SlotString("{user1000}.followers"); a != b {
		t.Errorf("following/followers slots differ: %d vs %d", a, b)
	}
}

func TestSlotStringNoAlloc(t *testing.T) {
	key := "{user1000}.following"
	if n := testing.AllocsPerRun(100, func() { _ = SlotString(key) }); n != 0 {
		t.Errorf("SlotString allocates %v times", n)
	}
	b := []byte(key)
	if n := testing.AllocsPerRun(100, func() { _ = Slot(b) }); n != 0 {
		t.Errorf("Slot allocates %v times", n)
	}
}

func TestTagForSlot(t *testing.T) {
	maxLen := 0
	for slot := range SlotCount {
		s := TagForSlot(slot)
		if s == "" || strings.ContainsAny(s, "{}") {
			t.Fatalf("TagForSlot(%d) = %q", slot, s)
		}
		if got := SlotString("{" + s + "}"); got != slot {
			t.Fatalf("SlotString({%s}) = %d, want %d", s, got, slot)
		}
		if got := SlotString("prefix{" + s + "}suffix"); got != slot {
			t.Fatalf("SlotString(prefix{%s}suffix) = %d, want %d", s, got, slot)
		}
		maxLen = max(maxLen, len(s))
	}
	if maxLen > 4 {
		t.Errorf("longest tag has %d bytes, want <= 4", maxLen)
	}
	for _, bad := range []int{-1, SlotCount} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("TagForSlot(%d) did not panic", bad)
				}
			}()
			TagForSlot(bad)
		}()
	}
}

func FuzzSlot(f *testing.F) {
	for _, s := range []string{"", "foo", "{user1000}.following", "foo{}{bar}", "foo{{bar}}zap", "{", "}", "{}", "a{b}c"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, key []byte) {
		s := Slot(key)
		if s < 0 || s >= SlotCount {
			t.Fatalf("Slot(%q) = %d out of range", key, s)
		}
		if ss := SlotString(string(key)); ss != s {
			t.Fatalf("SlotString(%q) = %d, Slot = %d", key, ss, s)
		}
	})
}

// TestClusterSlotOfName: Cluster.Slot, computed piecewise, is the slot of
// the whole L2 name for keys with and without hash tags, and allocates
// nothing (it runs on L1 hits while a slot is suspended).
func TestClusterSlotOfName(t *testing.T) {
	c := &Cluster{prefix: "tc:"}
	for _, k := range []string{"", "k", "foo", "{user1}:a", "a{b}c", "{}", "{}x{y}", "x{", "{", "}{z}", "a:b:c", strings.Repeat("v", 300)} {
		for _, db := range []int{0, 7, 15} {
			for _, tn := range []string{"a", "tenant-long-name"} {
				if got, want := c.Slot(tn, db, []byte(k)), SlotString(c.name(tn, db, []byte(k))); got != want {
					t.Errorf("Slot(%q, %d, %q) = %d, want %d", tn, db, k, got, want)
				}
			}
		}
	}
	key := []byte("some:key:name")
	if n := testing.AllocsPerRun(100, func() { c.Slot("tenant", 3, key) }); n != 0 {
		t.Fatalf("Slot allocates %v", n)
	}
}

// BenchmarkClusterSlot: the slot of a tenant key's L2 name, as an L1 hit
// computes it while some slot is suspended.
func BenchmarkClusterSlot(b *testing.B) {
	c := &Cluster{prefix: "tcached:"}
	key := []byte("user:1234:profile")
	b.ReportAllocs()
	for range b.N {
		c.Slot("a", 0, key)
	}
}
