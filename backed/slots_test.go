package backed

import (
	"strconv"
	"testing"

	"github.com/tcached/tcached/shard"
)

// slotBackend puts key "<n>..." in slot n (for the Mode's slot logic).
type slotBackend struct{ Backend }

func (slotBackend) Slot(_ string, _ int, key []byte) int {
	n := 0
	for _, c := range key {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// TestModeSlots: a new Mode serves no slot; a drop serves the slots it
// names after deleting their copies (of every tenant, of those slots
// only); a suspension stops serving exactly its slots and moves the
// epoch, so a fill in flight is not kept.
func TestModeSlots(t *testing.T) {
	m := New(slotBackend{}, Options{})
	if m.servable("a", 0, []byte("1")) || m.SlotStats().Suspended != NumSlots {
		t.Fatal("a new Mode serves a slot")
	}
	pa := shard.New(shard.Config{Quota: 1 << 20})
	pb := shard.New(shard.Config{Quota: 1 << 20})
	for i := range 10 {
		pa.Set(0, []byte(strconv.Itoa(i)+":a"), []byte("v"), 0)
		pb.Set(3, []byte(strconv.Itoa(i)+":b"), []byte("v"), 0)
	}
	l1s := []L1{{"a", pa}, {"b", pb}}
	if n := m.Slots(Invalidation{Slots: AllSlots()}, l1s); n != 20 {
		t.Fatalf("dropping every slot deleted %d copies", n)
	}
	if !m.servable("a", 0, []byte("1")) || m.SlotStats().Suspended != 0 {
		t.Fatal("not served after every slot was dropped")
	}
	for i := range 10 {
		pa.Set(0, []byte(strconv.Itoa(i)+":a"), []byte("v"), 0)
		pb.Set(3, []byte(strconv.Itoa(i)+":b"), []byte("v"), 0)
	}
	var s SlotSet
	s.Add(2)
	s.Add(7)
	epoch := m.epoch.Load()
	if n := m.Slots(Invalidation{Slots: &s, Suspend: true}, l1s); n != 0 || m.epoch.Load() == epoch {
		t.Fatalf("a suspension deleted %d copies or left the epoch", n)
	}
	for i := range 10 {
		if got, want := m.servable("b", 3, []byte(strconv.Itoa(i))), i != 2 && i != 7; got != want {
			t.Fatalf("slot %d served %v while 2 and 7 are suspended", i, got)
		}
	}
	if st := m.SlotStats(); st.Suspended != 2 || st.Suspensions != 2 {
		t.Fatalf("stats %+v", st)
	}
	// Suspending again adds nothing.
	m.Slots(Invalidation{Slots: &s, Suspend: true}, l1s)
	if st := m.SlotStats(); st.Suspended != 2 || st.Suspensions != 2 {
		t.Fatalf("stats after a repeated suspension %+v", st)
	}
	epoch = m.epoch.Load()
	if n := m.Slots(Invalidation{Slots: &s}, l1s); n != 4 || m.epoch.Load() == epoch {
		t.Fatalf("dropping slots 2 and 7 deleted %d copies (want 4) or left the epoch", n)
	}
	for i := range 10 {
		_, okA := pa.Usage(0, []byte(strconv.Itoa(i)+":a"))
		_, okB := pb.Usage(3, []byte(strconv.Itoa(i)+":b"))
		if want := i != 2 && i != 7; okA != want || okB != want {
			t.Fatalf("slot %d: copies kept %v %v, want %v", i, okA, okB, want)
		}
	}
	if st := m.SlotStats(); st.Suspended != 0 || st.Drops != NumSlots+2 || st.DroppedKeys != 24 {
		t.Fatalf("stats after the drop %+v", st)
	}
	if !m.servable("a", 0, []byte("7")) {
		t.Fatal("slot 7 not served after its drop")
	}
}
