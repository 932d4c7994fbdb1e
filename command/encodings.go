package command

import (
	"fmt"
	"math"
	"math/bits"
	"strings"
	"sync/atomic"

	"github.com/tcached/tcached/value"
)

// Encodings are a tenant's collection-encoding thresholds: Redis's
// hash-max-listpack-entries and friends, settable per tenant with CONFIG
// SET (they only choose between a collection's two encodings, so a tenant
// changing them affects only its own keys). The families read them on
// every write through Ctx.Limits; a change applies to later writes, and
// like Redis never converts a collection back.
type Encodings struct {
	params [numEncodingParams]atomic.Int64
}

// EncodingParam is one threshold: its CONFIG name, Redis 7.0's old name
// for it ("" if none), its default, the bounds CONFIG SET enforces, and
// whether it is a memory value (Redis's MEMORY_CONFIG: "64", "1kb",
// "2m"...) rather than a plain integer.
type EncodingParam struct {
	Name, Alias string
	Default     int64
	Min, Max    int64
	Memory      bool
}

const numEncodingParams = 9

// EncodingParams are the thresholds in Encodings' order, with Redis 7.0's
// defaults and bounds (set-max-listpack-* are Redis 7.2's: 7.0 keeps no
// compact form for a set of strings, see family/set). list-compress-depth
// is kept and reported but changes nothing: tcached never compresses a
// list's nodes (Redis's default, 0, does not either).
func EncodingParams() [numEncodingParams]EncodingParam {
	const sizeMax = math.MaxInt64 // Redis's LONG_MAX for size_t thresholds
	return [...]EncodingParam{
		{"hash-max-listpack-entries", "hash-max-ziplist-entries", 512, 0, sizeMax, false},
		{"hash-max-listpack-value", "hash-max-ziplist-value", 64, 0, sizeMax, true},
		{"set-max-intset-entries", "", 512, 0, sizeMax, false},
		{"set-max-listpack-entries", "", 128, 0, sizeMax, false},
		{"set-max-listpack-value", "", 64, 0, sizeMax, false},
		{"zset-max-listpack-entries", "zset-max-ziplist-entries", 128, 0, sizeMax, false},
		{"zset-max-listpack-value", "zset-max-ziplist-value", 64, 0, sizeMax, true},
		{"list-max-listpack-size", "list-max-ziplist-size", -2, math.MinInt32, math.MaxInt32, false},
		{"list-compress-depth", "", 0, 0, math.MaxInt32, false},
	}
}

// Parse reads a CONFIG SET argument for p as Redis 7.0 does; on failure
// it returns Redis's reason ("argument must be ...").
func (p EncodingParam) Parse(arg []byte) (int64, string) {
	var v int64
	if p.Memory {
		n, ok, overflow := parseMemory(arg)
		switch {
		case overflow:
			return 0, fmt.Sprintf("argument must be between %d and %d inclusive", p.Min, p.Max)
		case !ok:
			return 0, "argument must be a memory value"
		}
		v = n
	} else {
		n, ok := ParseInt(arg)
		if !ok {
			return 0, "argument couldn't be parsed into an integer"
		}
		v = n
	}
	if v < p.Min || v > p.Max {
		return 0, fmt.Sprintf("argument must be between %d and %d inclusive", p.Min, p.Max)
	}
	return v, ""
}

// parseMemory is Redis's memtoull: decimal digits (none reads as 0) and
// an optional unit b, k, kb, m, mb, g, gb in any case; no sign, no space.
// overflow reports a number past int64.
func parseMemory(b []byte) (v int64, ok, overflow bool) {
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	var mul uint64
	switch u := strings.ToLower(string(b[i:])); u {
	case "", "b":
		mul = 1
	case "k":
		mul = 1000
	case "kb":
		mul = 1024
	case "m":
		mul = 1000 * 1000
	case "mb":
		mul = 1024 * 1024
	case "g":
		mul = 1000 * 1000 * 1000
	case "gb":
		mul = 1024 * 1024 * 1024
	default:
		return 0, false, false
	}
	var n uint64
	for _, c := range b[:i] {
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, true, true
		}
		n = n*10 + d
	}
	hi, lo := bits.Mul64(n, mul)
	if hi != 0 || lo > math.MaxInt64 {
		return 0, true, true
	}
	return int64(lo), true, false
}

// NewEncodings returns Redis's defaults.
func NewEncodings() *Encodings {
	e := &Encodings{}
	for i, p := range EncodingParams() {
		e.params[i].Store(p.Default)
	}
	return e
}

// Lookup finds a parameter by its name or alias (case-insensitive): where
// its value is kept, and its description.
func (e *Encodings) Lookup(name string) (*atomic.Int64, EncodingParam, bool) {
	for i, p := range EncodingParams() {
		if EqFold([]byte(name), p.Name) || p.Alias != "" && EqFold([]byte(name), p.Alias) {
			return &e.params[i], p, true
		}
	}
	return nil, EncodingParam{}, false
}

// Get is the value of parameter i of EncodingParams().
func (e *Encodings) Get(i int) int64 { return e.params[i].Load() }

// Limits is the thresholds now.
func (e *Encodings) Limits() value.Limits {
	return value.Limits{
		HashEntries:      e.params[0].Load(),
		HashValue:        e.params[1].Load(),
		SetIntset:        e.params[2].Load(),
		SetListpack:      e.params[3].Load(),
		SetListpackValue: e.params[4].Load(),
		ZSetEntries:      e.params[5].Load(),
		ZSetValue:        e.params[6].Load(),
		ListFill:         e.params[7].Load(),
	}
}

// Limits is the tenant's encoding thresholds (Redis's defaults when the
// connection has none, as an operator's has not).
func (c *Ctx) Limits() value.Limits {
	if c.Enc == nil {
		return value.DefaultLimits()
	}
	return c.Enc.Limits()
}
