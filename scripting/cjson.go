package scripting

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// The cjson library: the behaviour of lua-cjson 2.1.0 as Redis ships it
// (deps/lua/src/lua_cjson.c), reimplemented: encode and decode with its
// defaults (numbers with 14 significant digits, '/' escaped, tables with
// positive integer keys as arrays, excessively sparse arrays refused,
// nesting at most 1000 deep, cjson.null for JSON null), its configuration
// functions, and its error messages.

type cjsonConfig struct {
	sparseConvert  bool
	sparseRatio    int
	sparseSafe     int
	encodeMaxDepth int
	decodeMaxDepth int
	precision      int
	keepBuffer     bool
	encodeInvalid  int // 0 off, 1 on, 2 "null"
	decodeInvalid  bool
}

func newCJSONLib(L *lua.LState, v *vm) *lua.LTable {
	cfg := &cjsonConfig{sparseRatio: 2, sparseSafe: 10, encodeMaxDepth: 1000, decodeMaxDepth: 1000,
		precision: 14, keepBuffer: true, decodeInvalid: true}
	t := L.NewTable()
	null := L.NewUserData() // cjson.null: Redis's is a NULL lightuserdata
	t.RawSetString("null", null)
	t.RawSetString("_NAME", lua.LString("cjson"))
	t.RawSetString("_VERSION", lua.LString("2.1.0"))
	t.RawSetString("encode", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() != 1 {
			L.ArgError(1, "expected 1 argument")
		}
		enc := cjsonEncoder{L: L, cfg: cfg, null: null, v: v}
		enc.value(L.Get(1), 0)
		L.Push(lua.LString(enc.out))
		return 1
	}))
	t.RawSetString("decode", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() != 1 {
			L.ArgError(1, "expected 1 argument")
		}
		s := L.CheckString(1)
		v.e.allocCheck(L, int64(len(s))*2)
		d := cjsonDecoder{L: L, cfg: cfg, null: null, s: s}
		val := d.parse()
		L.Push(val)
		return 1
	}))
	cfgInt := func(L *lua.LState, n int, dst *int, min, max int) {
		if L.GetTop() >= n && L.Get(n) != lua.LNil {
			x := L.CheckInt(n)
			if x < min || x > max {
				L.ArgError(n, fmt.Sprintf("expected integer between %d and %d", min, max))
			}
			*dst = x
		}
	}
	cfgBool := func(L *lua.LState, n int, dst *bool) {
		if L.GetTop() >= n && L.Get(n) != lua.LNil {
			switch x := L.Get(n).(type) {
			case lua.LBool:
				*dst = bool(x)
			case lua.LString:
				switch x {
				case "on":
					*dst = true
				case "off":
					*dst = false
				default:
					L.ArgError(n, "invalid option '"+string(x)+"'")
				}
			default:
				L.ArgError(n, "expected boolean")
			}
		}
	}
	t.RawSetString("encode_sparse_array", L.NewFunction(func(L *lua.LState) int {
		cfgBool(L, 1, &cfg.sparseConvert)
		cfgInt(L, 2, &cfg.sparseRatio, 0, math.MaxInt32)
		cfgInt(L, 3, &cfg.sparseSafe, 0, math.MaxInt32)
		L.Push(lua.LBool(cfg.sparseConvert))
		L.Push(lua.LNumber(cfg.sparseRatio))
		L.Push(lua.LNumber(cfg.sparseSafe))
		return 3
	}))
	t.RawSetString("encode_max_depth", L.NewFunction(func(L *lua.LState) int {
		cfgInt(L, 1, &cfg.encodeMaxDepth, 1, math.MaxInt32)
		L.Push(lua.LNumber(cfg.encodeMaxDepth))
		return 1
	}))
	t.RawSetString("decode_max_depth", L.NewFunction(func(L *lua.LState) int {
		cfgInt(L, 1, &cfg.decodeMaxDepth, 1, math.MaxInt32)
		L.Push(lua.LNumber(cfg.decodeMaxDepth))
		return 1
	}))
	t.RawSetString("encode_number_precision", L.NewFunction(func(L *lua.LState) int {
		cfgInt(L, 1, &cfg.precision, 1, 14)
		L.Push(lua.LNumber(cfg.precision))
		return 1
	}))
	t.RawSetString("encode_keep_buffer", L.NewFunction(func(L *lua.LState) int {
		cfgBool(L, 1, &cfg.keepBuffer)
		L.Push(lua.LBool(cfg.keepBuffer))
		return 1
	}))
	t.RawSetString("encode_invalid_numbers", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() >= 1 && L.Get(1) != lua.LNil {
			if s, ok := L.Get(1).(lua.LString); ok && s == "null" {
				cfg.encodeInvalid = 2
			} else {
				var b bool
				cfgBool(L, 1, &b)
				cfg.encodeInvalid = 0
				if b {
					cfg.encodeInvalid = 1
				}
			}
		}
		if cfg.encodeInvalid == 2 {
			L.Push(lua.LString("null"))
		} else {
			L.Push(lua.LBool(cfg.encodeInvalid == 1))
		}
		return 1
	}))
	t.RawSetString("decode_invalid_numbers", L.NewFunction(func(L *lua.LState) int {
		cfgBool(L, 1, &cfg.decodeInvalid)
		L.Push(lua.LBool(cfg.decodeInvalid))
		return 1
	}))
	return t
}

type cjsonEncoder struct {
	L    *lua.LState
	cfg  *cjsonConfig
	null lua.LValue
	v    *vm
	out  []byte
}

func (e *cjsonEncoder) fail(v lua.LValue, reason string) {
	e.L.RaiseError("Cannot serialise %s: %s", v.Type().String(), reason)
}

// grow checks the output against what the budget has left every 64 KiB.
func (e *cjsonEncoder) grow() {
	if len(e.out)&0xffff < 16 && len(e.out) > 1<<16 {
		e.v.e.allocCheck(e.L, int64(len(e.out)))
	}
}

func (e *cjsonEncoder) number(v lua.LValue, f float64) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		switch e.cfg.encodeInvalid {
		case 0:
			e.fail(v, "must not be NaN or Inf")
		case 1:
			if math.IsNaN(f) {
				e.out = append(e.out, "nan"...)
				return
			}
		default:
			e.out = append(e.out, "null"...)
			return
		}
	}
	e.out = append(e.out, formatG(f, e.cfg.precision)...)
}

// formatG is C's "%.<prec>g".
func formatG(f float64, prec int) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	return strconv.FormatFloat(f, 'g', prec, 64)
}

func (e *cjsonEncoder) str(s string) {
	e.out = append(e.out, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			e.out = append(e.out, '\\', '"')
		case c == '\\':
			e.out = append(e.out, '\\', '\\')
		case c == '/':
			e.out = append(e.out, '\\', '/')
		case c == '\b':
			e.out = append(e.out, '\\', 'b')
		case c == '\t':
			e.out = append(e.out, '\\', 't')
		case c == '\n':
			e.out = append(e.out, '\\', 'n')
		case c == '\f':
			e.out = append(e.out, '\\', 'f')
		case c == '\r':
			e.out = append(e.out, '\\', 'r')
		case c < 0x20 || c == 0x7f:
			e.out = append(e.out, fmt.Sprintf("\\u%04x", c)...)
		default:
			e.out = append(e.out, c)
		}
	}
	e.out = append(e.out, '"')
	e.grow()
}

func (e *cjsonEncoder) value(v lua.LValue, depth int) {
	switch x := v.(type) {
	case lua.LString:
		e.str(string(x))
	case lua.LNumber:
		e.number(v, float64(x))
	case lua.LBool:
		if x {
			e.out = append(e.out, "true"...)
		} else {
			e.out = append(e.out, "false"...)
		}
	case *lua.LNilType:
		e.out = append(e.out, "null"...)
	case *lua.LTable:
		depth++
		if depth > e.cfg.encodeMaxDepth {
			e.L.RaiseError("Cannot serialise, excessive nesting (%d)", depth)
		}
		x = e.v.shown(x)
		n := e.arrayLen(x)
		if n > 0 {
			e.out = append(e.out, '[')
			for i := 1; i <= n; i++ {
				if i > 1 {
					e.out = append(e.out, ',')
				}
				e.value(x.RawGetInt(i), depth)
			}
			e.out = append(e.out, ']')
			return
		}
		e.out = append(e.out, '{')
		first := true
		x.ForEach(func(k, val lua.LValue) {
			if !first {
				e.out = append(e.out, ',')
			}
			first = false
			switch kk := k.(type) {
			case lua.LNumber:
				e.out = append(e.out, '"')
				e.number(k, float64(kk))
				e.out = append(e.out, '"', ':')
			case lua.LString:
				e.str(string(kk))
				e.out = append(e.out, ':')
			default:
				e.fail(k, "table key must be a number or string")
			}
			e.value(val, depth)
		})
		e.out = append(e.out, '}')
	default:
		if v == e.null {
			e.out = append(e.out, "null"...)
			return
		}
		e.fail(v, "type not supported")
	}
}

// arrayLen is lua_array_length: the largest positive integer key when
// every key is one (and the array is not excessively sparse), else -1.
func (e *cjsonEncoder) arrayLen(t *lua.LTable) int {
	max, items := 0, 0
	isArray := true
	t.ForEach(func(k, _ lua.LValue) {
		if !isArray {
			return
		}
		if n, ok := k.(lua.LNumber); ok && n != 0 {
			f := float64(n)
			if math.Floor(f) == f && f >= 1 {
				if int(f) > max {
					max = int(f)
				}
				items++
				return
			}
		}
		isArray = false
	})
	if !isArray {
		return -1
	}
	if e.cfg.sparseRatio > 0 && max > items*e.cfg.sparseRatio && max > e.cfg.sparseSafe {
		if !e.cfg.sparseConvert {
			e.fail(t, "excessively sparse array")
		}
		return -1
	}
	return max
}

type cjsonDecoder struct {
	L     *lua.LState
	cfg   *cjsonConfig
	null  lua.LValue
	s     string
	i     int
	depth int
}

func (d *cjsonDecoder) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// expected raises cjson's "Expected %s but found %s at character %d".
func (d *cjsonDecoder) expected(what, found string, at int) {
	d.L.RaiseError("Expected %s but found %s at character %d", what, found, at+1)
}

// token names the token at d.i as cjson does, for errors.
func (d *cjsonDecoder) token() string {
	if d.i >= len(d.s) {
		return "T_END"
	}
	switch c := d.s[d.i]; {
	case c == '{':
		return "T_OBJ_BEGIN"
	case c == '}':
		return "T_OBJ_END"
	case c == '[':
		return "T_ARR_BEGIN"
	case c == ']':
		return "T_ARR_END"
	case c == ':':
		return "T_COLON"
	case c == ',':
		return "T_COMMA"
	case c == '"':
		return "T_STRING"
	case c == '-' || c >= '0' && c <= '9':
		return "T_NUMBER"
	case hasPrefix(d.s[d.i:], "true"), hasPrefix(d.s[d.i:], "false"):
		return "T_BOOLEAN"
	case hasPrefix(d.s[d.i:], "null"):
		return "T_NULL"
	}
	return "invalid token"
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

func (d *cjsonDecoder) parse() lua.LValue {
	if len(d.s) >= 2 && (d.s[0] == 0 || d.s[1] == 0) {
		d.L.RaiseError("JSON parser does not support UTF-16 or UTF-32")
	}
	d.ws()
	v := d.value()
	d.ws()
	if d.i < len(d.s) {
		d.expected("the end", d.token(), d.i)
	}
	return v
}

func (d *cjsonDecoder) descend() {
	d.depth++
	if d.depth > d.cfg.decodeMaxDepth {
		d.L.RaiseError("Found too many nested data structures (%d) at character %d", d.depth, d.i)
	}
}

func (d *cjsonDecoder) value() lua.LValue {
	L := d.L
	d.ws()
	if d.i >= len(d.s) {
		d.expected("value", "T_END", d.i)
	}
	switch c := d.s[d.i]; {
	case c == '{':
		d.i++
		d.descend()
		t := L.NewTable()
		d.ws()
		if d.i < len(d.s) && d.s[d.i] == '}' {
			d.i++
			d.depth--
			return t
		}
		for {
			d.ws()
			if d.i >= len(d.s) || d.s[d.i] != '"' {
				d.expected("object key string", d.token(), d.i)
			}
			k := d.str()
			d.ws()
			if d.i >= len(d.s) || d.s[d.i] != ':' {
				d.expected("colon", d.token(), d.i)
			}
			d.i++
			t.RawSetH(lua.LString(k), d.value())
			d.ws()
			if d.i < len(d.s) && d.s[d.i] == '}' {
				d.i++
				d.depth--
				return t
			}
			if d.i >= len(d.s) || d.s[d.i] != ',' {
				d.expected("comma or object end", d.token(), d.i)
			}
			d.i++
		}
	case c == '[':
		d.i++
		d.descend()
		t := L.NewTable()
		d.ws()
		if d.i < len(d.s) && d.s[d.i] == ']' {
			d.i++
			d.depth--
			return t
		}
		for n := 1; ; n++ {
			t.RawSetInt(n, d.value())
			d.ws()
			if d.i < len(d.s) && d.s[d.i] == ']' {
				d.i++
				d.depth--
				return t
			}
			if d.i >= len(d.s) || d.s[d.i] != ',' {
				d.expected("comma or array end", d.token(), d.i)
			}
			d.i++
		}
	case c == '"':
		return lua.LString(d.str())
	case c == '-' || c >= '0' && c <= '9' || d.cfg.decodeInvalid && d.invalidNumber():
		return d.number()
	case hasPrefix(d.s[d.i:], "true"):
		d.i += 4
		return lua.LTrue
	case hasPrefix(d.s[d.i:], "false"):
		d.i += 5
		return lua.LFalse
	case hasPrefix(d.s[d.i:], "null"):
		d.i += 4
		return d.null
	}
	d.expected("value", d.token(), d.i)
	return lua.LNil
}

// invalidNumber is json_is_invalid_number for a token that does not
// start a JSON number: inf, nan (any case).
func (d *cjsonDecoder) invalidNumber() bool {
	rest := d.s[d.i:]
	for _, p := range []string{"inf", "nan"} {
		if len(rest) >= 3 && equalFoldASCII(rest[:3], p) {
			return true
		}
	}
	return false
}

func (d *cjsonDecoder) number() lua.LValue {
	start := d.i
	j := d.i
	for j < len(d.s) && (d.s[j] == '-' || d.s[j] == '+' || d.s[j] == '.' || d.s[j] == 'e' || d.s[j] == 'E' ||
		d.s[j] >= '0' && d.s[j] <= '9' || d.cfg.decodeInvalid && (d.s[j] >= 'a' && d.s[j] <= 'z' || d.s[j] >= 'A' && d.s[j] <= 'Z')) {
		j++
	}
	tok := d.s[start:j]
	f, err := parseLuaNumber(tok)
	if err != nil {
		switch tok {
		case "inf", "Infinity", "infinity", "INF":
			f, err = math.Inf(1), nil
		case "-inf", "-Infinity", "-infinity", "-INF":
			f, err = math.Inf(-1), nil
		case "nan", "NaN", "-nan", "NAN":
			f, err = math.NaN(), nil
		}
	}
	if err != nil || j == start {
		d.expected("value", "invalid number", start)
	}
	d.i = j
	return lua.LNumber(f)
}

func (d *cjsonDecoder) str() string {
	start := d.i
	d.i++ // opening quote
	var b []byte
	for {
		if d.i >= len(d.s) {
			d.expected("value", "unexpected end of string", start)
		}
		c := d.s[d.i]
		switch {
		case c == '"':
			d.i++
			return string(b)
		case c == '\\':
			if d.i+1 >= len(d.s) {
				d.expected("value", "invalid escape code", start)
			}
			e := d.s[d.i+1]
			d.i += 2
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				cp, ok := d.hex4()
				if !ok {
					d.expected("value", "invalid unicode escape code", start)
				}
				if cp >= 0xD800 && cp <= 0xDBFF {
					if d.i+1 < len(d.s) && d.s[d.i] == '\\' && d.s[d.i+1] == 'u' {
						d.i += 2
						lo, ok := d.hex4()
						if !ok || lo < 0xDC00 || lo > 0xDFFF {
							d.expected("value", "invalid unicode escape code", start)
						}
						cp = ((cp&0x3FF)<<10 | lo&0x3FF) + 0x10000
					} else {
						d.expected("value", "invalid unicode escape code", start)
					}
				} else if cp >= 0xDC00 && cp <= 0xDFFF {
					d.expected("value", "invalid unicode escape code", start)
				}
				b = utf8.AppendRune(b, rune(cp))
			default:
				d.expected("value", "invalid escape code", start)
			}
		default:
			b = append(b, c)
			d.i++
		}
	}
}

func (d *cjsonDecoder) hex4() (int, bool) {
	if d.i+4 > len(d.s) {
		return 0, false
	}
	n, err := strconv.ParseUint(d.s[d.i:d.i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	d.i += 4
	return int(n), true
}
