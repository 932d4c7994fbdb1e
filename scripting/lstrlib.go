package scripting

import (
	"bytes"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Lua 5.1's pattern matching (lstrlib.c), ported so that a match runs
// under the script's hook: string.find, match, gmatch and gsub count
// their matcher's steps and reach a checkpoint every matchCheckEvery, so
// a pathological pattern (backtracking over a long subject) is stopped by
// SCRIPT KILL or script_max_time like a loop, and is paced by fair
// sharing, where gopher-lua's matcher (and C Lua's) would run to its end.
// It also gives Lua 5.1's exact semantics (%f, %b, position captures,
// gsub's replacement rules) and messages.

const (
	luaMaxCaptures  = 32
	capUnfinished   = -1
	capPosition     = -2
	matchCheckEvery = 1 << 12
	patSpecials     = "^$*+?.([%-"
)

type matchState struct {
	src   string
	pat   string
	L     *lua.LState
	v     *vm
	level int
	capt  [luaMaxCaptures]struct{ init, len int }
	steps int
}

// step counts one step of the matcher; every matchCheckEvery it is a
// checkpoint of the running script.
func (ms *matchState) step() {
	ms.steps++
	if ms.steps&(matchCheckEvery-1) != 0 {
		return
	}
	r := ms.v.e.run
	if r == nil {
		return
	}
	if r.stop == "" {
		r.check()
	}
	if r.stop != "" {
		ms.L.RaiseError("%s", r.stop)
	}
}

// at is the pattern byte at i, 0 past its end (C's terminating NUL).
func (ms *matchState) at(i int) byte {
	if i < len(ms.pat) {
		return ms.pat[i]
	}
	return 0
}

// sat is the subject byte at i, 0 at its end.
func (ms *matchState) sat(i int) byte {
	if i < len(ms.src) {
		return ms.src[i]
	}
	return 0
}

func (ms *matchState) checkCapture(l int) int {
	l -= '1'
	if l < 0 || l >= ms.level || ms.capt[l].len == capUnfinished {
		ms.L.RaiseError("invalid capture index")
	}
	return l
}

func (ms *matchState) captureToClose() int {
	level := ms.level - 1
	for ; level >= 0; level-- {
		if ms.capt[level].len == capUnfinished {
			return level
		}
	}
	ms.L.RaiseError("invalid pattern capture")
	return 0
}

func (ms *matchState) classEnd(p int) int {
	c := ms.at(p)
	p++
	if c == '%' {
		if p >= len(ms.pat) {
			ms.L.RaiseError("%s", "malformed pattern (ends with '%')")
		}
		return p + 1
	}
	if c == '[' {
		if ms.at(p) == '^' {
			p++
		}
		for {
			if p >= len(ms.pat) {
				ms.L.RaiseError("malformed pattern (missing ']')")
			}
			c := ms.pat[p]
			p++
			if c == '%' && p < len(ms.pat) {
				p++
			}
			if ms.at(p) == ']' {
				break
			}
		}
		return p + 1
	}
	return p
}

func isalpha(c byte) bool  { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isdigit(c byte) bool  { return c >= '0' && c <= '9' }
func islower(c byte) bool  { return c >= 'a' && c <= 'z' }
func isupper(c byte) bool  { return c >= 'A' && c <= 'Z' }
func iscntrl(c byte) bool  { return c < 32 || c == 127 }
func isspaceC(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }
func ispunct(c byte) bool  { return c > 32 && c < 127 && !isalpha(c) && !isdigit(c) }
func isxdigit(c byte) bool { return isdigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func matchClass(c, cl byte) bool {
	var res bool
	lc := cl
	if isupper(cl) {
		lc = cl + 32
	}
	switch lc {
	case 'a':
		res = isalpha(c)
	case 'c':
		res = iscntrl(c)
	case 'd':
		res = isdigit(c)
	case 'l':
		res = islower(c)
	case 'p':
		res = ispunct(c)
	case 's':
		res = isspaceC(c)
	case 'u':
		res = isupper(c)
	case 'w':
		res = isalpha(c) || isdigit(c)
	case 'x':
		res = isxdigit(c)
	case 'z':
		res = c == 0
	default:
		return cl == c
	}
	if isupper(cl) {
		return !res
	}
	return res
}

// matchBracketClass: p is the '[', ec the closing ']'.
func (ms *matchState) matchBracketClass(c byte, p, ec int) bool {
	sig := true
	if ms.at(p+1) == '^' {
		sig = false
		p++
	}
	for p++; p < ec; p++ {
		if ms.at(p) == '%' {
			p++
			if matchClass(c, ms.at(p)) {
				return sig
			}
		} else if ms.at(p+1) == '-' && p+2 < ec {
			p += 2
			if ms.at(p-2) <= c && c <= ms.at(p) {
				return sig
			}
		} else if ms.at(p) == c {
			return sig
		}
	}
	return !sig
}

func (ms *matchState) singleMatch(c byte, p, ep int) bool {
	switch ms.at(p) {
	case '.':
		return true
	case '%':
		return matchClass(c, ms.at(p+1))
	case '[':
		return ms.matchBracketClass(c, p, ep-1)
	default:
		return ms.at(p) == c
	}
}

func (ms *matchState) matchBalance(s, p int) int {
	if p >= len(ms.pat) || p+1 >= len(ms.pat) {
		ms.L.RaiseError("unbalanced pattern")
	}
	if s >= len(ms.src) || ms.src[s] != ms.pat[p] {
		return -1
	}
	b, e := ms.pat[p], ms.pat[p+1]
	cont := 1
	for s++; s < len(ms.src); s++ {
		ms.step()
		if ms.src[s] == e {
			cont--
			if cont == 0 {
				return s + 1
			}
		} else if ms.src[s] == b {
			cont++
		}
	}
	return -1
}

func (ms *matchState) maxExpand(s, p, ep int) int {
	i := 0
	for s+i < len(ms.src) && ms.singleMatch(ms.src[s+i], p, ep) {
		ms.step()
		i++
	}
	for ; i >= 0; i-- {
		if res := ms.match(s+i, ep+1); res != -1 {
			return res
		}
	}
	return -1
}

func (ms *matchState) minExpand(s, p, ep int) int {
	for {
		if res := ms.match(s, ep+1); res != -1 {
			return res
		}
		if s < len(ms.src) && ms.singleMatch(ms.src[s], p, ep) {
			s++
		} else {
			return -1
		}
	}
}

func (ms *matchState) startCapture(s, p, what int) int {
	level := ms.level
	if level >= luaMaxCaptures {
		ms.L.RaiseError("too many captures")
	}
	ms.capt[level].init, ms.capt[level].len = s, what
	ms.level = level + 1
	res := ms.match(s, p)
	if res == -1 {
		ms.level--
	}
	return res
}

func (ms *matchState) endCapture(s, p int) int {
	l := ms.captureToClose()
	ms.capt[l].len = s - ms.capt[l].init
	res := ms.match(s, p)
	if res == -1 {
		ms.capt[l].len = capUnfinished
	}
	return res
}

func (ms *matchState) matchCapture(s int, l byte) int {
	i := ms.checkCapture(int(l))
	n := ms.capt[i].len
	if len(ms.src)-s >= n && ms.src[ms.capt[i].init:ms.capt[i].init+n] == ms.src[s:s+n] {
		return s + n
	}
	return -1
}

// match returns the end of the match of pattern p at subject s, or -1.
func (ms *matchState) match(s, p int) int {
	for {
		ms.step()
		switch ms.at(p) {
		case '(':
			if ms.at(p+1) == ')' {
				return ms.startCapture(s, p+2, capPosition)
			}
			return ms.startCapture(s, p+1, capUnfinished)
		case ')':
			return ms.endCapture(s, p+1)
		case 0:
			if p >= len(ms.pat) {
				return s
			}
		case '%':
			switch ms.at(p + 1) {
			case 'b':
				s = ms.matchBalance(s, p+2)
				if s == -1 {
					return -1
				}
				p += 4
				continue
			case 'f':
				p += 2
				if ms.at(p) != '[' {
					ms.L.RaiseError("%s", "missing '[' after '%f' in pattern")
				}
				ep := ms.classEnd(p)
				var prev byte
				if s > 0 {
					prev = ms.src[s-1]
				}
				if ms.matchBracketClass(prev, p, ep-1) || !ms.matchBracketClass(ms.sat(s), p, ep-1) {
					return -1
				}
				p = ep
				continue
			default:
				if isdigit(ms.at(p + 1)) {
					s = ms.matchCapture(s, ms.at(p+1))
					if s == -1 {
						return -1
					}
					p += 2
					continue
				}
			}
		case '$':
			if p+1 >= len(ms.pat) {
				if s == len(ms.src) {
					return s
				}
				return -1
			}
		}
		// dflt
		ep := ms.classEnd(p)
		m := s < len(ms.src) && ms.singleMatch(ms.src[s], p, ep)
		switch ms.at(ep) {
		case '?':
			if m {
				if res := ms.match(s+1, ep+1); res != -1 {
					return res
				}
			}
			p = ep + 1
			continue
		case '*':
			return ms.maxExpand(s, p, ep)
		case '+':
			if m {
				return ms.maxExpand(s+1, p, ep)
			}
			return -1
		case '-':
			return ms.minExpand(s, p, ep)
		default:
			if !m {
				return -1
			}
			s++
			p = ep
		}
	}
}

func (ms *matchState) onecapture(i, s, e int) lua.LValue {
	if i >= ms.level {
		if i == 0 {
			return lua.LString(ms.src[s:e])
		}
		ms.L.RaiseError("invalid capture index")
	}
	l := ms.capt[i].len
	if l == capUnfinished {
		ms.L.RaiseError("unfinished capture")
	}
	if l == capPosition {
		return lua.LNumber(ms.capt[i].init + 1)
	}
	return lua.LString(ms.src[ms.capt[i].init : ms.capt[i].init+l])
}

// pushCaptures pushes the captures (or the whole match s..e when the
// pattern has none and s >= 0) and returns how many.
func (ms *matchState) pushCaptures(s, e int) int {
	n := ms.level
	if n == 0 && s >= 0 {
		n = 1
	}
	for i := 0; i < n; i++ {
		ms.L.Push(ms.onecapture(i, s, e))
	}
	return n
}

// patternOf is the pattern as C sees it: up to its first NUL.
func patternOf(p string) string {
	if i := strings.IndexByte(p, 0); i >= 0 {
		return p[:i]
	}
	return p
}

// optInt is luaL_optint: absent or nil gives d; a numeric string counts.
func optInt(L *lua.LState, n, d int) int {
	if L.Get(n) == lua.LNil {
		return d
	}
	return checkInt(L, n)
}

func posrelat(pos, n int) int {
	if pos < 0 {
		pos += n + 1
	}
	if pos >= 0 {
		return pos
	}
	return 0
}

func (v *vm) strFindAux(L *lua.LState, find bool) int {
	s := L.CheckString(1)
	p := L.CheckString(2)
	init := posrelat(optInt(L, 3, 1), len(s)) - 1
	if init < 0 {
		init = 0
	} else if init > len(s) {
		init = len(s)
	}
	if find && (lua.LVAsBool(L.Get(4)) || !strings.ContainsAny(patternOf(p), patSpecials)) {
		if i := strings.Index(s[init:], p); i >= 0 {
			L.Push(lua.LNumber(init + i + 1))
			L.Push(lua.LNumber(init + i + len(p)))
			return 2
		}
		L.Push(lua.LNil)
		return 1
	}
	ms := &matchState{src: s, pat: patternOf(p), L: L, v: v}
	pi := 0
	anchor := ms.at(0) == '^'
	if anchor {
		pi = 1
	}
	for s1 := init; ; s1++ {
		ms.level = 0
		if e := ms.match(s1, pi); e != -1 {
			if find {
				L.Push(lua.LNumber(s1 + 1))
				L.Push(lua.LNumber(e))
				return ms.pushCaptures(-1, 0) + 2
			}
			return ms.pushCaptures(s1, e)
		}
		if s1 >= len(s) || anchor {
			break
		}
	}
	L.Push(lua.LNil)
	return 1
}

func (v *vm) gmatch(L *lua.LState) int {
	s := L.CheckString(1)
	p := patternOf(L.CheckString(2))
	pos := 0
	L.Push(L.NewFunction(func(L *lua.LState) int {
		ms := &matchState{src: s, pat: p, L: L, v: v}
		for src := pos; src <= len(s); src++ {
			ms.level = 0
			if e := ms.match(src, 0); e != -1 {
				newstart := e
				if e == src {
					newstart++ // empty match: go at least one position
				}
				pos = newstart
				return ms.pushCaptures(src, e)
			}
		}
		return 0
	}))
	return 1
}

func (v *vm) gsub(L *lua.LState) int {
	src := L.CheckString(1)
	p := patternOf(L.CheckString(2))
	repl := L.Get(3)
	switch repl.(type) {
	case lua.LNumber, lua.LString, *lua.LFunction, *lua.LTable:
	default:
		argError(L, 3, "gsub", "string/function/table expected")
	}
	maxS := optInt(L, 4, len(src)+1)
	ms := &matchState{src: src, pat: p, L: L, v: v}
	pi := 0
	anchor := ms.at(0) == '^'
	if anchor {
		pi = 1
	}
	var b bytes.Buffer
	checked := 0
	// The result is built in Go memory the heap walk does not see: it
	// is checked against what the budget has left as it grows.
	grow := func() {
		if b.Len()-checked > 1<<16 {
			if int64(b.Len()) > v.e.budget.Free() {
				L.RaiseError(errAlloc)
			}
			v.e.allocCheck(L, int64(b.Len()-checked))
			checked = b.Len()
		}
	}
	n, s := 0, 0
	for n < maxS {
		ms.level = 0
		e := ms.match(s, pi)
		if e != -1 {
			n++
			v.addValue(ms, &b, s, e, repl)
			grow()
		}
		if e != -1 && e > s {
			s = e
		} else if s < len(src) {
			b.WriteByte(src[s])
			s++
		} else {
			break
		}
		if anchor {
			break
		}
	}
	b.WriteString(src[s:])
	v.e.allocCheck(L, int64(b.Len()-checked))
	L.Push(lua.LString(b.String()))
	L.Push(lua.LNumber(n))
	return 2
}

func (v *vm) addValue(ms *matchState, b *bytes.Buffer, s, e int, repl lua.LValue) {
	L := ms.L
	var val lua.LValue
	switch r := repl.(type) {
	case lua.LString, lua.LNumber:
		news, _ := toConcat(r)
		for i := 0; i < len(news); i++ {
			if news[i] != '%' {
				b.WriteByte(news[i])
				continue
			}
			i++
			if i >= len(news) || !isdigit(news[i]) {
				if i < len(news) {
					b.WriteByte(news[i])
				}
				continue
			}
			if news[i] == '0' {
				b.WriteString(ms.src[s:e])
				continue
			}
			c := ms.onecapture(int(news[i]-'1'), s, e)
			cs, _ := toConcat(c)
			b.WriteString(cs)
		}
		return
	case *lua.LFunction:
		top := L.GetTop()
		L.Push(r)
		n := ms.pushCaptures(s, e)
		L.Call(n, 1)
		val = L.Get(-1)
		L.SetTop(top)
	case *lua.LTable:
		val = L.GetTable(r, ms.onecapture(0, s, e))
	}
	if !lua.LVAsBool(val) {
		b.WriteString(ms.src[s:e])
		return
	}
	str, ok := toConcat(val)
	if !ok {
		L.RaiseError("invalid replacement value (a %s)", val.Type().String())
	}
	b.WriteString(str)
}

// installPatterns replaces gopher-lua's pattern functions by the port
// above.
func (v *vm) installPatterns(L *lua.LState, s *lua.LTable) {
	s.RawSetString("find", L.NewFunction(func(L *lua.LState) int { return v.strFindAux(L, true) }))
	s.RawSetString("match", L.NewFunction(func(L *lua.LState) int { return v.strFindAux(L, false) }))
	s.RawSetString("gmatch", L.NewFunction(v.gmatch))
	s.RawSetString("gsub", L.NewFunction(v.gsub))
}
