package value

import (
	"reflect"
	"testing"
)

func lenc(elems ...string) []byte {
	b := ListAppendHeader(nil, len(elems))
	for _, e := range elems {
		b = ListAppendElem(b, []byte(e))
	}
	return b
}

func ldec(t *testing.T, b []byte) []string {
	t.Helper()
	out := []string{}
	it := ListElems(b)
	for e, ok := it.Next(); ok; e, ok = it.Next() {
		out = append(out, string(e))
	}
	if it.Err() != nil {
		t.Fatalf("decode %q: %v", b, it.Err())
	}
	if len(out) != ListLen(b) {
		t.Fatalf("decode %q: %d elements, header says %d", b, len(out), ListLen(b))
	}
	return out
}

func lbs(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func TestListPush(t *testing.T) {
	var b []byte
	b, _ = ListPush(nil, b, lbs("a", "b", "c"), true)
	if got := ldec(t, b); !reflect.DeepEqual(got, []string{"c", "b", "a"}) {
		t.Fatalf("LPUSH a b c = %v", got)
	}
	b, _ = ListPush(nil, b, lbs("x", "y"), false)
	if got := ldec(t, b); !reflect.DeepEqual(got, []string{"c", "b", "a", "x", "y"}) {
		t.Fatalf("RPUSH x y = %v", got)
	}
	// A header that grows past one byte.
	big := make([][]byte, 200)
	for i := range big {
		big[i] = []byte{byte(i)}
	}
	b, _ = ListPush(nil, b, big, false)
	if ListLen(b) != 205 || len(ldec(t, b)) != 205 {
		t.Fatalf("len %d", ListLen(b))
	}
	if _, err := ListPush(nil, []byte{3, 1}, lbs("a"), true); err != ErrCorrupt {
		t.Fatalf("corrupt input: %v", err)
	}
}

func TestListPop(t *testing.T) {
	b := lenc("a", "b", "c", "d")
	for _, tc := range []struct {
		count  int
		left   bool
		popped []string
		rest   []string
	}{
		{1, true, []string{"a"}, []string{"b", "c", "d"}},
		{2, false, []string{"d", "c"}, []string{"a", "b"}},
		{9, true, []string{"a", "b", "c", "d"}, []string{}},
		{4, false, []string{"d", "c", "b", "a"}, []string{}},
		{0, true, []string{}, []string{"a", "b", "c", "d"}},
	} {
		got := []string{}
		out, n, err := ListPop(nil, b, tc.count, tc.left, func(e []byte) { got = append(got, string(e)) })
		if err != nil || n != len(tc.popped) || !reflect.DeepEqual(got, tc.popped) || !reflect.DeepEqual(ldec(t, out), tc.rest) {
			t.Fatalf("pop %d left=%v: %v %d %v rest %v", tc.count, tc.left, got, n, err, ldec(t, out))
		}
	}
	// More than the stack buffer of the tail pop.
	var many []string
	for i := range 40 {
		many = append(many, string(rune('A'+i)))
	}
	var got []string
	out, _, _ := ListPop(nil, lenc(many...), 30, false, func(e []byte) { got = append(got, string(e)) })
	if len(got) != 30 || got[0] != many[39] || got[29] != many[10] || len(ldec(t, out)) != 10 {
		t.Fatalf("pop 30 of 40: %v", got)
	}
}

func TestListRangeIndexSet(t *testing.T) {
	b := lenc("a", "b", "c", "d", "e")
	for _, tc := range []struct {
		start, stop int64
		want        []string
	}{
		{0, -1, []string{"a", "b", "c", "d", "e"}},
		{1, 2, []string{"b", "c"}},
		{-2, -1, []string{"d", "e"}},
		{-100, 100, []string{"a", "b", "c", "d", "e"}},
		{3, 1, []string{}},
		{5, 10, []string{}},
		{-1, -2, []string{}},
		{0, 0, []string{"a"}},
	} {
		got := []string{}
		ListRange(b, tc.start, tc.stop, func(e []byte) { got = append(got, string(e)) })
		if !reflect.DeepEqual(got, tc.want) {
			t.Fatalf("range %d %d = %v, want %v", tc.start, tc.stop, got, tc.want)
		}
		tr, _ := ListTrim(nil, b, tc.start, tc.stop)
		if got := ldec(t, tr); !reflect.DeepEqual(got, tc.want) {
			t.Fatalf("trim %d %d = %v, want %v", tc.start, tc.stop, got, tc.want)
		}
	}
	for i, want := range map[int64]string{0: "a", 4: "e", -1: "e", -5: "a", 5: "", -6: ""} {
		e, ok := ListIndex(b, i)
		if string(e) != want || ok != (want != "") {
			t.Fatalf("index %d = %q %v", i, e, ok)
		}
	}
	out, ok, _ := ListSet(nil, b, -2, []byte("DDDD"))
	if got := ldec(t, out); !ok || !reflect.DeepEqual(got, []string{"a", "b", "c", "DDDD", "e"}) {
		t.Fatalf("set = %v %v", got, ok)
	}
	if _, ok, _ := ListSet(nil, b, 5, []byte("x")); ok {
		t.Fatal("set out of range")
	}
}

func TestListRemInsert(t *testing.T) {
	b := lenc("x", "a", "x", "b", "x")
	for _, tc := range []struct {
		count int64
		n     int
		rest  []string
	}{
		{0, 3, []string{"a", "b"}},
		{1, 1, []string{"a", "x", "b", "x"}},
		{-2, 2, []string{"x", "a", "b"}},
		{9, 3, []string{"a", "b"}},
	} {
		out, n, _ := ListRem(nil, b, tc.count, []byte("x"))
		if got := ldec(t, out); n != tc.n || !reflect.DeepEqual(got, tc.rest) {
			t.Fatalf("rem %d = %d %v", tc.count, n, got)
		}
	}
	out, found, _ := ListInsert(nil, b, true, []byte("x"), []byte("new"))
	if got := ldec(t, out); !found || !reflect.DeepEqual(got, []string{"new", "x", "a", "x", "b", "x"}) {
		t.Fatalf("insert before = %v", got)
	}
	out, found, _ = ListInsert(nil, b, false, []byte("b"), []byte("new"))
	if got := ldec(t, out); !found || !reflect.DeepEqual(got, []string{"x", "a", "x", "b", "new", "x"}) {
		t.Fatalf("insert after = %v", got)
	}
	if _, found, _ := ListInsert(nil, b, false, []byte("zz"), []byte("new")); found {
		t.Fatal("insert without pivot")
	}
}

func TestListPos(t *testing.T) {
	b := lenc("a", "b", "c", "1", "2", "3", "c", "c")
	for _, tc := range []struct {
		rank, count, maxlen int64
		want                []int
	}{
		{1, 1, 0, []int{2}},
		{1, 0, 0, []int{2, 6, 7}},
		{2, 0, 0, []int{6, 7}},
		{-1, 0, 0, []int{7, 6, 2}},
		{-2, 1, 0, []int{6}},
		{1, 0, 3, []int{2}},
		{-1, 0, 2, []int{7, 6}},
		{-1, 0, 1, []int{7}},
		{4, 0, 0, nil},
		{1, 2, 0, []int{2, 6}},
	} {
		var got []int
		ListPos(b, []byte("c"), tc.rank, tc.count, tc.maxlen, func(i int) { got = append(got, i) })
		if !reflect.DeepEqual(got, tc.want) {
			t.Fatalf("pos rank %d count %d maxlen %d = %v, want %v", tc.rank, tc.count, tc.maxlen, got, tc.want)
		}
	}
}
