package hll

import "github.com/tcached/tcached/command"

// Specs are the HyperLogLog commands' rows of the command table.
func Specs() []*command.Spec {
	return []*command.Spec{
		command.Row("pfadd", -2, command.WriteGrow|command.Fast, command.Key1, cmdPFAdd),
		command.Row("pfcount", -2, command.Read, command.AllKeys, cmdPFCount).WithMiss(command.MissZero),
		// PFMERGE writes only its destination (WATCH).
		command.Row("pfmerge", -2, command.WriteGrow, command.AllKeys, cmdPFMerge).WithWriteKeys(func(db int, args [][]byte, mark func(int, []byte)) {
			mark(db, args[1])
		}),
		command.Row("pfdebug", 3, command.WriteGrow|command.Admin, command.Key2, cmdPFDebug),
		command.Row("pfselftest", 1, command.Admin, command.NoKeys, cmdPFSelfTest),
	}
}
