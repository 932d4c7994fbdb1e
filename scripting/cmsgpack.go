package scripting

import (
	"encoding/binary"
	"errors"
	"math"

	lua "github.com/yuin/gopher-lua"
)

// The cmsgpack library: the behaviour of lua-cmsgpack 0.4.0 as Redis
// ships it (deps/lua/src/lua_cmsgpack.c), reimplemented: pack(...),
// unpack(s), unpack_one(s [, offset]), unpack_limit(s, limit [, offset]).
// Numbers that are integers are packed as the smallest integer type,
// others as float32 when exact, else float64; tables whose keys are
// exactly 1..n are arrays, others maps; tables nested 16 deep (and
// cycles) are packed as nil.

const msgpackMaxNesting = 16

var (
	errMsgpackEOF = errors.New("Missing bytes in input.")
	errMsgpackFmt = errors.New("Bad data format in input.")
)

func newMsgpackLib(L *lua.LState, v *vm) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("_NAME", lua.LString("cmsgpack"))
	t.RawSetString("_VERSION", lua.LString("lua-cmsgpack 0.4.0"))
	t.RawSetString("_COPYRIGHT", lua.LString("Copyright (C) 2012, Salvatore Sanfilippo"))
	t.RawSetString("_DESCRIPTION", lua.LString("MessagePack C implementation for Lua"))
	t.RawSetString("pack", L.NewFunction(func(L *lua.LState) int {
		n := L.GetTop()
		if n == 0 {
			argError(L, 0, "pack", "MessagePack pack needs input.")
		}
		var out []byte
		for i := 1; i <= n; i++ {
			out = msgpackEncode(L, v, out, L.Get(i), 0)
		}
		L.Push(lua.LString(out))
		return 1
	}))
	unpack := func(L *lua.LState, limit, offset int) int {
		s := L.CheckString(1)
		decodeAll := limit == 0 && offset == 0
		if offset < 0 || limit < 0 {
			L.RaiseError("Invalid request to unpack with offset of %d and limit of %d.", offset, len(s))
		} else if offset > len(s) {
			L.RaiseError("Start offset %d greater than input length %d.", offset, len(s))
		}
		if decodeAll {
			limit = math.MaxInt32
		}
		v.e.allocCheck(L, int64(len(s))*4)
		L.SetTop(1)
		d := msgpackDecoder{L: L, b: s[offset:]}
		cnt := 0
		for ; len(d.b) > 0 && cnt < limit; cnt++ {
			val, err := d.decode(0)
			if err != nil {
				L.RaiseError("%s", err.Error())
			}
			L.Push(val)
		}
		if !decodeAll {
			next := len(s) - len(d.b)
			if len(d.b) == 0 {
				next = -1
			}
			L.Insert(lua.LNumber(next), 2)
			cnt++
		}
		return cnt
	}
	t.RawSetString("unpack", L.NewFunction(func(L *lua.LState) int { return unpack(L, 0, 0) }))
	t.RawSetString("unpack_one", L.NewFunction(func(L *lua.LState) int {
		return unpack(L, 1, L.OptInt(2, 0))
	}))
	t.RawSetString("unpack_limit", L.NewFunction(func(L *lua.LState) int {
		return unpack(L, L.CheckInt(2), L.OptInt(3, 0))
	}))
	return t
}

func msgpackEncode(L *lua.LState, v *vm, b []byte, val lua.LValue, level int) []byte {
	if len(b) > 1<<16 && len(b)&0xfff < 16 {
		v.e.allocCheck(L, int64(len(b)))
	}
	switch x := val.(type) {
	case lua.LString:
		n := len(x)
		switch {
		case n < 32:
			b = append(b, 0xa0|byte(n))
		case n <= 0xff:
			b = append(b, 0xd9, byte(n))
		case n <= 0xffff:
			b = append(b, 0xda, byte(n>>8), byte(n))
		default:
			b = append(b, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		}
		return append(b, x...)
	case lua.LBool:
		if x {
			return append(b, 0xc3)
		}
		return append(b, 0xc2)
	case lua.LNumber:
		f := float64(x)
		if !math.IsInf(f, 0) && f == float64(int64(f)) && f >= -9.223372036854775808e18 && f < 9.223372036854775807e18 {
			return msgpackInt(b, int64(f))
		}
		if f32 := float32(f); float64(f32) == f {
			b = append(b, 0xca)
			return binary.BigEndian.AppendUint32(b, math.Float32bits(float32(f)))
		}
		b = append(b, 0xcb)
		return binary.BigEndian.AppendUint64(b, math.Float64bits(f))
	case *lua.LTable:
		if level == msgpackMaxNesting {
			return append(b, 0xc0)
		}
		x = v.shown(x)
		count, maxKey := 0, 0
		isArray := true
		x.ForEach(func(k, _ lua.LValue) {
			count++
			n, ok := k.(lua.LNumber)
			if !ok || n <= 0 || float64(n) != float64(int32(n)) {
				isArray = false
				return
			}
			if int(n) > maxKey {
				maxKey = int(n)
			}
		})
		if isArray && maxKey == count {
			n := x.Len()
			b = msgpackHeader(b, n, 0x90, 0xdc, 0xdd)
			for i := 1; i <= n; i++ {
				b = msgpackEncode(L, v, b, x.RawGetInt(i), level+1)
			}
			return b
		}
		b = msgpackHeader(b, count, 0x80, 0xde, 0xdf)
		x.ForEach(func(k, val lua.LValue) {
			b = msgpackEncode(L, v, b, k, level+1)
			b = msgpackEncode(L, v, b, val, level+1)
		})
		return b
	}
	return append(b, 0xc0)
}

func msgpackHeader(b []byte, n int, fix, c16, c32 byte) []byte {
	switch {
	case n <= 15:
		return append(b, fix|byte(n))
	case n <= 0xffff:
		return append(b, c16, byte(n>>8), byte(n))
	default:
		return append(b, c32, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

func msgpackInt(b []byte, n int64) []byte {
	if n >= 0 {
		switch {
		case n <= 127:
			return append(b, byte(n))
		case n <= 0xff:
			return append(b, 0xcc, byte(n))
		case n <= 0xffff:
			return append(b, 0xcd, byte(n>>8), byte(n))
		case n <= 0xffffffff:
			return append(b, 0xce, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
		}
		b = append(b, 0xcf)
		return binary.BigEndian.AppendUint64(b, uint64(n))
	}
	switch {
	case n >= -32:
		return append(b, byte(int8(n)))
	case n >= -128:
		return append(b, 0xd0, byte(n))
	case n >= -32768:
		return append(b, 0xd1, byte(n>>8), byte(n))
	case n >= -2147483648:
		return append(b, 0xd2, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	b = append(b, 0xd3)
	return binary.BigEndian.AppendUint64(b, uint64(n))
}

type msgpackDecoder struct {
	L *lua.LState
	b string
}

func (d *msgpackDecoder) take(n int) (string, error) {
	if n < 0 || len(d.b) < n {
		return "", errMsgpackEOF
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s, nil
}

func (d *msgpackDecoder) uint(n int) (uint64, error) {
	s, err := d.take(n)
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := 0; i < n; i++ {
		v = v<<8 | uint64(s[i])
	}
	return v, nil
}

func (d *msgpackDecoder) decode(depth int) (lua.LValue, error) {
	if depth > 1000 {
		return nil, errMsgpackFmt
	}
	c, err := d.uint(1)
	if err != nil {
		return nil, err
	}
	switch {
	case c <= 0x7f:
		return lua.LNumber(c), nil
	case c >= 0xe0:
		return lua.LNumber(int8(c)), nil
	case c&0xf0 == 0x80:
		return d.mapOf(int(c&0x0f), depth)
	case c&0xf0 == 0x90:
		return d.arrayOf(int(c&0x0f), depth)
	case c&0xe0 == 0xa0:
		return d.str(int(c & 0x1f))
	}
	switch c {
	case 0xc0:
		return lua.LNil, nil
	case 0xc2:
		return lua.LFalse, nil
	case 0xc3:
		return lua.LTrue, nil
	case 0xca:
		u, err := d.uint(4)
		return lua.LNumber(math.Float32frombits(uint32(u))), err
	case 0xcb:
		u, err := d.uint(8)
		return lua.LNumber(math.Float64frombits(u)), err
	case 0xcc, 0xcd, 0xce, 0xcf:
		u, err := d.uint(1 << (c - 0xcc))
		return lua.LNumber(float64(u)), err
	case 0xd0:
		u, err := d.uint(1)
		return lua.LNumber(int8(u)), err
	case 0xd1:
		u, err := d.uint(2)
		return lua.LNumber(int16(u)), err
	case 0xd2:
		u, err := d.uint(4)
		return lua.LNumber(int32(u)), err
	case 0xd3:
		u, err := d.uint(8)
		return lua.LNumber(float64(int64(u))), err
	case 0xd9:
		n, err := d.uint(1)
		if err != nil {
			return nil, err
		}
		return d.str(int(n))
	case 0xda:
		n, err := d.uint(2)
		if err != nil {
			return nil, err
		}
		return d.str(int(n))
	case 0xdb:
		n, err := d.uint(4)
		if err != nil {
			return nil, err
		}
		return d.str(int(n))
	case 0xdc, 0xdd:
		n, err := d.uint(2 << (c - 0xdc))
		if err != nil {
			return nil, err
		}
		return d.arrayOf(int(n), depth)
	case 0xde, 0xdf:
		n, err := d.uint(2 << (c - 0xde))
		if err != nil {
			return nil, err
		}
		return d.mapOf(int(n), depth)
	}
	return nil, errMsgpackFmt
}

func (d *msgpackDecoder) str(n int) (lua.LValue, error) {
	s, err := d.take(n)
	return lua.LString(s), err
}

func (d *msgpackDecoder) arrayOf(n int, depth int) (lua.LValue, error) {
	if n > len(d.b) {
		return nil, errMsgpackEOF // each element takes at least a byte
	}
	t := d.L.CreateTable(n, 0)
	for i := 1; i <= n; i++ {
		v, err := d.decode(depth + 1)
		if err != nil {
			return nil, err
		}
		t.RawSetInt(i, v)
	}
	return t, nil
}

func (d *msgpackDecoder) mapOf(n int, depth int) (lua.LValue, error) {
	if 2*n > len(d.b) {
		return nil, errMsgpackEOF
	}
	t := d.L.NewTable()
	for i := 0; i < n; i++ {
		k, err := d.decode(depth + 1)
		if err != nil {
			return nil, err
		}
		v, err := d.decode(depth + 1)
		if err != nil {
			return nil, err
		}
		if k != lua.LNil {
			d.L.RawSet(t, k, v)
		}
	}
	return t, nil
}
