package backing

import (
	"strconv"
	"sync"
)

// SlotCount is the number of Redis Cluster hash slots.
const SlotCount = 16384

// slotCRC16Table is the 256-entry lookup table for CRC16/XMODEM
// (polynomial 0x1021, initial value 0, no reflection, no final XOR), the
// variant used by Redis Cluster (src/crc16.c).
var slotCRC16Table = func() (t [256]uint16) {
	for i := range t {
		crc := uint16(i) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[i] = crc
	}
	return t
}()

// slotCRC16 returns the CRC16/XMODEM checksum of b.
func slotCRC16[T ~string | ~[]byte](b T) uint16 {
	var crc uint16
	for i := 0; i < len(b); i++ {
		crc = crc<<8 ^ slotCRC16Table[byte(crc>>8)^b[i]]
	}
	return crc
}

// slotHashTag returns the part of key that is hashed: the text between the
// first '{' and the next '}' after it when that text is non-empty, otherwise
// the whole key.
func slotHashTag[T ~string | ~[]byte](key T) T {
	for i := 0; i < len(key); i++ {
		if key[i] != '{' {
			continue
		}
		for j := i + 1; j < len(key); j++ {
			if key[j] == '}' {
				if j == i+1 {
					return key // empty tag: hash the whole key
				}
				return key[i+1 : j]
			}
		}
		return key // no closing '}'
	}
	return key
}

// Slot returns the Redis Cluster hash slot of key: CRC16 (XMODEM, as in Redis's crc16.c) of the key,
// or of the text between the first '{' and the next '}' after it when that text is non-empty; mod 16384.
func Slot(key []byte) int {
	return int(slotCRC16(slotHashTag(key)) & (SlotCount - 1))
}

// SlotString is Slot for a string key. It does not allocate.
func SlotString(key string) int {
	return int(slotCRC16(slotHashTag(key)) & (SlotCount - 1))
}

var (
	slotTagOnce  sync.Once
	slotTagTable *[SlotCount]string
)

// TagForSlot returns a short string s (made of the characters 0-9a-z) such
// that SlotString("{"+s+"}") == slot, i.e. any key containing the hash tag
// "{"+s+"}" hashes to slot. The table of tags is computed once, on first use.
// TagForSlot panics if slot is not in [0, 16384).
func TagForSlot(slot int) string {
	if slot < 0 || slot >= SlotCount {
		panic("backing: TagForSlot: slot " + strconv.Itoa(slot) + " out of range")
	}
	slotTagOnce.Do(func() {
		t := new([SlotCount]string)
		remaining := SlotCount
		var buf [16]byte
		// Base-36 counters "0", "1", ..., "z", "10", ... in order, so each
		// slot gets the first (hence shortest) such tag. A little under 200k
		// candidates cover all slots.
		for i := uint64(0); remaining > 0; i++ {
			b := strconv.AppendUint(buf[:0], i, 36)
			s := slotCRC16(b) & (SlotCount - 1)
			if t[s] == "" {
				t[s] = string(b)
				remaining--
			}
		}
		slotTagTable = t
	})
	return slotTagTable[slot]
}

// Slot implements backed.Backend: the slot of the L2 name
// <prefix><tenant>:<db>:<key>, computed piecewise so that nothing is
// allocated. Neither the prefix nor a tenant id holds '{', so the name's
// hash tag, if any, is the key's own.
func (c *Cluster) Slot(tenant string, db int, key []byte) int {
	if tag := slotHashTag(key); len(tag) != len(key) {
		return int(slotCRC16(tag) & (SlotCount - 1))
	}
	crc := crc16Update(0, c.prefix)
	crc = crc16Update(crc, tenant)
	crc = crc16Byte(crc, ':')
	var d [20]byte
	crc = crc16Update(crc, strconv.AppendInt(d[:0], int64(db), 10))
	crc = crc16Byte(crc, ':')
	crc = crc16Update(crc, key)
	return int(crc & (SlotCount - 1))
}

func crc16Update[T ~string | ~[]byte](crc uint16, b T) uint16 {
	for i := 0; i < len(b); i++ {
		crc = crc<<8 ^ slotCRC16Table[byte(crc>>8)^b[i]]
	}
	return crc
}

func crc16Byte(crc uint16, b byte) uint16 { return crc<<8 ^ slotCRC16Table[byte(crc>>8)^b] }
