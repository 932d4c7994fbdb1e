// Package resp is tcached's one RESP codec, in three parts, one per
// direction the bytes travel:
//
//   - Parser (parser.go), the server reading requests: multibulk and
//     inline commands, incrementally over the connection's buffer, bounded
//     by Redis's protocol limits (Limits) and refusing what breaks them
//     with Redis's exact protocol error text (ProtocolError).
//   - Writer (writer.go), the server writing replies: RESP2 or RESP3, the
//     encoding every handler writes through.
//   - Reader (reader.go), a client reading replies, and AppendCommand, a
//     client writing a request: the backing tier's connections to Redis.
//
// The package imports nothing of the module: it knows bytes, not
// commands, tenants or sockets. Where the bytes come from and go to, and
// what buffering them costs a client, is the caller's business (package
// server, package backing).
//
// # Two peers, two kinds of bounds
//
// The Parser reads an untrusted client in a shared process, so it keeps
// Redis's limits and never lets an announced length decide how much is
// buffered; it works on a caller-owned buffer, returns arguments that
// alias it, and allocates nothing on the hot path (TestParserNoAllocs),
// as a connection parses every command through it. The Reader reads a
// server tcached chose (Redis): it accepts all of RESP3, bounds bulk size,
// element count and nesting against a broken peer, allocates as data
// arrives, and returns plain Go values.
//
// The two read RESP's integers in different grammars on purpose: requests
// as Redis's string2ll does (no '+', no leading zeros), replies as the
// RESP specification allows (":+5"). parseInt is the one integer parser,
// with that difference as its argument.
//
// # The Writer's sink
//
// The Writer only encodes into a buffer; where the bytes go (the socket
// with its deadlines, an EXEC's held replies, a subscriber's queue) and
// what they cost in client memory is its Sink's business, in package
// server. The Sink is called only past FlushAt bytes, so the common reply
// makes no interface call and allocates nothing once the buffer is grown.
package resp
