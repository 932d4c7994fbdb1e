package server

// Scripts in backed mode (package backed, script.go, has the design):
// EVAL and FCALL are checked here as on the embedded store (the script is
// compiled and cached in the tenant's engine on this node, so SCRIPT
// LOAD, EVALSHA, FUNCTION LOAD and the flags work as there), and then run
// in L2, sandboxed, on the slot of their keys.

import (
	"github.com/tcached/tcached/backed"
	"github.com/tcached/tcached/scripting"
)

// runL2 runs a script (body; for FCALL, the library code and function
// name) in L2 and answers its reply.
func (c *client) runL2(args [][]byte, nk int, body, function string, flags scripting.Flags, ro bool) {
	compat := flags&scripting.FlagEvalCompat != 0
	ro = ro || !compat && flags&scripting.FlagNoWrites != 0
	c.srv.l2.RunScript(&c.x, backed.ScriptReq{
		Body: body, Function: function, Keys: args[3 : 3+nk], Args: args[3+nk:], ReadOnly: ro,
	})
}
