package scripting

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tcached/tcached/resp"
)

type fakeBudget struct{ used, limit int64 }

func (b *fakeBudget) Reserve(n int64) bool {
	if b.used+n > b.limit {
		return false
	}
	b.used += n
	return true
}
func (b *fakeBudget) Release(n int64) { b.used -= n }
func (b *fakeBudget) Free() int64     { return b.limit - b.used }

type fakeHost struct{ kv map[string]string }

func (h *fakeHost) Call(args [][]byte, resp3 bool) ([]byte, string, bool) {
	switch string(args[0]) {
	case "set":
		h.kv[string(args[1])] = string(args[2])
		return []byte("+OK\r\n"), "", true
	case "get":
		v, ok := h.kv[string(args[1])]
		if !ok {
			return []byte("$-1\r\n"), "", false
		}
		return []byte(fmt.Sprintf("$%d\r\n%s\r\n", len(v), v)), "", false
	case "err":
		return []byte("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"), "", false
	}
	return nil, "Unknown Redis command called from script", false
}
func (h *fakeHost) Yield() bool                     { return false }
func (h *fakeHost) Busy()                           {}
func (h *fakeHost) Log(int, string)                 {}
func (h *fakeHost) Permitted([][]byte) (bool, bool) { return true, true }

func run(t *testing.T, e *Engine, h Host, src string, stop time.Duration) string {
	t.Helper()
	w := &resp.Writer{}
	s, em := e.Load([]byte(src))
	if em != "" {
		return "load: " + em
	}
	e.RunScript(&Call{Host: h, Keys: [][]byte{[]byte("k1")}, Args: [][]byte{[]byte("a1")}, Name: s.SHA,
		Now: func() int64 { return time.Now().UnixNano() }, StopAfter: stop}, s, w)
	return string(w.Out)
}

// TestEngineReplies checks replies and error strings against what
// redis-server 7.0.15 answers for the same scripts (the server's
// differential test compares them byte for byte over sockets).
func TestEngineReplies(t *testing.T) {
	e := New(&fakeBudget{limit: 64 << 20}, "OOM test")
	h := &fakeHost{kv: map[string]string{}}
	ro := "-ERR user_script:1: Attempt to modify a readonly table script: %s, on @user_script:1.\r\n"
	for _, tc := range []struct{ src, want string }{
		{"return 1", ":1\r\n"},
		{"return {1,2,'x',{err='boom'},false,true,nil,3}", "*6\r\n:1\r\n:2\r\n$1\r\nx\r\n-boom\r\n$-1\r\n:1\r\n"},
		{"return a", "-ERR user_script:1: Script attempted to access nonexistent global variable 'a' script: bbfcd1ececc90deec823f7fb730e4bfb2a4ba625, on @user_script:1.\r\n"},
		{"return redis.call('set','k','v')", "+OK\r\n"},
		{"return redis.call('get','k')", "$1\r\nv\r\n"},
		{"return redis.call('nosuch')", "-ERR Unknown Redis command called from script script: 206396248e12c6e742fd7296250433c8d7343b74, on @user_script:1.\r\n"},
		{"return redis.pcall('nosuch')", "-ERR Unknown Redis command called from script\r\n"},
		{"error('x')", "-ERR user_script:1: x script: 9851144f39f03a0d597a980c5aa79c80cb696891, on @user_script:1.\r\n"},
		{"error({err='MY thing'})", "-MY thing script: 93d8b901ec4b7fd324068674dd9d7b37abbba276, on @user_script:1.\r\n"},
		{"return redis.error_reply('MY ERR')", "-MY ERR\r\n"},
		{"return redis.status_reply('FINE')", "+FINE\r\n"},
		{"return 3.99", ":3\r\n"},
		{"return -3.99", ":-3\r\n"},
		{"local ok, e = pcall(function() redis.call('err') end) return e", "$65\r\nWRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"return cjson.encode({1,2,{a=1}})", "$13\r\n[1,2,{\"a\":1}]\r\n"},
		{"return redis.sha1hex('Pizza & Mandolino')", "$40\r\n74822d82031af7493c20eefa13bd07ec4fada82f\r\n"},
		{"return KEYS[1]..ARGV[1]", "$4\r\nk1a1\r\n"},
		{"return bit.tohex(65535, -4)", "$4\r\nFFFF\r\n"},
		{"return struct.unpack('>i', struct.pack('>i', -7))", ":-7\r\n"},
		{"return cmsgpack.unpack(cmsgpack.pack({1,'a',{b=2}}))[3].b", ":2\r\n"},
	} {
		if got := run(t, e, h, tc.src, 0); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.src, got, tc.want)
		}
	}
	// The sandbox: every trick Redis's tests try is refused as Redis refuses it.
	for _, src := range []string{"a = 10", "redis.call = 1", "local g = getmetatable(_G) g.__index = {}",
		"_G = {}", "cjson.encode = 1", "string.foo = 1",
		"getmetatable('').__index.upper = 1", "bit.lshift = 1", "cmsgpack.pack = 1", "struct.pack = 1", "math.x = 1"} {
		if got, want := run(t, e, h, src, 0), fmt.Sprintf(ro, SHA1Hex([]byte(src))); got != want {
			t.Errorf("%q: got %q, want %q", src, got, want)
		}
	}
	// Refused inside a Go function: no position in the message, as in
	// Redis, where the check is in the Lua API the C function calls.
	for _, src := range []string{"setmetatable(_G, {})", "rawset(string, 'x', 1)", "table.insert(redis, 1)"} {
		want := fmt.Sprintf("-ERR Attempt to modify a readonly table script: %s, on @user_script:1.\r\n", SHA1Hex([]byte(src)))
		if got := run(t, e, h, src, 0); got != want {
			t.Errorf("%q: got %q, want %q", src, got, want)
		}
	}
	for _, name := range []string{"loadstring", "load", "dofile", "loadfile", "print", "require", "os", "io", "debug", "module"} {
		src := "return " + name
		want := fmt.Sprintf("-ERR user_script:1: Script attempted to access nonexistent global variable '%s' script: %s, on @user_script:1.\r\n", name, SHA1Hex([]byte(src)))
		if got := run(t, e, h, src, 0); got != want {
			t.Errorf("%q: got %q, want %q", src, got, want)
		}
	}
}

// TestEngineStops: loops, memory bombs, recursion and one-step
// allocations are stopped with their error, within bounded time.
func TestEngineStops(t *testing.T) {
	e := New(&fakeBudget{limit: 32 << 20}, "OOM test")
	h := &fakeHost{kv: map[string]string{}}
	for _, tc := range []struct{ src, want string }{
		{"while true do end", "-ERR Script killed by the server: it ran past script_max_time script:"},
		{"return coroutine.wrap(function() while true do end end)()", "-ERR Script killed by the server: it ran past script_max_time"},
		{"while true do pcall(function() while true do end end) end", "-ERR Script killed by the server: it ran past script_max_time"},
		{"local t = {} for i=1,1e8 do t[i] = string.rep('x', 1000) end", "-OOM Script killed by the server: its Lua heap would exceed"},
		{"local s = 'x' while true do s = s .. s end", "memory"},
		{"return string.rep('x', 1e12)", "-ERR user_script:1: not enough memory"},
		{"local t = {} for i=1,1e4 do t[i] = i end return table.concat(t, string.rep('y', 1e6))", "memory"},
		{"local function f(n) return f(n+1)+1 end return f(1)", "-ERR "},
		{"return string.format('%0999d', 1)", "-ERR user_script:1: invalid format (width or precision too long)"},
		// Backtracking over a long subject: O(n^4) steps, stopped like a loop.
		{"return string.find(string.rep('a', 5000), '.-.-.-.-b')", "-ERR Script killed by the server: it ran past script_max_time"},
		{"return string.gsub(string.rep('a', 3000), '.-.-.-b', '')", "-ERR Script killed by the server: it ran past script_max_time"},
		{"return string.gsub(string.rep('x', 1e5), 'x', string.rep('y', 1e4))", "-ERR user_script:1: not enough memory"},
	} {
		start := time.Now()
		// Loops are stopped at 500ms; the rest must be stopped by their
		// own limit long before a generous script_max_time (the race
		// detector on a loaded machine is slow).
		stop := 500 * time.Millisecond
		if !strings.HasPrefix(tc.want, "-ERR Script killed by the server") {
			stop = 30 * time.Second
		}
		got := run(t, e, h, tc.src, stop)
		if tc.want == "memory" {
			// Either refused before the allocation or stopped by the
			// heap check, depending on which comes first.
			if !strings.Contains(got, "not enough memory") && !strings.HasPrefix(got, "-OOM Script killed by the server") {
				t.Errorf("%q: got %q, want a memory error", tc.src, got)
			}
		} else if !strings.HasPrefix(got, tc.want) {
			t.Errorf("%q: got %q, want prefix %q", tc.src, got, tc.want)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("%q took %v", tc.src, d)
		}
	}
	if b := e.budget.(*fakeBudget); b.used != e.Charged() {
		t.Errorf("after the runs the budget holds %d, the engine charges %d: a run's heap charge leaked", b.used, e.Charged())
	}
}
