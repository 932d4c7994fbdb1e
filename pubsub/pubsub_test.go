package pubsub

import (
	"reflect"
	"strings"
	"testing"
)

type sub struct {
	name  string
	got   *[]string
	ahead bool // not Settled: its connection holds unrun input
}

func (s *sub) Deliver(n int, body []byte) { *s.got = append(*s.got, s.name+":"+string(body)) }
func (s *sub) Settled() bool              { return !s.ahead }

// publish is Publish and, at once, PublishLate.
func (r *Registry[S]) publish(ch, payload []byte) int {
	n, late := r.Publish(ch, payload, nil)
	return n + r.PublishLate(ch, payload, late)
}

// TestRegistry: channel and pattern routing, counts, and removal.
func TestRegistry(t *testing.T) {
	var got []string
	a, b := &sub{name: "a", got: &got}, &sub{name: "b", got: &got}
	var r Registry[*sub]
	r.AddChannel("news", a)
	r.AddPattern("n*", a)
	r.AddPattern("n*", b)
	if n := r.publish([]byte("news"), []byte("hi")); n != 3 {
		t.Fatalf("Publish delivered %d, want 3 (a counts twice)", n)
	}
	if n := r.publish([]byte("other"), []byte("x")); n != 0 {
		t.Fatalf("unmatched channel delivered %d", n)
	}
	want := "a:$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n"
	if got[0] != want {
		t.Fatalf("message body %q, want %q", got[0], want)
	}
	if r.NumPat() != 1 || !reflect.DeepEqual(r.NumSub([][]byte{[]byte("news"), []byte("x")}), []int{1, 0}) {
		t.Fatalf("NumPat %d NumSub %v", r.NumPat(), r.NumSub([][]byte{[]byte("news"), []byte("x")}))
	}
	if ch := r.Channels([]byte("*")); !reflect.DeepEqual(ch, []string{"news"}) {
		t.Fatalf("Channels = %v", ch)
	}
	r.RemoveChannel("news", a)
	r.RemovePattern("n*", a)
	r.RemovePattern("n*", b)
	if n := r.publish([]byte("news"), []byte("hi")); n != 0 || r.NumPat() != 0 || len(r.Channels([]byte("*"))) != 0 {
		t.Fatalf("after removal: delivered %d, %d patterns, channels %v", n, r.NumPat(), r.Channels([]byte("*")))
	}
}

// TestNames: membership, a stable order, and removal by swapping.
func TestNames(t *testing.T) {
	var n Names
	for _, s := range []string{"a", "b", "c", "a"} {
		n.Add(s)
	}
	if n.Len() != 3 || !reflect.DeepEqual(n.List(), []string{"a", "b", "c"}) {
		t.Fatalf("after adds: %v", n.List())
	}
	if !n.Remove("a") || n.Remove("a") || !reflect.DeepEqual(n.List(), []string{"c", "b"}) {
		t.Fatalf("after remove: %v", n.List())
	}
	if !n.Add("a") || n.Len() != 3 {
		t.Fatalf("re-add: %v", n.List())
	}
}

// TestPublishLate: an unsettled subscriber is left out of Publish and
// returned (once per subscription); PublishLate delivers to it only for
// the subscriptions it still holds, each once.
func TestPublishLate(t *testing.T) {
	var got []string
	a, b := &sub{name: "a", got: &got}, &sub{name: "b", got: &got, ahead: true}
	var r Registry[*sub]
	r.AddChannel("news", a)
	r.AddChannel("news", b)
	r.AddPattern("n*", b)
	r.AddPattern("*", b)
	n, late := r.Publish([]byte("news"), []byte("hi"), nil)
	if n != 1 || len(got) != 1 || len(late) != 3 {
		t.Fatalf("Publish: %d delivered, got %q, late %d", n, got, len(late))
	}
	r.RemovePattern("n*", b) // b's pending PUNSUBSCRIBE n* ran meanwhile
	if n := r.PublishLate([]byte("news"), []byte("hi"), late); n != 2 || len(got) != 3 {
		t.Fatalf("PublishLate: %d delivered, got %q", n, got)
	}
	for _, m := range got[1:] {
		if m[:2] != "b:" || strings.Contains(m, "n*") {
			t.Errorf("late delivery %q", m)
		}
	}
}
