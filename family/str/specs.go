package str

import "github.com/tcached/tcached/command"

// Specs are the str commands' rows of the command table.
func Specs() []*command.Spec {
	return []*command.Spec{
		command.Row("get", 2, command.ReadFast, command.Key1, cmdGet).WithMiss(command.MissNull).WithBacked(command.BackedGet),
		command.Row("set", -3, command.WriteGrow, command.Key1, cmdSet).WithBacked(command.BackedSet),
		command.Row("setnx", 3, command.WriteGrow|command.Fast, command.Key1, cmdSetNX).WithBacked(command.BackedWrite),
		command.Row("setex", 4, command.WriteGrow, command.Key1, cmdSetEX).WithBacked(command.BackedWriteStatus),
		command.Row("psetex", 4, command.WriteGrow, command.Key1, cmdSetEX).WithBacked(command.BackedWriteStatus),
		command.Row("mget", -2, command.ReadFast, command.AllKeys, cmdMGet).WithMiss(command.MissNulls).WithBacked(command.BackedMGet),
		command.Row("mset", -3, command.WriteGrow, command.KeyPairs, cmdMSet).WithBacked(command.BackedMSet),
		command.Row("msetnx", -3, command.WriteGrow, command.KeyPairs, cmdMSetNX).WithBacked(command.BackedMSetNX),
		command.Row("getset", 3, command.WriteGrow|command.Fast, command.Key1, cmdGetSet).WithBacked(command.BackedWrite),
		command.Row("getdel", 2, command.Write|command.Fast, command.Key1, cmdGetDel).WithBacked(command.BackedWriteNoTTL),
		command.Row("getex", -2, command.Write|command.Fast, command.Key1, cmdGetEx).WithBacked(command.BackedWriteNoTTL),
		command.Row("incr", 2, command.WriteGrow|command.Fast, command.Key1, cmdIncr).WithBacked(command.BackedWrite),
		command.Row("incrby", 3, command.WriteGrow|command.Fast, command.Key1, cmdIncrBy).WithBacked(command.BackedWrite),
		command.Row("decr", 2, command.WriteGrow|command.Fast, command.Key1, cmdDecr).WithBacked(command.BackedWrite),
		command.Row("decrby", 3, command.WriteGrow|command.Fast, command.Key1, cmdDecrBy).WithBacked(command.BackedWrite),
		command.Row("incrbyfloat", 3, command.WriteGrow|command.Fast, command.Key1, cmdIncrByFloat).WithBacked(command.BackedWrite),
		command.Row("append", 3, command.WriteGrow|command.Fast, command.Key1, cmdAppend).WithBacked(command.BackedWrite),
		command.Row("strlen", 2, command.ReadFast, command.Key1, cmdStrlen).WithMiss(command.MissZero).WithBacked(command.BackedRead),
		command.Row("getrange", 4, command.Read, command.Key1, cmdGetRange).WithMiss(command.MissEmpty).WithBacked(command.BackedRead),
		// SUBSTR is Redis's old name of GETRANGE.
		command.Row("substr", 4, command.Read, command.Key1, cmdGetRange).WithMiss(command.MissEmpty).WithBacked(command.BackedRead),
		command.Row("lcs", -3, command.Read, command.Key12, cmdLCS),
		command.Row("setrange", 4, command.WriteGrow, command.Key1, cmdSetRange).WithBacked(command.BackedSetRange),
	}
}
