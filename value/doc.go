// Package value owns the encodings of collection values: hashes, lists,
// sets and sorted sets, each a compact serialized buffer (hash.go,
// list.go, set.go, zset.go), with the functions that decode, query and
// build the next encoding of a value.
//
// It knows nothing about keys, partitions, quotas or commands. Package
// shard stores a value as an opaque entry of a shard.Type and charges its
// length to the tenant's quota; the command families decode and rebuild
// it inside a Partition.Mutate callback. Every encoder appends to a
// caller's buffer (dst) and never keeps it, so a caller can pool buffers
// and a write allocates only when the value grows.
//
// Every encoding starts with its element count as a uvarint, so HashLen
// (and ListLen, SetLen, ZSetLen) answer in O(1) and an empty collection
// is recognisable without decoding. Values written by these encoders
// always decode; ErrCorrupt reports one that does not.
//
// # Limits
//
// An update copies the value (O(size) per write), as Redis's listpack
// does while small. Redis converts past its thresholds (128 hash fields,
// 512 intset / 128 set members, 128 sorted-set members, 8 KB list nodes)
// to structures whose cost does not grow with the size; those encodings
// belong in this package too, behind the same functions.
package value
