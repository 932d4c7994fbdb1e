package dump

import (
	"errors"

	"github.com/tcached/tcached/rdb"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

// These exports let package snapshot (warm restarts) write and read each
// value in the same payload format as DUMP and RESTORE, so a type gains
// snapshots by gaining its DUMP rows (fromEntry, toEntry).

// Copied is a value copied out of its entry under the sub-shard lock, in
// the compact layout, ready for Payload once the lock is released.
type Copied struct {
	Type shard.Type
	Big  bool
	Tag  uint8
	Enc  []byte
	// St is a stream's copy (streams have no compact layout).
	St *value.Stream
}

// ErrNoEncoder reports a type with no payload encoder (yet): the caller
// skips the key.
var ErrNoEncoder = errors.New("dump: no payload encoder for this type")

// CopyEntry appends e's value in the compact layout to arena and returns
// the extended arena and the copy (whose Enc aliases arena). It must run
// under the sub-shard lock (inside Partition.View or a walk); ok is false
// for a type DUMP cannot encode.
func CopyEntry(arena []byte, e shard.Entry) (out []byte, c Copied, ok bool) {
	if e.Type == shard.TypeStream {
		return arena, Copied{Type: e.Type, Big: true, St: e.Obj.(*value.Stream).Clone()}, true
	}
	if fromEntry[e.Type] == nil {
		return arena, Copied{}, false
	}
	start := len(arena)
	switch e.Type {
	case shard.TypeString:
		arena = append(arena, e.Value...)
	case shard.TypeList:
		arena = value.ViewList(e.Value, e.Obj).AppendEncoding(arena)
	case shard.TypeSet:
		arena = value.ViewSet(e.Value, e.Obj).AppendList(arena)
	case shard.TypeHash:
		arena = value.ViewHash(e.Value, e.Obj).AppendEncoding(arena)
	case shard.TypeZSet:
		arena = value.ViewZSet(e.Value, e.Obj).AppendEncoding(arena)
	default:
		return arena, Copied{}, false
	}
	return arena, Copied{Type: e.Type, Big: e.Obj != nil, Tag: e.Enc, Enc: arena[start:len(arena):len(arena)]}, true
}

// Payload appends the DUMP payload of c to dst, strings uncompressed (as
// Redis with rdbcompression off: LZF would cost more time than the bytes
// it saves in a local file; RESTORE reads either).
func Payload(dst []byte, c Copied, lim value.Limits) ([]byte, error) {
	return encodeCopied(dst, c, rdb.Options{NodeFill: lim.ListFill, NoCompress: true})
}

// encodeCopied appends c's payload, encoded with opt (DUMP's and
// snapshots' one encoder).
func encodeCopied(dst []byte, c Copied, opt rdb.Options) ([]byte, error) {
	if c.St != nil {
		o := streamObject(c.St)
		return rdb.Encode(dst, &o, opt), nil
	}
	conv := fromEntry[c.Type]
	if conv == nil {
		return dst, ErrNoEncoder
	}
	o, err := conv(c.Enc, c.Big, c.Tag)
	if err != nil {
		return dst, err
	}
	return rdb.Encode(dst, &o, opt), nil
}

// EntryFromPayload decodes a DUMP payload into the entry RESTORE would
// store (compact within lim, else the big encoding), with no expiry.
// grow is rdb.Decode's allocation budget (nil: none). It never panics on
// any input.
func EntryFromPayload(payload []byte, lim value.Limits, grow func(n int) bool) (shard.Entry, error) {
	if grow == nil {
		grow = func(int) bool { return true }
	}
	o, err := rdb.Decode(payload, grow)
	if err != nil {
		return shard.Entry{}, err
	}
	conv := toEntry[o.Kind]
	if conv == nil {
		return shard.Entry{}, rdb.ErrFormat
	}
	return conv(lim, &o)
}
