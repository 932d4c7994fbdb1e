package scripting

import (
	"bytes"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// replyParser turns a command's RESP2 or RESP3 reply, as the server wrote
// it, into the Lua value redis.call returns (redisProtocolToLuaType):
//
//	integer -> number; bulk -> string; null bulk or null array -> false;
//	array -> table; status -> {ok=s}; error -> {err=s};
//	RESP3: null -> nil; boolean -> boolean; double -> {double=n};
//	map -> {map={k=v}}; set -> {set={m=true}}; big number ->
//	{big_number=s}; verbatim -> {verbatim_string={format=f, string=s}};
//	attributes are skipped.
//
// The reply comes from the server's own writer, so it is well formed; a
// truncated one yields nil rather than a panic.
type replyParser struct {
	L   *lua.LState
	b   []byte
	off int
}

func (p *replyParser) line() []byte {
	i := bytes.Index(p.b[p.off:], []byte("\r\n"))
	if i < 0 {
		l := p.b[p.off:]
		p.off = len(p.b)
		return l
	}
	l := p.b[p.off : p.off+i]
	p.off += i + 2
	return l
}

func (p *replyParser) bulk(n int) []byte {
	if n < 0 || p.off+n > len(p.b) {
		p.off = len(p.b)
		return nil
	}
	s := p.b[p.off : p.off+n]
	p.off += n + 2
	return s
}

func (p *replyParser) parse() lua.LValue {
	L := p.L
	if p.off >= len(p.b) {
		return lua.LNil
	}
	kind := p.b[p.off]
	p.off++
	ln := p.line()
	n, _ := strconv.Atoi(string(ln))
	switch kind {
	case '+':
		t := L.NewTable()
		t.RawSetString("ok", lua.LString(ln))
		return t
	case '-':
		t := errorTable(L, "-"+string(ln))
		t.RawSetString("ignore_error_stats_update", lua.LTrue)
		return t
	case ':':
		v, _ := strconv.ParseInt(string(ln), 10, 64)
		return lua.LNumber(v)
	case '$':
		if n < 0 {
			return lua.LFalse
		}
		return lua.LString(p.bulk(n))
	case '*':
		if n < 0 {
			return lua.LFalse
		}
		t := L.CreateTable(n, 0)
		for i := 1; i <= n; i++ {
			v := p.parse()
			if v != lua.LNil {
				t.RawSetInt(i, v)
			}
		}
		return t
	case '%':
		m := L.NewTable()
		for i := 0; i < n; i++ {
			k := p.parse()
			v := p.parse()
			if k != lua.LNil {
				L.RawSet(m, k, v)
			}
		}
		t := L.NewTable()
		t.RawSetString("map", m)
		return t
	case '~':
		s := L.NewTable()
		for i := 0; i < n; i++ {
			if k := p.parse(); k != lua.LNil {
				L.RawSet(s, k, lua.LTrue)
			}
		}
		t := L.NewTable()
		t.RawSetString("set", s)
		return t
	case '_':
		return lua.LNil
	case '#':
		return lua.LBool(len(ln) > 0 && ln[0] == 't')
	case ',':
		f, err := parseLuaNumber(string(ln))
		if err != nil {
			switch strings.ToLower(string(ln)) {
			case "inf":
				f = inf(1)
			case "-inf":
				f = inf(-1)
			}
		}
		t := L.NewTable()
		t.RawSetString("double", lua.LNumber(f))
		return t
	case '(':
		t := L.NewTable()
		t.RawSetString("big_number", lua.LString(ln))
		return t
	case '=':
		s := p.bulk(n)
		format, str := "", s
		if len(s) >= 4 {
			format, str = string(s[:3]), s[4:]
		}
		vt := L.NewTable()
		vt.RawSetString("string", lua.LString(str))
		vt.RawSetString("format", lua.LString(format))
		t := L.NewTable()
		t.RawSetString("verbatim_string", vt)
		return t
	case '|':
		for i := 0; i < 2*n; i++ {
			p.parse()
		}
		return p.parse()
	case '!':
		return errorTable(L, "-"+string(p.bulk(n)))
	case '>':
		t := L.CreateTable(n, 0)
		for i := 1; i <= n; i++ {
			t.RawSetInt(i, p.parse())
		}
		return t
	}
	return lua.LNil
}

func inf(sign int) float64 {
	f, _ := strconv.ParseFloat("inf", 64)
	if sign < 0 {
		return -f
	}
	return f
}

// parseLuaNumber is Lua 5.1's string-to-number coercion (lua_str2number:
// strtod, or a hex integer), with surrounding spaces allowed.
func parseLuaNumber(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if len(t) > 2 && (t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
		u, err := strconv.ParseUint(t[2:], 16, 64)
		return float64(u), err
	}
	if strings.ContainsAny(t, "_pP") || strings.HasPrefix(strings.ToLower(strings.TrimLeft(t, "+-")), "0x") {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseFloat(t, 64)
}
