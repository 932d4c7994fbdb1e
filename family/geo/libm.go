package geo

import "math"

// # sin, cos and asin as glibc computes them
//
// Redis's distances come from glibc's sin, cos and asin, which return the
// correctly rounded result; Go's math package is off by an ulp for about
// a quarter of the arguments, which shows in the 17-digit scores
// GEO...STORE ... STOREDIST writes and can move a point across a search
// radius. These evaluate the functions in double-double arithmetic
// (about 100 bits) and round once, which gives the correctly rounded
// value (TestLibmMatchesGlibc compares them with glibc's on recorded
// arguments). They serve the argument ranges the geo code uses: |x| up
// to a few π for sin and cos, [-1, 1] for asin.

// dd is a double-double: hi + lo, |lo| <= ulp(hi)/2.
type dd struct{ hi, lo float64 }

func twoSum(a, b float64) dd {
	s := a + b
	bb := s - a
	return dd{s, (a - (s - bb)) + (b - bb)}
}

func quickTwoSum(a, b float64) dd {
	s := a + b
	return dd{s, b - (s - a)}
}

func twoProd(a, b float64) dd {
	p := a * b
	return dd{p, math.FMA(a, b, -p)}
}

func ddAdd(a, b dd) dd {
	s := twoSum(a.hi, b.hi)
	t := twoSum(a.lo, b.lo)
	s.lo += t.hi
	s = quickTwoSum(s.hi, s.lo)
	s.lo += t.lo
	return quickTwoSum(s.hi, s.lo)
}

func ddMul(a, b dd) dd {
	p := twoProd(a.hi, b.hi)
	p.lo += float64(a.hi*b.lo) + float64(a.lo*b.hi)
	return quickTwoSum(p.hi, p.lo)
}

// ddDivF is a / b for an exact b.
func ddDivF(a dd, b float64) dd {
	q1 := a.hi / b
	p := twoProd(q1, b)
	rem := twoSum(a.hi, -p.hi)
	rem.lo -= p.lo
	rem.lo += a.lo
	q2 := (rem.hi + rem.lo) / b
	return quickTwoSum(q1, q2)
}

// π/2 in three parts (fdlibm's pio2_1, pio2_2, pio2_3 and their tails
// combined): enough for the reduction of |x| < 2^20 without loss.
const (
	pio2Hi  = 1.5707963267948966
	pio2Mid = 6.123233995736766e-17
	pio2Lo  = -1.4973849048591698e-33
)

// reduce returns r = x - k·π/2 in double-double and k mod 4.
func reduce(x float64) (dd, int) {
	k := math.RoundToEven(x / pio2Hi)
	// k*pio2Hi is not exact for every k: take its error too.
	e := twoProd(k, pio2Hi)
	r := ddAdd(twoSum(x, -e.hi), dd{-e.lo, 0})
	r = ddAdd(r, twoProd(-k, pio2Mid))
	r = ddAdd(r, dd{-k * pio2Lo, 0})
	return r, int(int64(k) & 3)
}

// sinCosDD evaluates sin and cos of a reduced r (|r| <= π/4) by their
// Taylor series in double-double.
func sinCosDD(r dd) (s, c dd) {
	r2 := ddMul(r, r)
	// sin: r - r^3/3! + ...; cos: 1 - r^2/2! + ...
	term := r
	s = r
	for n := 1; n < 20; n++ {
		term = ddMul(term, r2)
		term = ddDivF(term, -float64((2*n)*(2*n+1)))
		s = ddAdd(s, term)
		if math.Abs(term.hi) < 1e-34 {
			break
		}
	}
	term = dd{1, 0}
	c = dd{1, 0}
	for n := 1; n < 20; n++ {
		term = ddMul(term, r2)
		term = ddDivF(term, -float64((2*n-1)*(2*n)))
		c = ddAdd(c, term)
		if math.Abs(term.hi) < 1e-34 {
			break
		}
	}
	return s, c
}

func round(a dd) float64 { return a.hi + a.lo }

// glibcSin is sin(x) correctly rounded.
func glibcSin(x float64) float64 {
	if x == 0 || math.IsInf(x, 0) || math.IsNaN(x) || math.Abs(x) > 1<<20 {
		return math.Sin(x)
	}
	r, k := reduce(x)
	s, c := sinCosDD(r)
	switch k {
	case 0:
		return round(s)
	case 1:
		return round(c)
	case 2:
		return -round(s)
	}
	return -round(c)
}

// glibcCos is cos(x) correctly rounded.
func glibcCos(x float64) float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) || math.Abs(x) > 1<<20 {
		return math.Cos(x)
	}
	r, k := reduce(x)
	s, c := sinCosDD(r)
	switch k {
	case 0:
		return round(c)
	case 1:
		return -round(s)
	case 2:
		return -round(c)
	}
	return round(s)
}

// glibcAsin is asin(y) correctly rounded: math.Asin's value refined by a
// Newton step on sin evaluated in double-double.
func glibcAsin(y float64) float64 {
	if y == 0 || math.IsNaN(y) || math.Abs(y) > 1 {
		return math.Asin(y)
	}
	if math.Abs(y) == 1 {
		return math.Copysign(pio2Hi, y)
	}
	z := math.Asin(y)
	for range 2 {
		r, k := reduce(z)
		s, c := sinCosDD(r)
		var sz, cz dd
		switch k {
		case 0:
			sz, cz = s, c
		case 1:
			sz, cz = c, dd{-s.hi, -s.lo}
		case 2:
			sz, cz = dd{-s.hi, -s.lo}, dd{-c.hi, -c.lo}
		default:
			sz, cz = dd{-c.hi, -c.lo}, s
		}
		res := ddAdd(sz, dd{-y, 0}) // sin(z) - y
		delta := -round(res) / round(cz)
		next := z + delta
		if next == z {
			break
		}
		z = next
	}
	return z
}
