// Package value owns the encodings of collection values: hashes, lists,
// sets and sorted sets, with the functions that decode, query and build
// them. Hashes and sets have two encodings each, as in Redis:
//
//   - compact (hash.go, set.go, and list.go, zset.go for the types that
//     have only this one so far): one serialized buffer, rewritten per
//     write, like Redis's listpack and intset. One allocation, no
//     pointers, and cheap while small;
//   - big (HashTable, SetTable: table.go), past the thresholds of Limits
//     (Redis's hash-max-listpack-entries and friends): an arena of byte
//     pages and a segmented hash index, changed in place, O(1) per
//     element, with no Go pointer per element (see table.go for the
//     layout, the accounting and the SCAN order).
//
// Conversion is one way, on growth, as in Redis. HashView and SetView read
// either encoding; views.go has the conversion rules (Limits).
//
// It knows nothing about keys, partitions, quotas or commands. Package
// shard stores a compact value as an opaque entry of a shard.Type and a
// table as an opaque shard.Object (HashTable and SetTable have the Bytes
// method it needs), and charges what they cost to the tenant's quota; the
// command families convert, decode and rebuild values inside a Partition
// callback. Every compact encoder appends to a caller's buffer (dst) and
// never keeps it, so a caller can pool buffers and a write allocates only
// when the value grows. A table changes in two steps, a plan that computes
// the growth (PlanSet, PlanAdd) and the change itself, because the
// partition must reserve the growth before anything changes.
//
// Every compact encoding starts with its element count as a uvarint, so
// HashLen (and ListLen, SetLen, ZSetLen) answer in O(1) and an empty
// collection is recognisable without decoding. Values written by these
// encoders always decode; ErrCorrupt reports one that does not.
//
// # Sorted sets and lists
//
// Lists and sorted sets are compact at every size for now, so their writes
// cost O(size). Their big encodings belong here too, on the same
// principles as the tables: a sorted set as a B-tree or skiplist of score
// and record refs in pointer-free node arrays plus a member index (the
// table's, with the score in the record), a list as a chain of compact
// pages (a quicklist) in a page array; each an Object for package shard,
// grown by plan-then-commit edits.
package value
