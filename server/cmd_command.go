package server

import (
	"strings"

	"github.com/tcached/tcached/command"
)

// COMMAND LIST, GETKEYS and GETKEYSANDFLAGS, from the table's rows.

// commandByName finds a row by Redis's full name: "get", or a
// subcommand as "client|tracking" (COMMAND INFO's lookupCommandBySds).
func (s *Server) commandByName(name []byte) *command.Spec {
	parent, sub, isSub := strings.Cut(strings.ToLower(string(name)), "|")
	cmd := s.table[parent]
	if cmd == nil || !isSub {
		return cmd
	}
	if cmd.Subs == nil || strings.Contains(sub, "|") {
		return nil
	}
	return cmd.Subs[sub]
}

// cmdCommandList: COMMAND LIST [FILTERBY MODULE name|ACLCAT cat|PATTERN
// pattern], every command and, after each container, its subcommands
// under their full names ("client|tracking"), as Redis 7.0 lists them
// (commandListWithoutFilter). A pattern is matched against the full name;
// tcached has no modules, so FILTERBY MODULE lists nothing.
func cmdCommandList(c *client, args [][]byte) {
	var keep func(cmd *command.Spec) bool
	for i := 2; i < len(args); i++ {
		if !command.EqFold(args[i], "filterby") || len(args)-1-i != 2 {
			c.conn.WriteError(command.ErrSyntax)
			return
		}
		arg := args[i+2]
		switch {
		case command.EqFold(args[i+1], "module"):
			keep = func(*command.Spec) bool { return false }
		case command.EqFold(args[i+1], "aclcat"):
			cat := "@" + strings.ToLower(string(arg))
			keep = func(cmd *command.Spec) bool {
				for _, a := range cmd.ACLCategories() {
					if a == cat {
						return true
					}
				}
				return false
			}
		case command.EqFold(args[i+1], "pattern"):
			keep = func(cmd *command.Spec) bool { return command.GlobMatch(arg, []byte(cmd.Name), true) }
		default:
			c.conn.WriteError(command.ErrSyntax)
			return
		}
		i += 2
	}
	var names []string
	for _, cmd := range c.srv.ordered {
		if keep == nil || keep(cmd) {
			names = append(names, cmd.Name)
		}
		for _, sub := range cmd.SortedSubs() {
			if keep == nil || keep(sub) {
				names = append(names, sub.Name)
			}
		}
	}
	c.conn.WriteArray(len(names))
	for _, n := range names {
		c.conn.WriteBulkString(n)
	}
}

// Redis's replies to COMMAND GETKEYS and GETKEYSANDFLAGS.
const (
	errGetKeysInvalidCommand = "ERR Invalid command specified"
	errGetKeysNoKeys         = "ERR The command has no key arguments"
	errGetKeysArity          = "ERR Invalid number of arguments specified for command"
	errGetKeysInvalidArgs    = "ERR Invalid arguments specified for command"
)

// noMandatoryKeys are Redis 7.0's commands flagged NO_MANDATORY_KEYS.
var noMandatoryKeys = map[string]bool{
	"eval": true, "evalsha": true, "eval_ro": true, "evalsha_ro": true, "fcall": true, "fcall_ro": true,
}

// getKeysTarget resolves the command COMMAND GETKEYS is asked about
// (Redis's lookupCommand: a container without a known subcommand is no
// command, unless it is named alone) and checks it as getKeysSubcommand
// does; it writes the error and returns nil when there is no answer.
func (c *client) getKeysTarget(args [][]byte) *command.Spec {
	cmd := c.srv.table[strings.ToLower(string(args[0]))]
	if cmd != nil && cmd.Subs != nil && len(args) > 1 {
		cmd = cmd.Subs[strings.ToLower(string(args[1]))]
	}
	switch {
	case cmd == nil:
		c.conn.WriteError(errGetKeysInvalidCommand)
		return nil
	case !cmd.HasKeys():
		c.conn.WriteError(errGetKeysNoKeys)
		return nil
	case cmd.Arity > 0 && cmd.Arity != len(args) || len(args) < -cmd.Arity:
		c.conn.WriteError(errGetKeysArity)
		return nil
	}
	return cmd
}

// cmdCommandGetKeys: COMMAND GETKEYS command [arg ...], the key arguments
// the command's row declares (its key positions, or KeysOf).
func cmdCommandGetKeys(c *client, args [][]byte) { getKeys(c, args[2:], false) }

// cmdCommandGetKeysAndFlags: COMMAND GETKEYSANDFLAGS, each key with its
// access flags. tcached's rows do not carry Redis 7's per-key-spec flags;
// they are derived from the row: a key a write command writes is
// RW access update, any other key RO access. Redis is finer for some
// commands (SET's key is OW update, DEL's RM delete, LPUSH's RW insert).
func cmdCommandGetKeysAndFlags(c *client, args [][]byte) { getKeys(c, args[2:], true) }

func getKeys(c *client, full [][]byte, flags bool) {
	cmd := c.getKeysTarget(full)
	if cmd == nil {
		return
	}
	var idx []int
	cmd.EachKey(full, func(i int) { idx = append(idx, i) })
	if len(idx) == 0 {
		// KeysOf found no key: Redis answers an empty array for the
		// commands whose keys are optional (EVAL with numkeys 0), an
		// error for the others (ZUNIONSTORE with a bad numkeys).
		if noMandatoryKeys[cmd.Name] {
			c.conn.WriteArray(0)
		} else {
			c.conn.WriteError(errGetKeysInvalidArgs)
		}
		return
	}
	var written map[string]bool
	if flags && cmd.Flags&command.Write != 0 {
		written = map[string]bool{}
		cmd.EachWrittenKey(c.db, full, func(_ int, k []byte) { written[string(k)] = true })
	}
	c.conn.WriteArray(len(idx))
	for _, i := range idx {
		if !flags {
			c.conn.WriteBulk(full[i])
			continue
		}
		c.conn.WriteArray(2)
		c.conn.WriteBulk(full[i])
		if written[string(full[i])] {
			c.conn.WriteSet(3)
			c.conn.WriteString("RW")
			c.conn.WriteString("access")
			c.conn.WriteString("update")
		} else {
			c.conn.WriteSet(2)
			c.conn.WriteString("RO")
			c.conn.WriteString("access")
		}
	}
}

// scriptKeys is EVAL's and FCALL's KeysOf: numkeys keys after the script
// or function name (evalGetKeys). A bad numkeys names no key.
func scriptKeys(args [][]byte, each func(i int)) {
	if len(args) < 3 {
		return
	}
	n, ok := command.ParseInt(args[2])
	if !ok || n < 0 || n > int64(len(args)-3) {
		return
	}
	for i := 3; i < 3+int(n); i++ {
		each(i)
	}
}

func cmdCommandHelp(c *client, args [][]byte) {
	command.WriteHelp(&c.conn.Writer, "COMMAND", []string{
		"(no subcommand)", "    Return details about all commands.",
		"COUNT", "    Return the total number of commands.",
		"LIST", "    Return a list of all commands, with their subcommands.",
		"INFO [<command-name> ...]", "    Return details about the given commands.",
		"DOCS [<command-name> ...]", "    Return documentation details (none are served).",
		"GETKEYS <full-command>", "    Return the keys from a full command.",
		"GETKEYSANDFLAGS <full-command>", "    Return the keys and the access flags from a full command.",
	})
}
