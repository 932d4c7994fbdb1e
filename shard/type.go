package shard

// # Typed values
//
// A key holds a value of one Type. The type is one byte in the entry's
// buffer header (eviction's "kind", stored in front of the key), so a
// string entry costs what it did before types existed and reading or
// replacing a string never decodes anything: GET and SET of an existing
// string stay allocation-free (TestHotPathNoAllocs).
//
// A small non-string value is one serialized buffer, the entry's value, in
// a compact encoding of its type (like Redis's listpack): one allocation,
// no pointers for the garbage collector, and the whole value is charged to
// the tenant's quota as len(value) like a string's bytes. The key therefore
// evicts, expires, renames, copies and moves as one unit, through the same
// code paths as strings (Entry.Type travels with Entry.Value).
//
// Commands change a compact value through Mutate: the callback decodes
// cur.Value, builds the next encoding in a buffer of its own and returns it
// with Put; the partition reserves the size difference against the quota
// before storing, exactly as for a string. That makes every update O(size
// of the value) (a copy), which is what Redis's listpack costs too, so past
// Redis's thresholds the families convert the value to an Object (doc.go,
// "Objects") that they change in place with MutateEdit. Type says what a
// value is, not how it is encoded: a hash is TypeHash in both encodings.

// Type is the type of a key's value. The numbering is stored in entries.
type Type uint8

const (
	// TypeString is the zero Type: Entry values built without a Type are
	// strings.
	TypeString Type = iota
	// TypeHash is a hash in the hash encoding (HashLen, HashSet, ...).
	TypeHash
	// TypeList is a list in the list encoding (list.go).
	TypeList
	// TypeSet is a set in the set encoding (set.go).
	TypeSet
	// TypeZSet is a sorted set in the zset encoding (zset.go).
	TypeZSet
	// TypeStream is a stream, always a value.Stream object.
	TypeStream
	// Later types are appended here, never renumbered.
)

// AnyType makes ScanType return keys of every type.
const AnyType Type = 0xff

// String is the name TYPE answers.
func (t Type) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeHash:
		return "hash"
	case TypeList:
		return "list"
	case TypeSet:
		return "set"
	case TypeZSet:
		return "zset"
	case TypeStream:
		return "stream"
	}
	return "none"
}

// ParseType is the inverse of String (SCAN ... TYPE); ok is false for an
// unknown name.
func ParseType(name string) (Type, bool) {
	switch name {
	case "string":
		return TypeString, true
	case "hash":
		return TypeHash, true
	case "list":
		return TypeList, true
	case "set":
		return TypeSet, true
	case "zset":
		return TypeZSet, true
	case "stream":
		return TypeStream, true
	}
	return 0, false
}
