package scripting

import (
	"math"

	lua "github.com/yuin/gopher-lua"
)

// The bit library: a port of LuaBitOp 1.0.2 (deps/lua/src/lua_bit.c),
// which Redis ships. Operands are converted to 32 bits as LuaBitOp does
// (adding 2^52+2^51 to the double and keeping the low word: rounding to
// the nearest integer, modulo 2^32); results are signed 32-bit numbers.

func bitArg(L *lua.LState, n int) uint32 {
	var f float64
	switch x := L.Get(n).(type) {
	case lua.LNumber:
		f = float64(x)
	case lua.LString:
		v, err := parseLuaNumber(string(x))
		if err != nil {
			L.TypeError(n, lua.LTNumber)
		}
		f = v
	default:
		L.TypeError(n, lua.LTNumber)
	}
	return uint32(math.Float64bits(f + 6755399441055744.0))
}

func bitRet(L *lua.LState, b uint32) int {
	L.Push(lua.LNumber(float64(int32(b))))
	return 1
}

func newBitLib(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	fold := func(op func(a, b uint32) uint32) lua.LGFunction {
		return func(L *lua.LState) int {
			b := bitArg(L, 1)
			for i := L.GetTop(); i > 1; i-- {
				b = op(b, bitArg(L, i))
			}
			return bitRet(L, b)
		}
	}
	shift := func(op func(b, n uint32) uint32) lua.LGFunction {
		return func(L *lua.LState) int {
			b := bitArg(L, 1)
			n := bitArg(L, 2) & 31
			return bitRet(L, op(b, n))
		}
	}
	for name, fn := range map[string]lua.LGFunction{
		"tobit":  func(L *lua.LState) int { return bitRet(L, bitArg(L, 1)) },
		"bnot":   func(L *lua.LState) int { return bitRet(L, ^bitArg(L, 1)) },
		"band":   fold(func(a, b uint32) uint32 { return a & b }),
		"bor":    fold(func(a, b uint32) uint32 { return a | b }),
		"bxor":   fold(func(a, b uint32) uint32 { return a ^ b }),
		"lshift": shift(func(b, n uint32) uint32 { return b << n }),
		"rshift": shift(func(b, n uint32) uint32 { return b >> n }),
		"arshift": shift(func(b, n uint32) uint32 {
			return uint32(int32(b) >> n)
		}),
		"rol": shift(func(b, n uint32) uint32 { return b<<n | b>>((32-n)&31) }),
		"ror": shift(func(b, n uint32) uint32 { return b<<((32-n)&31) | b>>n }),
		"bswap": func(L *lua.LState) int {
			b := bitArg(L, 1)
			return bitRet(L, b>>24|b>>8&0xff00|(b&0xff00)<<8|b<<24)
		},
		"tohex": func(L *lua.LState) int {
			b := bitArg(L, 1)
			n := int32(8)
			if L.GetTop() >= 2 {
				n = int32(bitArg(L, 2))
			}
			digits := "0123456789abcdef"
			if n < 0 {
				n = -n
				digits = "0123456789ABCDEF"
			}
			if n > 8 {
				n = 8
			}
			buf := make([]byte, n)
			for i := int(n) - 1; i >= 0; i-- {
				buf[i] = digits[b&15]
				b >>= 4
			}
			L.Push(lua.LString(buf))
			return 1
		},
	} {
		t.RawSetString(name, L.NewFunction(fn))
	}
	return t
}
