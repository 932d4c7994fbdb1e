package scripting

import (
	"reflect"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
)

// # Concatenation
//
// The one VM instruction whose allocation is not bounded by a constant is
// OP_CONCAT: `s = s .. s` doubles a string per instruction, and one
// `a .. a .. a ...` joins up to 250 copies, so a script could ask Go for
// gigabytes between two checkpoints and take the process down (an
// allocation the OS refuses is fatal in Go). The compiler's input is
// therefore rewritten: every concatenation chain becomes a call of a Go
// function (concatName, a global no script can name), which checks the
// result's size against what the budget has left before allocating, and
// formats numbers as Lua 5.1 does ("%.14g").

// concatName is the hidden global the rewritten chains call: not a valid
// Lua identifier, so no script names it.
const concatName = "\x00concat"

// rewriteConcat replaces every concatenation in the chunk by a call.
func rewriteConcat(chunk []ast.Stmt) {
	walkAST(reflect.ValueOf(chunk))
}

var exprType = reflect.TypeOf((*ast.Expr)(nil)).Elem()

func walkAST(v reflect.Value) {
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		walkAST(v.Elem())
	case reflect.Ptr:
		if v.IsNil() {
			return
		}
		walkAST(v.Elem())
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			el := v.Index(i)
			if el.Type() == exprType && el.CanSet() {
				if c, ok := el.Interface().(*ast.StringConcatOpExpr); ok {
					el.Set(reflect.ValueOf(concatCall(c)))
				}
			}
			walkAST(el)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if !f.CanSet() {
				continue
			}
			if f.Type() == exprType {
				if c, ok := f.Interface().(*ast.StringConcatOpExpr); ok {
					f.Set(reflect.ValueOf(concatCall(c)))
				}
			}
			walkAST(f)
		}
	}
}

// concatCall turns a chain a .. b .. c (right-associative) into
// concatName(a, b, c).
func concatCall(c *ast.StringConcatOpExpr) ast.Expr {
	var args []ast.Expr
	var e ast.Expr = c
	for {
		cc, ok := e.(*ast.StringConcatOpExpr)
		if !ok {
			args = append(args, e)
			break
		}
		args = append(args, cc.Lhs)
		e = cc.Rhs
	}
	fn := &ast.IdentExpr{Value: concatName}
	fn.SetLine(c.Line())
	fn.SetLastLine(c.LastLine())
	call := &ast.FuncCallExpr{Func: fn, Args: args}
	call.SetLine(c.Line())
	call.SetLastLine(c.LastLine())
	return call
}

// concat is the function the chains call: Lua's concatenation (strings
// and numbers join, anything else uses a __concat metamethod, from the
// right), with the result's size checked first.
func (v *vm) concat(L *lua.LState) int {
	n := L.GetTop()
	if n == 0 {
		L.Push(lua.LString(""))
		return 1
	}
	rhs := L.Get(n)
	for i := n - 1; i >= 1; {
		lhs := L.Get(i)
		_, ls := toConcat(lhs)
		_, rs := toConcat(rhs)
		if !ls || !rs {
			op := L.GetMetaField(lhs, "__concat")
			if op == lua.LNil {
				op = L.GetMetaField(rhs, "__concat")
			}
			if op == lua.LNil {
				bad := lhs
				if ls {
					bad = rhs
				}
				L.RaiseError("attempt to concatenate a %s value", bad.Type().String())
			}
			L.Push(op)
			L.Push(lhs)
			L.Push(rhs)
			L.Call(2, 1)
			rhs = L.Get(-1)
			L.Pop(1)
			i--
			continue
		}
		// Join the run of strings and numbers that ends at rhs.
		j := i
		for j > 1 {
			if _, ok := toConcat(L.Get(j - 1)); !ok {
				break
			}
			j--
		}
		parts := make([]string, 0, i-j+2)
		total := int64(0)
		for k := j; k <= i; k++ {
			s, _ := toConcat(L.Get(k))
			parts = append(parts, s)
			total += int64(len(s))
		}
		rs2, _ := toConcat(rhs)
		parts = append(parts, rs2)
		total += int64(len(rs2))
		v.e.allocCheck(L, total)
		rhs = lua.LString(strings.Join(parts, ""))
		i = j - 1
	}
	if _, ok := rhs.(lua.LNumber); ok && n == 1 {
		s, _ := toConcat(rhs)
		rhs = lua.LString(s)
	}
	L.Push(rhs)
	return 1
}

// toConcat is a value as concatenation sees it: strings as they are,
// numbers formatted as Lua 5.1 formats them ("%.14g").
func toConcat(v lua.LValue) (string, bool) {
	switch x := v.(type) {
	case lua.LString:
		return string(x), true
	case lua.LNumber:
		return numberString(float64(x)), true
	}
	return "", false
}

// numberString is Lua 5.1's lua_Number to string ("%.14g").
func numberString(f float64) string {
	if f == float64(int64(f)) && f > -1e15 && f < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return formatG(f, 14)
}
