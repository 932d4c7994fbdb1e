package dump

import "github.com/tcached/tcached/command"

// Specs are DUMP's and RESTORE's rows of the command table.
func Specs() []*command.Spec {
	return []*command.Spec{
		command.Row("dump", 2, command.Read, command.Key1, cmdDump).WithMiss(command.MissNull),
		command.Row("restore", -4, command.WriteGrow, command.Key1, cmdRestore),
	}
}
