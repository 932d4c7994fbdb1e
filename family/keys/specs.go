package keys

import "github.com/tcached/tcached/command"

// Specs are the keys commands' rows of the command table.
func Specs() []*command.Spec {
	return []*command.Spec{
		command.Row("del", -2, command.Write, command.AllKeys, cmdDel).WithBacked(command.BackedDelete),
		command.Row("unlink", -2, command.Write|command.Fast, command.AllKeys, cmdDel).WithBacked(command.BackedDelete),
		command.Row("exists", -2, command.ReadFast, command.AllKeys, cmdExists).WithMiss(command.MissZero).WithBacked(command.BackedCount),
		command.Row("expire", -3, command.Write|command.Fast, command.Key1, cmdExpire).WithBacked(command.BackedWriteNoTTL),
		command.Row("pexpire", -3, command.Write|command.Fast, command.Key1, cmdPExpire).WithBacked(command.BackedWriteNoTTL),
		command.Row("expireat", -3, command.Write|command.Fast, command.Key1, cmdExpireAt).WithBacked(command.BackedWriteNoTTL),
		command.Row("pexpireat", -3, command.Write|command.Fast, command.Key1, cmdPExpireAt).WithBacked(command.BackedWriteNoTTL),
		command.Row("expiretime", 2, command.ReadFast, command.Key1, cmdExpireTime).WithMiss(command.MissAbsent).WithBacked(command.BackedRead),
		command.Row("pexpiretime", 2, command.ReadFast, command.Key1, cmdPExpireTime).WithMiss(command.MissAbsent).WithBacked(command.BackedRead),
		command.Row("ttl", 2, command.ReadFast, command.Key1, cmdTTL).WithMiss(command.MissAbsent).WithBacked(command.BackedRead),
		command.Row("pttl", 2, command.ReadFast, command.Key1, cmdPTTL).WithMiss(command.MissAbsent).WithBacked(command.BackedRead),
		command.Row("persist", 2, command.Write|command.Fast, command.Key1, cmdPersist).WithBacked(command.BackedWriteNoTTL),
		command.Row("type", 2, command.ReadFast, command.Key1, cmdType).WithMiss(command.MissNone).WithBacked(command.BackedReadStatus),
		command.Row("rename", 3, command.Write, command.Key12, cmdRename).WithBacked(command.BackedRename),
		command.Row("renamenx", 3, command.Write|command.Fast, command.Key12, cmdRenameNX).WithBacked(command.BackedRenameNX),
		command.Row("copy", -3, command.WriteGrow, command.Key12, cmdCopy).WithWriteKeys(copyWrites).WithBacked(command.BackedCopy),
		command.Row("keys", 2, command.Read, command.NoKeys, cmdKeys).WithBacked(command.BackedKeys),
		command.Row("scan", -2, command.Read, command.NoKeys, cmdScan).WithBacked(command.BackedScan),
		command.Row("randomkey", 1, command.Read, command.NoKeys, cmdRandomKey).WithBacked(command.BackedRandomKey),
		command.Row("touch", -2, command.ReadFast, command.AllKeys, cmdTouch).WithMiss(command.MissZero).WithBacked(command.BackedCount),
		command.Row("move", 3, command.Write|command.Fast, command.Key1, cmdMove).WithWriteKeys(moveWrites),
		command.Container("object", -2, 0, nil,
			command.Row("encoding", 3, command.Read, command.Key2, cmdObjectEncoding),
			command.Row("refcount", 3, command.Read, command.Key2, cmdObjectRefcount),
			command.Row("idletime", 3, command.Read, command.Key2, cmdObjectIdletime),
			command.Row("freq", 3, command.Read, command.Key2, cmdObjectFreq),
			command.Row("help", 2, 0, command.NoKeys, cmdObjectHelp),
		),
	}
}

// copyWrites: COPY source destination [DB db] [REPLACE] writes only its
// destination, in db or the DB option's.
func copyWrites(db int, args [][]byte, mark func(db int, key []byte)) {
	for i := 3; i+1 < len(args); i++ {
		if n, ok := command.ParseInt(args[i+1]); ok && command.EqFold(args[i], "db") && n >= 0 && n < command.NumDBs {
			db = int(n)
		}
	}
	mark(db, args[2])
}

// moveWrites: MOVE key db writes the key in both dbs.
func moveWrites(db int, args [][]byte, mark func(db int, key []byte)) {
	if n, ok := command.ParseInt(args[2]); ok && n >= 0 && n < command.NumDBs {
		mark(int(n), args[1])
	}
	mark(db, args[1])
}
