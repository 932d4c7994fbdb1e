package server

import (
	"strings"

	"github.com/tcached/tcached/command"
)

// cmdAuth: AUTH [username] password. A failed AUTH keeps the old binding;
// a successful one rebinds the connection to the user's tenant.
func cmdAuth(c *client, args [][]byte) {
	if len(args) > 3 {
		c.conn.WriteError(errAuthTooManyArg)
		return
	}
	var name, pass []byte
	if len(args) == 2 {
		pass = args[1]
	} else {
		name, pass = args[1], args[2]
	}
	if e := c.auth(name, pass); e != "" {
		c.conn.WriteError(e)
		return
	}
	c.conn.WriteString("OK")
}

// authSecrets: every argument of AUTH is a credential (Redis redacts the
// user name too).
func authSecrets(args [][]byte, each func(i int)) {
	for i := 1; i < len(args); i++ {
		each(i)
	}
}

// helloSecrets: HELLO's AUTH user and password.
func helloSecrets(args [][]byte, each func(i int)) {
	for i := 2; i < len(args); i++ {
		if command.EqFold(args[i], "auth") && i+2 < len(args) {
			each(i + 1)
			each(i + 2)
			i += 2
		}
	}
}

// auth checks credentials and rebinds the connection; it returns the error
// reply, or "" on success. A failure keeps the previous binding.
func (c *client) auth(name, pass []byte) string {
	s := c.srv
	u := s.authenticate(c.addr, name, pass)
	if u == nil {
		tenant := ""
		if named := s.reg.Load().users[string(name)]; named != nil && named.tenant != nil {
			tenant = named.tenant.id
		}
		s.audit("auth", tenant, string(name), c.addr, "auth", "failure")
		return errWrongPass
	}
	tenant := ""
	if u.tenant != nil {
		tenant = u.tenant.id
	}
	if !c.bind(u.tenant, u.cfg.Name, u.cfg.Role, u.operator) {
		s.audit("auth", tenant, u.cfg.Name, c.addr, "auth", "tenant connection limit")
		return errTenantMaxConns
	}
	// A reload may have removed or changed the user (or its tenant) between
	// the lookup and the binding, and its scan of connections may have
	// missed this one: the reload publishes its registry before scanning,
	// so re-checking here, after binding, closes the gap.
	cur := s.reg.Load().users[u.cfg.Name]
	if cur == nil || cur.cfg != u.cfg || cur.tenant != u.tenant || cur.operator != u.operator ||
		u.tenant != nil && s.reg.Load().tenants[tenant] != u.tenant {
		c.bind(nil, "", 0, false)
		s.audit("auth", tenant, u.cfg.Name, c.addr, "auth", "failure")
		return errWrongPass
	}
	s.audit("auth", tenant, u.cfg.Name, c.addr, "auth", "success", "operator", u.operator)
	return ""
}

// validClientName applies Redis's rule: printable ASCII without spaces.
func validClientName(b []byte) bool {
	for _, ch := range b {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

// cmdHello: HELLO [protover [AUTH username password] [SETNAME clientname]].
// protover 3 switches the connection to RESP3 and 2 back to RESP2, only
// when the whole command succeeds; without one the protocol is kept. The
// reply is in the (new) protocol: a map in RESP3, a flat array in RESP2.
func cmdHello(c *client, args [][]byte) {
	ver := 0
	if len(args) >= 2 {
		v, ok := command.ParseInt(args[1])
		if !ok {
			c.conn.WriteError(errProtoVersion)
			return
		}
		if v != 2 && v != 3 {
			c.conn.WriteError(errNoProto)
			return
		}
		ver = int(v)
	}
	// As Redis 7.0, each option takes effect where it stands: an AUTH or
	// SETNAME before a bad option is kept.
	for i := 2; i < len(args); i++ {
		more := len(args) - i - 1
		switch {
		case command.EqFold(args[i], "auth") && more >= 2:
			if e := c.auth(args[i+1], args[i+2]); e != "" {
				c.conn.WriteError(e)
				return
			}
			i += 2
		case command.EqFold(args[i], "setname") && more >= 1:
			if !validClientName(args[i+1]) {
				c.conn.WriteError(errClientName)
				return
			}
			c.setName(string(args[i+1]))
			i++
		default:
			c.conn.WriteError(errHelloOption(args[i]))
			return
		}
	}
	if !c.authed() {
		c.conn.WriteError(errHelloNoAuth)
		return
	}
	if ver != 0 {
		c.setProto(ver)
		if ver == 3 && c.trk != nil {
			c.pubsub() // its invalidations come as pushes now (tracking.go)
		}
	}
	c.conn.WriteMap(7)
	c.conn.WriteBulkString("server")
	c.conn.WriteBulkString("redis")
	c.conn.WriteBulkString("version")
	c.conn.WriteBulkString(redisVersion)
	c.conn.WriteBulkString("proto")
	c.conn.WriteInt(c.proto())
	c.conn.WriteBulkString("id")
	c.conn.WriteInt64(c.id)
	c.conn.WriteBulkString("mode")
	c.conn.WriteBulkString("standalone")
	c.conn.WriteBulkString("role")
	c.conn.WriteBulkString("master")
	c.conn.WriteBulkString("modules")
	c.conn.WriteArray(0)
}

func cmdPing(c *client, args [][]byte) {
	if c.pubsubPing(args) { // RESP2 subscribed context (pubsub.go)
		return
	}
	if len(args) == 2 {
		c.conn.WriteBulk(args[1])
		return
	}
	if len(args) > 2 {
		c.conn.WriteError(command.ErrWrongArgs("ping"))
		return
	}
	c.conn.WriteString("PONG")
}

func cmdEcho(c *client, args [][]byte) { c.conn.WriteBulk(args[1]) }

func cmdQuit(c *client, args [][]byte) {
	c.conn.WriteString("OK")
	c.conn.Close()
}

// cmdReset returns the connection to its state right after connect: db 0,
// no name, and bound to default_tenant (or unauthenticated).
func cmdReset(c *client, args [][]byte) {
	c.multi = false
	c.trackOff()    // tracking.go
	c.stopMonitor() // monitor.go
	c.reply = replyOn
	c.pubsubUnbind() // unsubscribe from everything (pubsub.go)
	if c.ps != nil {
		c.ps.target = false
	}
	c.setProto(2)
	c.setDB(0)
	c.db = 0
	c.setName("")
	if !c.srv.bindDefault(c) {
		c.conn.WriteError(errTenantMaxConns)
		c.conn.Close()
		return
	}
	c.conn.WriteString("RESET")
}

func cmdSelect(c *client, args [][]byte) {
	n, bad := command.ParseDB(args[1])
	if bad != "" {
		c.conn.WriteError(bad)
		return
	}
	c.db = n
	c.setDB(n)
	c.conn.WriteString("OK")
}

func cmdClientID(c *client, args [][]byte) { c.conn.WriteInt64(c.id) }

func cmdClientSetName(c *client, args [][]byte) {
	if !validClientName(args[2]) {
		c.conn.WriteError(errClientName)
		return
	}
	c.setName(string(args[2]))
	c.conn.WriteString("OK")
}

func cmdClientGetName(c *client, args [][]byte) {
	c.mu.Lock()
	n := c.name
	c.mu.Unlock()
	if n == "" {
		c.conn.WriteNull()
		return
	}
	c.conn.WriteBulkString(n)
}

// cmdClientSetInfo: CLIENT SETINFO LIB-NAME|LIB-VER value.
func cmdClientSetInfo(c *client, args [][]byte) {
	val := string(args[3])
	for _, ch := range args[3] {
		if ch < '!' || ch > '~' {
			c.conn.WriteError(errClientInfoChars(args[2]))
			return
		}
	}
	c.mu.Lock()
	switch {
	case command.EqFold(args[2], "lib-name"):
		c.libName = val
	case command.EqFold(args[2], "lib-ver"):
		c.libVer = val
	default:
		c.mu.Unlock()
		c.conn.WriteError(errUnrecognizedOption(args[2]))
		return
	}
	c.mu.Unlock()
	c.conn.WriteString("OK")
}

func cmdClientInfo(c *client, args [][]byte) {
	c.conn.WriteVerbatim("txt", c.infoLine(c.srv.now()))
}

// cmdClientList lists the caller's tenant's connections only:
// CLIENT LIST [TYPE normal|...] [ID id ...].
func cmdClientList(c *client, args [][]byte) {
	var ids map[int64]bool
	for i := 2; i < len(args); i++ {
		switch {
		case command.EqFold(args[i], "type") && i+1 < len(args):
			t := string(command.LowerInto(nil, args[i+1]))
			switch t {
			case "normal", "master", "replica", "slave", "pubsub":
			default:
				c.conn.WriteError(errClientType(args[i+1]))
				return
			}
			if t != "normal" {
				ids = map[int64]bool{}
			}
			i++
		case command.EqFold(args[i], "id") && i+1 < len(args):
			if ids == nil {
				ids = map[int64]bool{}
			}
			for i++; i < len(args); i++ {
				n, ok := command.ParseInt(args[i])
				if !ok || n <= 0 {
					c.conn.WriteError(errClientIDInvalid)
					return
				}
				ids[n] = true
			}
		default:
			c.conn.WriteError(command.ErrSyntax)
			return
		}
	}
	now := c.srv.now()
	var b strings.Builder
	for _, o := range c.srv.clientsOf(c.tenant) {
		if ids != nil && !ids[o.id] {
			continue
		}
		b.WriteString(o.infoLine(now))
	}
	c.conn.WriteVerbatim("txt", b.String())
}

func cmdClientHelp(c *client, args [][]byte) {
	command.WriteHelp(&c.conn.Writer, "CLIENT", []string{
		"GETNAME", "    Return the name of the current connection.",
		"ID", "    Return the ID of the current connection.",
		"INFO", "    Return information about the current client connection.",
		"LIST [TYPE <type>] [ID <id> [<id> ...]]", "    Return information about this tenant's client connections.",
		"SETINFO <option> <value>", "    Set client meta attr. Options are: LIB-NAME, LIB-VER.",
		"SETNAME <name>", "    Assign the name <name> to the current connection.",
		"CACHING (YES|NO)", "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
		"GETREDIR", "    Return the client ID we are redirecting to when tracking is enabled.",
		"KILL <ip:port> | KILL <option> <value> [...]", "    Kill connections of this tenant (ID, ADDR, LADDR, USER, SKIPME, TYPE).",
		"REPLY (ON|OFF|SKIP)", "    Control the replies sent to the current connection.",
		"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]", "         [OPTIN] [OPTOUT] [NOLOOP]",
		"    Control server assisted client side caching (keys of this tenant only).",
		"TRACKINGINFO", "    Report tracking status for the current connection.",
		"UNBLOCK <clientid> [TIMEOUT|ERROR]", "    Unblock a client of this tenant blocked in a blocking command.",
	})
}
