package rdb

import (
	"encoding/binary"
	"math"
	"slices"
	"strconv"
)

// Version is the RDB version Redis 7.0 writes in a payload's footer, and
// the newest RESTORE accepts.
const Version = 10

// RDB object types (rdb.h).
const (
	TypeString          = 0
	TypeList            = 1
	TypeSet             = 2
	TypeZSet            = 3
	TypeHash            = 4
	TypeZSet2           = 5
	TypeModule          = 6
	TypeModule2         = 7
	TypeHashZipmap      = 9
	TypeListZiplist     = 10
	TypeSetIntset       = 11
	TypeZSetZiplist     = 12
	TypeHashZiplist     = 13
	TypeListQuicklist   = 14
	TypeStreamListpack  = 15
	TypeHashListpack    = 16
	TypeZSetListpack    = 17
	TypeListQuicklist2  = 18
	TypeStreamListpack2 = 19
)

// Kind is what an Object holds.
type Kind uint8

const (
	KindString Kind = iota
	KindList
	KindSet
	KindZSet
	KindHash
	KindStream
)

// Object is one value, independent of how either side stores it.
type Object struct {
	Kind Kind
	// Compact selects the small encoding on Encode (listpack; an intset
	// for a set, which then must hold only integers) and reports it on
	// Decode.
	Compact bool
	Str     []byte    // KindString
	Elems   [][]byte  // list elements; set or zset members; hash fields and values, alternating
	Scores  []float64 // KindZSet: the score of Elems[i]
	Stream  *Stream   // KindStream
}

// Options are Encode's choices.
type Options struct {
	// NodeFill is list-max-listpack-size: a quicklist node holds at most
	// this many elements when positive, else at most 4 KiB << (-n-1) of
	// listpack (Redis's -1..-5).
	NodeFill int64
	// NoCompress writes strings without LZF, as Redis with rdbcompression
	// off: the payload is larger and still decodes everywhere, and
	// encoding costs no compression attempt per string (snapshots).
	NoCompress bool
}

// str is AppendString under o.
func (o Options) str(b, s []byte) []byte {
	if o.NoCompress {
		return appendString(b, s, false)
	}
	return AppendString(b, s)
}

// encoders writes an Object's type byte and body, by kind.
var encoders = [...]func(b []byte, o *Object, opt Options) []byte{
	KindString: encodeString,
	KindList:   encodeList,
	KindSet:    encodeSet,
	KindZSet:   encodeZSet,
	KindHash:   encodeHash,
	KindStream: encodeStream,
}

// Encode returns o's DUMP payload: type, body, version and CRC64.
func Encode(dst []byte, o *Object, opt Options) []byte {
	b := encoders[o.Kind](dst, o, opt)
	b = binary.LittleEndian.AppendUint16(b, Version)
	return binary.LittleEndian.AppendUint64(b, CRC64(0, b[len(dst):]))
}

func encodeString(b []byte, o *Object, opt Options) []byte {
	return opt.str(append(b, TypeString), o.Str)
}

func encodeList(b []byte, o *Object, opt Options) []byte {
	b = append(b, TypeListQuicklist2)
	// Split into nodes as Redis's quicklist does when the elements are
	// pushed one by one (_quicklistNodeAllowInsert), so a list built by
	// RPUSH dumps byte-identical; the node count comes first.
	var nodes [][]byte
	var lp lpBuilder
	open := false
	for _, e := range o.Elems {
		if open && !allowInsert(len(lp.b)+1, lp.n, len(e), opt.NodeFill) {
			nodes = append(nodes, lp.finish(0))
			open = false
		}
		if !open {
			lp = newLP(nil)
			open = true
		}
		lp.appendString(e)
	}
	if open {
		nodes = append(nodes, lp.finish(0))
	}
	b = AppendLen(b, uint64(len(nodes)))
	for _, n := range nodes {
		b = AppendLen(b, 2) // QUICKLIST_NODE_CONTAINER_PACKED
		b = opt.str(b, n)
	}
	return b
}

// allowInsert is quicklist.c's _quicklistNodeAllowInsert for a node of
// lpBytes bytes and count elements taking an element of size bytes.
func allowInsert(lpBytes, count, size int, fill int64) bool {
	newSize := lpBytes + size + 8 // SIZE_ESTIMATE_OVERHEAD
	if fill < 0 && fill >= -5 {
		return newSize <= 4096<<(-fill-1)
	}
	if newSize > 8192 { // SIZE_SAFETY_LIMIT
		return false
	}
	return int64(count) < fill
}

func encodeSet(b []byte, o *Object, opt Options) []byte {
	if o.Compact {
		vs := make([]int64, 0, len(o.Elems))
		for _, m := range o.Elems {
			v, ok := canonicalInt(m)
			if !ok {
				vs = nil
				break
			}
			vs = append(vs, v)
		}
		if vs != nil {
			return opt.str(append(b, TypeSetIntset), appendIntset(nil, vs))
		}
	}
	b = append(b, TypeSet)
	b = AppendLen(b, uint64(len(o.Elems)))
	for _, m := range o.Elems {
		b = opt.str(b, m)
	}
	return b
}

func encodeZSet(b []byte, o *Object, opt Options) []byte {
	if o.Compact {
		lp := newLP(nil)
		for i, m := range o.Elems {
			lp.appendString(m)
			lp.appendScore(o.Scores[i])
		}
		return opt.str(append(b, TypeZSetListpack), lp.finish(0))
	}
	// Greatest first, as rdbSaveObject walks the skiplist from its tail.
	b = append(b, TypeZSet2)
	b = AppendLen(b, uint64(len(o.Elems)))
	for i := len(o.Elems) - 1; i >= 0; i-- {
		b = opt.str(b, o.Elems[i])
		b = AppendBinaryDouble(b, o.Scores[i])
	}
	return b
}

func encodeHash(b []byte, o *Object, opt Options) []byte {
	if o.Compact {
		lp := newLP(nil)
		for _, e := range o.Elems {
			lp.appendString(e)
		}
		return opt.str(append(b, TypeHashListpack), lp.finish(0))
	}
	b = append(b, TypeHash)
	b = AppendLen(b, uint64(len(o.Elems)/2))
	for _, e := range o.Elems {
		b = opt.str(b, e)
	}
	return b
}

// Verify checks a payload's footer (verifyDumpPayload) and returns the
// body before it.
func Verify(payload []byte) ([]byte, error) {
	n := len(payload)
	if n < 10 {
		return nil, ErrChecksum
	}
	if binary.LittleEndian.Uint16(payload[n-10:]) > Version {
		return nil, ErrChecksum
	}
	if binary.LittleEndian.Uint64(payload[n-8:]) != CRC64(0, payload[:n-8]) {
		return nil, ErrChecksum
	}
	return payload[:n-10], nil
}

// decoders reads a body after its type byte, by RDB type. A nil entry is
// a type tcached does not store.
var decoders = [256]func(r *reader, t byte) (Object, error){
	TypeString:          decodeString,
	TypeList:            decodeLinkedList,
	TypeSet:             decodeSet,
	TypeZSet:            decodeZSet,
	TypeZSet2:           decodeZSet,
	TypeHash:            decodeHash,
	TypeListZiplist:     decodeListBlob,
	TypeListQuicklist:   decodeQuicklist,
	TypeListQuicklist2:  decodeQuicklist,
	TypeSetIntset:       decodeIntset,
	TypeZSetZiplist:     decodeZSetBlob,
	TypeZSetListpack:    decodeZSetBlob,
	TypeHashZiplist:     decodeHashBlob,
	TypeHashListpack:    decodeHashBlob,
	TypeStreamListpack:  decodeStream,
	TypeStreamListpack2: decodeStream,
}

// typeNames names the types without a decoder, for UnsupportedError.
var typeNames = map[byte]string{
	TypeModule: "module", TypeModule2: "module", TypeHashZipmap: "zipmap hash",
}

// Decode reads a whole payload: its footer (ErrChecksum), then one value
// (ErrFormat, *UnsupportedError, or ErrTooBig when grow refuses an LZF
// buffer; grow may be nil). The value is read from the whole payload,
// footer included, as restoreCommand reads its argument: a value may run
// into the footer's bytes, and bytes after it are ignored. An empty
// collection is ErrFormat, as Redis refuses empty keys (an empty stream
// is a value, as in Redis).
func Decode(payload []byte, grow func(n int) bool) (Object, error) {
	if _, err := Verify(payload); err != nil {
		return Object{}, err
	}
	r := &reader{b: payload, grow: grow} // the footer too, as Redis reads the whole argument
	t, err := r.byte()
	if err != nil {
		return Object{}, ErrFormat
	}
	dec := decoders[t]
	if dec == nil {
		if name, ok := typeNames[t]; ok {
			return Object{}, &UnsupportedError{Type: t, Name: name}
		}
		return Object{}, ErrFormat
	}
	o, err := dec(r, t)
	if err != nil {
		return Object{}, err
	}
	if o.Kind != KindString && o.Kind != KindStream && len(o.Elems) == 0 {
		return Object{}, ErrFormat
	}
	return o, nil
}

func decodeString(r *reader, _ byte) (Object, error) {
	s, err := r.str()
	return Object{Kind: KindString, Str: s}, err
}

// strings reads n RDB strings.
func (r *reader) strings(n int) ([][]byte, error) {
	out := make([][]byte, 0, n)
	for i := 0; i < n; i++ {
		s, err := r.str()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func decodeLinkedList(r *reader, _ byte) (Object, error) {
	n, err := r.count(1)
	if err != nil {
		return Object{}, err
	}
	el, err := r.strings(n)
	return Object{Kind: KindList, Elems: el}, err
}

func decodeSet(r *reader, _ byte) (Object, error) {
	n, err := r.count(1)
	if err != nil {
		return Object{}, err
	}
	el, err := r.strings(n)
	return Object{Kind: KindSet, Elems: el}, err
}

func decodeHash(r *reader, _ byte) (Object, error) {
	n, err := r.count(2)
	if err != nil {
		return Object{}, err
	}
	el, err := r.strings(2 * n)
	return Object{Kind: KindHash, Elems: el}, err
}

func decodeZSet(r *reader, t byte) (Object, error) {
	n, err := r.count(2)
	if err != nil {
		return Object{}, err
	}
	o := Object{Kind: KindZSet, Elems: make([][]byte, 0, n), Scores: make([]float64, 0, n)}
	for i := 0; i < n; i++ {
		m, err := r.str()
		if err != nil {
			return Object{}, err
		}
		var f float64
		if t == TypeZSet2 {
			f, err = r.binaryDouble()
		} else {
			f, err = r.textDouble()
		}
		if err != nil {
			return Object{}, err
		}
		if math.IsNaN(f) {
			return Object{}, ErrFormat // "Zset with NAN score detected"
		}
		o.Elems, o.Scores = append(o.Elems, m), append(o.Scores, f)
	}
	if t == TypeZSet2 {
		// Written greatest first (rdbSaveObject walks the skiplist from
		// its tail): Elems are ascending, as Encode expects.
		slices.Reverse(o.Elems)
		slices.Reverse(o.Scores)
	}
	return o, nil
}

// blobEntries reads a string holding a listpack (or, for the pre-7.0
// types, a ziplist) and returns its entries.
func (r *reader) blobEntries(t byte, out [][]byte) ([][]byte, error) {
	blob, err := r.str()
	if err != nil {
		return nil, err
	}
	switch t {
	case TypeListZiplist, TypeZSetZiplist, TypeHashZiplist, TypeListQuicklist:
		return r.zlEntries(blob, out)
	}
	return r.lpEntries(blob, out)
}

func decodeListBlob(r *reader, t byte) (Object, error) {
	el, err := r.blobEntries(t, nil)
	return Object{Kind: KindList, Compact: true, Elems: el}, err
}

func decodeQuicklist(r *reader, t byte) (Object, error) {
	n, err := r.count(1)
	if err != nil {
		return Object{}, err
	}
	var el [][]byte
	for i := 0; i < n; i++ {
		container := uint64(2)
		if t == TypeListQuicklist2 {
			var enc bool
			container, enc, err = r.length()
			if err != nil || enc || container != 1 && container != 2 {
				return Object{}, ErrFormat // "Quicklist integrity check failed."
			}
		}
		if container == 1 { // a plain node: one element
			s, err := r.str()
			if err != nil || len(s) == 0 {
				return Object{}, ErrFormat
			}
			el = append(el, s)
			continue
		}
		if el, err = r.blobEntries(t, el); err != nil {
			return Object{}, err
		}
	}
	return Object{Kind: KindList, Elems: el}, nil
}

func decodeIntset(r *reader, _ byte) (Object, error) {
	blob, err := r.str()
	if err != nil {
		return Object{}, err
	}
	el, err := r.intsetMembers(blob, nil)
	return Object{Kind: KindSet, Compact: true, Elems: el}, err
}

func decodeZSetBlob(r *reader, t byte) (Object, error) {
	el, err := r.blobEntries(t, nil)
	if err != nil {
		return Object{}, err
	}
	if len(el)%2 != 0 {
		return Object{}, ErrFormat
	}
	o := Object{Kind: KindZSet, Compact: true, Elems: make([][]byte, 0, len(el)/2), Scores: make([]float64, 0, len(el)/2)}
	for i := 0; i < len(el); i += 2 {
		f, err := parseScore(el[i+1])
		if err != nil {
			return Object{}, err
		}
		o.Elems, o.Scores = append(o.Elems, el[i]), append(o.Scores, f)
	}
	return o, nil
}

// parseScore reads a listpack score as zzlStrtod does (strtod of the
// text; "inf", "-inf" and integers included).
func parseScore(s []byte) (float64, error) {
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, ErrFormat
		}
	}
	if math.IsNaN(f) {
		return 0, ErrFormat
	}
	return f, nil
}

func decodeHashBlob(r *reader, t byte) (Object, error) {
	el, err := r.blobEntries(t, nil)
	if err != nil {
		return Object{}, err
	}
	if len(el)%2 != 0 {
		return Object{}, ErrFormat
	}
	return Object{Kind: KindHash, Compact: true, Elems: el}, nil
}
