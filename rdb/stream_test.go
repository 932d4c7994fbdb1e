package rdb

import (
	"bytes"
	"reflect"
	"testing"
)

// redisStream is a payload redis-server 7.0.15 dumped for XADD st 1-1 a 1.
const redisStream = "\x13\x01\x10\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x1c\x1c\x00\x00\x00\n\x00\x01\x01\x00\x01\x01\x01\x81a\x02\x00\x01\x02\x01\x00\x01\x00\x01\x01\x01\x04\x01\xff\x01\x01\x01\x01\x01\x00\x00\x01\x00\n\x00)}x\x0f\xd8\x8a\xa6,"

func testStream() *Stream {
	e := func(ms, seq uint64, del bool, pairs ...string) StreamEntry {
		return StreamEntry{ID: StreamID{ms, seq}, Deleted: del, Pairs: bs(pairs...)}
	}
	return &Stream{
		Nodes: [][]StreamEntry{
			{e(5, 0, false, "f", "1", "g", "x"), e(5, 1, true, "f", "2", "g", "y"), e(7, 0, false, "other", "-9223372036854775808"),
				e(1<<40, 3, false, "f", string(bytes.Repeat([]byte("v"), 5000)), "g", "")},
			{e(1<<40, 9, false), e(1<<41, 0, false, "a", "b")},
		},
		Length: 5, LastID: StreamID{1 << 41, 7}, FirstID: StreamID{5, 0}, MaxDeleted: StreamID{5, 1}, EntriesAdded: 9,
		Groups: []StreamGroup{
			{Name: []byte("g1"), LastID: StreamID{7, 0}, EntriesRead: -1,
				PEL: []StreamNACK{{StreamID{5, 0}, 1700000000000, 3}, {StreamID{7, 0}, -5, 1}},
				Consumers: []StreamConsumer{
					{Name: []byte("alice"), SeenTime: 1700000000001, PEL: []StreamID{{5, 0}}},
					{Name: []byte("bob"), SeenTime: 0, PEL: []StreamID{{7, 0}}},
					{Name: []byte("idle"), SeenTime: 42, PEL: []StreamID{}},
				}},
			{Name: []byte("g2"), EntriesRead: 0, PEL: []StreamNACK{}, Consumers: []StreamConsumer{}},
		},
	}
}

func TestStreamRedisPayload(t *testing.T) {
	o, err := Decode([]byte(redisStream), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &Stream{Nodes: [][]StreamEntry{{{ID: StreamID{1, 1}, Pairs: bs("a", "1")}}}, Length: 1,
		LastID: StreamID{1, 1}, FirstID: StreamID{1, 1}, EntriesAdded: 1, Groups: nil}
	if o.Kind != KindStream || !reflect.DeepEqual(o.Stream, want) {
		t.Fatalf("decoded %+v", o.Stream)
	}
	if p := Encode(nil, &o, Options{}); string(p) != redisStream {
		t.Errorf("re-encoded %q", p)
	}
}

func TestStreamRoundTrip(t *testing.T) {
	s := testStream()
	o := Object{Kind: KindStream, Stream: s}
	p := Encode(nil, &o, Options{})
	dec, err := Decode(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(dec.Stream, s) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", dec.Stream, s)
	}
	// An empty stream (XGROUP CREATE ... MKSTREAM) is a value.
	empty := Object{Kind: KindStream, Stream: &Stream{Nodes: [][]StreamEntry{}, Groups: []StreamGroup{{Name: []byte("g"), PEL: []StreamNACK{}, Consumers: []StreamConsumer{}}}}}
	if dec, err := Decode(Encode(nil, &empty, Options{}), nil); err != nil || !reflect.DeepEqual(dec.Stream, empty.Stream) {
		t.Fatalf("empty stream: %+v, %v", dec.Stream, err)
	}
	// Every truncation and every single-byte change of the body either
	// fails cleanly or decodes to a consistent stream.
	body := p[:len(p)-10]
	for i := range body {
		// (The footer's bytes may complete a value, as in Redis.)
		if o, err := Decode(withFooter(body[:i], Version), nil); err == nil {
			checkStream(t, o.Stream)
		}
		for _, x := range []byte{1, 0x80, 0xff} {
			b := bytes.Clone(body)
			b[i] ^= x
			if o, err := Decode(withFooter(b, Version), nil); err == nil {
				checkStream(t, o.Stream)
			}
		}
	}
}

// checkStream checks the invariants Decode promises.
func checkStream(t *testing.T, s *Stream) {
	t.Helper()
	var prev *StreamID
	live := uint64(0)
	for _, n := range s.Nodes {
		nl := 0
		for i := range n {
			if prev != nil && !prev.less(n[i].ID) {
				t.Fatalf("ids out of order")
			}
			prev = &n[i].ID
			if len(n[i].Pairs)%2 != 0 {
				t.Fatalf("odd pairs")
			}
			if !n[i].Deleted {
				nl++
			}
		}
		if nl == 0 {
			t.Fatalf("node without a live entry")
		}
		live += uint64(nl)
	}
	if live != s.Length {
		t.Fatalf("length %d, live %d", s.Length, live)
	}
	for _, g := range s.Groups {
		owned := map[StreamID]int{}
		for _, c := range g.Consumers {
			for _, id := range c.PEL {
				owned[id]++
			}
		}
		if len(owned) != len(g.PEL) {
			t.Fatalf("PEL ownership")
		}
		for _, nk := range g.PEL {
			if owned[nk.ID] != 1 {
				t.Fatalf("PEL entry %v owned %d times", nk.ID, owned[nk.ID])
			}
		}
	}
}

// TestStreamDecodeErrors: the inconsistencies Redis's deep sanitization
// refuses (and those tcached's stream could not hold) are ErrFormat.
func TestStreamDecodeErrors(t *testing.T) {
	for name, mod := range map[string]func(s *Stream){
		"length":           func(s *Stream) { s.Length++ },
		"last id too low":  func(s *Stream) { s.LastID = StreamID{7, 0} },
		"duplicate group":  func(s *Stream) { s.Groups[1].Name = []byte("g1") },
		"duplicate nack":   func(s *Stream) { s.Groups[0].PEL[1].ID = s.Groups[0].PEL[0].ID },
		"unowned nack":     func(s *Stream) { s.Groups[0].Consumers[1].PEL = nil },
		"nack owned twice": func(s *Stream) { s.Groups[0].Consumers[2].PEL = []StreamID{{5, 0}} },
		"missing nack":     func(s *Stream) { s.Groups[0].Consumers[2].PEL = []StreamID{{9, 9}} },
		"dup consumer":     func(s *Stream) { s.Groups[0].Consumers[2].Name = []byte("bob") },
		"all deleted":      func(s *Stream) { s.Nodes[1][0].Deleted, s.Nodes[1][1].Deleted, s.Length = true, true, 3 },
		"nodes unordered":  func(s *Stream) { s.Nodes[0], s.Nodes[1] = s.Nodes[1], s.Nodes[0] },
		"ids unordered":    func(s *Stream) { s.Nodes[0][1].ID = StreamID{4, 0} },
		"bad entries read": func(s *Stream) { s.Groups[1].EntriesRead = -2 },
	} {
		s := testStream()
		mod(s)
		o := Object{Kind: KindStream, Stream: s}
		if _, err := Decode(Encode(nil, &o, Options{}), nil); err != ErrFormat {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A node key that is not 16 bytes, and an empty listpack.
	for _, body := range [][]byte{
		{TypeStreamListpack2, 1, 3, 'a', 'b', 'c'},
		append(append([]byte{TypeStreamListpack2, 1, 16}, make([]byte, 16)...), 7, 7, 0, 0, 0, 0, 0, 0xff),
	} {
		if _, err := Decode(withFooter(body, Version), nil); err != ErrFormat {
			t.Errorf("%q: %v", body, err)
		}
	}
}
