package scripting

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// redisVersion is the version scripts see (redis.REDIS_VERSION), the one
// whose semantics tcached follows.
const (
	redisVersion    = "7.0.15"
	redisVersionNum = 7<<16 | 0<<8 | 15
)

// The log levels of redis.log (Redis's LL_*).
const (
	LogDebug   = 0
	LogVerbose = 1
	LogNotice  = 2
	LogWarning = 3
)

// newRedisAPI builds the redis table (luaRegisterRedisAPI).
func (v *vm) newRedisAPI(L *lua.LState, functions bool) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("call", L.NewFunction(v.redisCall(true)))
	t.RawSetString("pcall", L.NewFunction(v.redisCall(false)))
	registerLog(L, t, v)
	registerVersion(t)
	t.RawSetString("setresp", L.NewFunction(v.setResp))
	t.RawSetString("sha1hex", L.NewFunction(v.sha1hex))
	t.RawSetString("error_reply", L.NewFunction(errorReply))
	t.RawSetString("status_reply", L.NewFunction(statusReply))
	t.RawSetString("set_repl", L.NewFunction(v.setRepl))
	t.RawSetString("REPL_NONE", lua.LNumber(0))
	t.RawSetString("REPL_AOF", lua.LNumber(1))
	t.RawSetString("REPL_SLAVE", lua.LNumber(2))
	t.RawSetString("REPL_REPLICA", lua.LNumber(2))
	t.RawSetString("REPL_ALL", lua.LNumber(3))
	t.RawSetString("acl_check_cmd", L.NewFunction(v.aclCheckCmd))
	if !functions {
		// replicate_commands is a no-op kept for old scripts (EVAL only,
		// as in Redis 7.0). redis.breakpoint and redis.debug belong to the
		// Lua debugger (SCRIPT DEBUG), which tcached does not have.
		t.RawSetString("replicate_commands", L.NewFunction(func(L *lua.LState) int {
			L.Push(lua.LTrue)
			return 1
		}))
	}
	return t
}

func registerVersion(t *lua.LTable) {
	t.RawSetString("REDIS_VERSION_NUM", lua.LNumber(redisVersionNum))
	t.RawSetString("REDIS_VERSION", lua.LString(redisVersion))
}

func registerLog(L *lua.LState, t *lua.LTable, v *vm) {
	t.RawSetString("log", L.NewFunction(v.log))
	t.RawSetString("LOG_DEBUG", lua.LNumber(LogDebug))
	t.RawSetString("LOG_VERBOSE", lua.LNumber(LogVerbose))
	t.RawSetString("LOG_NOTICE", lua.LNumber(LogNotice))
	t.RawSetString("LOG_WARNING", lua.LNumber(LogWarning))
}

// errorTable builds the table Redis's luaPushErrorBuff pushes: a message
// "-CODE msg" keeps its code, any other gets ERR; trailing CR/LF go.
func errorTable(L *lua.LState, msg string) *lua.LTable {
	code, text := "ERR", msg
	if strings.HasPrefix(msg, "-") {
		if i := strings.IndexByte(msg, ' '); i >= 0 {
			code, text = msg[1:i], msg[i+1:]
		} else {
			text = msg[1:]
		}
	}
	text = strings.TrimRight(text, "\r\n")
	t := L.NewTable()
	t.RawSetString("err", lua.LString(code+" "+text))
	return t
}

// raiseError raises Redis's error table for msg.
func (v *vm) raiseError(L *lua.LState, msg string) {
	v.e.notePos(L)
	L.Error(errorTable(L, msg), 1)
}

// redisCall is redis.call (raise) and redis.pcall: the arguments become
// a command run through the host (the command table and its checks),
// and its reply a Lua value.
func (v *vm) redisCall(raise bool) lua.LGFunction {
	return func(L *lua.LState) int {
		r := v.e.run
		if r == nil {
			v.raiseError(L, "redis.call/pcall can only be called inside a script invocation")
		}
		r.raiseIfStopped(L)
		n := L.GetTop()
		fail := func(msg string) int {
			t := errorTable(L, msg)
			if raise {
				v.e.notePos(L)
				L.Error(t, 1)
			}
			L.Push(t)
			return 1
		}
		if n == 0 {
			return fail(errNoArgs)
		}
		args := make([][]byte, n)
		for i := 1; i <= n; i++ {
			switch x := L.Get(i).(type) {
			case lua.LString:
				args[i-1] = []byte(x)
			case lua.LNumber:
				args[i-1] = []byte(formatNumber(float64(x)))
			default:
				L.SetTop(0)
				return fail(errArgType)
			}
		}
		L.SetTop(0)
		reply, refusal, wrote := r.c.Host.Call(args, r.resp3)
		if wrote {
			r.dirty.Store(true)
		}
		r.raiseIfStopped(L)
		if refusal != "" {
			t := errorTable(L, refusal)
			t.RawSetString("ignore_error_stats_update", lua.LTrue)
			if raise {
				v.e.notePos(L)
				L.Error(t, 1)
			}
			L.Push(t)
			return 1
		}
		r.allocd += int64(len(reply))
		p := replyParser{L: L, b: reply}
		val := p.parse()
		if raise && len(reply) > 0 && reply[0] == '-' {
			v.e.notePos(L)
			L.Error(val, 1)
		}
		L.Push(val)
		return 1
	}
}

func (v *vm) log(L *lua.LState) int {
	n := L.GetTop()
	if n < 2 {
		v.raiseError(L, errLogArgs)
	}
	lv, ok := L.Get(1).(lua.LNumber)
	if !ok {
		if s, isStr := L.Get(1).(lua.LString); isStr {
			if f, err := parseLuaNumber(string(s)); err == nil {
				lv, ok = lua.LNumber(f), true
			}
		}
	}
	if !ok {
		v.raiseError(L, errLogLevel)
	}
	level := int(lv)
	if level < LogDebug || level > LogWarning {
		v.raiseError(L, errLogInvalid)
	}
	var b strings.Builder
	for i := 2; i <= n; i++ {
		var s string
		switch x := L.Get(i).(type) {
		case lua.LString:
			s = string(x)
		case lua.LNumber:
			s = x.String()
		default:
			continue
		}
		if i != 2 {
			b.WriteByte(' ')
		}
		b.WriteString(s)
	}
	if r := v.e.run; r != nil {
		r.c.Host.Log(level, b.String())
	}
	return 0
}

func (v *vm) setResp(L *lua.LState) int {
	r := v.e.run
	if r == nil {
		v.raiseError(L, "redis.setresp can only be called inside a script invocation")
	}
	if L.GetTop() != 1 {
		v.raiseError(L, errSetRespArgs)
	}
	n, _ := L.Get(1).(lua.LNumber)
	switch int(n) {
	case 2:
		r.resp3 = false
	case 3:
		r.resp3 = true
	default:
		v.raiseError(L, errSetRespVersion)
	}
	return 0
}

func (v *vm) setRepl(L *lua.LState) int {
	if v.e.run == nil {
		v.raiseError(L, "redis.set_repl can only be called inside a script invocation")
	}
	if L.GetTop() != 1 {
		v.raiseError(L, errSetReplArgs)
	}
	n, _ := L.Get(1).(lua.LNumber)
	if int(n)&^3 != 0 {
		v.raiseError(L, errSetReplFlags)
	}
	// Replication and AOF do not exist here: a no-op, as the flags only
	// steer propagation in Redis.
	return 0
}

func (v *vm) aclCheckCmd(L *lua.LState) int {
	r := v.e.run
	if r == nil {
		v.raiseError(L, "redis.acl_check_cmd can only be called inside a script invocation")
	}
	n := L.GetTop()
	if n == 0 {
		v.raiseError(L, errNoArgs)
	}
	args := make([][]byte, n)
	for i := 1; i <= n; i++ {
		switch x := L.Get(i).(type) {
		case lua.LString:
			args[i-1] = []byte(x)
		case lua.LNumber:
			args[i-1] = []byte(formatNumber(float64(x)))
		default:
			v.raiseError(L, errArgType)
		}
	}
	allowed, known := r.c.Host.Permitted(args)
	if !known {
		v.raiseError(L, errACLCheckCmd)
	}
	L.Push(lua.LBool(allowed))
	return 1
}

func (v *vm) sha1hex(L *lua.LState) int {
	if L.GetTop() != 1 {
		v.raiseError(L, errWrongArgs)
	}
	var s string
	switch x := L.Get(1).(type) {
	case lua.LString:
		s = string(x)
	case lua.LNumber:
		s = x.String()
	}
	L.Push(lua.LString(SHA1Hex([]byte(s))))
	return 1
}

func errorReply(L *lua.LState) int {
	s, ok := L.Get(1).(lua.LString)
	if L.GetTop() != 1 || !ok {
		L.Push(errorTable(L, errWrongArgsType))
		return 1
	}
	msg := string(s)
	if !strings.HasPrefix(msg, "-") {
		msg = "-" + msg
	}
	L.Push(errorTable(L, msg))
	return 1
}

func statusReply(L *lua.LState) int {
	s, ok := L.Get(1).(lua.LString)
	if L.GetTop() != 1 || !ok {
		L.Push(errorTable(L, errWrongArgsType))
		return 1
	}
	t := L.NewTable()
	t.RawSetString("ok", s)
	L.Push(t)
	return 1
}
