package list

import "github.com/tcached/tcached/command"

// Specs are the list commands' rows of the command table.
func Specs() []*command.Spec {
	return []*command.Spec{
		command.Row("lpush", -3, command.WriteGrow|command.Fast, command.Key1, cmdLPush),
		command.Row("rpush", -3, command.WriteGrow|command.Fast, command.Key1, cmdRPush),
		command.Row("lpushx", -3, command.WriteGrow|command.Fast, command.Key1, cmdLPushX),
		command.Row("rpushx", -3, command.WriteGrow|command.Fast, command.Key1, cmdRPushX),
		command.Row("lpop", -2, command.Write|command.Fast, command.Key1, cmdLPop),
		command.Row("rpop", -2, command.Write|command.Fast, command.Key1, cmdRPop),
		command.Row("llen", 2, command.ReadFast, command.Key1, cmdLLen).WithMiss(command.MissZero),
		command.Row("lrange", 4, command.Read, command.Key1, cmdLRange).WithMiss(command.MissEmptyArray),
		command.Row("lindex", 3, command.Read, command.Key1, cmdLIndex).WithMiss(command.MissNull),
		command.Row("lset", 4, command.WriteGrow, command.Key1, cmdLSet),
		command.Row("lrem", 4, command.Write, command.Key1, cmdLRem),
		command.Row("ltrim", 4, command.Write, command.Key1, cmdLTrim),
		command.Row("linsert", 5, command.WriteGrow, command.Key1, cmdLInsert),
		command.Row("lpos", -3, command.Read, command.Key1, cmdLPos).WithMiss(missLPos),
		command.Row("lmove", 5, command.WriteGrow, command.Key12, cmdLMove),
		command.Row("blpop", -3, command.Write|command.NoScript, command.Blocks, cmdBLPop).WithBacked(command.BackedBlock),
		command.Row("brpop", -3, command.Write|command.NoScript, command.Blocks, cmdBRPop).WithBacked(command.BackedBlock),
		command.Row("blmove", 6, command.WriteGrow|command.NoScript, command.Key12, cmdBLMove).WithBacked(command.BackedBlock),
		command.Row("rpoplpush", 3, command.WriteGrow, command.Key12, cmdRPopLPush),
		command.Row("brpoplpush", 4, command.WriteGrow|command.NoScript, command.Key12, cmdBRPopLPush).WithBacked(command.BackedBlock),
		command.Row("lmpop", -4, command.Write, command.NoKeys, cmdLMPop).WithWriteKeys(mpopWrites(1)).WithBacked(command.BackedFwdWrite).WithKeysOf(command.NumKeysOf(1)),
		command.Row("blmpop", -5, command.Write|command.NoScript, command.NoKeys, cmdBLMPop).WithWriteKeys(mpopWrites(2)).WithBacked(command.BackedBlockNum).WithKeysOf(command.NumKeysOf(2)),
	}
}
