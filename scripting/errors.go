package scripting

// Messages raised inside Lua or answered by the engine, spelled as Redis
// 7.0 spells them (eval.c, script_lua.c, function_lua.c, functions.c).
// The refusals of redis.call that depend on the command table (unknown
// command, arity, noscript, permissions, read-only scripts, OOM) are the
// server's (server/errors.go), passed in by Host.Call.
const (
	errNoArgs         = "Please specify at least one argument for this redis lib call"
	errArgType        = "Lua redis lib command arguments must be strings or integers"
	errNonexistentFmt = "Script attempted to access nonexistent global variable '%s'"
	errReadonly       = "Attempt to modify a readonly table"
	errWrongArgs      = "wrong number of arguments"
	errWrongArgsType  = "wrong number or type of arguments"
	errLogArgs        = "redis.log() requires two arguments or more."
	errLogLevel       = "First argument must be a number (log level)."
	errLogInvalid     = "Invalid debug level."
	errSetRespArgs    = "redis.setresp() requires one argument."
	errSetRespVersion = "RESP version must be 2 or 3."
	errSetReplArgs    = "redis.set_repl() requires two arguments."
	errSetReplFlags   = "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE."
	errACLCheckCmd    = "Invalid command passed to redis.acl_check_cmd()"

	// errKilled is what a script stopped by SCRIPT KILL or FUNCTION KILL
	// raises (Redis's luaMaskCountHook).
	errKilled = "ERR Script killed by user with SCRIPT KILL..."
	// errMaxTime stops a script that ran past its tenant's
	// script_max_time: tcached's own limit (Redis lets a script run until
	// SCRIPT KILL or SHUTDOWN NOSAVE), in Redis's ERR class so that clients
	// do not retry it.
	errMaxTime = "ERR Script killed by the server: it ran past script_max_time"
	// errShutdown stops a script when the server shuts down (Redis's
	// SHUTDOWN NOSAVE ends it with the process).
	errShutdown = "ERR Script killed by the server: it is shutting down"
	// errHeap stops a script whose Lua heap no longer fits its tenant's
	// client_memory budget. OOM is Redis's class for "memory is full", which
	// go-redis does not retry.
	errHeap = "OOM Script killed by the server: its Lua heap would exceed the tenant's client memory > 'client_memory'"
	// errAlloc refuses one allocation (string.rep, table.concat, ...) that
	// would not fit what is left of the budget, before it is made.
	errAlloc = "not enough memory"

	// errReplyTooLarge answers a script whose return value would encode
	// to more than the connection may hold (its output limit, or what the
	// tenant's client_memory has left): tcached's own refusal.
	errReplyTooLarge = "ERR Script reply too large: it exceeds the client output buffer limit or the tenant's client memory"

	errCompile     = "ERR Error compiling script (new function): "
	errShebang     = "ERR Invalid script shebang"
	errShebangEng  = "ERR Unexpected engine in script shebang: "
	errShebangFlag = "ERR Unexpected flag in script shebang: "
	errShebangOpt  = "ERR Unknown lua shebang option: "

	// Functions (functions.c, function_lua.c).
	errFuncCompile       = "ERR Error compiling function: "
	errFuncRegister      = "ERR Error registering functions: "
	errFuncNoMeta        = "ERR Missing library metadata"
	errFuncBadMeta       = "ERR Invalid metadata value given: "
	errFuncEngineMissing = "ERR Engine '%s' not found"
	errFuncLibName       = "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"
	errFuncLibExists     = "ERR Library '%s' already exists"
	errFuncNoFunctions   = "ERR No functions registered"
	errFuncName          = "Function names can only contain letters, numbers, or underscores(_) and must be at least one character long"
	errFuncExists        = "Function %s already exists"
	errFuncAlready       = "Function already exists in the library"
	errFuncLibAlready    = "ERR Function %s already exists"
	errFuncNoSuchLib     = "ERR Library not found"
	errFuncNotFound      = "ERR Function not found"
	errFuncLoadTimeout   = "FUNCTION LOAD timeout"
	errRegisterOnLoad    = "redis.register_function can only be called on FUNCTION LOAD command"
	errRegisterArgs      = "wrong number of arguments to redis.register_function"
	errRegisterFirst     = "first argument to redis.register_function must be a string"
	errRegisterSecond    = "second argument to redis.register_function must be a function"
	errRegisterTable     = "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments)."
	errRegisterKey       = "named argument key given to redis.register_function is not a string"
	errRegisterName      = "function_name argument given to redis.register_function must be a string"
	errRegisterDesc      = "description argument given to redis.register_function must be a string"
	errRegisterCallback  = "callback argument given to redis.register_function must be a function"
	errRegisterFlags     = "flags argument to redis.register_function must be a table representing function flags"
	errRegisterFlag      = "unknown flag given"
	errRegisterUnknown   = "unknown argument given to redis.register_function"
	errRegisterNoName    = "redis.register_function must get a function name argument"
	errRegisterNoCb      = "redis.register_function must get a callback argument"
)
