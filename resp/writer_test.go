package resp

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// TestWriterTypes checks every typed writer's bytes in RESP2 and RESP3.
func TestWriterTypes(t *testing.T) {
	cases := []struct {
		name         string
		write        func(w *Writer)
		resp2, resp3 string
	}{
		{"null", func(w *Writer) { w.WriteNull() }, "$-1\r\n", "_\r\n"},
		{"null array", func(w *Writer) { w.WriteNullArray() }, "*-1\r\n", "_\r\n"},
		{"map", func(w *Writer) { w.WriteMap(2) }, "*4\r\n", "%2\r\n"},
		{"empty map", func(w *Writer) { w.WriteMap(0) }, "*0\r\n", "%0\r\n"},
		{"set", func(w *Writer) { w.WriteSet(3) }, "*3\r\n", "~3\r\n"},
		{"push", func(w *Writer) { w.WritePush(3) }, "*3\r\n", ">3\r\n"},
		{"true", func(w *Writer) { w.WriteBool(true) }, ":1\r\n", "#t\r\n"},
		{"false", func(w *Writer) { w.WriteBool(false) }, ":0\r\n", "#f\r\n"},
		{"verbatim", func(w *Writer) { w.WriteVerbatim("txt", "a:b\r\n") }, "$5\r\na:b\r\n\r\n", "=9\r\ntxt:a:b\r\n\r\n"},
		{"empty verbatim", func(w *Writer) { w.WriteVerbatim("txt", "") }, "$0\r\n\r\n", "=4\r\ntxt:\r\n"},
		{"bulk", func(w *Writer) { w.WriteBulkString("x") }, "$1\r\nx\r\n", "$1\r\nx\r\n"},
	}
	// Doubles as Redis 7.0's addReplyDouble prints them ("%.17g"; the
	// expectations are C printf's output).
	for _, d := range []struct {
		f    float64
		text string
	}{
		{0.1, "0.10000000000000001"}, {3, "3"}, {math.Copysign(0, -1), "-0"}, {0, "0"},
		{1e20, "1e+20"}, {1.5e-7, "1.4999999999999999e-07"}, {1e16, "10000000000000000"},
		{1e17, "1e+17"}, {123456789.123, "123456789.123"}, {5e-324, "4.9406564584124654e-324"},
		{math.MaxFloat64, "1.7976931348623157e+308"}, {-2.5, "-2.5"}, {1e-4, "0.0001"},
		{1e-5, "1.0000000000000001e-05"}, {1.0 / 3, "0.33333333333333331"},
		{math.Inf(1), "inf"}, {math.Inf(-1), "-inf"}, {math.NaN(), "nan"},
	} {
		cases = append(cases, struct {
			name         string
			write        func(w *Writer)
			resp2, resp3 string
		}{"double " + d.text, func(w *Writer) { w.WriteDouble(d.f) },
			"$" + strconv.Itoa(len(d.text)) + "\r\n" + d.text + "\r\n", "," + d.text + "\r\n"})
	}
	for _, tc := range cases {
		for _, resp3 := range []bool{false, true} {
			w := &Writer{RESP3: resp3}
			tc.write(w)
			want := tc.resp2
			if resp3 {
				want = tc.resp3
			}
			if string(w.Out) != want {
				t.Errorf("%s (resp3=%v) = %q, want %q", tc.name, resp3, w.Out, want)
			}
		}
	}
}

// TestWriterNoAllocs: the typed writers append into the reused buffer
// without allocating, in both protocols (GET's hit and miss paths stay
// allocation-free on RESP3 connections too).
func TestWriterNoAllocs(t *testing.T) {
	val := []byte("value")
	for _, resp3 := range []bool{false, true} {
		w := &Writer{RESP3: resp3, Out: make([]byte, 0, 4096)}
		n := testing.AllocsPerRun(1000, func() {
			w.Out = w.Out[:0]
			w.WriteBulk(val)
			w.WriteNull()
			w.WriteNullArray()
			w.WriteMap(2)
			w.WriteSet(2)
			w.WritePush(2)
			w.WriteBool(true)
			w.WriteDouble(0.1)
			w.WriteDouble(math.Inf(1))
			w.WriteVerbatim("txt", "text")
		})
		if n != 0 {
			t.Errorf("resp3=%v: %v allocs per run", resp3, n)
		}
	}
}

// directSink records WriteDirect calls; accept says whether it takes them.
type directSink struct {
	accept bool
	wrote  []byte // what WriteDirect wrote: Out, then b, then CRLF
	rooms  []int
}

func (d *directSink) Grew(w *Writer)        { d.wrote = append(d.wrote, w.Out...); w.Out = w.Out[:0] }
func (d *directSink) Room(w *Writer, n int) { d.rooms = append(d.rooms, n) }
func (d *directSink) WriteDirect(w *Writer, b []byte) bool {
	if !d.accept {
		return false
	}
	d.wrote = append(append(append(d.wrote, w.Out...), b...), "\r\n"...)
	w.Out = w.Out[:0]
	return true
}

// TestWriteBulkOwned: a bulk string over FlushAt goes to a DirectSink
// after the buffered replies and its own header, Room first; one the
// sink declines, or a small one, is buffered as WriteBulk buffers it.
func TestWriteBulkOwned(t *testing.T) {
	big := strings.Repeat("x", FlushAt+1)
	want := "+OK\r\n$" + strconv.Itoa(len(big)) + "\r\n" + big + "\r\n"

	d := &directSink{accept: true}
	w := &Writer{Sink: d}
	w.WriteString("OK")
	w.WriteBulkOwned([]byte(big))
	if string(d.wrote) != want || len(w.Out) != 0 {
		t.Fatalf("direct: wrote %d bytes, Out %d; want %d and 0", len(d.wrote), len(w.Out), len(want))
	}
	if len(d.rooms) != 1 || d.rooms[0] != len(big) {
		t.Errorf("Room calls %v, want [%d]", d.rooms, len(big))
	}

	d = &directSink{accept: false}
	w = &Writer{Sink: d}
	w.WriteString("OK")
	w.WriteBulkOwned([]byte(big))
	if got := string(d.wrote) + string(w.Out); got != want {
		t.Fatalf("declined: %d bytes, want %d, the same bytes buffered", len(got), len(want))
	}

	w = &Writer{Sink: &directSink{accept: true}}
	w.WriteBulkOwned([]byte("small"))
	if string(w.Out) != "$5\r\nsmall\r\n" {
		t.Fatalf("small: %q", w.Out)
	}
	w = &Writer{} // no sink
	w.WriteBulkOwned([]byte(big))
	if string(w.Out) != want[len("+OK\r\n"):] {
		t.Fatal("no sink: not buffered")
	}
}
