package snapshot

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/tcached/tcached/family/dump"
	"github.com/tcached/tcached/rdb"
	"github.com/tcached/tcached/shard"
	"github.com/tcached/tcached/value"
)

// magic is the header's first 8 bytes: name and format version 1.
var magic = [8]byte{'T', 'C', 'S', 'N', 'A', 'P', 0, 1}

const (
	tagSection = 'T'
	tagRecord  = 'K'
	tagEnd     = 'E'
	tagFile    = 'Z'
)

// Limits on what a record may claim, so that a hostile or damaged length
// cannot make the loader allocate more than it reads (buffers grow as bytes
// arrive, see readN) or loop on nonsense.
const (
	maxKey     = 512 << 20 // Redis's key limit
	maxPayload = 4 << 30
	maxID      = 1 << 10
)

func crc(c uint64, b []byte) uint64 { return rdb.CRC64(c, b) }

// Tenant is one tenant's partition as the snapshot sees it.
type Tenant struct {
	ID     string
	Part   *shard.Partition
	Limits value.Limits // the encoding thresholds a loaded value is built within
}

// SaveStats describes one written snapshot.
type SaveStats struct {
	Tenants int
	Keys    int64
	Bytes   int64
	// Skipped counts keys of a type with no payload encoder, by type.
	Skipped map[string]int64
}

// ErrCorrupt reports a snapshot that fails its checks.
var ErrCorrupt = errors.New("snapshot: corrupt or truncated")

type rec struct {
	db          int
	keyOff, key int
	expireAt    int64
	c           dump.Copied
}

// Write streams the tenants' partitions to w in the format above.
func Write(w io.Writer, tenants []Tenant, now int64) (SaveStats, error) {
	st := SaveStats{Skipped: map[string]int64{}}
	cw := &countWriter{w: w}
	bw := bufio.NewWriterSize(cw, 1<<20)
	var hdr [16]byte
	copy(hdr[:], magic[:])
	binary.LittleEndian.PutUint64(hdr[8:], uint64(now))
	fileCRC := crc(0, hdr[:])
	bw.Write(hdr[:])
	var (
		arena   []byte
		recs    []rec
		buf     []byte
		payload []byte
	)
	for _, t := range tenants {
		buf = append(buf[:0], tagSection)
		buf = binary.AppendUvarint(buf, uint64(len(t.ID)))
		buf = append(buf, t.ID...)
		sec := crc(0, buf)
		if _, err := bw.Write(buf); err != nil {
			return st, err
		}
		var n uint64
		for i := range t.Part.Shards() {
			arena, recs = arena[:0], recs[:0]
			t.Part.WalkShard(i, func(db int, key []byte, e shard.Entry) {
				off := len(arena)
				arena = append(arena, key...)
				var c dump.Copied
				var ok bool
				arena, c, ok = dump.CopyEntry(arena, e)
				if !ok {
					arena = arena[:off]
					st.Skipped[e.Type.String()]++
					return
				}
				recs = append(recs, rec{db: db, keyOff: off, key: len(key), expireAt: e.ExpireAt, c: c})
			})
			// The lock is released: encode and write.
			for _, r := range recs {
				buf = append(buf[:0], tagRecord, byte(r.db))
				buf = binary.AppendUvarint(buf, uint64(r.key))
				buf = append(buf, arena[r.keyOff:r.keyOff+r.key]...)
				buf = binary.AppendUvarint(buf, uint64(max(r.expireAt, 0)))
				// The payload goes after its length; build it apart.
				var err error
				payload, err = dump.Payload(payload[:0], r.c, t.Limits)
				if err != nil {
					st.Skipped[r.c.Type.String()]++
					continue
				}
				buf = binary.AppendUvarint(buf, uint64(len(payload)))
				sec = crc(crc(sec, buf), payload)
				if _, err := bw.Write(buf); err != nil {
					return st, err
				}
				if _, err := bw.Write(payload); err != nil {
					return st, err
				}
				n++
			}
		}
		buf = append(buf[:0], tagEnd)
		buf = binary.AppendUvarint(buf, n)
		sec = crc(sec, buf)
		buf = binary.LittleEndian.AppendUint64(buf, sec)
		if _, err := bw.Write(buf); err != nil {
			return st, err
		}
		st.Tenants++
		st.Keys += int64(n)
	}
	buf = append(buf[:0], tagFile)
	buf = binary.AppendUvarint(buf, uint64(len(tenants)))
	fileCRC = crc(fileCRC, buf)
	buf = binary.LittleEndian.AppendUint64(buf, fileCRC)
	if _, err := bw.Write(buf); err != nil {
		return st, err
	}
	err := bw.Flush()
	st.Bytes = cw.n
	return st, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Save writes the snapshot to path atomically: a temporary file in path's
// directory, fsynced, renamed over path, then the directory fsynced. On
// any error the previous file at path is untouched and the temporary file
// is removed.
func Save(path string, tenants []Tenant, now int64) (st SaveStats, err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return st, err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if st, err = Write(f, tenants, now); err != nil {
		return st, err
	}
	if err = f.Sync(); err != nil {
		return st, err
	}
	if err = f.Close(); err != nil {
		return st, err
	}
	if err = os.Rename(tmp, path); err != nil {
		return st, err
	}
	if d, derr := os.Open(dir); derr == nil {
		derr = d.Sync()
		d.Close()
		if derr != nil {
			return st, derr
		}
	}
	return st, nil
}

// LoadStats describes one load.
type LoadStats struct {
	Tenants int   // sections loaded into a configured tenant
	Keys    int64 // keys stored
	Expired int64 // keys dropped: already expired
	// OverQuota counts keys dropped because the tenant's quota could not
	// hold them (refused, or evicted by later keys of the load).
	OverQuota int64
	// Undecodable counts records whose payload did not decode (a type this
	// version does not know) in sections whose checksum held.
	Undecodable int64
	Unknown     []string // sections of tenants no longer configured (skipped)
	Corrupt     string   // the tenant whose section broke, when Read failed
	Created     time.Time
}

// Lookup finds a configured tenant by id.
type Lookup func(id string) (Tenant, bool)

// Progress, when not nil, is called about every progressEvery keys.
type Progress func(keys int64, bytes int64)

const progressEvery = 1 << 16

// Read loads a snapshot from r into the tenants lookup finds. On a failed
// check it returns an error wrapping ErrCorrupt, having emptied the tenant
// whose section broke; the sections read before stay loaded. It never
// panics, whatever r holds.
func Read(r io.Reader, lookup Lookup, now int64, progress Progress) (st LoadStats, err error) {
	cr := &crcReader{r: bufio.NewReaderSize(r, 1<<20)}
	var hdr [16]byte
	if _, err := io.ReadFull(cr, hdr[:]); err != nil {
		return st, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	if [8]byte(hdr[:8]) != magic {
		return st, fmt.Errorf("%w: not a tcached snapshot (bad magic or version)", ErrCorrupt)
	}
	st.Created = time.UnixMilli(int64(binary.LittleEndian.Uint64(hdr[8:])))
	fileCRC := cr.crc
	var (
		key, payload []byte
		sections     uint64
		total        int64
	)
	for {
		cr.crc = 0
		tag, err := cr.ReadByte()
		if err != nil {
			return st, fmt.Errorf("%w: missing end marker: %v", ErrCorrupt, err)
		}
		if tag == tagFile {
			n, err := binary.ReadUvarint(cr)
			if err != nil {
				return st, fmt.Errorf("%w: end marker: %v", ErrCorrupt, err)
			}
			fileCRC = crc(fileCRC, []byte{tagFile})
			fileCRC = crc(fileCRC, binary.AppendUvarint(nil, n))
			var sum [8]byte
			if _, err := io.ReadFull(cr, sum[:]); err != nil {
				return st, fmt.Errorf("%w: end marker: %v", ErrCorrupt, err)
			}
			if binary.LittleEndian.Uint64(sum[:]) != fileCRC || n != sections {
				return st, fmt.Errorf("%w: end marker checksum or section count", ErrCorrupt)
			}
			return st, nil
		}
		if tag != tagSection {
			return st, fmt.Errorf("%w: unexpected byte 0x%02x where a section starts", ErrCorrupt, tag)
		}
		idLen, err := binary.ReadUvarint(cr)
		if err != nil || idLen > maxID {
			return st, fmt.Errorf("%w: section header", ErrCorrupt)
		}
		id, err := readN(cr, nil, idLen)
		if err != nil {
			return st, fmt.Errorf("%w: section header: %v", ErrCorrupt, err)
		}
		t, ok := lookup(string(id))
		if !ok {
			st.Unknown = append(st.Unknown, string(id))
		}
		var before int
		if ok {
			before = liveKeys(t.Part)
		}
		var puts int64
		fail := func(format string, a ...any) (LoadStats, error) {
			if ok {
				for db := range shard.NumDBs {
					t.Part.Flush(db)
				}
			}
			st.Corrupt = string(id)
			return st, fmt.Errorf("%w: tenant %q: %s", ErrCorrupt, id, fmt.Sprintf(format, a...))
		}
		var n uint64
		for {
			tag, err := cr.ReadByte()
			if err != nil {
				return fail("section ends early: %v", err)
			}
			if tag == tagEnd {
				break
			}
			if tag != tagRecord {
				return fail("unexpected byte 0x%02x in a section", tag)
			}
			db, err := cr.ReadByte()
			if err != nil || int(db) >= shard.NumDBs {
				return fail("bad record db")
			}
			kl, err := binary.ReadUvarint(cr)
			if err != nil || kl > maxKey {
				return fail("bad key length")
			}
			if key, err = readN(cr, key[:0], kl); err != nil {
				return fail("key: %v", err)
			}
			exp, err := binary.ReadUvarint(cr)
			if err != nil || exp > 1<<62 {
				return fail("bad expiry")
			}
			pl, err := binary.ReadUvarint(cr)
			if err != nil || pl > maxPayload {
				return fail("bad payload length")
			}
			if payload, err = readN(cr, payload[:0], pl); err != nil {
				return fail("payload: %v", err)
			}
			n++
			total++
			if progress != nil && total%progressEvery == 0 {
				progress(total, cr.n)
			}
			if !ok {
				continue
			}
			if exp != 0 && int64(exp) <= now {
				st.Expired++
				continue
			}
			quota := t.Part.Quota()
			e, err := dump.EntryFromPayload(payload, t.Limits, func(n int) bool { return int64(n) <= quota })
			if err != nil {
				st.Undecodable++
				continue
			}
			e.ExpireAt = int64(exp)
			err = t.Part.Mutate(int(db), key, func(shard.Entry, bool) (shard.Entry, shard.Action, error) {
				return e, shard.Put, nil
			})
			if err != nil {
				st.OverQuota++
				continue
			}
			puts++
		}
		count, err := binary.ReadUvarint(cr)
		if err != nil {
			return fail("section end: %v", err)
		}
		want := cr.crc
		var sum [8]byte
		if _, err := io.ReadFull(cr, sum[:]); err != nil {
			return fail("section end: %v", err)
		}
		if binary.LittleEndian.Uint64(sum[:]) != want || count != n {
			return fail("checksum mismatch")
		}
		sections++
		if ok {
			st.Tenants++
			after := liveKeys(t.Part)
			stored := int64(after - before)
			st.Keys += stored
			st.OverQuota += puts - stored
		}
	}
}

func liveKeys(p *shard.Partition) int {
	n := 0
	for db := range shard.NumDBs {
		n += p.Len(db)
	}
	return n
}

// readN reads exactly n bytes into dst[:0], growing the buffer as bytes
// arrive (at most doubling what was read), so a length claimed by a
// damaged file costs no more memory than the file holds.
func readN(r io.Reader, dst []byte, n uint64) ([]byte, error) {
	dst = dst[:0]
	for uint64(len(dst)) < n {
		want := n - uint64(len(dst))
		chunk := uint64(max(len(dst), 64<<10))
		chunk = min(chunk, want)
		start := len(dst)
		dst = append(dst, make([]byte, chunk)...)
		if _, err := io.ReadFull(r, dst[start:]); err != nil {
			return dst[:start], err
		}
	}
	return dst, nil
}

// crcReader counts and checksums the bytes read through it.
type crcReader struct {
	r   *bufio.Reader
	crc uint64
	n   int64
}

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.crc = crc(c.crc, p[:n])
	c.n += int64(n)
	return n, err
}

func (c *crcReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.crc = crc(c.crc, []byte{b})
		c.n++
	}
	return b, err
}

// Load opens path and Reads it. A missing file is not an error: it
// returns os.ErrNotExist (wrapped) for the caller to log as a cold start.
func Load(path string, lookup Lookup, now int64, progress Progress) (LoadStats, error) {
	f, err := os.Open(path)
	if err != nil {
		return LoadStats{}, err
	}
	defer f.Close()
	return Read(f, lookup, now, progress)
}

// SkippedString renders SaveStats.Skipped for a log line.
func (s SaveStats) SkippedString() string {
	if len(s.Skipped) == 0 {
		return ""
	}
	names := make([]string, 0, len(s.Skipped))
	for k := range s.Skipped {
		names = append(names, k)
	}
	sort.Strings(names)
	out := ""
	for i, k := range names {
		if i > 0 {
			out += ","
		}
		out += fmt.Sprintf("%s=%d", k, s.Skipped[k])
	}
	return out
}

// RemoveStale removes temporary files a save killed midway left beside
// path (Save's path+".tmp-*"); call it at start, before any save. It
// returns how many it removed.
func RemoveStale(path string) int {
	m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), globEscape(filepath.Base(path))+".tmp-*"))
	n := 0
	for _, f := range m {
		if os.Remove(f) == nil {
			n++
		}
	}
	return n
}

func globEscape(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', '\\':
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}
