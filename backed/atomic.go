package backed

import (
	"context"

	"github.com/tcached/tcached/shard"
)

// Atomic is what transactions, scripts and pub/sub need of a Backend
// beyond Backend itself. It is a separate interface so that a Backend
// without it (a test fake) still serves strings and keys: the server
// asks for it with a type assertion and refuses MULTI, EVAL and
// cross-node pub/sub when it is missing.
type Atomic interface {
	// Slot is the cluster slot of a tenant's key (its L2 name's).
	Slot(tenant string, db int, key []byte) int
	// Fingerprints reads a digest of each key (value, type and expiry;
	// "-" for a missing key) in one atomic step. The keys must share a
	// slot (else ErrCrossSlot).
	Fingerprints(ctx context.Context, tenant string, keys []Key) ([]string, error)
	// Transaction runs cmds atomically, in order, in one script on their
	// slot, after checking that every watched key still has its
	// fingerprint (Aborted, and nothing run, when one changed). Every key,
	// watched or named by a command, must share one slot, else
	// ErrCrossSlot. The sum of Grow is checked against quota first.
	Transaction(ctx context.Context, tenant string, quota int64, tx Tx) TxResult
	// Script runs a tenant's Lua atomically in L2, sandboxed: only
	// allowlisted commands, on declared keys only, in the tenant's
	// namespace.
	Script(ctx context.Context, tenant string, quota int64, s ScriptReq) TxReply
	// SetScriptCommands installs the commands a script may call, with
	// their key positions (called before Start, once).
	SetScriptCommands(cmds []ScriptCommand)
	// Publish sends a message to the tenant's channel (a shard channel
	// when sharded: SPUBLISH) on every other node (the cluster's pub/sub).
	Publish(ctx context.Context, tenant string, sharded bool, channel, msg []byte) error
	// SetRelay installs the function told about every message another
	// node published (called before Start, once).
	SetRelay(fn func(tenant string, sharded bool, channel, msg []byte))
}

// Key names a tenant's key: its db and name.
type Key = shard.Key

// Tx is a transaction for Atomic.Transaction.
type Tx struct {
	Watch []Key
	FPs   []string // Watch's fingerprints as read at WATCH
	Cmds  []TxReq
}

// TxReq is one command of a transaction: an ExecReq in its own db (a
// SELECT inside MULTI changes the db of what follows).
type TxReq struct {
	ExecReq
	DB int
}

// TxReply is one reply of a transaction or a script: Reply as in Result,
// Status when a string reply is a status reply, Err an error reply (or a
// failure of the whole call).
type TxReply struct {
	Reply  any
	Status bool
	Err    error
}

// TxResult is a transaction's outcome: Err when it could not run at all,
// Aborted when a watched key changed, else one reply per command.
type TxResult struct {
	Aborted bool
	Replies []TxReply
	Err     error
}

// ScriptReq is a script run for Atomic.Script: Body is an EVAL script,
// or, with Function set, a function library's code (FCALL).
type ScriptReq struct {
	DB         int
	Body       string
	Function   string
	Keys, Args [][]byte
	ReadOnly   bool
	DefaultTTL int64 // ms, given to declared keys the script leaves without a TTL
	Grow       int64
}
