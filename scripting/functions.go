package scripting

import (
	"fmt"
	"sort"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/tcached/tcached/resp"
)

// Library is a loaded function library (FUNCTION LOAD).
type Library struct {
	Name  string
	Code  string // the whole payload, shebang included
	funcs map[string]*Function
	cost  int64
}

// Function is one registered function.
type Function struct {
	Name  string
	Desc  *string
	Flags Flags
	lib   *Library
	fn    *lua.LFunction
}

// Library returns the function's library name.
func (f *Function) Library() string { return f.lib.Name }

// libraryOverhead approximates a library's cost beyond its code: the
// compiled chunk and its closures (as for scripts, a few times the
// source) and the entries.
const libraryOverhead = 1024

// loadTimeout bounds the time a library's top-level code may run
// (Redis's LOAD_TIMEOUT_MS).
const loadTimeout = 500 * time.Millisecond

// fnVM is the functions state, created (and charged) on first use.
func (e *Engine) fnVM() (*vm, bool) {
	if e.fn != nil {
		return e.fn, true
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.budget.Reserve(stateBase) {
		return nil, false
	}
	e.charged += stateBase
	e.fn = newVM(e, true)
	return e.fn, true
}

// validName is functionsVerifyName: [a-zA-Z0-9_]+.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// libMeta reads a library's shebang (functionExtractLibMetaData).
func libMeta(code string) (engine, name, body string, errMsg string) {
	if !strings.HasPrefix(code, "#!") {
		return "", "", "", errFuncNoMeta
	}
	end := strings.IndexByte(code, '\n')
	if end < 0 {
		return "", "", "", "ERR Invalid library metadata"
	}
	parts, ok := splitArgs(code[:end])
	if !ok || len(parts) == 0 {
		return "", "", "", "ERR Invalid library metadata"
	}
	engine = parts[0][2:]
	for _, p := range parts[1:] {
		if len(p) >= 5 && strings.EqualFold(p[:5], "name=") {
			if name != "" {
				return "", "", "", "ERR Invalid metadata value, name argument was given multiple times"
			}
			name = p[5:]
			continue
		}
		return "", "", "", errFuncBadMeta + p
	}
	if name == "" {
		return "", "", "", "ERR Library name was not given"
	}
	return engine, name, code[end:], ""
}

// LoadLibrary is FUNCTION LOAD [REPLACE] code: it runs the library's code
// to register its functions and links it, or returns the error reply.
// now is a monotonic clock (ns) for the load timeout.
func (e *Engine) LoadLibrary(code []byte, replace bool, now func() int64) (string, string) {
	engine, name, body, errMsg := libMeta(string(code))
	if errMsg != "" {
		return "", errMsg
	}
	if !validName(name) {
		return "", errFuncLibName
	}
	if !strings.EqualFold(engine, "lua") {
		return "", fmt.Sprintf(errFuncEngineMissing, engine)
	}
	e.mu.Lock()
	old := e.libs[name]
	e.mu.Unlock()
	if old != nil && !replace {
		return "", fmt.Sprintf(errFuncLibExists, name)
	}
	lib, errMsg := e.compileLibrary(name, string(code), body, now)
	if errMsg != "" {
		return "", errMsg
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for key, nf := range lib.funcs {
		if f := e.funcs[key]; f != nil && f.lib != old {
			return "", fmt.Sprintf(errFuncLibAlready, nf.Name)
		}
	}
	if !e.budget.Reserve(lib.cost) {
		return "", e.oom
	}
	e.charged += lib.cost
	if old != nil {
		e.unlink(old)
	}
	e.link(lib)
	return name, ""
}

func (e *Engine) link(lib *Library) {
	e.libs[lib.Name] = lib
	for n, f := range lib.funcs {
		e.funcs[n] = f
	}
}

// unlink removes lib and gives its charge back (e.mu held).
func (e *Engine) unlink(lib *Library) {
	delete(e.libs, lib.Name)
	for n := range lib.funcs {
		delete(e.funcs, n)
	}
	e.charged -= lib.cost
	e.budget.Release(lib.cost)
}

// compileLibrary runs a library's code in the functions state, with the
// load-time globals, and collects what it registers.
func (e *Engine) compileLibrary(name, code, body string, now func() int64) (*Library, string) {
	v, ok := e.fnVM()
	if !ok {
		return nil, e.oom
	}
	proto, err := compile(body, "user_function")
	if err != nil {
		return nil, errFuncCompile + err.Error()
	}
	lib := &Library{Name: name, Code: code, funcs: map[string]*Function{}, cost: int64(4*len(code)) + libraryOverhead}
	L := v.L
	fn := L.NewFunctionFromProto(proto)
	fn.Env = v.env
	e.loading = lib
	defer func() { e.loading = nil }()
	c := &Call{Host: nopHost{}, Name: name, Now: now, StopAfter: loadTimeout}
	r := e.start(v, c, false)
	L.Push(fn)
	err = L.PCall(0, 0, nil)
	stop := r.stop
	e.finish(v, r)
	if err != nil {
		if stop == errMaxTime {
			return nil, errFuncRegister + "ERR " + errFuncLoadTimeout
		}
		msg := "ERR " + lua.LVAsString(errorObject(err))
		if tb, ok := errorObject(err).(*lua.LTable); ok {
			if s, ok := tb.RawGetString("err").(lua.LString); ok {
				msg = string(s)
			}
		}
		return nil, errFuncRegister + msg
	}
	if len(lib.funcs) == 0 {
		return nil, errFuncNoFunctions
	}
	return lib, ""
}

// nopHost is the host of a library's load: no command may run.
type nopHost struct{}

func (nopHost) Call([][]byte, bool) ([]byte, string, bool) {
	return nil, "This Redis command is not allowed from script", false
}
func (nopHost) Yield() bool                     { return false }
func (nopHost) Busy()                           {}
func (nopHost) Log(int, string)                 {}
func (nopHost) Permitted([][]byte) (bool, bool) { return false, false }

// registerFunction is redis.register_function, valid only while a
// library loads (luaRegisterFunction).
func (v *vm) registerFunction(L *lua.LState) int {
	lib := v.e.loading
	if lib == nil {
		v.raiseError(L, errRegisterOnLoad)
	}
	var (
		name  string
		desc  *string
		cb    *lua.LFunction
		flags Flags
	)
	switch L.GetTop() {
	case 1:
		args, ok := L.Get(1).(*lua.LTable)
		if !ok {
			v.raiseError(L, errRegisterTable)
		}
		var errMsg string
		args.ForEach(func(k, val lua.LValue) {
			if errMsg != "" {
				return
			}
			ks, ok := k.(lua.LString)
			if !ok {
				if _, num := k.(lua.LNumber); !num {
					errMsg = errRegisterKey
					return
				}
				ks = lua.LString(lua.LVAsString(k))
			}
			switch strings.ToLower(string(ks)) {
			case "function_name":
				s, ok := luaString(val)
				if !ok {
					errMsg = errRegisterName
					return
				}
				name = s
			case "description":
				s, ok := luaString(val)
				if !ok {
					errMsg = errRegisterDesc
					return
				}
				desc = &s
			case "callback":
				f, ok := val.(*lua.LFunction)
				if !ok {
					errMsg = errRegisterCallback
					return
				}
				cb = f
			case "flags":
				ft, ok := val.(*lua.LTable)
				if !ok {
					errMsg = errRegisterFlags
					return
				}
				for i := 1; ; i++ {
					fv := ft.RawGetInt(i)
					if fv == lua.LNil {
						break
					}
					s, ok := luaString(fv)
					f, known := flagByName(s, true)
					if !ok || !known {
						errMsg = errRegisterFlag
						return
					}
					flags |= f
				}
			default:
				errMsg = errRegisterUnknown
			}
		})
		if errMsg != "" {
			v.raiseError(L, errMsg)
		}
		if name == "" && cb == nil {
			v.raiseError(L, errRegisterNoName)
		}
		if name == "" {
			v.raiseError(L, errRegisterNoName)
		}
		if cb == nil {
			v.raiseError(L, errRegisterNoCb)
		}
	case 2:
		s, ok := luaString(L.Get(1))
		if !ok {
			v.raiseError(L, errRegisterFirst)
		}
		f, ok := L.Get(2).(*lua.LFunction)
		if !ok {
			v.raiseError(L, errRegisterSecond)
		}
		name, cb = s, f
	default:
		v.raiseError(L, errRegisterArgs)
	}
	if !validName(name) {
		v.raiseError(L, strings.TrimPrefix(errFuncLibName, "ERR "))
	}
	// Function names are case-insensitive, as Redis's function dict is.
	key := strings.ToLower(name)
	if lib.funcs[key] != nil {
		v.raiseError(L, errFuncAlready)
	}
	lib.funcs[key] = &Function{Name: name, Desc: desc, Flags: flags, lib: lib, fn: cb}
	return 0
}

func luaString(v lua.LValue) (string, bool) {
	switch x := v.(type) {
	case lua.LString:
		return string(x), true
	case lua.LNumber:
		return x.String(), true
	}
	return "", false
}

// LookupFunction returns the function name, or nil.
func (e *Engine) LookupFunction(name []byte) *Function {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.funcs[strings.ToLower(string(name))]
}

// RunFunction runs f (FCALL) with c's keys and arguments and writes its
// reply to w.
func (e *Engine) RunFunction(c *Call, f *Function, w *resp.Writer) {
	v, ok := e.fnVM()
	if !ok {
		w.WriteError(e.oom)
		return
	}
	L := v.L
	r := e.start(v, c, false)
	defer e.finish(v, r)
	L.Push(f.fn)
	L.Push(stringArray(L, c.Keys))
	L.Push(stringArray(L, c.Args))
	err := L.PCall(2, 1, nil)
	e.reply(v, r, err, f.Name, w)
}

// DeleteLibrary is FUNCTION DELETE.
func (e *Engine) DeleteLibrary(name []byte) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	lib := e.libs[string(name)]
	if lib == nil {
		return false
	}
	e.unlink(lib)
	return true
}

// FlushFunctions is FUNCTION FLUSH: every library goes, and the state.
func (e *Engine) FlushFunctions() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, lib := range e.libs {
		e.unlink(lib)
	}
	if e.fn != nil {
		e.fn.L.Close()
		e.fn = nil
		e.charged -= stateBase
		e.budget.Release(stateBase)
	}
}

// Libraries returns the libraries by name, their functions by name
// (FUNCTION LIST; Redis's order is its hash table's).
func (e *Engine) Libraries() []LibraryInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]LibraryInfo, 0, len(e.libs))
	for _, lib := range e.libs {
		li := LibraryInfo{Name: lib.Name, Code: lib.Code}
		for _, f := range lib.funcs {
			li.Functions = append(li.Functions, f)
		}
		sort.Slice(li.Functions, func(i, j int) bool { return li.Functions[i].Name < li.Functions[j].Name })
		out = append(out, li)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LibraryInfo is one library as FUNCTION LIST shows it.
type LibraryInfo struct {
	Name      string
	Code      string
	Functions []*Function
}

// Counts is the number of libraries and functions (FUNCTION STATS).
func (e *Engine) Counts() (libs, funcs int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.libs), len(e.funcs)
}
