package scripting

import (
	"time"

	lua "github.com/yuin/gopher-lua"
)

// # The Lua heap estimate
//
// gopher-lua allocates on Go's heap and has no allocator hook, so a
// script's memory is estimated by walking what it can reach: the locals
// and upvalues of every frame of its call stack (and of the coroutines
// they hold), KEYS and ARGV, and, in the functions state, the upvalues of
// every registered function (a library's state between calls). Strings
// count their bytes, tables their slots, functions their upvalues; the
// state's fixed part (libraries, proxies) is charged once, as stateBase.
//
// The walk runs at a checkpoint (the VM is between two instructions) at
// most every heapWalkMin, and no more often than every heapWalkRatio
// times its own last duration, so it costs at most about a quarter of a
// script's time even when the heap is large. The guarded functions that
// allocate in one step (string.rep, table.concat, string.gsub, cjson,
// cmsgpack, struct, redis.call's replies) check their result against
// what is left before allocating and trigger a walk when their
// allocations add up to it. So a script can pass its budget by at most
// what it allocates between two walks (a concatenation doubling a string
// is one instruction) before it is stopped.

const (
	heapWalkMin   = time.Millisecond
	heapWalkRatio = 4
	// Estimated sizes (bytes) of gopher-lua's objects on the Go heap.
	sizeString   = 32 // header, interface box
	sizeNumber   = 16
	sizeTable    = 96
	sizeSlot     = 40 // an array slot or a hash entry
	sizeFunction = 80
	sizeUpvalue  = 48
	sizeThread   = 128 << 10 // its call and register stacks: 99 KiB measured
)

type heapWalker struct {
	seen map[any]struct{}
	n    int64
	max  int64 // stop counting past this (the walk has its answer)
}

func (w *heapWalker) visit(p any) bool {
	if _, ok := w.seen[p]; ok {
		return false
	}
	w.seen[p] = struct{}{}
	return true
}

func (w *heapWalker) value(v lua.LValue) {
	if w.n > w.max {
		return
	}
	switch x := v.(type) {
	case lua.LString:
		w.n += int64(len(x)) + sizeString
	case lua.LNumber:
		w.n += sizeNumber
	case *lua.LTable:
		if !w.visit(x) {
			return
		}
		w.n += sizeTable
		x.ForEach(func(k, val lua.LValue) {
			w.n += sizeSlot
			w.value(k)
			w.value(val)
		})
		if mt, ok := x.Metatable.(*lua.LTable); ok {
			w.value(mt)
		}
	case *lua.LFunction:
		if !w.visit(x) {
			return
		}
		w.n += sizeFunction + int64(len(x.Upvalues))*sizeUpvalue
		for _, uv := range x.Upvalues {
			if uv != nil {
				w.value(uv.Value())
			}
		}
	case *lua.LState:
		if !w.visit(x) {
			return
		}
		w.n += sizeThread
		w.stack(x)
	case *lua.LUserData:
		if !w.visit(x) {
			return
		}
		w.n += sizeTable
	}
}

// stack walks the locals and functions of every frame of L.
func (w *heapWalker) stack(L *lua.LState) {
	for level := 0; w.n <= w.max; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			return
		}
		if fn, err := L.GetInfo("f", dbg, lua.LNil); err == nil {
			w.value(fn)
		}
		for i := 1; i < 1<<16; i++ {
			name, val := L.GetLocal(dbg, i)
			if name == "" {
				break
			}
			w.value(val)
		}
	}
}

// walkHeap re-estimates the running script's heap and charges the
// difference to the budget; past it, the script is stopped.
func (e *Engine) walkHeap(r *runState, now int64) {
	v := e.eval
	if !r.isEval {
		v = e.fn
	}
	if v == nil {
		return
	}
	start := time.Now()
	free := e.budget.Free()
	w := heapWalker{seen: map[any]struct{}{}, max: r.heap + free + 1}
	// The protected state is charged as stateBase: mark it seen.
	for p, t := range v.real {
		w.seen[p], w.seen[t] = struct{}{}, struct{}{}
	}
	for m, p := range v.views {
		w.seen[m], w.seen[p] = struct{}{}, struct{}{}
	}
	w.seen[v.globals] = struct{}{}
	w.value(v.globals.RawGetString("KEYS"))
	w.value(v.globals.RawGetString("ARGV"))
	w.stack(v.L)
	if !r.isEval {
		e.mu.Lock()
		for _, f := range e.funcs {
			w.value(f.fn)
		}
		e.mu.Unlock()
	}
	est := w.n
	switch d := est - r.heap; {
	case d > 0:
		if !e.budget.Reserve(d) {
			r.halt(errHeap)
			return
		}
		r.heap = est
	case d < 0:
		e.budget.Release(-d)
		r.heap = est
	}
	cost := time.Since(start)
	r.walkCost = int64(cost)
	r.walkAt = now + max(int64(heapWalkMin), heapWalkRatio*int64(cost))
	r.allocd = 0
}

// lrand48 is Redis's redisLrand48 (rand.c): lrand48's 48-bit linear
// congruential generator, so math.random gives Redis's sequence.
type lrand48 struct{ x uint64 }

const lrandMax = 1<<31 - 1

// reset is the generator's state before any seed (X2 X1 X0 of rand.c).
func (r *lrand48) reset() { r.x = 0x1234ABCD330E }

func (r *lrand48) seed(s int32) { r.x = uint64(uint32(s))<<16 | 0x330E }

func (r *lrand48) next() int32 {
	r.x = (0x5DEECE66D*r.x + 0xB) & (1<<48 - 1)
	return int32(r.x >> 17)
}
