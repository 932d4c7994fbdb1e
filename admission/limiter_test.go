package admission

import (
	"sync"
	"sync/atomic"
	"testing"
)

func TestLimiterCaps(t *testing.T) {
	tests := []struct {
		max, acquire, wantOK int
	}{
		{max: 0, acquire: 50, wantOK: 50},
		{max: 1, acquire: 3, wantOK: 1},
		{max: 5, acquire: 5, wantOK: 5},
		{max: 5, acquire: 9, wantOK: 5},
		{max: -3, acquire: 4, wantOK: 4},
	}
	for _, tt := range tests {
		l := NewLimiter(tt.max)
		ok := 0
		for i := 0; i < tt.acquire; i++ {
			if l.Acquire() {
				ok++
			}
		}
		if ok != tt.wantOK || l.InFlight() != int64(tt.wantOK) || l.Refused() != int64(tt.acquire-tt.wantOK) {
			t.Errorf("max=%d acquire=%d: ok=%d inflight=%d refused=%d", tt.max, tt.acquire, ok, l.InFlight(), l.Refused())
		}
		for i := 0; i < ok; i++ {
			l.Release()
		}
		if l.InFlight() != 0 {
			t.Errorf("max=%d: inflight %d after release", tt.max, l.InFlight())
		}
	}
}

func TestLimiterConcurrentNeverExceeds(t *testing.T) {
	const max = 4
	l := NewLimiter(max)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var admitted atomic.Int64 // commands actually running, counted by the test
	peak := int64(0)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				if l.Acquire() {
					n := admitted.Add(1)
					mu.Lock()
					if n > peak {
						peak = n
					}
					mu.Unlock()
					admitted.Add(-1)
					l.Release()
				}
			}
		}()
	}
	wg.Wait()
	if peak > max {
		t.Fatalf("in-flight peaked at %d > %d", peak, max)
	}
}

func BenchmarkAcquireRelease(b *testing.B) {
	l := NewLimiter(1000)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if l.Acquire() {
				l.Release()
			}
		}
	})
}
