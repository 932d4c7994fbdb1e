package admission

import (
	"math"
	"runtime/metrics"
)

// schedSampler reads the runtime's scheduling-latency histogram
// (/sched/latencies:seconds: how long goroutines waited runnable before
// running) and reports its p99 over the last delayWindow reads. It is used
// by Tick only, so it needs no lock.
type schedSampler struct {
	sample []metrics.Sample
	bounds []float64  // bucket boundaries, seconds
	ring   [][]uint64 // cumulative counts of the last delayWindow+1 reads
	next   int        // ring slot of the next read
	reads  int        // reads so far, up to len(ring)
	diff   []uint64   // scratch
}

const schedMetric = "/sched/latencies:seconds"

func newSchedSampler() *schedSampler {
	s := &schedSampler{sample: []metrics.Sample{{Name: schedMetric}}}
	s.ring = make([][]uint64, delayWindow+1)
	return s
}

// p99 reads the histogram and returns the p99 of the window in ns (0 with
// no samples in the window, or when the runtime lacks the metric).
func (s *schedSampler) p99() int64 {
	metrics.Read(s.sample)
	if s.sample[0].Value.Kind() != metrics.KindFloat64Histogram {
		return 0
	}
	h := s.sample[0].Value.Float64Histogram()
	if s.bounds == nil {
		s.bounds = append([]float64(nil), h.Buckets...)
		for i := range s.ring {
			s.ring[i] = make([]uint64, len(h.Counts))
		}
		s.diff = make([]uint64, len(h.Counts))
	}
	if len(h.Counts) != len(s.diff) {
		return 0
	}
	cur := s.ring[s.next]
	copy(cur, h.Counts)
	oldest := s.ring[(s.next+1)%len(s.ring)]
	s.next = (s.next + 1) % len(s.ring)
	if s.reads < len(s.ring) {
		s.reads++
		oldest = s.ring[0]
		if s.reads == 1 {
			return 0
		}
	}
	var total uint64
	for i := range cur {
		s.diff[i] = cur[i] - oldest[i]
		total += s.diff[i]
	}
	return percentile(s.diff, s.bounds, total, 0.99)
}

// percentile returns the upper bound (ns) of the bucket holding quantile q.
// counts[i] covers [bounds[i], bounds[i+1]).
func percentile(counts []uint64, bounds []float64, total uint64, q float64) int64 {
	if total == 0 {
		return 0
	}
	want := uint64(math.Ceil(q * float64(total)))
	var cum uint64
	for i, n := range counts {
		cum += n
		if cum >= want {
			hi := bounds[i+1]
			if math.IsInf(hi, 1) {
				hi = bounds[i]
			}
			return int64(hi * 1e9)
		}
	}
	return int64(bounds[len(bounds)-1] * 1e9)
}
