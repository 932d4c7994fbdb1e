package scripting

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/pm"
)

// installPatterns guards string.gsub, the one pattern function whose
// result can be far larger than its input (each match may be replaced
// by a long string): the result is checked against what the budget has
// left before it is built.
func (v *vm) installPatterns(L *lua.LState, s *lua.LTable) {
	v.wrap(s, "gsub", func(L *lua.LState, orig lua.LGFunction) int {
		str := L.CheckString(1)
		pat := L.CheckString(2)
		switch repl := L.Get(3).(type) {
		case lua.LString:
			pcts := int64(strings.Count(string(repl), "%"))
			n := int64(len(str))
			bound := n + (n+1)*(int64(len(repl))+pcts*n)
			if bound > v.e.budget.Free() {
				mds, err := pm.Find(pat, []byte(str), 0, L.OptInt(4, -1))
				if err == nil {
					m := int64(len(mds))
					v.e.allocCheck(L, n+m*(int64(len(repl))+pcts*n))
				}
			}
		case *lua.LTable:
			// As a function of the first capture (gsub's table lookup),
			// so that what it returns is counted.
			t := repl
			L.Replace(3, L.NewFunction(v.countRepl(func(L *lua.LState) lua.LValue {
				return L.GetTable(t, L.Get(1))
			})))
		case *lua.LFunction:
			fn := repl
			L.Replace(3, L.NewFunction(v.countRepl(func(L *lua.LState) lua.LValue {
				n := L.GetTop()
				L.Push(fn)
				for i := 1; i <= n; i++ {
					L.Push(L.Get(i))
				}
				L.Call(n, 1)
				return L.Get(-1)
			})))
		}
		return orig(L)
	})
}

// countRepl wraps a gsub replacement so that the replacements it returns
// are counted against the budget as gsub collects them.
func (v *vm) countRepl(get func(L *lua.LState) lua.LValue) lua.LGFunction {
	var total, checked int64
	return func(L *lua.LState) int {
		val := get(L)
		if s, ok := val.(lua.LString); ok {
			total += int64(len(s))
			if total-checked > 1<<16 {
				if total > v.e.budget.Free() {
					L.RaiseError(errAlloc)
				}
				v.e.allocCheck(L, total-checked)
				checked = total
			}
		}
		L.Push(val)
		return 1
	}
}
