package zset

import (
	"math"
	"strconv"
	"strings"

	"github.com/tcached/tcached/command"
)

// # Score parsing

// isCSpace is C's isspace in the "C" locale.
func isCSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\v' || b == '\f' || b == '\r'
}

// cStrtod parses all of s as glibc's strtod would (decimal and hex
// floats, inf/infinity/nan in any case, an optional sign; no leading
// space). ok is false unless strtod would consume all of s. rangeErr is
// strtod's ERANGE: a finite number overflowing to ±Inf, or a non-zero
// number underflowing to 0.
func cStrtod(s string) (f float64, rangeErr, ok bool) {
	if s == "" || strings.IndexByte(s, '_') >= 0 {
		return 0, false, false
	}
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 {
		return 0, false, false
	}
	hex := len(body) > 1 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X')
	in := s
	if hex && !strings.ContainsAny(body, "pP") {
		in = s + "p0" // C accepts a hex float without exponent, Go does not
	}
	f, err := strconv.ParseFloat(in, 64)
	if err != nil {
		if ne, isNum := err.(*strconv.NumError); isNum && ne.Err == strconv.ErrRange {
			return f, true, true
		}
		return 0, false, false
	}
	if f == 0 {
		// Underflow: a mantissa with a non-zero digit that became 0.
		mant := body
		if hex {
			mant = body[2:]
			if i := strings.IndexAny(mant, "pP"); i >= 0 {
				mant = mant[:i]
			}
			if strings.ContainsAny(mant, "123456789abcdefABCDEF") {
				return f, true, true
			}
		} else {
			if i := strings.IndexAny(mant, "eE"); i >= 0 {
				mant = mant[:i]
			}
			if strings.ContainsAny(mant, "123456789") {
				return f, true, true
			}
		}
	}
	return f, false, true
}

// parseScore parses a score or increment as Redis's getDoubleFromObject:
// strtod over the whole argument, no leading space, no NaN, no ERANGE
// (so 1e400 and 1e-400 are refused), but inf, -inf, +inf accepted.
func parseScore(b []byte) (float64, bool) {
	if len(b) == 0 || isCSpace(b[0]) {
		return 0, false
	}
	f, rangeErr, ok := cStrtod(string(b))
	if !ok || rangeErr || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// scoreRange is a ZRANGEBYSCORE-style interval (Redis's zrangespec).
type scoreRange struct {
	min, max     float64
	minex, maxex bool
}

// parseRangeBound parses one bound as Redis's zslParseRange: "(" makes it
// exclusive; the rest goes through plain strtod, which skips leading
// space, turns overflow into ±inf and an empty string (or one starting
// with NUL) into 0; NaN fails.
func parseRangeBound(b []byte) (f float64, ex, ok bool) {
	b = command.CStr(b) // strtod reads a C string: a NUL ends it
	if len(b) > 0 && b[0] == '(' {
		ex = true
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, ex, true
	}
	i := 0
	for i < len(b) && isCSpace(b[i]) {
		i++
	}
	if i == len(b) {
		return 0, ex, false // no conversion: strtod stops at the space
	}
	f, _, ok = cStrtod(string(b[i:]))
	if !ok || math.IsNaN(f) {
		return 0, ex, false
	}
	return f, ex, true
}

func parseScoreRange(minArg, maxArg []byte) (r scoreRange, ok bool) {
	var ok1, ok2 bool
	r.min, r.minex, ok1 = parseRangeBound(minArg)
	r.max, r.maxex, ok2 = parseRangeBound(maxArg)
	return r, ok1 && ok2
}

func (r *scoreRange) gteMin(v float64) bool {
	if r.minex {
		return v > r.min
	}
	return v >= r.min
}

func (r *scoreRange) lteMax(v float64) bool {
	if r.maxex {
		return v < r.max
	}
	return v <= r.max
}

// empty reports a range that can hold nothing (zslIsInRange's first test).
func (r *scoreRange) empty() bool {
	return r.min > r.max || r.min == r.max && (r.minex || r.maxex)
}

// lexBound is one end of a BYLEX range: "-" (kind -1), "+" (kind 1), or a
// string (kind 0), inclusive "[" or exclusive "(".
type lexBound struct {
	kind int
	s    []byte
	ex   bool
}

// lexRange is Redis's zlexrangespec.
type lexRange struct{ min, max lexBound }

func parseLexBound(b []byte) (lexBound, bool) {
	if len(b) == 0 {
		return lexBound{}, false
	}
	switch b[0] {
	case '+':
		return lexBound{kind: 1}, len(b) == 1
	case '-':
		return lexBound{kind: -1}, len(b) == 1
	case '(':
		return lexBound{s: b[1:], ex: true}, true
	case '[':
		return lexBound{s: b[1:]}, true
	}
	return lexBound{}, false
}

func parseLexRange(minArg, maxArg []byte) (r lexRange, ok bool) {
	var ok1, ok2 bool
	r.min, ok1 = parseLexBound(minArg)
	r.max, ok2 = parseLexBound(maxArg)
	return r, ok1 && ok2
}

// cmpLex is Redis's sdscmplex: "-" sorts before and "+" after everything.
func cmpLex(a, b lexBound) int {
	switch {
	case a.kind == b.kind && a.kind != 0:
		return 0
	case a.kind == -1 || b.kind == 1:
		return -1
	case a.kind == 1 || b.kind == -1:
		return 1
	}
	return strings.Compare(string(a.s), string(b.s))
}

func (r *lexRange) gteMin(v []byte) bool {
	c := cmpLex(lexBound{s: v}, r.min)
	if r.min.ex {
		return c > 0
	}
	return c >= 0
}

func (r *lexRange) lteMax(v []byte) bool {
	c := cmpLex(lexBound{s: v}, r.max)
	if r.max.ex {
		return c < 0
	}
	return c <= 0
}

func (r *lexRange) empty() bool {
	c := cmpLex(r.min, r.max)
	return c > 0 || c == 0 && (r.min.ex || r.max.ex)
}

// ParseFloat parses a float argument as Redis's getDoubleFromObject
// (scores, weights; GEO coordinates and radii).
func ParseFloat(b []byte) (float64, bool) { return parseScore(b) }
