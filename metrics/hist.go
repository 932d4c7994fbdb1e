package metrics

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// LatencyBuckets are the upper bounds (seconds) of command latency
// histograms: from 50µs (a loopback GET) to 2s (past every tier timeout:
// platinum 200ms, gold 500ms, silver 1s).
var LatencyBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .2, .5, 1, 2}

// Histogram is a fixed-bucket histogram built from atomics: Observe costs a
// short bucket search and two atomic adds (the count is the buckets' sum), with no allocation and no
// label lookup, so it can sit on every command's path. It is exported at
// scrape time as a Prometheus histogram.
type Histogram struct {
	bounds []float64
	counts []atomic.Uint64 // per bucket, not cumulative; last is +Inf
	// sumNs is written by every Observe: off the line of the slice
	// headers every Observe reads.
	_     [64]byte
	sumNs atomic.Int64
	_     [56]byte
}

// maxBuckets bounds a histogram's buckets (bounds plus +Inf), so that a
// Batch holds its counts in a fixed array and a bit mask.
const maxBuckets = 32

// NewHistogram returns a histogram with the given ascending upper bounds
// (at most 31).
func NewHistogram(bounds []float64) *Histogram {
	if len(bounds)+1 > maxBuckets {
		panic("metrics: too many histogram buckets")
	}
	return &Histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

// bucket is the index of d's bucket.
func (h *Histogram) bucket(d time.Duration) int {
	s := d.Seconds()
	i := 0
	for i < len(h.bounds) && s > h.bounds[i] {
		i++
	}
	return i
}

// Observe records one duration.
func (h *Histogram) Observe(d time.Duration) {
	h.counts[h.bucket(d)].Add(1)
	h.sumNs.Add(int64(d))
}

// Batch gathers observations of one goroutine (a connection) and adds them
// to their Histogram on Flush: a pipeline of 16 commands then costs the
// shared histogram two or three atomic adds instead of 32, which on two
// cores serving one tenant are cache-line transfers. A Batch is not safe
// for concurrent use; its zero value is empty. Observations are not seen
// by Snapshot until flushed: flush before the replies they time leave.
type Batch struct {
	h       *Histogram
	touched uint32 // buckets with a count
	sumNs   int64
	counts  [maxBuckets]uint32 // a connection flushes long before 4e9
}

// Observe records d for h. Observations for another histogram flush the
// pending ones first.
func (b *Batch) Observe(h *Histogram, d time.Duration) {
	if h != b.h {
		b.Flush()
		b.h = h
	}
	i := h.bucket(d)
	b.counts[i]++
	b.touched |= 1 << i
	b.sumNs += int64(d)
}

// Flush adds the pending observations to their histogram.
func (b *Batch) Flush() {
	for m := b.touched; m != 0; m &= m - 1 {
		i := bits.TrailingZeros32(m)
		b.h.counts[i].Add(uint64(b.counts[i]))
		b.counts[i] = 0
	}
	if b.touched != 0 {
		b.h.sumNs.Add(b.sumNs)
		b.touched, b.sumNs = 0, 0
	}
}

// HistogramSnapshot is a point-in-time copy: Buckets maps each upper bound
// to the cumulative count at or below it, as Prometheus wants.
type HistogramSnapshot struct {
	Count   uint64
	Sum     float64 // seconds
	Buckets map[float64]uint64
}

// Snapshot copies the histogram (reads are not atomic as a whole; each
// bucket is, which is what a scrape needs).
func (h *Histogram) Snapshot() HistogramSnapshot {
	s := HistogramSnapshot{Buckets: make(map[float64]uint64, len(h.bounds))}
	var cum uint64
	for i, b := range h.bounds {
		cum += h.counts[i].Load()
		s.Buckets[b] = cum
	}
	s.Count = cum + h.counts[len(h.bounds)].Load()
	s.Sum = float64(h.sumNs.Load()) / 1e9
	return s
}

// Quantile estimates the q-quantile (0..1) by linear interpolation inside
// the bucket that holds it, as Prometheus's histogram_quantile does.
func (s HistogramSnapshot) Quantile(q float64, bounds []float64) float64 {
	if s.Count == 0 {
		return 0
	}
	rank := q * float64(s.Count)
	lower, prev := 0.0, uint64(0)
	for _, b := range bounds {
		c := s.Buckets[b]
		if float64(c) >= rank {
			if c == prev {
				return b
			}
			return lower + (b-lower)*(rank-float64(prev))/float64(c-prev)
		}
		lower, prev = b, c
	}
	return bounds[len(bounds)-1]
}
