// Package resp is tcached's RESP codec: the RESP2/RESP3 reply Writer that
// every handler writes through (writer.go), and the reply Reader with
// AppendCommand, the client side the backing tier uses to talk to Redis
// (reader.go).
//
// The package imports nothing of the module: it knows bytes, not
// commands, tenants or sockets.
//
// The Writer only encodes into a buffer; where the bytes go (the socket
// with its deadlines, an EXEC's held replies, a subscriber's queue) and
// what they cost in client memory is its Sink's business, in package
// server. The Sink is called only past FlushAt bytes, so the common reply
// makes no interface call and allocates nothing once the buffer is grown.
package resp
