// Package value owns the encodings of collection values: hashes, lists,
// sets, sorted sets and streams, with the functions that decode, query and build
// them. Each type has two encodings, as in Redis:
//
//   - compact (hash.go, set.go, list.go, zset.go): one serialized buffer,
//     rewritten per write, like Redis's listpack and intset. One
//     allocation, no pointers, and cheap while small;
//   - big, past the thresholds of Limits (Redis's hash-max-listpack-entries
//     and friends): HashTable and SetTable (table.go: an arena of byte
//     pages and a segmented hash index, O(1) per element), ZSetTree
//     (zsettree.go: the table as member index and an order-statistic
//     B+tree, O(log n) per member, rank or bound) and QuickList
//     (quicklist.go: a ring of listpack-like nodes, O(1) at both ends),
//     all changed in place and holding no Go pointer per element.
//
// Streams have no compact encoding (Redis 7.0 has none either): a stream
// is always a Stream (stream.go: sorted nodes of entries, consumer groups
// with their pending entries lists), grown through PlanAdd and Add like
// the other big encodings.
//
// Conversion is one way, on growth, as in Redis. HashView, SetView,
// ZSetView and ListView read either encoding; views.go has the conversion
// rules (Limits).
//
// It knows nothing about keys, partitions, quotas or commands. Package
// shard stores a compact value as an opaque entry of a shard.Type and a
// big one as an opaque shard.Object (each has the Bytes method it needs),
// and charges what they cost to the tenant's quota; the command families
// convert, decode and rebuild values inside a Partition callback. Every
// compact encoder appends to a caller's buffer (dst) and never keeps it,
// so a caller can pool buffers and a write allocates only when the value
// grows. A big value changes in two steps, a plan that computes the growth
// (PlanSet, PlanAdd, PlanPush, PlanInsert) and the change itself, because
// the partition must reserve the growth before anything changes.
//
// Every compact encoding starts with its element count as a uvarint, so
// HashLen (and ListLen, SetLen, ZSetLen) answer in O(1) and an empty
// collection is recognisable without decoding. Values written by these
// encoders always decode; ErrCorrupt reports one that does not.
//
// # Sorted sets: why a B+tree
//
// Redis keeps a big sorted set as a skiplist plus a dict. Here the member
// index is the hash table the hashes and sets use (records hold the
// score), and the order is an order-statistic B+tree of (score, record
// ref) entries in 1 KiB nodes rather than a skiplist, for three measured
// reasons (TestZSetTreeVsSkiplist, a pointer-free skiplist of Redis's
// shape written for the comparison over the same index, 1M members, see
// zsettree.go for the figures): a skiplist needs a node per element, so a
// Go allocation per element (tracing work for the collector) or an arena
// of variable-sized nodes with its own allocator and compaction; it costs
// more per member (33 bytes of nodes against 17 to 26 of tree); and a
// search is ~1.5 log2(n) dependent loads where the tree's is four nodes,
// each scanned sequentially. The tree's inner nodes count their subtrees,
// so a rank (ZRANK, ZRANGE by rank, ZREMRANGEBYRANK) is found on the way
// down, as Redis's span fields do.
//
// # Lists: a quicklist with an index
//
// A big list is Redis's quicklist (nodes of list-max-listpack-size, 8 KiB
// by default), with two changes: its nodes are in a ring of descriptors
// rather than a linked list (a push or pop at either end is O(1), a queue
// reuses the same slots), and each node records the virtual index of its
// first element, so an access by index binary-searches the ring instead
// of walking nodes (LINDEX at 1M elements: O(log nodes) + one node, where
// Redis walks up to half of the ~2,000 nodes).
package value
