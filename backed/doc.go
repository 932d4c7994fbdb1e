// Package backed is tcached's backed mode: the tenants' partitions as L1
// caches in front of a store of record (L2, the Backend: Redis Cluster,
// implemented by package backing and injected by cmd/tcached).
//
// A command's row says how it runs backed (command.Spec.Backed, one of
// the command.BackedMode values); Mode.Apply gives each mode its handler
// here, forwards every other command that names keys to L2 (coll.go:
// collections, bitmaps, HyperLogLog, streams, geo, SORT, with Redis's
// reply bytes in the client's protocol), and refuses the rows'
// BackedRefused ones (SWAPDB). BackedServer rows keep package server's
// handler, which asks this package for L2: transactions (multi.go: one
// script per EXEC on one slot, WATCH by L2 fingerprints), scripts
// (script.go: the tenant's Lua sandboxed in L2) and pub/sub across nodes
// (the Atomic interface, atomic.go). Strings, and collections up to the
// tier's l1_collection_max, are cached in L1 (coll.go); bigger ones read
// through.
//
//   - Reads: an L1 hit is served locally while the backend is Ready; a miss
//     loads value and expiry from L2 in one atomic step within the tier
//     timeout and fills L1 with that expiry, capped at L1MaxTTL. When L2
//     fails or times out the read answers as a miss (the row's miss
//     reply), and is counted.
//   - Writes: the L1 copy is dropped, the command runs in L2 (which decides
//     the reply, so every Redis error string is Redis's own), and the L1
//     copy is dropped again; the next read loads the new value. A failed
//     write answers an error and leaves no L1 copy.
//   - Coherence: the backend delivers every key change in L2 (by any node)
//     to the server's invalidation callback, which calls Drop (or DropAll).
//     When the changes of some slots may go unseen (their master's
//     tracking connection was lost, or they moved to another master) the
//     backend suspends those slots only: L1 neither serves nor fills
//     them until they are tracked again, when their copies are dropped
//     (Mode.Slots, slots.go). Every other slot keeps its L1 copies.
//     A fill races with invalidations through the stripe counters: a
//     reader notes the key's stripe (and the global epoch) before asking
//     L2 and drops its own fill if either moved meanwhile; an invalidation
//     moves the stripe before deleting. Either the fill sees the move, or
//     the delete comes after the fill: a value read before a change is
//     never served after the change is known.
//
// The package imports command, shard and the two families whose option
// parsing it shares (str's expiry options, keys' COPY options); package
// server imports it and implements Conn.
package backed
