package scripting

import (
	"fmt"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// vm is one Lua state with Redis's sandbox: the EVAL state or the
// FUNCTION state of one tenant (Redis also keeps the two apart). It is
// used by one script at a time: the server runs scripts under its
// tenant's exclusive lock.
//
// # Protection
//
// gopher-lua has no read-only tables (Redis patches its Lua for them), so
// the sandbox builds them from proxies: every table reachable from the
// globals (the globals themselves, redis, string, math, table, cjson,
// bit, struct, cmsgpack, coroutine) is replaced by an empty proxy whose
// metatable reads the real table and refuses writes ("Attempt to modify a
// readonly table"). The functions that could write a table behind its
// metatable's back (rawset, setmetatable, table.insert/remove/sort) refuse
// proxies too, and those that would read an empty proxy (rawget, next,
// pairs, ipairs, getmetatable) see the real table or a protected view of
// it, so nothing reachable from a script can change what another script
// of the tenant sees.
type vm struct {
	L *lua.LState
	// env is the globals proxy every script function runs with; globals
	// is the real table behind it (KEYS and ARGV are set there).
	env, globals *lua.LTable
	// real maps each protected proxy to the table it shows.
	real map[*lua.LTable]*lua.LTable
	// views are the protected views getmetatable hands out for the
	// metatables of proxies and of strings.
	views map[*lua.LTable]*lua.LTable
	// functions state only: the table the globals read while FUNCTION
	// LOAD runs a library (only redis.register_function, log and the
	// version), and the one they read otherwise.
	loadAPI, callAPI *lua.LTable
	e                *Engine
	// base is the fixed cost charged for the state itself.
	base int64
}

// stateBase approximates one sandboxed state's own memory (the libraries,
// proxies, call and register stacks), charged while it exists: 229 KiB
// measured on the Go heap (go1.26, gopher-lua 1.1.2).
const stateBase = 256 << 10

// Lua state limits. Calls nest at most maxCallDepth deep (a deeper
// recursion gets Redis's "stack overflow"; the call stack is allocated
// whole, about 100 bytes a frame, because gopher-lua's growing one
// panics instead of raising the error), and the register stack grows to
// at most maxRegisters slots (16 bytes each).
const (
	maxCallDepth  = 1000
	initRegisters = 1 << 10
	maxRegisters  = 1 << 20
)

func newVM(e *Engine, functions bool) *vm {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:     true,
		CallStackSize:    maxCallDepth,
		RegistrySize:     initRegisters,
		RegistryMaxSize:  maxRegisters,
		RegistryGrowStep: 256,
	})
	v := &vm{L: L, real: map[*lua.LTable]*lua.LTable{}, views: map[*lua.LTable]*lua.LTable{}, e: e, base: stateBase}
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath},
		{lua.CoroutineLibName, lua.OpenCoroutine},
	} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	g := L.G.Global
	v.globals = g
	// Not in Redis's sandbox, or not in tcached's (load, loadstring: see
	// the package doc), or unsafe here (gopher-lua's collectgarbage runs a
	// full Go GC, a stop-the-world pause for every tenant).
	for _, name := range []string{"dofile", "loadfile", "load", "loadstring", "print",
		"require", "module", "_printregs", "_GOPHER_LUA_VERSION", "collectgarbage", "package"} {
		g.RawSetString(name, lua.LNil)
	}
	g.RawSetString("collectgarbage", L.NewFunction(v.collectGarbage))
	g.RawSetString("gcinfo", L.NewFunction(v.gcinfo))
	v.coerceIntArgs(g)
	v.installBase(L, g)
	v.installString(L, g)
	v.installTable(L, g)
	v.installMath(L, g)
	v.installCoroutine(L, g)
	g.RawSetString("bit", newBitLib(L))
	g.RawSetString("struct", newStructLib(L, v))
	g.RawSetString("cjson", newCJSONLib(L, v))
	g.RawSetString("cmsgpack", newMsgpackLib(L, v))
	redis := v.newRedisAPI(L, functions)
	g.RawSetString("redis", redis)
	g.RawSetString(concatName, L.NewFunction(v.concat))

	if functions {
		// While a library loads, the globals show only this (Redis's
		// LIBRARY_API: register_function, log and the version), each
		// missing name an error.
		lr := L.NewTable()
		lr.RawSetString("register_function", L.NewFunction(v.registerFunction))
		registerLog(L, lr, v)
		registerVersion(lr)
		v.loadAPI = L.NewTable()
		v.loadAPI.RawSetString("redis", v.protect(lr, true))
		v.loadAPI.RawSetString(concatName, g.RawGetString(concatName))
	}
	// Protect every library table, then the globals.
	for _, name := range []string{"redis", "string", "math", "table", "coroutine", "bit", "struct", "cjson", "cmsgpack"} {
		t := g.RawGetString(name).(*lua.LTable)
		g.RawSetString(name, v.protect(t, false))
	}
	// Strings' methods read the protected string table, and the string
	// metatable handed to scripts is a view.
	smt := lua.LValue(L.NewTable())
	if st, ok := g.RawGetString("string").(*lua.LTable); ok {
		smt.(*lua.LTable).RawSetString("__index", st)
	}
	L.SetMetatable(lua.LString(""), smt)
	v.callAPI = g
	v.env = v.globalsProxy()
	g.RawSetString("_G", v.env)
	L.Env = v.env
	return v
}

// globalsProxy builds the table scripts see as their globals: empty, its
// metatable's __index a protected view of the real globals (a missing
// name is an error, as Redis's luaSetErrorMetatable makes it), writes
// refused. In the functions state the view reads loadAPI while a library
// loads.
func (v *vm) globalsProxy() *lua.LTable {
	L := v.L
	inner := L.NewTable()
	imt := L.NewTable()
	imt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		name := L.Get(2)
		src := v.callAPI
		if v.e != nil && v.e.loading != nil && v.loadAPI != nil {
			src = v.loadAPI
		}
		val := src.RawGet(name)
		if val == lua.LNil {
			L.RaiseError(errNonexistentFmt, lua.LVAsString(name))
		}
		L.Push(val)
		return 1
	}))
	imt.RawSetString("__newindex", L.NewFunction(readonlyError))
	inner.Metatable = imt
	v.real[inner] = v.globals
	p := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", inner)
	mt.RawSetString("__newindex", L.NewFunction(readonlyError))
	p.Metatable = mt
	v.real[p] = v.globals
	return p
}

// protect returns a read-only proxy of t. With strict, reading a missing
// field is an error (the functions state's load-time redis table).
func (v *vm) protect(t *lua.LTable, strict bool) *lua.LTable {
	L := v.L
	p := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		k := L.Get(2)
		val := t.RawGet(k)
		if val == lua.LNil && strict {
			L.RaiseError(errNonexistentFmt, lua.LVAsString(k))
		}
		L.Push(val)
		return 1
	}))
	mt.RawSetString("__newindex", L.NewFunction(readonlyError))
	p.Metatable = mt
	v.real[p] = t
	return p
}

func readonlyError(L *lua.LState) int {
	L.RaiseError(errReadonly)
	return 0
}

// shown is the table a script means by tb: the real one behind a proxy.
func (v *vm) shown(tb *lua.LTable) *lua.LTable {
	if r, ok := v.real[tb]; ok {
		return r
	}
	return tb
}

// refuseProtected raises the read-only error for a protected table
// given to a Go function. As in Redis's Lua, where the check is in the
// API the function calls, the message carries no position.
func (v *vm) refuseProtected(L *lua.LState, n int) *lua.LTable {
	tb := L.CheckTable(n)
	if _, ok := v.real[tb]; ok || v.views[tb] != nil || v.isView(tb) {
		v.e.notePos(L)
		L.Error(lua.LString(errReadonly), 0)
	}
	return tb
}

func (v *vm) isView(tb *lua.LTable) bool {
	for _, w := range v.views {
		if w == tb {
			return true
		}
	}
	return false
}

// view is the protected view of a metatable mt that getmetatable hands
// out instead of mt itself.
func (v *vm) view(mt *lua.LTable) *lua.LTable {
	if w, ok := v.views[mt]; ok {
		return w
	}
	w := v.protect(mt, false)
	v.views[mt] = w
	return w
}

func (v *vm) installBase(L *lua.LState, g *lua.LTable) {
	g.RawSetString("rawset", L.NewFunction(func(L *lua.LState) int {
		tb := v.refuseProtected(L, 1)
		L.RawSet(tb, L.CheckAny(2), L.CheckAny(3))
		L.SetTop(1)
		return 1
	}))
	g.RawSetString("rawget", L.NewFunction(func(L *lua.LState) int {
		tb := v.shown(L.CheckTable(1))
		L.Push(tb.RawGet(L.CheckAny(2)))
		return 1
	}))
	g.RawSetString("setmetatable", L.NewFunction(func(L *lua.LState) int {
		tb := v.refuseProtected(L, 1)
		L.CheckTypes(2, lua.LTNil, lua.LTTable)
		if mt, ok := tb.Metatable.(*lua.LTable); ok && mt.RawGetString("__metatable") != lua.LNil {
			L.RaiseError("cannot change a protected metatable")
		}
		tb.Metatable = L.Get(2)
		L.SetTop(1)
		return 1
	}))
	g.RawSetString("getmetatable", L.NewFunction(func(L *lua.LState) int {
		obj := L.CheckAny(1)
		if tb, ok := obj.(*lua.LTable); ok {
			if _, prot := v.real[tb]; prot {
				L.Push(v.view(tb.Metatable.(*lua.LTable)))
				return 1
			}
		}
		mt := L.GetMetatable(obj)
		if _, ok := obj.(lua.LString); ok {
			if t, ok := mt.(*lua.LTable); ok {
				L.Push(v.view(t))
				return 1
			}
		}
		L.Push(mt)
		return 1
	}))
	next := L.NewFunction(func(L *lua.LState) int {
		tb := v.shown(L.CheckTable(1))
		idx := lua.LValue(lua.LNil)
		if L.GetTop() >= 2 {
			idx = L.Get(2)
		}
		k, val := tb.Next(idx)
		if k == lua.LNil {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(k)
		L.Push(val)
		return 2
	})
	g.RawSetString("next", next)
	g.RawSetString("pairs", L.NewFunction(func(L *lua.LState) int {
		tb := L.CheckTable(1)
		L.Push(next)
		L.Push(tb)
		L.Push(lua.LNil)
		return 3
	}))
	inext := L.NewFunction(func(L *lua.LState) int {
		tb := v.shown(L.CheckTable(1))
		i := L.CheckInt(2) + 1
		val := tb.RawGetInt(i)
		if val == lua.LNil {
			return 0
		}
		L.Push(lua.LNumber(i))
		L.Push(val)
		return 2
	})
	g.RawSetString("ipairs", L.NewFunction(func(L *lua.LState) int {
		tb := L.CheckTable(1)
		L.Push(inext)
		L.Push(tb)
		L.Push(lua.LNumber(0))
		return 3
	}))
	// pcall: Redis 7 returns an error table's message (pcall of a
	// function whose redis.call failed gives the string, as before 7).
	g.RawSetString("pcall", L.NewFunction(func(L *lua.LState) int {
		L.CheckAny(1)
		nargs := L.GetTop() - 1
		err := L.PCall(nargs, lua.MultRet, nil)
		if err != nil {
			obj := errorObject(err)
			if tb, ok := obj.(*lua.LTable); ok {
				if s, ok := tb.RawGetString("err").(lua.LString); ok {
					obj = s
				}
			}
			L.Push(lua.LFalse)
			L.Push(obj)
			return 2
		}
		n := L.GetTop()
		L.Insert(lua.LTrue, 1)
		return n + 1
	}))
	// setfenv may not give a protected function or the thread a table
	// behind the sandbox's back for later scripts: the thread's
	// environment is put back after every run (Engine.finish).
	// error: Lua 5.1's, which also takes no argument (nil), and adds the
	// position to numbers as to strings, only when the function at level
	// is Lua code (not pcall's error(...), a Go function).
	g.RawSetString("error", L.NewFunction(func(L *lua.LState) int {
		obj := L.Get(1)
		level := L.OptInt(2, 1)
		v.e.notePos(L)
		var msg string
		switch x := obj.(type) {
		case lua.LString:
			msg = string(x)
		case lua.LNumber:
			msg = numberString(float64(x))
		default:
			L.Error(obj, 0)
		}
		if level > 0 {
			if dbg, ok := L.GetStack(level); ok {
				if _, err := L.GetInfo("Sl", dbg, lua.LNil); err == nil && dbg.What != "G" && dbg.CurrentLine >= 0 {
					msg = dbg.Source + ":" + strconv.Itoa(dbg.CurrentLine) + ": " + msg
				}
			}
		}
		L.Error(lua.LString(msg), 0)
		return 0
	}))
	// tostring formats numbers as Lua 5.1 does ("%.14g"; gopher-lua
	// prints Go's shortest form).
	v.wrap(g, "tostring", func(L *lua.LState, orig lua.LGFunction) int {
		if n, ok := L.Get(1).(lua.LNumber); ok {
			L.Push(lua.LString(numberString(float64(n))))
			return 1
		}
		return orig(L)
	})
	v.wrap(g, "unpack", func(L *lua.LState, orig lua.LGFunction) int {
		if tb, ok := L.Get(1).(*lua.LTable); ok {
			i := optInt(L, 2, 1)
			j := optInt(L, 3, tb.Len())
			if j-i >= maxRegisters/2 {
				L.RaiseError("too many results to unpack")
			}
		}
		return orig(L)
	})
}

// coerceIntArgs makes the library functions that take integers accept
// numeric strings, as Lua 5.1's luaL_checkint does (gopher-lua's CheckInt
// wants a number): string.rep('x', ARGV[1]) works as in Redis.
func (v *vm) coerceIntArgs(g *lua.LTable) {
	for lib, fns := range map[string]map[string][]int{
		"": {"unpack": {2, 3}, "select": {1}},
		"string": {"byte": {2, 3}, "char": {1, 2, 3, 4, 5, 6, 7, 8}, "find": {3}, "rep": {2}, "sub": {2, 3},
			"gsub": {4}, "match": {3}},
		"table": {"concat": {3, 4}, "remove": {2}},
	} {
		t := g
		if lib != "" {
			t = g.RawGetString(lib).(*lua.LTable)
		}
		for name, pos := range fns {
			pos := pos
			v.wrap(t, name, func(L *lua.LState, orig lua.LGFunction) int {
				for _, p := range pos {
					if s, ok := L.Get(p).(lua.LString); ok {
						if f, err := parseLuaNumber(string(s)); err == nil {
							L.Replace(p, lua.LNumber(f))
						}
					}
				}
				return orig(L)
			})
		}
	}
	// table.insert(t, pos, v): pos only when there are three arguments.
	t := g.RawGetString("table").(*lua.LTable)
	v.wrap(t, "insert", func(L *lua.LState, orig lua.LGFunction) int {
		if L.GetTop() == 3 {
			if s, ok := L.Get(2).(lua.LString); ok {
				if f, err := parseLuaNumber(string(s)); err == nil {
					L.Replace(2, lua.LNumber(f))
				}
			}
		}
		return orig(L)
	})
}

// checkInt is luaL_checkint: a number, or a string that converts to one.
func checkInt(L *lua.LState, n int) int {
	return int(L.CheckNumber(n))
}

// wrap replaces t[name], a Go function, by fn, which gets the original.
func (v *vm) wrap(t *lua.LTable, name string, fn func(L *lua.LState, orig lua.LGFunction) int) {
	orig := t.RawGetString(name).(*lua.LFunction).GFunction
	t.RawSetString(name, v.L.NewFunction(func(L *lua.LState) int { return fn(L, orig) }))
}

func (v *vm) installTable(L *lua.LState, g *lua.LTable) {
	t := g.RawGetString("table").(*lua.LTable)
	for _, name := range []string{"insert", "remove", "sort"} {
		v.wrap(t, name, func(L *lua.LState, orig lua.LGFunction) int {
			v.refuseProtected(L, 1)
			return orig(L)
		})
	}
	for _, name := range []string{"getn", "maxn"} {
		v.wrap(t, name, func(L *lua.LState, orig lua.LGFunction) int {
			if tb, ok := L.Get(1).(*lua.LTable); ok {
				L.Replace(1, v.shown(tb))
			}
			return orig(L)
		})
	}
	// table.concat: refuse a result the budget cannot hold, before
	// building it.
	v.wrap(t, "concat", func(L *lua.LState, orig lua.LGFunction) int {
		tb := v.shown(L.CheckTable(1))
		L.Replace(1, tb)
		sep := len(L.OptString(2, ""))
		i := optInt(L, 3, 1)
		j := optInt(L, 4, tb.Len())
		var n int64
		for k := i; k <= j; k++ {
			if s, ok := tb.RawGetInt(k).(lua.LString); ok {
				n += int64(len(s))
			} else if num, ok := tb.RawGetInt(k).(lua.LNumber); ok {
				n += int64(len(num.String()))
			}
			n += int64(sep)
			if k-i > 1<<30 {
				break
			}
		}
		v.e.allocCheck(L, n)
		return orig(L)
	})
}

func (v *vm) installString(L *lua.LState, g *lua.LTable) {
	s := g.RawGetString("string").(*lua.LTable)
	s.RawSetString("dump", lua.LNil) // bytecode is not portable here, and cannot be loaded
	s.RawSetString("gfind", lua.LNil)
	s.RawSetString("__index", lua.LNil)
	v.wrap(s, "rep", func(L *lua.LState, orig lua.LGFunction) int {
		str := L.CheckString(1)
		n := checkInt(L, 2)
		if n > 0 {
			v.e.allocCheck(L, int64(len(str))*int64(n))
		}
		return orig(L)
	})
	v.wrap(s, "format", func(L *lua.LState, orig lua.LGFunction) int {
		f := L.CheckString(1)
		checkFormat(L, f)
		n := int64(len(f)) + 100*int64(strings.Count(f, "%"))
		for i := 2; i <= L.GetTop(); i++ {
			if s, ok := L.Get(i).(lua.LString); ok {
				n += int64(len(s))
			}
		}
		v.e.allocCheck(L, n)
		return orig(L)
	})
	v.installPatterns(L, s)
}

// checkFormat refuses what Lua 5.1's string.format refuses: a width or a
// precision of more than two digits (which also bounds what one
// directive can allocate).
func checkFormat(L *lua.LState, f string) {
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			continue
		}
		for i < len(f) && (f[i] == '-' || f[i] == '+' || f[i] == ' ' || f[i] == '#' || f[i] == '0') {
			i++
		}
		d := 0
		for i < len(f) && f[i] >= '0' && f[i] <= '9' {
			i++
			d++
		}
		if d > 2 {
			L.RaiseError("invalid format (width or precision too long)")
		}
		if i < len(f) && f[i] == '.' {
			i++
			d = 0
			for i < len(f) && f[i] >= '0' && f[i] <= '9' {
				i++
				d++
			}
			if d > 2 {
				L.RaiseError("invalid format (width or precision too long)")
			}
		}
	}
}

func (v *vm) installMath(L *lua.LState, g *lua.LTable) {
	m := g.RawGetString("math").(*lua.LTable)
	// Redis replaces math.random with its own lrand48, the same sequence
	// on every platform for a seed.
	m.RawSetString("random", L.NewFunction(func(L *lua.LState) int {
		r := float64(v.e.rand.next()%lrandMax) / float64(lrandMax)
		switch L.GetTop() {
		case 0:
			L.Push(lua.LNumber(r))
		case 1:
			u := checkInt(L, 1)
			if u < 1 {
				L.ArgError(1, "interval is empty")
			}
			L.Push(lua.LNumber(float64(int64(r*float64(u))) + 1))
		case 2:
			l, u := checkInt(L, 1), checkInt(L, 2)
			if l > u {
				L.ArgError(2, "interval is empty")
			}
			L.Push(lua.LNumber(float64(int64(r*float64(u-l+1))) + float64(l)))
		default:
			L.RaiseError("wrong number of arguments")
		}
		return 1
	}))
	m.RawSetString("randomseed", L.NewFunction(func(L *lua.LState) int {
		v.e.rand.seed(int32(checkInt(L, 1)))
		return 0
	}))
}

func (v *vm) installCoroutine(L *lua.LState, g *lua.LTable) {
	co := g.RawGetString("coroutine").(*lua.LTable)
	// A coroutine runs its own Lua thread, which must run under the same
	// hook as the script (time limit, SCRIPT KILL, heap checks).
	v.wrap(co, "create", func(L *lua.LState, orig lua.LGFunction) int {
		v.e.allocCheck(L, sizeThread)
		n := orig(L)
		if th, ok := L.Get(-1).(*lua.LState); ok {
			if r := v.e.run; r != nil {
				th.SetContext(&hook{r: r})
			}
		}
		return n
	})
	create := co.RawGetString("create")
	resume := co.RawGetString("resume")
	// wrap, on top of the hooked create (gopher-lua's wrap creates its
	// thread internally).
	co.RawSetString("wrap", L.NewFunction(func(L *lua.LState) int {
		fn := L.CheckFunction(1)
		L.Push(create)
		L.Push(fn)
		L.Call(1, 1)
		th := L.Get(-1)
		L.Pop(1)
		L.Push(L.NewFunction(func(L *lua.LState) int {
			n := L.GetTop()
			L.Push(resume)
			L.Push(th)
			for i := 1; i <= n; i++ {
				L.Push(L.Get(i))
			}
			L.Call(n+1, lua.MultRet)
			top := L.GetTop()
			if L.Get(n+1) == lua.LFalse {
				L.Error(L.Get(n+2), 1)
			}
			return top - n - 1
		}))
		return 1
	}))
}

func (v *vm) collectGarbage(L *lua.LState) int {
	// A full collection of the Go heap would pause every tenant: the
	// Lua heap is Go's, collected by Go. "count" reports the estimate.
	opt := L.OptString(1, "collect")
	switch opt {
	case "count":
		L.Push(lua.LNumber(float64(v.e.heapEstimate()) / 1024))
		return 1
	case "collect", "stop", "restart", "step", "setpause", "setstepmul":
		L.Push(lua.LNumber(0))
		return 1
	}
	L.ArgError(1, fmt.Sprintf("invalid option '%s'", opt))
	return 0
}

func (v *vm) gcinfo(L *lua.LState) int {
	L.Push(lua.LNumber(v.e.heapEstimate() / 1024))
	return 1
}

// errorObject is the Lua value an error carries.
func errorObject(err error) lua.LValue {
	if ae, ok := err.(*lua.ApiError); ok && ae.Object != nil {
		return ae.Object
	}
	return lua.LString(err.Error())
}
