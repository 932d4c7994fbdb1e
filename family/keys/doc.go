// Package keys serves the commands on keys of any type: DEL UNLINK EXISTS
// EXPIRE PEXPIRE EXPIREAT PEXPIREAT EXPIRETIME PEXPIRETIME TTL PTTL
// PERSIST TYPE RENAME RENAMENX COPY MOVE KEYS SCAN RANDOMKEY TOUCH and
// OBJECT, with Redis 7's semantics, replies and error strings.
//
// Every key named is in the caller's tenant partition (its 16 dbs), so no
// command here can reach another tenant's keys. KEYS and SCAN walk the
// partition a step of one sub-shard at a time and match outside its lock,
// with checkpoints (Ctx.Yield) so a walk over many keys is charged and
// paced as it runs. Commands that can put a list at a key without a push
// (RENAME, COPY, MOVE) wake the clients blocked on it (Ctx.SignalDB).
package keys
