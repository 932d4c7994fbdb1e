package server

import (
	"github.com/tcached/tcached/command"
	"github.com/tcached/tcached/scripting"
)

// SCRIPT subcommands.

func cmdScriptLoad(c *client, args [][]byte) {
	s, msg := c.tenant.engine().Load(args[2])
	if msg != "" {
		c.conn.WriteError(msg)
		return
	}
	c.conn.WriteBulkString(s.SHA)
}

func cmdScriptExists(c *client, args [][]byte) {
	found := c.tenant.engine().Exists(args[2:])
	c.conn.WriteArray(len(found))
	for _, f := range found {
		if f {
			c.conn.WriteInt(1)
		} else {
			c.conn.WriteInt(0)
		}
	}
}

// flushMode reads SCRIPT FLUSH's and FUNCTION FLUSH's [ASYNC|SYNC]
// (both are synchronous here: a tenant's scripts are small).
func flushMode(args [][]byte) bool {
	return len(args) == 2 || len(args) == 3 && (command.EqFold(args[2], "sync") || command.EqFold(args[2], "async"))
}

func cmdScriptFlush(c *client, args [][]byte) {
	if !flushMode(args) {
		c.conn.WriteError(errScriptFlushMode)
		return
	}
	c.tenant.engine().Flush()
	c.conn.WriteString("OK")
}

func cmdScriptKill(c *client, args [][]byte)   { c.killScript(true) }
func cmdFunctionKill(c *client, args [][]byte) { c.killScript(false) }

// killScript is scriptKill: SCRIPT KILL (eval) or FUNCTION KILL.
func (c *client) killScript(eval bool) {
	res, isEval := c.tenant.engine().Kill(eval)
	switch res {
	case scripting.KillNotBusy:
		c.conn.WriteError(errNotBusy)
	case scripting.KillUnkillable:
		c.conn.WriteError(errUnkillable)
	case scripting.KillWrongKind:
		if isEval {
			c.conn.WriteError(errBusyEval)
		} else {
			c.conn.WriteError(errBusyFunction)
		}
	default:
		c.conn.WriteString("OK")
	}
}

func cmdScriptHelp(c *client, args [][]byte) {
	command.WriteHelp(&c.conn.Writer, "SCRIPT", []string{
		"DEBUG (YES|SYNC|NO)",
		"    Set the debug mode for subsequent scripts executed.",
		"EXISTS <sha1> [<sha1> ...]",
		"    Return information about the existence of the scripts in the script cache.",
		"FLUSH [ASYNC|SYNC]",
		"    Flush the Lua scripts cache. Very dangerous on replicas.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the scripts cache.",
		"    * SYNC: Synchronously flush the scripts cache.",
		"KILL",
		"    Kill the currently executing Lua script.",
		"LOAD <script>",
		"    Load a script into the scripts cache without executing it.",
	})
}

// FUNCTION subcommands.

func cmdFunctionLoad(c *client, args [][]byte) {
	replace := false
	i := 2
	for ; i < len(args)-1; i++ {
		if !command.EqFold(args[i], "replace") {
			c.conn.WriteError("ERR Unknown option given: " + string(command.CStr(args[i])))
			return
		}
		replace = true
	}
	if i >= len(args) {
		c.conn.WriteError("ERR Function code is missing")
		return
	}
	name, msg := c.tenant.engine().LoadLibrary(args[i], replace, c.srv.mono)
	if msg != "" {
		c.conn.WriteError(msg)
		return
	}
	c.conn.WriteBulkString(name)
}

func cmdFunctionDelete(c *client, args [][]byte) {
	if !c.tenant.engine().DeleteLibrary(args[2]) {
		c.conn.WriteError(errLibraryNotFound)
		return
	}
	c.conn.WriteString("OK")
}

func cmdFunctionFlush(c *client, args [][]byte) {
	if len(args) > 3 {
		c.conn.WriteError(errSubcommandSyntax(args))
		return
	}
	if !flushMode(args) {
		c.conn.WriteError(errFunctionFlushMode)
		return
	}
	c.tenant.engine().FlushFunctions()
	c.conn.WriteString("OK")
}

func cmdFunctionList(c *client, args [][]byte) {
	withCode := false
	var pattern []byte
	for i := 2; i < len(args); i++ {
		if !withCode && command.EqFold(args[i], "withcode") {
			withCode = true
			continue
		}
		if pattern == nil && command.EqFold(args[i], "libraryname") {
			if i >= len(args)-1 {
				c.conn.WriteError("ERR library name argument was not given")
				return
			}
			i++
			pattern = args[i]
			continue
		}
		c.conn.WriteError("ERR Unknown argument " + string(command.CStr(args[i])))
		return
	}
	libs := c.tenant.engine().Libraries()
	if pattern != nil {
		kept := libs[:0]
		for _, l := range libs {
			if command.GlobMatch(pattern, []byte(l.Name), false) {
				kept = append(kept, l)
			}
		}
		libs = kept
	}
	w := &c.conn.Writer
	w.WriteArray(len(libs))
	for _, l := range libs {
		if withCode {
			w.WriteMap(4)
		} else {
			w.WriteMap(3)
		}
		w.WriteBulkString("library_name")
		w.WriteBulkString(l.Name)
		w.WriteBulkString("engine")
		w.WriteBulkString("LUA")
		w.WriteBulkString("functions")
		w.WriteArray(len(l.Functions))
		for _, f := range l.Functions {
			w.WriteMap(3)
			w.WriteBulkString("name")
			w.WriteBulkString(f.Name)
			w.WriteBulkString("description")
			if f.Desc != nil {
				w.WriteBulkString(*f.Desc)
			} else {
				w.WriteNull()
			}
			w.WriteBulkString("flags")
			names := f.Flags.Names()
			w.WriteSet(len(names))
			for _, n := range names {
				w.WriteString(n)
			}
		}
		if withCode {
			w.WriteBulkString("library_code")
			w.WriteBulkString(l.Code)
		}
	}
}

func cmdFunctionStats(c *client, args [][]byte) {
	e := c.tenant.engine()
	run, running := e.Running()
	if running && run.IsEval {
		c.conn.WriteError(errBusyEval)
		return
	}
	w := &c.conn.Writer
	w.WriteMap(2)
	w.WriteBulkString("running_script")
	if !running {
		w.WriteNull()
	} else {
		w.WriteMap(3)
		w.WriteBulkString("name")
		w.WriteBulkString(run.Name)
		w.WriteBulkString("command")
		w.WriteArray(len(run.Command))
		for _, a := range run.Command {
			w.WriteBulk(a)
		}
		w.WriteBulkString("duration_ms")
		w.WriteInt64(run.Duration.Milliseconds())
	}
	libs, funcs := e.Counts()
	w.WriteBulkString("engines")
	w.WriteMap(1)
	w.WriteBulkString("LUA")
	w.WriteMap(2)
	w.WriteBulkString("libraries_count")
	w.WriteInt(libs)
	w.WriteBulkString("functions_count")
	w.WriteInt(funcs)
}

func cmdFunctionDump(c *client, args [][]byte) {
	c.conn.WriteBulk(c.tenant.engine().Dump())
}

func cmdFunctionRestore(c *client, args [][]byte) {
	if len(args) > 4 {
		c.conn.WriteError(errSubcommandSyntax(args))
		return
	}
	policy := scripting.RestoreAppend
	if len(args) == 4 {
		switch {
		case command.EqFold(args[3], "append"):
		case command.EqFold(args[3], "replace"):
			policy = scripting.RestoreReplace
		case command.EqFold(args[3], "flush"):
			policy = scripting.RestoreFlush
		default:
			c.conn.WriteError("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
			return
		}
	}
	if msg := c.tenant.engine().Restore(args[2], policy, c.srv.mono); msg != "" {
		c.conn.WriteError(msg)
		return
	}
	c.conn.WriteString("OK")
}

func cmdFunctionHelp(c *client, args [][]byte) {
	command.WriteHelp(&c.conn.Writer, "FUNCTION", []string{
		"LOAD [REPLACE] <FUNCTION CODE>",
		"    Create a new library with the given library name and code.",
		"DELETE <LIBRARY NAME>",
		"    Delete the given library.",
		"LIST [LIBRARYNAME PATTERN] [WITHCODE]",
		"    Return general information on all the libraries:",
		"    * Library name",
		"    * The engine used to run the Library",
		"    * Library description",
		"    * Functions list",
		"    * Library code (if WITHCODE is given)",
		"    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
		"STATS",
		"    Return information about the current function running:",
		"    * Function name",
		"    * Command used to run the function",
		"    * Duration in MS that the function is running",
		"    If no function is running, return nil",
		"    In addition, returns a list of available engines.",
		"KILL",
		"    Kill the current running function.",
		"FLUSH [ASYNC|SYNC]",
		"    Delete all the libraries.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the libraries.",
		"    * SYNC: Synchronously flush the libraries.",
		"DUMP",
		"    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
		"RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
		"    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
		"    control how to handle existing libraries (default APPEND):",
		"    * FLUSH: delete all existing libraries.",
		"    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
		"    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
		"      libraries with the new libraries (notice that even on this option there is a chance of failure",
		"      in case of functions name collision with another library).",
	})
}
