package sorting

import "github.com/tcached/tcached/command"

// Specs are the sorting commands' rows of the command table.
func Specs() []*command.Spec {
	return []*command.Spec{
		command.Row("sort", -2, command.WriteGrow, command.Key1, cmdSort).WithWriteKeys(sortWrites),
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
