package str

import "github.com/tcached/tcached/command"

// Specs are the str commands' rows of the command table.
func Specs() []*command.Spec {
	return []*command.Spec{
		command.Row("get", 2, command.ReadFast, command.Key1, cmdGet).WithMiss(command.MissNull),
		command.Row("set", -3, command.WriteGrow, command.Key1, cmdSet),
		command.Row("setnx", 3, command.WriteGrow|command.Fast, command.Key1, cmdSetNX),
		command.Row("setex", 4, command.WriteGrow, command.Key1, cmdSetEX),
		command.Row("psetex", 4, command.WriteGrow, command.Key1, cmdSetEX),
		command.Row("mget", -2, command.ReadFast, command.AllKeys, cmdMGet).WithMiss(command.MissNulls),
		command.Row("mset", -3, command.WriteGrow, command.KeyPairs, cmdMSet),
		command.Row("msetnx", -3, command.WriteGrow, command.KeyPairs, cmdMSetNX),
		command.Row("getset", 3, command.WriteGrow|command.Fast, command.Key1, cmdGetSet),
		command.Row("getdel", 2, command.Write|command.Fast, command.Key1, cmdGetDel),
		command.Row("getex", -2, command.Write|command.Fast, command.Key1, cmdGetEx),
		command.Row("incr", 2, command.WriteGrow|command.Fast, command.Key1, cmdIncr),
		command.Row("incrby", 3, command.WriteGrow|command.Fast, command.Key1, cmdIncrBy),
		command.Row("decr", 2, command.WriteGrow|command.Fast, command.Key1, cmdDecr),
		command.Row("decrby", 3, command.WriteGrow|command.Fast, command.Key1, cmdDecrBy),
		command.Row("incrbyfloat", 3, command.WriteGrow|command.Fast, command.Key1, cmdIncrByFloat),
		command.Row("append", 3, command.WriteGrow|command.Fast, command.Key1, cmdAppend),
		command.Row("strlen", 2, command.ReadFast, command.Key1, cmdStrlen).WithMiss(command.MissZero),
		command.Row("getrange", 4, command.Read, command.Key1, cmdGetRange).WithMiss(command.MissEmpty),
		command.Row("setrange", 4, command.WriteGrow, command.Key1, cmdSetRange),
	}
}
