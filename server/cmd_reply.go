package server

import "github.com/tcached/tcached/command"

// CLIENT REPLY ON|OFF|SKIP and CLIENT UNBLOCK.

// replyMode is a connection's CLIENT REPLY state.
type replyMode uint8

const (
	replyOn       replyMode = iota
	replyOff                // CLIENT REPLY OFF: no replies until CLIENT REPLY ON
	replySkipNext           // CLIENT REPLY SKIP: the next command's replies are dropped
	replySkipping           // that next command is running
)

// cmdClientReply: CLIENT REPLY ON|OFF|SKIP. OFF and SKIP answer nothing;
// ON answers OK (also when it is the command a SKIP skips, as in Redis,
// which clears the flags before replying). SKIP while OFF changes
// nothing. Pushes (invalidations, pub/sub messages in RESP3) and MONITOR
// lines still arrive, as in Redis: they are not replies.
func cmdClientReply(c *client, args [][]byte) {
	switch {
	case command.EqFold(args[2], "on"):
		c.reply = replyOn
		c.conn.WriteString("OK")
	case command.EqFold(args[2], "off"):
		c.reply = replyOff
	case command.EqFold(args[2], "skip"):
		if c.reply != replyOff {
			c.reply = replySkipNext
		}
	default:
		c.conn.WriteError(command.ErrSyntax)
	}
}

// dispatchQuiet runs a command whose replies are dropped (CLIENT REPLY
// OFF, or the command after SKIP): what earlier commands answered is
// flushed first, then the wire drops what this one writes, including
// EXEC's held replies and a flush in the middle of a large reply. A
// command that turns replies back on (CLIENT REPLY ON) keeps its answer.
func (s *Server) dispatchQuiet(c *client, args [][]byte) {
	if c.reply == replySkipNext {
		c.reply = replySkipping
	}
	c.flushBatch() // the write may wait on the socket: nothing held while it does
	c.conn.flush()
	c.conn.quiet = true
	s.dispatch(c, args)
	c.conn.quiet = false
	switch c.reply {
	case replyOn:
		// CLIENT REPLY ON: its OK goes out.
	case replySkipping:
		c.reply = replyOn
		fallthrough
	default:
		c.conn.Out = c.conn.Out[:0]
	}
}

// cmdClientUnblock: CLIENT UNBLOCK id [TIMEOUT|ERROR] unblocks a client
// of the caller's tenant waiting in BLPOP, BRPOP or BLMOVE: it answers as
// on its timeout, or with the UNBLOCKED error. 1 if such a client was
// blocked, 0 otherwise; another tenant's connections are invisible, so
// their ids answer 0 like ids that do not exist.
func cmdClientUnblock(c *client, args [][]byte) {
	if len(args) > 4 {
		c.conn.WriteError(errSubcommandSyntax(args))
		return
	}
	asError := false
	if len(args) == 4 {
		switch {
		case command.EqFold(args[3], "timeout"):
		case command.EqFold(args[3], "error"):
			asError = true
		default:
			c.conn.WriteError(errUnblockReason)
			return
		}
	}
	id, ok := command.ParseInt(args[2])
	if !ok {
		c.conn.WriteError(command.ErrNotInteger)
		return
	}
	o := c.srv.tenantClient(c.tenant, id)
	if o == nil || !o.blockedNow.Load() {
		c.conn.WriteInt(0)
		return
	}
	select {
	case o.unblock <- asError:
	default: // one request is already on its way
	}
	c.conn.WriteInt(1)
}

// tenantClient is the connection with id if it is bound to tenant t
// (nil otherwise: ids of other tenants' connections name nothing).
func (s *Server) tenantClient(t *tenant, id int64) *client {
	s.mu.Lock()
	o := s.clients[id]
	s.mu.Unlock()
	if o == nil || t == nil || o.tenantSnapshot() != t {
		return nil
	}
	return o
}
