package server

// Blocking clients: BLPOP BRPOP BLMOVE (package family/list) and BZPOPMIN
// BZPOPMAX BZMPOP (family/zset, signalled by the writes that leave a
// sorted set at a key), and XREAD XREADGROUP ... BLOCK (package
// family/stream) wait here.
//
// A blocking command first tries to serve at once. If it cannot, and it
// runs outside a transaction (inside EXEC it answers as on a timeout, as
// Redis does), it registers a waiter for its keys in its tenant's
// registry (tenant.blocked: hash of db and key -> waiters) and gives back
// what dispatch holds for it: the tenant's transaction lock (so EXECs of
// the tenant proceed), its admission ticket (so blocked clients do not
// use up max_concurrent or the server's in-flight budget) and a heavy
// slot if it took one (fair.go). Then it costs nothing: no timer ticks and
// nothing re-checks its keys. It sleeps on channels until one of:
//
//   - a signal for one of its keys, sent by a write of the same tenant
//     and db that leaves a list there: LPUSH RPUSH LPUSHX RPUSHX LINSERT,
//     the destination of LMOVE and BLMOVE, and RENAME, RENAMENX, COPY
//     (into its DB too), MOVE (in the destination db) and SORT ... STORE
//     when what they put at the key is a list; XADD, and XGROUP DESTROY
//     (a client blocked on the group answers NOGROUP). While the tenant
//     has blocked clients, every write also signals the keys it wrote
//     (touchWrite), so that XREADGROUP answers UNBLOCKED when its stream
//     is deleted or replaced, as Redis does; FLUSHDB and FLUSHALL wake
//     every blocked client of the tenant. Only XREADGROUP looks at a key
//     that holds neither a list nor a stream (listAnyReady filters the
//     others' wake-ups). Another tenant's write to
//     the same key name signals another registry. Inside MULTI the
//     signal is sent as the queued command runs in EXEC; the woken client
//     needs the tenant's lock, which EXEC holds exclusively, so it looks
//     at the key once the whole transaction has run, as Redis serves
//     blocked clients after EXEC (a transaction that pushes and pops the
//     same key leaves it waiting);
//   - the timeout, answered with a null array (`*-1`, RESP3 `_`);
//   - CLIENT KILL (the client's kill channel) or server shutdown (Close),
//     which close the connection with no reply.
//
// A signal records which key it was for, so a woken client looks only at
// the keys signalled, in signal order (Redis serves from the key that
// became ready first), not at all it named. When one of them holds a list
// the client is admitted again (a new admission decision, subject to the
// tier's rate, concurrency and shedding like any command), takes the lock
// again and pops; if another client was faster it gives both back and
// waits again.
//
// Several clients blocked on one key are served first come, first served,
// as Redis serves them in the order they blocked: a signal wakes only the
// first client registered for the key, and a woken client, once its
// attempt is over (served, answered, or back to waiting), passes each key
// it was woken for on to the next client registered for it
// (blockRegistry.passOn). So the element pushed for several waiters goes
// to the oldest, the next one looks only after it, and a waiter that ends
// any other way (timeout, kill) passes its pending keys on too. A command
// of another connection that is not blocked may still pop between two
// waiters' turns (Redis serves its blocked clients before running the
// next command).
//
// Registering is the command's own work and costs O(keys): it runs in
// batches under the registry lock with a checkpoint (fair.go) after each,
// so a BLPOP naming 200K keys is charged to its tenant, paced when the
// tenant is throttled, takes a heavy slot like any long command, and holds
// the lock pushes need for one batch at a time. The keys themselves are
// bounded by the tenant's argument limits (max_arg_bytes admits the
// command); the registry adds about 40 bytes a key while it waits.
//
// Timeout policy: the requested timeout is honoured (seconds, a float,
// rounded up to the millisecond as Redis does, measured on the server's
// clock: Options.Now and Options.NewTimer, so a test with a fake clock
// moves timeouts along with TTLs), and 0 means "until served"
// but at most list.MaxBlockWait (one hour), after which the client gets the
// timeout reply and may block again. The cap bounds what a client that
// vanished without closing its socket can hold. A blocked connection does
// not read its socket; a peer that closes it is noticed at once all the
// same, on Linux, by a watch that reads nothing (hangup_linux.go), and
// elsewhere when the wait ends. The tier's timeout (an admission latency bound) does not shorten
// the wait, and the idle-connection timeout does not apply while blocked
// (Redis exempts blocked clients from it too).

import (
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tcached/tcached/admission"
	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/shard"
)

// listCanBlock reports whether the running command may block: it was
// dispatched on its own (dispatch holds the tenant's lock shared and its
// admission ticket for it), not run by EXEC.
func (c *client) listCanBlock() bool {
	t := c.tenant
	return t != nil && c.txHeld == t && c.admitted == t && !c.inScript
}

// listRegBatch is how many keys a blocking command registers or removes
// per hold of its tenant's registry lock, with a checkpoint in between.
const listRegBatch = 1024

// listBlock waits for one of keys (in the connection's db) to be signalled,
// then runs try, until try has answered, wait passes (timedOut answers) or
// the connection is killed or the server closes (no answer: the connection
// closes). try gets the indexes of the keys signalled since it last ran, in
// signal order, or nil for "every key"; it runs with the tenant's lock and
// an admission ticket held, as a handler does; they are given back while
// waiting. A command that cannot block answers timedOut at once.
//
// Registering the keys (and removing them at the end) is the command's
// own work: it runs in batches of listRegBatch under the registry lock,
// with a checkpoint (fair.go) after each, so it is charged to the tenant,
// paced when the tenant is throttled, and never holds the lock pushes
// take for more than one batch.
func (c *client) listBlock(args, keys [][]byte, wait time.Duration, try func(which []int32) bool, timedOut func()) {
	if !c.listCanBlock() {
		timedOut()
		return
	}
	now := c.srv.now
	deadline := now().Add(wait) // registering is part of the wait
	t, db := c.tenant, c.db
	w := &listWaiter{ch: make(chan struct{}, 1)}
	// XREADGROUP answers a write that deleted or replaced its stream (or
	// destroyed its group), so any signal is worth a look.
	groupRead := len(args) > 0 && strings.EqualFold(string(args[0]), "xreadgroup")
	registered := 0
	// which holds the keys this client was woken for and has not passed on
	// (every: all of them); they go to the next waiter once its turn ends.
	var which []int32
	var every bool
	passOn := func() {
		if every {
			for i := range keys[:registered] {
				t.blocked.passOn(db, keys[i], w)
			}
		}
		for _, i := range which {
			t.blocked.passOn(db, keys[i], w)
		}
		which, every = which[:0], false
	}
	defer func() {
		for off := 0; off < registered; off += listRegBatch {
			t.blocked.remove(db, keys[off:min(off+listRegBatch, registered)], off, w)
			c.yield()
		}
		c.mem.set(&c.mem.blocked, 0)
		// Served or gone: the keys it was woken for, and any signalled
		// since, go to the next waiters (now the first registered).
		passOn()
		which, every = w.take(which)
		passOn()
	}()
	for registered < len(keys) {
		n := min(len(keys)-registered, listRegBatch)
		// The registrations are client memory (clientmem.go): 12 clients
		// blocked on 200K keys each would hold ~100 MB of the server.
		// Past the budget the command is refused, as a write would be.
		if c.mem.set(&c.mem.blocked, int64(registered+n)*blockedKeyBytes) {
			c.mem.set(&c.mem.blocked, int64(registered)*blockedKeyBytes)
			c.mem.pool.Load().refused.Add(1)
			c.conn.WriteError(c.oomText())
			return
		}
		t.blocked.add(db, keys[registered:registered+n], registered, w)
		registered += n
		c.yield()
	}
	// A push between the first attempt and the registration signalled
	// nobody: look again now that pushes will find us.
	if try(nil) {
		return
	}
	var argBytes int64
	for _, a := range args {
		argBytes += int64(len(a))
	}
	var blockedAt int64
	release := func() {
		c.beforeWait()
		c.endWork() // a heavy slot is not held while waiting
		blockedAt = c.srv.mono()
		c.txHeld = nil
		t.txMu.RUnlock(c.id)
		c.admitted = nil
		t.adm.Done(c.ticket)
		c.ticket = admission.Ticket{}
		c.pubsubIdle() // a RESP3 subscriber keeps receiving while it waits
	}
	// relock takes back the tenant lock only: enough for the paths that
	// run no command (timeout, kill, shutdown), which must never wait on
	// admission (a reload may have made this command inadmissible).
	relock := func() {
		waited := c.srv.mono() - blockedAt
		c.unbilled += time.Duration(waited) // waiting is not work (fair.go)
		c.blockWait += waited               // nor for the slow log (slowlog.go)
		t.txMu.RLock(c.id)
		c.txHeld = t
		c.pubsubBegin()
	}
	gone := func() bool { return c.srv.closing.Load() || c.killed.Load() || c.conn.err != nil }
	// reacquire is admission plus the lock, to run the pop after a wake-up;
	// it reports false when the client went away while it waited.
	reacquire := func() bool {
		for backoff := time.Millisecond; ; backoff = min(2*backoff, 50*time.Millisecond) {
			if tk, _, ok := t.adm.Admit(argBytes); ok {
				c.ticket, c.admitted = tk, t
				break
			}
			if gone() {
				relock()
				return false
			}
			pause := time.NewTimer(backoff)
			select {
			case <-pause.C:
			case <-c.killCh:
				pause.Stop()
			case <-c.srv.stop:
				pause.Stop()
			}
		}
		relock()
		return true
	}
	release()
	c.flushBatch()
	c.conn.flush() // replies of commands pipelined before this one
	timeout, stopTimer := c.srv.newTimer(deadline.Sub(now()))
	defer stopTimer()
	// Counted from here, where its timer runs and it holds nothing, to the
	// end of the wait.
	t.blocked.clients.Add(1)
	defer t.blocked.clients.Add(-1)
	// CLIENT UNBLOCK (cmd_reply.go) reaches the client from here on; a
	// request left over from an earlier wait is dropped first.
	select {
	case <-c.unblock:
	default:
	}
	c.blockedNow.Store(true)
	defer c.blockedNow.Store(false)
	// A peer that closes while blocked ends the wait at once, as in Redis
	// (hangup_linux.go); the connection then closes.
	hangup, stopWatch := c.watchHangup()
	defer stopWatch()
	for {
		select {
		case <-w.ch:
		case <-timeout:
			relock()
			timedOut()
			return
		case <-c.killCh:
			relock()
			return
		case <-hangup:
			relock()
			c.conn.closeAfter = true
			return
		case <-c.srv.stop:
			relock()
			return
		case asError := <-c.unblock:
			relock()
			if asError {
				c.conn.WriteError(errUnblocked)
			} else {
				timedOut()
			}
			return
		}
		if gone() {
			relock()
			return
		}
		which, every = w.take(which)
		if !every && !groupRead && c.srv.l2 == nil && !listAnyReady(c, db, keys, which) {
			// (Backed, the key lives in L2: the signal is an invalidation
			// and the retry asks L2, backed.Mode's blocking commands.)
			passOn() // nothing here for this client: the next one's turn
			continue
		}
		if !reacquire() {
			return
		}
		look := which
		if every {
			look = nil
		}
		if try(look) {
			return
		}
		release()
		passOn() // not served: the next waiter looks in turn
	}
}

// listAnyReady reports whether one of the signalled keys holds a list or
// a sorted set (BZPOPMIN, BZMPOP), the types a blocked command pops from
// (a cheap check before taking admission and the lock to retry; a client
// woken for a type it does not pop skips the key and waits again).
func listAnyReady(c *client, db int, keys [][]byte, which []int32) bool {
	for _, i := range which {
		ready := false
		c.part().View(db, keys[i], 0, func(e shard.Entry) { ready = command.Poppable(e.Type) || e.Type == shard.TypeStream })
		if ready {
			return true
		}
	}
	return false
}

// listWaiter is one blocked client. A signal records which of its keys it
// was for and sends on ch (without blocking: one pending wake-up is
// enough).
type listWaiter struct {
	ch    chan struct{}
	mu    sync.Mutex // guards ready and every
	ready []int32    // keys signalled since the last take, in signal order
	every bool       // more than maxReady signals: look at every key
}

// maxReady bounds a waiter's list of signalled keys; past it the waiter
// looks at all of them, which is what its own tenant's pushes asked for.
const maxReady = 64

func (w *listWaiter) wake(i int32) {
	w.mu.Lock()
	if len(w.ready) < maxReady {
		w.ready = append(w.ready, i)
	} else {
		w.every = true
	}
	w.mu.Unlock()
	select {
	case w.ch <- struct{}{}:
	default:
	}
}

// take returns the keys signalled since the last take (appended to
// dst[:0]), or every.
func (w *listWaiter) take(dst []int32) (which []int32, every bool) {
	w.mu.Lock()
	which = append(dst[:0], w.ready...)
	every = w.every
	w.ready, w.every = w.ready[:0], false
	w.mu.Unlock()
	return which, every
}

// blockRegistry is one tenant's blocked clients by key (tenant.blocked).
// Keying by tenant is what keeps wake-ups inside a tenant: a write signals
// only the registry of its own tenant.
//
// A key is registered as a 64-bit hash of (db, name) under a random
// per-registry seed rather than as a copy of its name: a blocked client
// naming 200K keys then costs the registry ~40 bytes a key and no
// allocation per key, and a collision (which a tenant cannot aim for,
// the seed being secret) only wakes a client that finds nothing and waits
// again.
type blockRegistry struct {
	n       atomic.Int64 // registered (key, waiter) pairs: 0 is a signal's fast path
	clients atomic.Int64 // clients waiting in listBlock (Redis's blocked_clients): tests wait on it, not on sleeps
	mu      sync.Mutex   // guards the fields below; taken after a sub-shard lock is released
	seed    maphash.Seed
	one     map[uint64]waitRef   // hashes with exactly one waiter
	more    map[uint64][]waitRef // hashes with several, in registration order
}

// waitRef is one registration: key i of waiter w.
type waitRef struct {
	w *listWaiter
	i int32
}

func (r *blockRegistry) hash(db int, key []byte) uint64 {
	return maphash.Bytes(r.seed, key) ^ (uint64(db)+1)*0x9e3779b97f4a7c15
}

// add registers keys, the key at keys[j] as index base+j of w.
// blockedKeyBytes is what one key registration holds, as client memory:
// a map entry of a 64-bit hash and a waitRef (16 bytes) with the map's
// own overhead, about 40 bytes measured, rounded up.
const blockedKeyBytes = 48

func (r *blockRegistry) add(db int, keys [][]byte, base int, w *listWaiter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seed == (maphash.Seed{}) {
		r.seed = maphash.MakeSeed() // once: registrations outlive no seed
	}
	if r.one == nil {
		r.one = make(map[uint64]waitRef)
		r.more = make(map[uint64][]waitRef)
	}
	for j, k := range keys {
		h := r.hash(db, k)
		ref := waitRef{w: w, i: int32(base + j)}
		if list, ok := r.more[h]; ok {
			r.more[h] = append(list, ref)
		} else if old, ok := r.one[h]; ok {
			delete(r.one, h)
			r.more[h] = []waitRef{old, ref}
		} else {
			r.one[h] = ref
		}
	}
	r.n.Add(int64(len(keys)))
}

// remove undoes add. When the last registration goes, the maps go too
// (Go maps never shrink: a burst of blocked clients must not pin memory).
func (r *blockRegistry) remove(db int, keys [][]byte, base int, w *listWaiter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for j, k := range keys {
		h := r.hash(db, k)
		ref := waitRef{w: w, i: int32(base + j)}
		if r.one[h] == ref {
			delete(r.one, h)
			continue
		}
		list := r.more[h]
		if i := slices.Index(list, ref); i >= 0 {
			list = slices.Delete(list, i, i+1)
		}
		switch len(list) {
		case 0:
			delete(r.more, h)
		case 1:
			delete(r.more, h)
			r.one[h] = list[0]
		default:
			r.more[h] = list
		}
	}
	if r.n.Add(-int64(len(keys))) == 0 {
		r.one, r.more = nil, nil
	}
}

// wakeAll wakes every blocked client of the registry on all its keys
// (FLUSHDB, FLUSHALL: XREADGROUP answers a stream flushed away).
func (r *blockRegistry) wakeAll() {
	if r.n.Load() == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ref := range r.one {
		ref.w.wake(ref.i)
	}
	for _, list := range r.more {
		for _, ref := range list {
			ref.w.wake(ref.i)
		}
	}
}

// signal wakes the first client blocked on key in db (in registration
// order); it passes the key on when its turn ends (passOn). It costs one
// atomic load when the tenant has none.
func (r *blockRegistry) signal(db int, key []byte) { r.passOn(db, key, nil) }

// passOn wakes, for key in db, the first client registered after every
// registration of after, or the first client registered when after is nil
// or no longer registered for it (it was served and left).
func (r *blockRegistry) passOn(db int, key []byte, after *listWaiter) {
	if r.n.Load() == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.one == nil {
		return
	}
	h := r.hash(db, key)
	if ref, ok := r.one[h]; ok {
		if ref.w != after {
			ref.w.wake(ref.i)
		}
		return
	}
	list := r.more[h]
	from := 0
	for i, ref := range list {
		if ref.w == after {
			from = i + 1
		}
	}
	for _, ref := range list[from:] {
		if ref.w != after {
			ref.w.wake(ref.i)
			return
		}
	}
}

// listSignal wakes the clients of c's tenant blocked on key in c's db: a
// write left a list there (a push, LINSERT, the destination of LMOVE and
// BLMOVE). Writes that land a list on a key some other way signal with
// listSignalDB.
func listSignal(c *client, key []byte) { c.tenant.blocked.signal(c.db, key) }

// listSignalDB wakes the clients of c's tenant blocked on key in db when
// isList: RENAME, COPY, MOVE and SORT ... STORE, which can put a list at a
// key without a push. Redis 7.0 signals such a key when the command adds
// it (dbAdd); tcached signals whenever a list lands on it, which also
// covers a list written over a key of another type (the woken client only
// pops from a list, so the difference is a wake-up Redis would postpone to
// the next push).
func listSignalDB(c *client, db int, key []byte, isList bool) {
	if isList {
		c.tenant.blocked.signal(db, key)
	}
}
