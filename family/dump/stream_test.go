package dump

import (
	"reflect"
	"testing"

	"github.com/tcached/tcached/rdb"
	"github.com/tcached/tcached/value"
)

// TestStreamRoundTrip: a stream built by the value API (several nodes,
// tombstones, groups, PELs, an ownerless-then-claimed NACK) goes through
// its payload and comes back consistent (value.Stream.Check) and equal.
func TestStreamRoundTrip(t *testing.T) {
	s := value.NewStream()
	for i := uint64(1); i <= 40; i++ {
		pairs := [][]byte{[]byte("f"), []byte("v"), []byte("n"), []byte("12")}
		if i%6 == 0 {
			pairs = [][]byte{[]byte("other"), []byte("x")}
		}
		s.Add(value.StreamID{Ms: i, Seq: i % 3}, pairs, 0, 7)
	}
	s.Del([]value.StreamID{{Ms: 2, Seq: 2}, {Ms: 9, Seq: 0}, {Ms: 15, Seq: 0}, {Ms: 16, Seq: 1}, {Ms: 17, Seq: 2}, {Ms: 18, Seq: 0}, {Ms: 19, Seq: 1}, {Ms: 20, Seq: 2}, {Ms: 21, Seq: 0}})
	g := s.CreateGroup([]byte("g"), value.StreamID{Ms: 30}, 25)
	s.CreateGroup([]byte("empty"), value.StreamID{}, -1)
	a := s.CreateConsumer(g, []byte("a"), 100)
	b := s.CreateConsumer(g, []byte("b"), 200)
	s.CreateConsumer(g, []byte("idle"), 300)
	for i := uint64(1); i <= 8; i++ {
		c := a
		if i%2 == 0 {
			c = b
		}
		s.Deliver(g, c, value.StreamID{Ms: i, Seq: i % 3}, int64(1000+i))
	}
	nk := s.ForceNACK(g, value.StreamID{Ms: 30, Seq: 0})
	s.Claim(nk, value.StreamID{Ms: 30, Seq: 0}, b)
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	o := streamObject(s)
	p := rdb.Encode(nil, &o, rdb.Options{})
	dec, err := rdb.Decode(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := streamFrom(dec.Stream)
	if err := r.Check(); err != nil {
		t.Fatal(err)
	}
	if r.Nodes() != s.Nodes() || r.Len() != s.Len() || r.LastID() != s.LastID() || r.FirstID() != s.FirstID() ||
		r.MaxDeletedID() != s.MaxDeletedID() || r.EntriesAdded() != s.EntriesAdded() {
		t.Fatalf("metadata differs")
	}
	o2 := streamObject(r)
	if !reflect.DeepEqual(o2.Stream, o.Stream) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", o2.Stream, o.Stream)
	}
	if string(rdb.Encode(nil, &o2, rdb.Options{})) != string(p) {
		t.Fatal("payload differs after the round trip")
	}
	// Charged like a stream of the same content: within the capacity
	// slack of its nodes.
	if d := r.Bytes() - s.Bytes(); d < -1024 || d > 1024 {
		t.Fatalf("Bytes %d, original %d", r.Bytes(), s.Bytes())
	}
}
