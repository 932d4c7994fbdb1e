package scripting

import (
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/tcached/tcached/rdb"
)

// FUNCTION DUMP and RESTORE payloads, in Redis 7.0's format: for each
// library the RDB_OPCODE_FUNCTION2 opcode and its code as an RDB string,
// then the RDB version (2 bytes, little-endian) and a CRC64 (Jones,
// little-endian) of everything before it. Strings are written as Redis's
// rdbSaveRawString writes them (LZF when it saves 4 bytes, package rdb),
// so a dump is byte-identical to redis-server's; RESTORE reads any.

const (
	rdbOpcodeFunction  = 246 // 7.0 release candidates' format: refused
	rdbOpcodeFunction2 = 245
	rdbVersion         = 10
)

// RestorePolicy is FUNCTION RESTORE's policy.
type RestorePolicy uint8

const (
	RestoreAppend RestorePolicy = iota
	RestoreReplace
	RestoreFlush
)

// Dump is FUNCTION DUMP: the libraries, by name.
func (e *Engine) Dump() []byte {
	e.mu.Lock()
	names := make([]string, 0, len(e.libs))
	for n := range e.libs {
		names = append(names, n)
	}
	sort.Strings(names)
	var b []byte
	for _, n := range names {
		b = append(b, rdbOpcodeFunction2)
		b = rdb.AppendString(b, []byte(e.libs[n].Code))
	}
	e.mu.Unlock()
	b = append(b, rdbVersion&0xff, rdbVersion>>8)
	return binary.LittleEndian.AppendUint64(b, rdb.CRC64(0, b))
}

// Restore is FUNCTION RESTORE: it returns the error reply, or "".
func (e *Engine) Restore(payload []byte, policy RestorePolicy, now func() int64) string {
	n := len(payload)
	if n < 10 {
		return "ERR DUMP payload version or checksum are wrong"
	}
	ver := binary.LittleEndian.Uint16(payload[n-10:])
	if ver > rdbVersion || binary.LittleEndian.Uint64(payload[n-8:]) != rdb.CRC64(0, payload[:n-8]) {
		return "ERR DUMP payload version or checksum are wrong"
	}
	body := payload[:n-10]
	var libs []*Library
	names := map[string]bool{}
	for len(body) > 0 {
		op := body[0]
		body = body[1:]
		if op != rdbOpcodeFunction2 {
			if op == rdbOpcodeFunction {
				return "ERR Pre-GA function format not supported"
			}
			return "ERR given type is not a function"
		}
		code, rest, ok := readRDBString(body)
		if !ok {
			return "ERR failed loading the given functions payload"
		}
		body = rest
		engine, name, src, msg := libMeta(string(code))
		if msg == "" && !validName(name) {
			msg = errFuncLibName
		}
		if msg == "" && !equalFoldASCII(engine, "lua") {
			msg = fmt.Sprintf(errFuncEngineMissing, engine)
		}
		if msg == "" && names[name] {
			msg = fmt.Sprintf(errFuncLibExists, name)
		}
		if msg != "" {
			return msg
		}
		lib, msg := e.compileLibrary(name, string(code), src, now)
		if msg != "" {
			return msg
		}
		names[name] = true
		libs = append(libs, lib)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	// Function names must be unique among the restored libraries.
	seen := map[string]bool{}
	for _, l := range libs {
		for key, f := range l.funcs {
			if seen[key] {
				return fmt.Sprintf(errFuncLibAlready, f.Name)
			}
			seen[key] = true
		}
	}
	var cost int64
	for _, l := range libs {
		cost += l.cost
	}
	if policy == RestoreFlush {
		var old int64
		for _, l := range e.libs {
			old += l.cost
		}
		if cost > old && !e.budget.Reserve(cost-old) {
			return e.oom
		}
		if cost < old {
			e.budget.Release(old - cost)
		}
		e.charged += cost - old
		e.libs, e.funcs = map[string]*Library{}, map[string]*Function{}
		for _, l := range libs {
			e.link(l)
		}
		return ""
	}
	var replaced []*Library
	for _, l := range libs {
		if old := e.libs[l.Name]; old != nil {
			if policy != RestoreReplace {
				return fmt.Sprintf("ERR Library %s already exists", l.Name)
			}
			replaced = append(replaced, old)
		}
	}
	gone := map[*Library]bool{}
	for _, o := range replaced {
		gone[o] = true
	}
	for _, l := range libs {
		for key, f := range l.funcs {
			if o := e.funcs[key]; o != nil && !gone[o.lib] {
				return fmt.Sprintf(errFuncLibAlready, f.Name)
			}
		}
	}
	if !e.budget.Reserve(cost) {
		return e.oom
	}
	e.charged += cost
	for _, o := range replaced {
		e.unlink(o)
	}
	for _, l := range libs {
		e.link(l)
	}
	return ""
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i]|0x20, b[i]|0x20
		if x != y {
			return false
		}
	}
	return true
}

// readRDBString reads an RDB string: length-prefixed, an integer
// encoding, or LZF-compressed.
func readRDBString(b []byte) (s, rest []byte, ok bool) {
	n, enc, b, ok := readRDBLen(b)
	if !ok {
		return nil, nil, false
	}
	if !enc {
		if uint64(len(b)) < n {
			return nil, nil, false
		}
		return b[:n], b[n:], true
	}
	switch n {
	case 0: // int8
		if len(b) < 1 {
			return nil, nil, false
		}
		return []byte(fmt.Sprint(int8(b[0]))), b[1:], true
	case 1: // int16
		if len(b) < 2 {
			return nil, nil, false
		}
		return []byte(fmt.Sprint(int16(binary.LittleEndian.Uint16(b)))), b[2:], true
	case 2: // int32
		if len(b) < 4 {
			return nil, nil, false
		}
		return []byte(fmt.Sprint(int32(binary.LittleEndian.Uint32(b)))), b[4:], true
	case 3: // LZF
		clen, _, b, ok := readRDBLen(b)
		if !ok {
			return nil, nil, false
		}
		ulen, _, b, ok := readRDBLen(b)
		if !ok || uint64(len(b)) < clen || ulen > 512<<20 {
			return nil, nil, false
		}
		out, ok := rdb.LZFDecompress(b[:clen], int(ulen))
		return out, b[clen:], ok
	}
	return nil, nil, false
}

// readRDBLen reads an RDB length; enc reports a special encoding (its
// type in n).
func readRDBLen(b []byte) (n uint64, enc bool, rest []byte, ok bool) {
	if len(b) < 1 {
		return 0, false, nil, false
	}
	switch b[0] >> 6 {
	case 0:
		return uint64(b[0] & 0x3f), false, b[1:], true
	case 1:
		if len(b) < 2 {
			return 0, false, nil, false
		}
		return uint64(b[0]&0x3f)<<8 | uint64(b[1]), false, b[2:], true
	case 3:
		return uint64(b[0] & 0x3f), true, b[1:], true
	}
	switch b[0] {
	case 0x80:
		if len(b) < 5 {
			return 0, false, nil, false
		}
		return uint64(binary.BigEndian.Uint32(b[1:])), false, b[5:], true
	case 0x81:
		if len(b) < 9 {
			return 0, false, nil, false
		}
		return binary.BigEndian.Uint64(b[1:]), false, b[9:], true
	}
	return 0, false, nil, false
}
