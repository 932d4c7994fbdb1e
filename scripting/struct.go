package scripting

import (
	"encoding/binary"
	"fmt"
	"math"

	lua "github.com/yuin/gopher-lua"
)

// The struct library: a port of Roberto Ierusalimschy's struct 0.2
// (deps/lua/src/lua_struct.c) as Redis builds it on x86-64 Linux: long
// and size_t are 8 bytes, native order little-endian, the largest
// alignment 8.

const (
	structMaxIntSize = 32
	structMaxAlign   = 8
)

type structHeader struct {
	little bool
	align  int
}

func structGetNum(L *lua.LState, f string, i *int, def int) int {
	if *i >= len(f) || f[*i] < '0' || f[*i] > '9' {
		return def
	}
	a := 0
	for *i < len(f) && f[*i] >= '0' && f[*i] <= '9' {
		d := int(f[*i] - '0')
		if a > math.MaxInt32/10 || a*10 > math.MaxInt32-d {
			L.RaiseError("integral size overflow")
		}
		a = a*10 + d
		*i++
	}
	return a
}

func structOptSize(L *lua.LState, opt byte, f string, i *int) int {
	switch opt {
	case 'B', 'b':
		return 1
	case 'H', 'h':
		return 2
	case 'L', 'l', 'T':
		return 8
	case 'f':
		return 4
	case 'd':
		return 8
	case 'x':
		return 1
	case 'c':
		return structGetNum(L, f, i, 1)
	case 'i', 'I':
		sz := structGetNum(L, f, i, 4)
		if sz > structMaxIntSize {
			L.RaiseError("integral size %d is larger than limit of %d", sz, structMaxIntSize)
		}
		return sz
	}
	return 0
}

func structToAlign(n int, h *structHeader, opt byte, size int) int {
	if size == 0 || opt == 'c' {
		return 0
	}
	if size > h.align {
		size = h.align
	}
	return (size - (n & (size - 1))) & (size - 1)
}

func structControl(L *lua.LState, fname string, opt byte, f string, i *int, h *structHeader) {
	switch opt {
	case ' ':
	case '>':
		h.little = false
	case '<':
		h.little = true
	case '!':
		a := structGetNum(L, f, i, structMaxAlign)
		if a <= 0 || a&(a-1) != 0 {
			L.RaiseError("alignment %d is not a power of 2", a)
		}
		h.align = a
	default:
		argError(L, 1, fname, fmt.Sprintf("invalid format option '%c'", opt))
	}
}

func newStructLib(L *lua.LState, v *vm) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(func(L *lua.LState) int {
		f := L.CheckString(1)
		h := structHeader{little: true, align: 1}
		arg := 2
		var out []byte
		for i := 0; i < len(f); {
			opt := f[i]
			i++
			size := structOptSize(L, opt, f, &i)
			for pad := structToAlign(len(out), &h, opt, size); pad > 0; pad-- {
				out = append(out, 0)
			}
			switch opt {
			case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
				n := float64(L.CheckNumber(arg))
				arg++
				var value uint64
				if n < 0 {
					value = uint64(int64(n))
				} else {
					value = uint64(n)
				}
				buf := make([]byte, size)
				if h.little {
					for k := 0; k < size; k++ {
						buf[k] = byte(value)
						value >>= 8
					}
				} else {
					for k := size - 1; k >= 0; k-- {
						buf[k] = byte(value)
						value >>= 8
					}
				}
				out = append(out, buf...)
			case 'x':
				out = append(out, 0)
			case 'f':
				bits := math.Float32bits(float32(L.CheckNumber(arg)))
				arg++
				out = appendOrder(out, uint64(bits), 4, h.little)
			case 'd':
				bits := math.Float64bits(float64(L.CheckNumber(arg)))
				arg++
				out = appendOrder(out, bits, 8, h.little)
			case 'c', 's':
				s := L.CheckString(arg)
				arg++
				if size == 0 {
					size = len(s)
				}
				if len(s) < size {
					argError(L, arg, "pack", "string too short")
				}
				v.e.allocCheck(L, int64(len(out)+size))
				out = append(out, s[:size]...)
				if opt == 's' {
					out = append(out, 0)
				}
			default:
				structControl(L, "pack", opt, f, &i, &h)
			}
		}
		L.Push(lua.LString(out))
		return 1
	}))
	t.RawSetString("unpack", L.NewFunction(func(L *lua.LState) int {
		f := L.CheckString(1)
		data := L.CheckString(2)
		pos := L.OptInt(3, 1)
		if pos <= 0 {
			argError(L, 3, "unpack", "offset must be 1 or greater")
		}
		pos--
		h := structHeader{little: true, align: 1}
		n := 0
		ld := len(data)
		for i := 0; i < len(f); {
			opt := f[i]
			i++
			size := structOptSize(L, opt, f, &i)
			pos += structToAlign(pos, &h, opt, size)
			if !(size <= ld && pos <= ld-size) {
				argError(L, 2, "unpack", "data string too short")
			}
			switch opt {
			case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
				var l uint64
				if !h.little {
					for k := 0; k < size; k++ {
						l = l<<8 | uint64(data[pos+k])
					}
				} else {
					for k := size - 1; k >= 0; k-- {
						l = l<<8 | uint64(data[pos+k])
					}
				}
				if opt >= 'a' && opt <= 'z' {
					if size*8-1 < 64 {
						mask := ^uint64(0) << uint(size*8-1)
						if l&mask != 0 {
							l |= mask
						}
					}
					L.Push(lua.LNumber(float64(int64(l))))
				} else {
					L.Push(lua.LNumber(float64(l)))
				}
				n++
			case 'x':
			case 'f':
				b := []byte(data[pos : pos+4])
				if !h.little {
					b = []byte{b[3], b[2], b[1], b[0]}
				}
				L.Push(lua.LNumber(math.Float32frombits(binary.LittleEndian.Uint32(b))))
				n++
			case 'd':
				b := []byte(data[pos : pos+8])
				if !h.little {
					for a, z := 0, 7; a < z; a, z = a+1, z-1 {
						b[a], b[z] = b[z], b[a]
					}
				}
				L.Push(lua.LNumber(math.Float64frombits(binary.LittleEndian.Uint64(b))))
				n++
			case 'c':
				if size == 0 {
					prev, ok := L.Get(-1).(lua.LNumber)
					if n == 0 || !ok {
						L.RaiseError("format 'c0' needs a previous size")
					}
					size = int(prev)
					L.Pop(1)
					n--
					if !(size >= 0 && size <= ld && pos <= ld-size) {
						argError(L, 2, "unpack", "data string too short")
					}
				}
				L.Push(lua.LString(data[pos : pos+size]))
				n++
			case 's':
				e := -1
				for k := pos; k < ld; k++ {
					if data[k] == 0 {
						e = k
						break
					}
				}
				if e < 0 {
					L.RaiseError("unfinished string in data")
				}
				size = e - pos + 1
				L.Push(lua.LString(data[pos : pos+size-1]))
				n++
			default:
				structControl(L, "unpack", opt, f, &i, &h)
			}
			pos += size
		}
		L.Push(lua.LNumber(pos + 1))
		return n + 1
	}))
	t.RawSetString("size", L.NewFunction(func(L *lua.LState) int {
		f := L.CheckString(1)
		h := structHeader{little: true, align: 1}
		pos := 0
		for i := 0; i < len(f); {
			opt := f[i]
			i++
			size := structOptSize(L, opt, f, &i)
			pos += structToAlign(pos, &h, opt, size)
			if opt == 's' {
				argError(L, 1, "size", "option 's' has no fixed size")
			} else if opt == 'c' && size == 0 {
				argError(L, 1, "size", "option 'c0' has no fixed size")
			}
			if !(opt >= 'a' && opt <= 'z' || opt >= 'A' && opt <= 'Z' || opt >= '0' && opt <= '9') {
				structControl(L, "size", opt, f, &i, &h)
			}
			pos += size
		}
		L.Push(lua.LNumber(pos))
		return 1
	}))
	return t
}

// argError is luaL_argerror's message, with the function's name quoted
// as Lua 5.1 quotes it (gopher-lua's ArgError does not).
func argError(L *lua.LState, n int, fname, msg string) {
	L.RaiseError("bad argument #%d to '%s' (%s)", n, fname, msg)
}

func appendOrder(out []byte, v uint64, size int, little bool) []byte {
	buf := make([]byte, size)
	for k := 0; k < size; k++ {
		buf[k] = byte(v >> (8 * k))
	}
	if !little {
		for a, z := 0, size-1; a < z; a, z = a+1, z-1 {
			buf[a], buf[z] = buf[z], buf[a]
		}
	}
	return append(out, buf...)
}
