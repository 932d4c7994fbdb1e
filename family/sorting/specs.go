package sorting

import "github.com/tcached/tcached/command"

// Specs are the sorting commands' rows of the command table.
func Specs() []*command.Spec {
	return []*command.Spec{
		command.Row("sort", -2, command.WriteGrow, command.Key1, cmdSort).WithWriteKeys(sortWrites).WithKeysOf(sortKeys),
		command.Row("sort_ro", -2, command.Read, command.Key1, cmdSort),
	}
}

// sortWrites: SORT key ... STORE destination writes only its destination
// (the source is only read).
func sortWrites(db int, args [][]byte, mark func(db int, key []byte)) {
	for i := 2; i+1 < len(args); i++ {
		if command.EqFold(args[i], "store") {
			mark(db, args[i+1])
		}
	}
}

// sortKeys: SORT's key and its last STORE destination, skipping the
// arguments of LIMIT, GET and BY as Redis's sortGetKeys does (COMMAND
// GETKEYS).
func sortKeys(args [][]byte, each func(i int)) {
	if len(args) < 2 {
		return
	}
	each(1)
	store := 0
	for i := 2; i < len(args); i++ {
		switch {
		case command.EqFold(args[i], "limit"):
			i += 2
		case command.EqFold(args[i], "get"), command.EqFold(args[i], "by"):
			i++
		case command.EqFold(args[i], "store") && i+1 < len(args):
			store = i + 1
		}
	}
	if store != 0 {
		each(store)
	}
}
