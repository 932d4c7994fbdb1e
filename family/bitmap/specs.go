package bitmap

import "github.com/tcached/tcached/command"

// Specs are the bit commands' rows of the command table.
func Specs() []*command.Spec {
	return []*command.Spec{
		command.Row("setbit", 4, command.WriteGrow, command.Key1, cmdSetBit),
		command.Row("getbit", 3, command.ReadFast, command.Key1, cmdGetBit).WithMiss(command.MissZero),
		command.Row("bitcount", -2, command.Read, command.Key1, cmdBitCount).WithMiss(command.MissZero),
		command.Row("bitpos", -3, command.Read, command.Key1, cmdBitPos),
		// BITOP writes only its destination: WATCHers of the sources must
		// not be aborted by it.
		command.Row("bitop", -4, command.WriteGrow, [3]int{2, -1, 1}, cmdBitOp).WithWriteKeys(func(db int, args [][]byte, mark func(int, []byte)) {
			if len(args) > 2 {
				mark(db, args[2])
			}
		}),
		command.Row("bitfield", -2, command.WriteGrow, command.Key1, cmdBitField),
		command.Row("bitfield_ro", -2, command.ReadFast, command.Key1, cmdBitFieldRO),
	}
}
