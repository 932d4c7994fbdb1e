// Package rdb reads and writes Redis 7.0's RDB serialization of one value,
// the payload of DUMP and RESTORE (and, for the CRC64 and LZF parts, of
// FUNCTION DUMP/RESTORE): the value's RDB type byte and encoding, then the
// RDB version (2 bytes, little-endian; 10 for Redis 7.0) and a CRC64
// (Jones, reflected, as Redis's crc64.c) of everything before it,
// little-endian.
//
// It is a leaf package: it knows RDB's byte layouts (lengths, strings
// with their integer and LZF encodings, listpacks, intsets, ziplists,
// binary doubles) and a neutral Object (a kind and its elements), not how
// tcached stores values; family/dump converts between the two.
//
// # Types are a table
//
// Decoding dispatches on the RDB type byte through one table (decoders in
// object.go) and encoding on the Object's kind through another
// (encoders): a new type is one entry in each, plus its kind (streams,
// stream.go, were added so).
// Types without an entry answer ErrUnsupported naming the type, so a
// payload of a type tcached lacks gets a clear error rather than "Bad data
// format".
//
// # Hostile payloads
//
// Decode never panics and allocates in proportion to the payload: every
// declared count or length is checked against the bytes that remain
// before anything is allocated for it (an element takes at least one
// byte), and an LZF string's declared uncompressed length must be one LZF
// could produce from its compressed bytes (at most about 88 times as
// long) and is charged through the caller's Grow hook before it is
// allocated, so a caller can bound it by its client-memory budget. Element
// slices alias the payload or one arena per call; the caller copies what
// it keeps. FuzzDecode in rdb_test.go checks both properties.
//
// # Byte-for-byte
//
// Encode writes what Redis 7.0 writes for the same value in the same
// encoding, including its choices of integer encodings in strings and
// listpacks and its LZF compression of strings longer than 20 bytes
// (lzf.go is a port of liblzf's compressor with its VERY_FAST settings),
// so a DUMP of a small value is byte-identical to Redis's. Hash-table
// encodings (big hashes and sets) list their elements in tcached's order,
// which Redis leaves unspecified too.
package rdb
