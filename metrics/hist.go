package metrics

import (
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

// NewHistogram returns a histogram with the given ascending upper bounds.
func NewHistogram(bounds []float64) *Histogram {
	return &Histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

// Observe records one duration.
func (h *Histogram) Observe(d time.Duration) {
	s := d.Seconds()
	i := 0
	for i < len(h.bounds) && s > h.bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sumNs.Add(int64(d))
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
