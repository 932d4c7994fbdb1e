package command

import (
	"math"
	"math/big"
	"strings"
)

// ParseInt parses b as Redis's string2ll does: optional '-', no '+', no
// spaces, no leading zeros, at most 20 bytes, within int64.
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := false
	i := 0
	if b[0] == '-' {
		neg = true
		i = 1
		if len(b) == 1 {
			return 0, false
		}
	}
	if b[i] < '1' || b[i] > '9' {
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (math.MaxUint64-9)/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// ParseUint parses a SCAN cursor as Redis's parseScanCursorOrReply does
// with strtoul: the C string (up to a NUL byte), not starting with a
// space, an optional sign and decimal digits consuming all of it, within
// uint64; "" is 0 and a minus sign negates modulo 2^64 ("-1" is the
// largest cursor).
func ParseUint(b []byte) (uint64, bool) {
	b = CStr(b)
	if len(b) == 0 {
		return 0, true
	}
	neg := false
	switch b[0] {
	case '-':
		neg, b = true, b[1:]
	case '+':
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if neg {
		v = -v
	}
	return v, true
}

// longDouble emulates the x87 80-bit long double Redis uses for
// INCRBYFLOAT: a 64-bit mantissa, round to nearest even. With float64,
// INCRBYFLOAT 0.1 three times would print 0.30000000000000004 where Redis
// prints 0.3.
const LongDoublePrec = 64

var MaxLongDouble = func() *big.Float {
	f, _, _ := big.ParseFloat("1.18973149535723176502e+4932", 10, LongDoublePrec, big.ToNearestEven)
	return f
}()

// ParseLongDouble parses b as Redis's string2ld does: no surrounding
// spaces, no NaN, at most 5 KiB.
func ParseLongDouble(b []byte) (*big.Float, bool) {
	if len(b) == 0 || len(b) > 5*1024 {
		return nil, false
	}
	s := string(b)
	if strings.ContainsAny(s, " \t\r\n\v\f_") {
		return nil, false
	}
	ls := strings.ToLower(s)
	switch strings.TrimLeft(ls, "+-") {
	case "inf", "infinity":
		f := new(big.Float).SetInf(ls[0] == '-')
		return f, true
	}
	if strings.Contains(ls, "nan") {
		return nil, false
	}
	f, _, err := big.ParseFloat(s, 0, LongDoublePrec, big.ToNearestEven)
	if err != nil {
		return nil, false
	}
	if f.IsInf() || new(big.Float).Abs(f).Cmp(MaxLongDouble) > 0 {
		// strtold reports ERANGE (HUGE_VAL) for overflow: not a float.
		return nil, false
	}
	return f, true
}

// FormatLongDouble renders f as Redis's ld2string(LD_STR_HUMAN): "%.17Lf"
// with trailing zeros (and a trailing point) removed.
func FormatLongDouble(f *big.Float) string {
	s := f.Text('f', 17)
	if strings.IndexByte(s, '.') >= 0 {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// EqFold reports whether b equals the lower-case ASCII word w, ignoring case.
func EqFold(b []byte, w string) bool {
	if len(b) != len(w) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 32
		}
		if c != w[i] {
			return false
		}
	}
	return true
}

// NumDBs is the number of dbs (SELECT 0-15) each tenant has.
const NumDBs = 16

// LowerInto appends src lower-cased (ASCII) to dst.
func LowerInto(dst, src []byte) []byte {
	for _, b := range src {
		if b >= 'A' && b <= 'Z' {
			b += 32
		}
		dst = append(dst, b)
	}
	return dst
}
