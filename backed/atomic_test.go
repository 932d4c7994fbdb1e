package backed

import (
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/tcached/tcached/command"
)

// fakeAtomic records the script allowlist; the rest is unused here.
type fakeAtomic struct {
	Atomic
	cmds []ScriptCommand
}

func (f *fakeAtomic) SetScriptCommands(c []ScriptCommand) { f.cmds = c }

type fakeBackend struct {
	Backend
	*fakeAtomic
}

// TestApplyServerRows: a BackedServer row keeps its handler (WATCH has
// keys, EVAL has KeysOf), and the script allowlist holds the rows with a
// backed handler and fixed key positions, minus the noscript ones and the
// commands whose arguments name keys another way.
func TestApplyServerRows(t *testing.T) {
	local := func(*command.Ctx, [][]byte) {}
	refuse := func(*command.Ctx, [][]byte) {}
	watch := command.Row("watch", -2, command.Tx|command.NoScript, command.AllKeys, local).WithBacked(command.BackedServer)
	eval := command.Row("eval", -3, command.NoScript, command.NoKeys, local).WithBacked(command.BackedServer).
		WithKeysOf(func(args [][]byte, each func(int)) {})
	get := command.Row("get", 2, command.ReadFast, command.Key1, local).WithBacked(command.BackedGet)
	set := command.Row("set", -3, command.WriteGrow, command.Key1, local).WithBacked(command.BackedSet)
	mset := command.Row("mset", -3, command.WriteGrow, command.KeyPairs, local).WithBacked(command.BackedMSet)
	keysCmd := command.Row("keys", 2, command.Read, command.NoKeys, local).WithBacked(command.BackedKeys)
	move := command.Row("move", 3, command.Write, command.Key1, local).WithBacked(command.BackedWrite)
	hset := command.Row("hset", -4, command.WriteGrow, command.Key1, local)
	fa := &fakeAtomic{}
	m := New(fakeBackend{fakeAtomic: fa}, Options{})
	m.Apply([]*command.Spec{watch, eval, get, set, mset, keysCmd, move, hset}, refuse)
	if funcID(watch.Handler) != funcID(local) || funcID(eval.Handler) != funcID(local) {
		t.Error("a BackedServer row lost its handler")
	}
	want := []ScriptCommand{{"get", 1, 1, 1, false}, {"set", 1, 1, 1, true}, {"mset", 1, -1, 2, true}}
	if !reflect.DeepEqual(fa.cmds, want) {
		t.Errorf("script allowlist %v, want %v", fa.cmds, want)
	}
	if m.Atomic() == nil || New(readyOnly{}, Options{}).Atomic() != nil {
		t.Error("Atomic is the backend's when it has one, else nil")
	}
}

type readyOnly struct{ Backend }

// TestTxRefusal: what a backed MULTI refuses when queued.
func TestTxRefusal(t *testing.T) {
	m := New(fakeBackend{fakeAtomic: &fakeAtomic{}}, Options{})
	row := func(name string, flags command.Flags, keys [3]int, mode command.BackedMode) *command.Spec {
		return command.Row(name, -1, flags, keys, nil).WithBacked(mode)
	}
	for _, tc := range []struct {
		cmd  *command.Spec
		args []string
		want string
	}{
		{row("get", command.Read, command.Key1, command.BackedGet), []string{"get", "k"}, ""},
		{row("ping", 0, command.NoKeys, command.BackedLocal), []string{"ping"}, ""},
		{row("publish", command.Write, command.NoKeys, command.BackedLocal), []string{"publish", "c", "m"}, ""},
		{row("keys", command.Read, command.NoKeys, command.BackedKeys), []string{"keys", "*"}, errNotInMulti("keys")},
		{row("flushdb", command.Write|command.Admin, command.NoKeys, command.BackedLocal), []string{"flushdb"}, errNotInMulti("flushdb")},
		{row("function|load", command.Write, command.NoKeys, command.BackedLocal), []string{"function", "load", "x"}, errNotInMulti("function")},
		{row("eval", command.Exclusive, command.NoKeys, command.BackedServer), []string{"eval", "return 1", "0"}, errNotInMulti("eval")},
		{row("hset", command.Write, command.Key1, command.BackedLocal), []string{"hset", "h", "f", "v"}, ErrNotBacked("hset")},
		{row("sort", command.Write, command.Key1, command.BackedRead), []string{"sort", "k", "BY", "w_*"}, errNotInMulti("sort with BY or GET")},
		{row("sort", command.Write, command.Key1, command.BackedRead), []string{"sort", "k", "LIMIT", "0", "1"}, ""},
	} {
		args := make([][]byte, len(tc.args))
		for i, a := range tc.args {
			args[i] = []byte(a)
		}
		if got := m.TxRefusal(tc.cmd, args); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.args, got, tc.want)
		}
	}
	if got := New(readyOnly{}, Options{}).TxRefusal(row("get", command.Read, command.Key1, command.BackedGet), [][]byte{[]byte("get"), []byte("k")}); got != ErrNotBacked("multi") {
		t.Errorf("without Atomic: %q", got)
	}
}

// TestTxReq: each queued command's L2 form, as its backed handler sends it.
func TestTxReq(t *testing.T) {
	var ttl atomic.Int64
	ttl.Store(60_000)
	c := call{m: New(nil, Options{}), x: &command.Ctx{TTL: &ttl, DB: 2}}
	bs := func(ss ...string) [][]byte {
		out := make([][]byte, len(ss))
		for i, s := range ss {
			out[i] = []byte(s)
		}
		return out
	}
	for _, tc := range []struct {
		cmd  *command.Spec
		args [][]byte
		want TxReq
		msg  string
	}{
		{command.Row("set", -3, command.WriteGrow, command.Key1, nil).WithBacked(command.BackedSet), bs("SET", "k", "v"),
			TxReq{ExecReq: ExecReq{Args: bs("SET", "k", "v", "PX", "60000"), KeyPos: []int{1}, DefaultTTL: 60_000_000_000, Grow: 2}, DB: 2}, ""},
		{command.Row("set", -3, command.WriteGrow, command.Key1, nil).WithBacked(command.BackedSet), bs("SET", "k", "v", "EX", "5"),
			TxReq{ExecReq: ExecReq{Args: bs("SET", "k", "v", "EX", "5"), KeyPos: []int{1}, DefaultTTL: 60_000_000_000, Grow: 5}, DB: 2}, ""},
		{command.Row("persist", 2, command.Write, command.Key1, nil).WithBacked(command.BackedWriteNoTTL), bs("PERSIST", "k"),
			TxReq{ExecReq: ExecReq{Args: bs("PERSIST", "k"), KeyPos: []int{1}}, DB: 2}, ""},
		{command.Row("mset", -3, command.WriteGrow, command.KeyPairs, nil).WithBacked(command.BackedMSet), bs("MSET", "a", "1", "b", "2"),
			TxReq{ExecReq: ExecReq{Args: bs("MSET", "a", "1", "b", "2"), KeyPos: []int{1, 3}, DefaultTTL: 60_000_000_000, Grow: 4}, DB: 2}, ""},
		{command.Row("get", 2, command.Read, command.Key1, nil).WithBacked(command.BackedGet), bs("GET", "k"),
			TxReq{ExecReq: ExecReq{Args: bs("GET", "k"), KeyPos: []int{1}}, DB: 2}, ""},
		{command.Row("copy", -3, command.Write, command.Key12, nil).WithBacked(command.BackedCopy), bs("COPY", "a", "b", "db", "5", "replace"),
			TxReq{ExecReq: ExecReq{Args: bs("COPY", "a", "b", "REPLACE"), KeyPos: []int{1, 2}, DstDB: map[int]int{2: 5}, Grow: 12}, DB: 2}, ""},
		{command.Row("copy", -3, command.Write, command.Key12, nil).WithBacked(command.BackedCopy), bs("COPY", "a", "a"), TxReq{}, command.ErrSameObject},
		{command.Row("copy", -3, command.Write, command.Key12, nil).WithBacked(command.BackedCopy), bs("COPY", "a", "b", "bogus"), TxReq{}, command.ErrSyntax},
	} {
		got, msg := c.txReq(tc.cmd, tc.args, 2)
		if msg != tc.msg {
			t.Errorf("%q: refusal %q, want %q", tc.args, msg, tc.msg)
			continue
		}
		if msg == "" && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.args, got, tc.want)
		}
	}
}
