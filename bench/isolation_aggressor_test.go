package bench

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ---------------------------------------------------------------------------
// The aggressor process

// TestIsolationAggressor is BenchmarkIsolation's aggressor process; it skips
// unless ISO_AGGRESSOR names a shape. It prepares the shape, prints "ISO
// ready", then obeys lines on stdin: go (run), stop (pause, after every
// command in flight has its reply), mark (print the counters), quit or EOF.
func TestIsolationAggressor(t *testing.T) {
	shape := os.Getenv("ISO_AGGRESSOR")
	if shape == "" {
		t.Skip("the aggressor process of BenchmarkIsolation")
	}
	maxLife := isoEnvDur("ISO_MAXLIFE", isoAggLife)
	time.AfterFunc(maxLife, func() {
		fmt.Fprintf(os.Stderr, "aggressor: maximum lifetime %v reached\n", maxLife)
		os.Exit(3)
	})
	ag := &isoAggressor{
		shape: shape, addr: os.Getenv("ISO_ADDR"), user: os.Getenv("ISO_USER"),
		pass: os.Getenv("ISO_PASS"), prefix: os.Getenv("ISO_PREFIX"), errs: map[string]int64{},
		t0: time.Now(),
	}
	ag.cond = sync.NewCond(&ag.mu)
	if r := isoEnvInt("ISO_AGGRESSOR_RATE", 0); r > 0 {
		ag.interval = time.Second / time.Duration(r)
	}
	if err := ag.prepare(); err != nil {
		fmt.Printf("ISO fatal %s: %v\n", shape, err)
		return
	}
	fmt.Println("ISO ready")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		switch sc.Text() {
		case "go":
			ag.setRunning(true)
			fmt.Println("ISO ok")
		case "stop":
			ag.setRunning(false)
			fmt.Println("ISO ok")
		case "mark":
			fmt.Println("ISO " + ag.mark())
		case "quit":
			return
		default:
			fmt.Printf("ISO fatal unknown request %q\n", sc.Text())
			return
		}
	}
}

type isoAggressor struct {
	shape, addr, user, pass, prefix string
	t0                              time.Time
	workers                         []*isoWorker
	step                            func(w *isoWorker) error // one unit of work; a non-reply error drops the connection

	ops  atomic.Int64
	emu  sync.Mutex
	errs map[string]int64

	mu      sync.Mutex
	cond    *sync.Cond
	running atomic.Bool
	parked  int

	interval time.Duration // ISO_AGGRESSOR_RATE: the time between steps; 0 = unpaced
	nextSlot atomic.Int64  // unix ns of the next step's slot
}

type isoWorker struct {
	id     int
	rc     *respConn // nil: dial before the next step
	rng    *rand.Rand
	buf    []byte
	seq    int
	rot    int    // expensive: position in the rotation
	cursor string // expensive: SCAN cursor while a scan is under way
}

func (ag *isoAggressor) dial() (*respConn, error) { return dialRESP(ag.addr, ag.user, ag.pass) }

// count counts a reply: an error reply by its text (and the step goes on),
// anything else ends the step.
func (ag *isoAggressor) count(err error) error {
	if err == nil {
		ag.ops.Add(1)
		return nil
	}
	if _, ok := err.(respError); ok {
		ag.countErr(isoErrKey(err))
		return nil
	}
	return err
}

func (ag *isoAggressor) countErr(key string) {
	ag.emu.Lock()
	ag.errs[key]++
	ag.emu.Unlock()
}

func (ag *isoAggressor) mark() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mark\t%d\t%d", ag.ops.Load(), time.Since(ag.t0).Nanoseconds())
	ag.emu.Lock()
	for k, n := range ag.errs {
		fmt.Fprintf(&b, "\t%s\t%d", k, n)
	}
	ag.emu.Unlock()
	return b.String()
}

// setRunning starts the workers, or pauses them and waits until each has
// finished its step.
func (ag *isoAggressor) setRunning(on bool) {
	ag.mu.Lock()
	defer ag.mu.Unlock()
	ag.running.Store(on)
	ag.cond.Broadcast()
	for !on && ag.parked < len(ag.workers) {
		ag.cond.Wait()
	}
}

// park holds a worker while the aggressor is paused. A paused worker
// wakes every isoTick, as the idle shape's do, rather than sleeping on the
// condition: on this VM a machine with fewer wake-ups answers slower (its
// vCPUs halt and take milliseconds to be scheduled again), and a parked
// aggressor made the baseline windows' p99 4-5x worse than the idle
// shape's flood windows, with nothing sent in either. The baseline must
// differ from the flood by the flood's traffic only.
func (ag *isoAggressor) park() {
	if ag.running.Load() {
		return
	}
	ag.mu.Lock()
	ag.parked++
	ag.cond.Broadcast()
	ag.mu.Unlock()
	for !ag.running.Load() {
		time.Sleep(isoTick)
	}
	ag.mu.Lock()
	ag.parked--
	ag.mu.Unlock()
}

// isoTick is how often a paused (or idle-shape) aggressor worker wakes.
const isoTick = 10 * time.Millisecond

func (ag *isoAggressor) key(parts ...string) string { return ag.prefix + strings.Join(parts, ":") }

// prepare loads what the shape reads, dials its connections and parks its
// workers.
func (ag *isoAggressor) prepare() error {
	conns := 0
	val2k := strings.Repeat("a", 2048)
	set := func(w *isoWorker, n int) error {
		w.buf = w.buf[:0]
		for range n {
			w.seq++
			w.buf = appendCmd(w.buf, "SET", ag.prefix+"u:"+strconv.Itoa(w.id)+":"+strconv.Itoa(w.seq), val2k)
		}
		if err := w.rc.send(w.buf); err != nil {
			return err
		}
		for range n {
			_, err := w.rc.skip()
			if err := ag.count(err); err != nil {
				return err
			}
		}
		return nil
	}
	switch ag.shape {
	case "set8", "set100":
		conns, _ = strconv.Atoi(strings.TrimPrefix(ag.shape, "set"))
		ag.step = func(w *isoWorker) error { return set(w, 1) }
	case "pipe64":
		conns = 4
		ag.step = func(w *isoWorker) error { return set(w, 64) }
	case "big":
		conns = 4
		const bigKeys = 128
		big := strings.Repeat("b", 512<<10)
		if err := ag.load(func(add func(args ...string)) {
			for i := range bigKeys {
				add("SET", ag.key("big", strconv.Itoa(i)), big)
			}
		}, 4); err != nil {
			return err
		}
		ag.step = func(w *isoWorker) error {
			k := ag.key("big", strconv.Itoa(w.rng.IntN(bigKeys)))
			w.buf = w.buf[:0]
			if w.rng.IntN(2) == 0 {
				w.buf = appendCmd(w.buf, "SET", k, big)
			} else {
				w.buf = appendCmd(w.buf, "GET", k)
			}
			if err := w.rc.send(w.buf); err != nil {
				return err
			}
			_, err := w.rc.skip()
			return ag.count(err)
		}
	case "churn":
		conns = 8
		ag.step = func(w *isoWorker) error {
			rc, err := ag.dial()
			if err != nil {
				if _, ok := errors.Unwrap(err).(respError); ok {
					ag.countErr(isoErrKey(errors.Unwrap(err))) // AUTH refused
				} else {
					ag.countErr("dial: " + isoErrKey(err))
					time.Sleep(time.Millisecond)
				}
				return nil
			}
			defer rc.close()
			rc.c.SetDeadline(time.Now().Add(isoReqTimeout))
			w.seq++
			if err := rc.send(cmd("SET", ag.key("c", strconv.Itoa(w.id), strconv.Itoa(w.seq%1000)), "v")); err != nil {
				ag.countErr("net: " + isoErrKey(err))
				return nil
			}
			_, err = rc.skip()
			if err := ag.count(err); err != nil {
				ag.countErr("net: " + isoErrKey(err))
			}
			return nil
		}
	case isoIdle:
		conns = 4
		ag.step = func(*isoWorker) error { time.Sleep(isoTick); return nil }
	case "expensive":
		conns = 4
		if err := ag.loadExpensive(); err != nil {
			return err
		}
		ag.step = ag.expensiveStep
	default:
		return fmt.Errorf("unknown shape %q", ag.shape)
	}
	for i := range conns {
		w := &isoWorker{id: i, rng: rand.New(rand.NewPCG(uint64(i), 0xa66)), rot: i}
		if ag.shape != "churn" {
			rc, err := ag.dial()
			if err != nil {
				return err
			}
			w.rc = rc
		}
		ag.workers = append(ag.workers, w)
	}
	for _, w := range ag.workers {
		go ag.work(w)
	}
	ag.mu.Lock()
	for ag.parked < len(ag.workers) {
		ag.cond.Wait()
	}
	ag.mu.Unlock()
	return nil
}

// work runs steps while the aggressor runs; a connection lost is counted
// and dialled again.
func (ag *isoAggressor) work(w *isoWorker) {
	for {
		ag.park()
		if ag.shape != "churn" && w.rc == nil {
			rc, err := ag.dial()
			if err != nil {
				ag.countErr("dial: " + isoErrKey(err))
				time.Sleep(10 * time.Millisecond)
				continue
			}
			w.rc, w.cursor = rc, ""
		}
		if w.rc != nil {
			w.rc.c.SetDeadline(time.Now().Add(isoReqTimeout))
		}
		ag.pace()
		if err := ag.step(w); err != nil {
			ag.countErr("net: " + isoErrKey(err))
			w.rc.close()
			w.rc = nil
		}
	}
}

// pace holds a step until its slot when ISO_AGGRESSOR_RATE caps the
// aggressor's steps per second (all workers together): an aggressor at a
// fixed rate, the same whatever the server does, to tell what a given rate
// of a shape costs the victims from what the server lets through.
func (ag *isoAggressor) pace() {
	if ag.interval <= 0 {
		return
	}
	now := time.Now().UnixNano()
	next := ag.nextSlot.Add(int64(ag.interval))
	if start := next - int64(ag.interval); start < now-int64(time.Millisecond) {
		// behind (paused, or the server is slower than the rate): no burst to catch up
		ag.nextSlot.CompareAndSwap(next, now+int64(ag.interval))
		return
	}
	if d := next - int64(ag.interval) - now; d > 0 {
		time.Sleep(time.Duration(d))
	}
}

// load sends the commands add is given, perWrite per write, on one
// connection; any error fails it.
func (ag *isoAggressor) load(gen func(add func(args ...string)), perWrite int) error {
	rc, err := ag.dial()
	if err != nil {
		return err
	}
	defer rc.close()
	rc.c.SetDeadline(time.Now().Add(5 * time.Minute))
	var buf []byte
	n := 0
	var failed error
	flush := func() {
		if n > 0 && failed == nil {
			failed = isoPipeline(rc, buf, n)
		}
		buf, n = buf[:0], 0
	}
	gen(func(args ...string) {
		buf = appendCmd(buf, args...)
		if n++; n == perWrite {
			flush()
		}
	})
	flush()
	return failed
}

const (
	isoExpKeys   = 100_000 // small keys
	isoExpLists  = 3       // of isoExpElems elements
	isoExpHashes = 2       // of isoExpElems fields
	isoExpElems  = 10_000
)

// loadExpensive: 100K small keys, 3 lists of 10K integers and 2 hashes of
// 10K fields, the lists and hashes in commands of 100 elements.
func (ag *isoAggressor) loadExpensive() error {
	rng := rand.New(rand.NewPCG(1, 2))
	return ag.load(func(add func(args ...string)) {
		for i := range isoExpKeys {
			add("SET", ag.key("k", strconv.Itoa(i)), "small-value-"+strconv.Itoa(i))
		}
		for l := range isoExpLists {
			for i := 0; i < isoExpElems; i += 100 {
				args := []string{"RPUSH", ag.key("list", strconv.Itoa(l))}
				for range 100 {
					args = append(args, strconv.Itoa(rng.IntN(1_000_000)))
				}
				add(args...)
			}
		}
		for h := range isoExpHashes {
			for i := 0; i < isoExpElems; i += 100 {
				args := []string{"HSET", ag.key("hash", strconv.Itoa(h))}
				for j := i; j < i+100; j++ {
					args = append(args, "field-"+strconv.Itoa(j), "value-"+strconv.Itoa(j))
				}
				add(args...)
			}
		}
	}, 100)
}

// expensiveStep is one command of the rotation KEYS *, a full SCAN COUNT
// 1000 loop (one SCAN per step; the loop counts as one op when its cursor
// is back at 0), SORT of a list, LRANGE 0 -1 of a list, HGETALL of a hash.
func (ag *isoAggressor) expensiveStep(w *isoWorker) error {
	const rotation = 5
	w.buf = w.buf[:0]
	r := w.rot % rotation
	switch r {
	case 0:
		w.buf = appendCmd(w.buf, "KEYS", ag.prefix+"*")
	case 1:
		if w.cursor == "" {
			w.cursor = "0"
		}
		w.buf = appendCmd(w.buf, "SCAN", w.cursor, "MATCH", ag.prefix+"*", "COUNT", "1000")
	case 2:
		w.buf = appendCmd(w.buf, "SORT", ag.key("list", strconv.Itoa(w.rng.IntN(isoExpLists))))
	case 3:
		w.buf = appendCmd(w.buf, "LRANGE", ag.key("list", strconv.Itoa(w.rng.IntN(isoExpLists))), "0", "-1")
	case 4:
		w.buf = appendCmd(w.buf, "HGETALL", ag.key("hash", strconv.Itoa(w.rng.IntN(isoExpHashes))))
	}
	if err := w.rc.send(w.buf); err != nil {
		return err
	}
	if r != 1 {
		w.rot++
		_, err := w.rc.skip()
		return ag.count(err)
	}
	next, err := isoReadScan(w.rc)
	if err != nil {
		w.cursor = ""
		w.rot++
		return ag.count(err)
	}
	if next == "0" {
		w.cursor = ""
		w.rot++
		ag.ops.Add(1)
	} else {
		w.cursor = next
	}
	return nil
}

// isoReadScan reads a SCAN reply and returns its cursor.
func isoReadScan(rc *respConn) (string, error) {
	line, err := rc.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(line, "-") {
		return "", respError(strings.TrimSpace(line[1:]))
	}
	if line != "*2\r\n" {
		return "", fmt.Errorf("SCAN reply %q", line)
	}
	if _, err := rc.r.ReadString('\n'); err != nil { // $len of the cursor
		return "", err
	}
	cur, err := rc.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if _, err := rc.skip(); err != nil { // the keys
		return "", err
	}
	return strings.TrimSpace(cur), nil
}
