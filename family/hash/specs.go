package hash

import "github.com/tcached/tcached/command"

// Specs are the hash commands' rows of the command table.
func Specs() []*command.Spec {
	return []*command.Spec{
		command.Row("hset", -4, command.WriteGrow|command.Fast, command.Key1, cmdHSet),
		command.Row("hsetnx", 4, command.WriteGrow|command.Fast, command.Key1, cmdHSetNX),
		command.Row("hmset", -4, command.WriteGrow|command.Fast, command.Key1, cmdHMSet),
		command.Row("hget", 3, command.ReadFast, command.Key1, cmdHGet).WithMiss(command.MissNull),
		command.Row("hmget", -3, command.ReadFast, command.Key1, cmdHMGet).WithMiss(command.MissNullsAfterKey),
		command.Row("hgetall", 2, command.Read, command.Key1, cmdHGetAll).WithMiss(command.MissEmptyMap),
		command.Row("hdel", -3, command.Write|command.Fast, command.Key1, cmdHDel),
		command.Row("hexists", 3, command.ReadFast, command.Key1, cmdHExists).WithMiss(command.MissZero),
		command.Row("hlen", 2, command.ReadFast, command.Key1, cmdHLen).WithMiss(command.MissZero),
		command.Row("hkeys", 2, command.Read, command.Key1, cmdHKeys).WithMiss(command.MissEmptyArray),
		command.Row("hvals", 2, command.Read, command.Key1, cmdHVals).WithMiss(command.MissEmptyArray),
		command.Row("hincrby", 4, command.WriteGrow|command.Fast, command.Key1, cmdHIncrBy),
		command.Row("hincrbyfloat", 4, command.WriteGrow|command.Fast, command.Key1, cmdHIncrByFloat),
		command.Row("hstrlen", 3, command.ReadFast, command.Key1, cmdHStrlen).WithMiss(command.MissZero),
		command.Row("hscan", -3, command.Read, command.Key1, cmdHScan).WithMiss(command.MissEmptyScan),
		command.Row("hrandfield", -2, command.Read, command.Key1, cmdHRandField).WithMiss(command.MissRandom),
	}
}
