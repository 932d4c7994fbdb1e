package backing

import (
	"encoding/binary"
	"fmt"
	"testing"
)

// TestRelayFrame: a node relays other nodes' frames, with the tenant,
// the kind of channel and the bytes intact, and drops its own and
// malformed ones.
func TestRelayFrame(t *testing.T) {
	frame := func(id string, kind byte, tenant, ch, msg string) []byte {
		f := append([]byte(id), kind)
		f = binary.AppendUvarint(f, uint64(len(tenant)))
		f = append(f, tenant...)
		f = binary.AppendUvarint(f, uint64(len(ch)))
		f = append(f, ch...)
		return append(f, msg...)
	}
	var got []string
	fn := func(tenant string, sharded bool, ch, msg []byte) {
		got = append(got, fmt.Sprintf("%s|%v|%s|%s", tenant, sharded, ch, msg))
	}
	self, other := "aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"
	relayFrame(self, frame(other, 'c', "t1", "news", "hello"), fn)
	relayFrame(self, frame(other, 's', "t:2", "a\x00b", ""), fn)
	relayFrame(self, frame(self, 'c', "t1", "news", "mine"), fn)          // own: delivered locally already
	relayFrame(self, []byte(other+"c\x05ab"), fn)                         // tenant length past the end
	relayFrame(self, append(frame(other, 'c', "t1", "", "")[:19], 9), fn) // channel length past the end
	relayFrame(self, []byte("short"), fn)
	want := []string{"t1|false|news|hello", "t:2|true|a\x00b|"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("relayed %q, want %q", got, want)
	}
}
