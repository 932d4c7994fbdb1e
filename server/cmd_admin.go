package server

import (
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tcached/tcached/command"
)

// The privileged surface of Redis, decided command by command. Each is
// either refused (NOPERM, with Redis's ACL wording, so clients and
// operators recognise it) or scoped to the caller's tenant. Harmless
// no-op answers keep Redis's own test harness runnable (it sends FUNCTION
// FLUSH, CONFIG SET of encoding knobs and DEBUG LOG).

// cmdClientOnOff: CLIENT NO-EVICT|NO-TOUCH on|off, accepted as a no-op
// (tcached evicts no clients) after Redis's check of the argument.
func cmdClientOnOff(c *client, args [][]byte) {
	if !command.EqFold(args[2], "on") && !command.EqFold(args[2], "off") {
		c.conn.WriteError(command.ErrSyntax)
		return
	}
	c.conn.WriteString("OK")
}

// harmlessConfig lists CONFIG SET parameters that only tune Redis's
// internal encodings or background work: accepted and ignored, because
// they cannot change what a tenant observes or reaches.
func harmlessConfig(name string) bool {
	name = strings.ToLower(name)
	switch {
	case strings.Contains(name, "-max-") && (strings.HasSuffix(name, "-entries") || strings.HasSuffix(name, "-value") || strings.HasSuffix(name, "-size") || strings.HasSuffix(name, "-bytes")),
		strings.HasPrefix(name, "list-compress-depth"),
		strings.HasPrefix(name, "lazyfree-"),
		name == "activerehashing", name == "active-expire-effort", name == "hz",
		strings.HasPrefix(name, "lfu-"), name == "latency-tracking":
		return true
	}
	return false
}

// truthfulConfig accepts CONFIG SET of a parameter to the value it has
// in tcached anyway: persistence off (`save ""`, `appendonly no`), as
// Redis's test harness sends them around its units. Any other value would
// ask for something tcached does not do, and is refused.
func truthfulConfig(name, value []byte) bool {
	switch {
	case command.EqFold(name, "save"):
		return len(value) == 0
	case command.EqFold(name, "appendonly"):
		return command.EqFold(value, "no")
	}
	return false
}

// cmdConfigSet accepts only encoding/housekeeping knobs; anything that
// would change the shared server is refused. The collection-encoding
// thresholds tcached implements (command.EncodingParams) are set for the
// caller's tenant, validated as Redis validates them, all or nothing; the
// other harmless knobs are accepted and ignored.
func cmdConfigSet(c *client, args [][]byte) {
	if len(args)%2 != 0 {
		c.conn.WriteError(command.ErrSyntax) // Redis: odd argument counts are a syntax error
		return
	}
	// First, as Redis does, every parameter by name: one that may not be
	// set is refused, then a parameter named twice is a duplicate; only
	// then are the values parsed.
	seen := map[string]bool{}
	dup := -1
	for i := 2; i < len(args); i += 2 {
		if !isBusyThreshold(args[i]) && (c.tenant == nil || lookupEnc(c, args[i]) == nil && !isDiag(c, args[i])) &&
			!truthfulConfig(args[i], args[i+1]) && !harmlessConfig(string(args[i])) {
			c.conn.WriteError(errConfigSetNoPerm(args[i]))
			return
		}
		// Redis tells duplicates by name: an alias is another parameter.
		if name := strings.ToLower(string(args[i])); seen[name] && dup < 0 {
			dup = i
		} else {
			seen[name] = true
		}
	}
	if dup >= 0 {
		c.conn.WriteError(errConfigSetArg(args[dup], "duplicate parameter"))
		return
	}
	type set struct {
		dst *atomic.Int64
		v   int64
	}
	var sets []set
	busy := int64(-1)
	diag := false
	for i := 2; i < len(args); i += 2 {
		if isBusyThreshold(args[i]) {
			// The tenant's own script busy threshold (script.go), until
			// the next reload; 0 goes back to its tier's.
			n, ok := command.ParseInt(args[i+1])
			if !ok || n < 0 {
				c.conn.WriteError(errConfigSetArg(args[i], "argument couldn't be parsed into an integer"))
				return
			}
			busy = n
			continue
		}
		if c.tenant != nil {
			if dst, p, ok := c.tenant.enc.Lookup(string(args[i])); ok {
				v, bad := p.Parse(args[i+1])
				if bad != "" {
					c.conn.WriteError(errConfigSetArg(args[i], bad))
					return
				}
				sets = append(sets, set{dst, v})
				continue
			}
			// The tenant's debugging settings (slowlog.go).
			if dst, p, ok := c.tenant.lookupDiag(args[i]); ok {
				v, isInt := command.ParseInt(args[i+1])
				switch {
				case !isInt:
					c.conn.WriteError(errConfigSetArg(args[i], "argument couldn't be parsed into an integer"))
					return
				case v < p.min:
					c.conn.WriteError(errConfigSetArg(args[i], "argument must be between "+strconv.FormatInt(p.min, 10)+" and 9223372036854775807 inclusive"))
					return
				}
				sets = append(sets, set{dst, v})
				diag = true
				continue
			}
			if dst, p, ok := c.tenant.types.Lookup(args[i]); ok {
				v, bad := p.Parse(args[i+1])
				if bad != "" {
					c.conn.WriteError(errConfigSetArg(args[i], bad))
					return
				}
				sets = append(sets, set{dst, v})
				continue
			}
		}
	}
	for _, s := range sets {
		s.dst.Store(s.v)
	}
	if diag {
		c.srv.diagChanged(c.tenant)
	}
	if busy >= 0 && c.tenant != nil {
		c.tenant.busyOverride.Store(busy * int64(time.Millisecond))
	}
	c.conn.WriteString("OK")
}

// lookupEnc is where the tenant keeps the encoding threshold or type
// parameter name (under its name or alias), nil when it keeps none.
func lookupEnc(c *client, name []byte) *atomic.Int64 {
	if dst, _, ok := c.tenant.enc.Lookup(string(name)); ok {
		return dst
	}
	if dst, _, ok := c.tenant.types.Lookup(name); ok {
		return dst
	}
	return nil
}

// isDiag tells whether name is one of the tenant's debugging settings
// (slowlog.go).
func isDiag(c *client, name []byte) bool {
	_, _, ok := c.tenant.lookupDiag(name)
	return ok
}

// isBusyThreshold names Redis's script busy threshold, under both its
// 7.0 name and the older alias.
func isBusyThreshold(name []byte) bool {
	return command.EqFold(name, "busy-reply-threshold") || command.EqFold(name, "lua-time-limit")
}

// cmdDebug: DEBUG LOG and DEBUG SET-ACTIVE-EXPIRE are accepted as no-ops;
// every other DEBUG subcommand (SEGFAULT, RELOAD, SLEEP, ...) is refused.
func cmdDebug(c *client, args [][]byte) {
	if command.EqFold(args[1], "log") || command.EqFold(args[1], "set-active-expire") {
		c.conn.WriteString("OK")
		return
	}
	c.conn.WriteError(command.ErrNoPerm("debug"))
}

// cmdACLWhoami is the one ACL subcommand a tenant may run: it names itself.
func cmdACLWhoami(c *client, args [][]byte) { c.conn.WriteBulkString(c.user) }

// cmdClientKill: CLIENT KILL addr:port, or CLIENT KILL [ID id] [ADDR a]
// [LADDR a] [USER u] [SKIPME yes|no] [TYPE normal]. Only the caller's
// tenant's connections can match: another tenant's are invisible.
func cmdClientKill(c *client, args [][]byte) {
	var id int64
	var addr, laddr, user string
	skipMe := true
	old := len(args) == 3
	if old {
		addr = string(args[2])
	} else {
		if len(args)%2 != 0 {
			c.conn.WriteError(command.ErrSyntax)
			return
		}
		for i := 2; i < len(args); i += 2 {
			v := args[i+1]
			switch {
			case command.EqFold(args[i], "id"):
				n, ok := command.ParseInt(v)
				if !ok || n <= 0 {
					c.conn.WriteError(errClientIDPositive)
					return
				}
				id = n
			case command.EqFold(args[i], "addr"):
				addr = string(v)
			case command.EqFold(args[i], "laddr"):
				laddr = string(v)
			case command.EqFold(args[i], "user"):
				user = string(v)
			case command.EqFold(args[i], "type"):
				if !command.EqFold(v, "normal") && !command.EqFold(v, "pubsub") && !command.EqFold(v, "master") && !command.EqFold(v, "replica") && !command.EqFold(v, "slave") {
					c.conn.WriteError(errClientType(v))
					return
				}
				if !command.EqFold(v, "normal") {
					c.conn.WriteInt(0)
					return
				}
			case command.EqFold(args[i], "skipme"):
				switch {
				case command.EqFold(v, "yes"):
					skipMe = true
				case command.EqFold(v, "no"):
					skipMe = false
				default:
					c.conn.WriteError(command.ErrSyntax)
					return
				}
			default:
				c.conn.WriteError(command.ErrSyntax)
				return
			}
		}
	}
	killed := 0
	for _, o := range c.srv.clientsOf(c.tenant) {
		if id != 0 && o.id != id || addr != "" && o.addr != addr || laddr != "" && o.laddr != laddr {
			continue
		}
		if user != "" && o.userName() != user {
			continue
		}
		if o == c && (skipMe || old) {
			if old {
				// Redis lets CLIENT KILL addr close the caller itself.
				killed++
				c.conn.closeAfter = true
			}
			continue
		}
		o.kill()
		killed++
	}
	if old {
		if killed == 0 {
			c.conn.WriteError(errNoSuchClient)
			return
		}
		c.conn.WriteString("OK")
		return
	}
	c.conn.WriteInt(killed)
}

// cmdACL: ACL WHOAMI names the caller; every other ACL subcommand would
// read or change other tenants' users and is refused.
func cmdACL(c *client, args [][]byte) {
	if command.EqFold(args[1], "whoami") && len(args) == 2 {
		cmdACLWhoami(c, args)
		return
	}
	c.conn.WriteError(command.ErrNoPerm("acl|" + strings.ToLower(string(args[1]))))
}

func cmdCluster(c *client, args [][]byte) {
	c.conn.WriteError(errNoCluster)
}
