package server

// Transactions in backed mode (package backed, multi.go, has the design):
// WATCH reads each key's L2 fingerprint besides registering the key
// locally; EXEC sends the keyed commands to L2 as one script, which
// checks the fingerprints first, and runs the keyless ones (PING, SELECT,
// PUBLISH...) here, in their place among the replies. A write through
// this node marks the watchers of its keys dirty at once, as on the
// embedded store.
//
// An L2 invalidation of a watched key does not mark its watchers: it may
// be the late echo of a write made before the WATCH (even by the watcher
// itself: SET k, then WATCH k, a common pattern), and would abort the
// EXEC for nothing. The fingerprint check catches every change made after
// the WATCH except one that restores the exact value and expiry.

import (
	"errors"

	"github.com/tcached/tcached/backed"
	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/shard"
)

// l2Watch is a connection's WATCHed keys in backed mode: the keys, their
// fingerprints and their slot (-1: none yet).
type l2Watch struct {
	keys []shard.Key
	fps  []string
	slot int
	set  bool // slot is valid
}

func (w *l2Watch) reset() {
	w.keys, w.fps, w.set = nil, nil, false
}

// watchL2 reads the fingerprints of WATCH's keys; false when it answered
// an error (and watched nothing).
func (c *client) watchL2(args [][]byte) bool {
	l2 := c.srv.l2
	keys := make([]shard.Key, len(args)-1)
	slot, set := c.l2watch.slot, c.l2watch.set
	for i, k := range args[1:] {
		keys[i] = shard.Key{DB: c.db, Name: append([]byte(nil), k...)} // args alias the read buffer
		s := l2.Slot(&c.x, c.db, k)
		if set && s != slot {
			c.conn.WriteError(storeError(backed.ErrCrossSlot))
			return false
		}
		slot, set = s, true
	}
	fps, err := l2.Fingerprints(&c.x, keys)
	if err != nil {
		c.conn.WriteError(storeError(err))
		return false
	}
	c.l2watch.keys = append(c.l2watch.keys, keys...)
	c.l2watch.fps = append(c.l2watch.fps, fps...)
	c.l2watch.slot, c.l2watch.set = slot, true
	return true
}

// queueRefusedL2 refuses, at queue time, a command that a backed
// transaction cannot run (it then answers EXECABORT), or one whose own
// keys do not share a slot (CROSSSLOT, as Redis Cluster answers it).
func (c *client) queueRefusedL2(cmd *command.Spec, args [][]byte) string {
	l2 := c.srv.l2
	if msg := l2.TxRefusal(cmd, args); msg != "" {
		return msg
	}
	slot, set, cross := 0, false, false
	cmd.EachKey(args, func(i int) {
		s := l2.Slot(&c.x, c.db, args[i])
		if set && s != slot {
			cross = true
		}
		slot, set = s, true
	})
	if cross && cmd.Name != "copy" { // COPY ... DB's destination is checked at EXEC
		return storeError(backed.ErrCrossSlot)
	}
	return ""
}

// execL2 runs a backed transaction (cmdExec's part after the queue checks).
func (c *client) execL2(t *tenant, queue []queuedCmd) {
	w := c.l2watch
	dirty := c.watchDirty.Load() || c.watchTenant != nil && c.watchTenant != t
	c.unwatch()
	if dirty {
		c.conn.WriteNullArray()
		return
	}
	entries := make([]backed.TxEntry, len(queue))
	for i, q := range queue {
		entries[i] = backed.TxEntry{Spec: q.cmd, Args: q.args}
	}
	out := c.srv.l2.Exec(&c.x, entries, w.keys, w.fps)
	switch {
	case errors.Is(out.Err, backed.ErrL2OverQuota):
		// Redis rejects an EXEC of denyoom commands out of memory this way.
		t.l2.OverQuota.Add(1)
		c.conn.WriteError(errExecAbortBecause + storeError(out.Err))
		return
	case out.Err != nil:
		c.conn.WriteError(storeError(out.Err))
		return
	case out.Aborted:
		c.conn.WriteNullArray()
		return
	}
	c.conn.WriteArray(len(queue))
	for i := range queue {
		q := &queue[i]
		if out.Parts[i] == backed.TxLocal {
			c.runQueued(t, q)
			continue
		}
		t.commands.Add(1)
		errs := c.conn.Errs
		if c.trk != nil && q.cmd.Flags&(command.Read|command.Exclusive) == command.Read {
			c.srv.trackRead(c, q.cmd, q.args) // tracking.go, as runQueued does
		}
		c.run(q.cmd, func(x *command.Ctx, _ [][]byte) { c.srv.l2.WriteTxReply(x, out.Replies[i]) }, q.args)
		if h := t.hooks.Load(); h != 0 {
			c.srv.afterCommand(c, t, q.cmd, q.args, h, false, false) // tracking and MONITOR, as runQueued
		}
		if c.conn.Errs != errs {
			t.cmdErrors.Add(1)
			continue
		}
		t.cmdOK.Add(1)
		if q.cmd.Flags&command.Write != 0 {
			t.dirty.Add(1)
			if t.writeHooks() {
				t.touchWrite(c, q.cmd, q.args)
			}
		}
	}
}
