// Package command is the command spec: one row (Spec) per command, and
// the context (Ctx) its handler runs with. It sits between package server,
// which assembles the table and dispatches, and the command families
// (family/...), which export their rows; a family imports command, resp,
// shard and value, never server or another family.
//
// # One row per command
//
// A Spec declares, once, everything the rest of the server derives from:
// the name (subcommands as Redis's "parent|sub", under a Container), the
// arity with Redis's sign convention, the Flags (write, read, admin,
// no-auth, denyoom, fast, transaction control, operator, allowed in
// RESP2's subscribed context), the key positions (first, last, step, as
// COMMAND reports them) with WriteKeys for commands whose written keys a
// range cannot describe (COPY, MOVE), the answer to a read shed under
// overload (Miss), and how the command runs in front of Redis Cluster
// (Backed, a BackedMode that package backed implements). Dispatch's
// checks, role permissions, WATCH marking, COMMAND and COMMAND INFO
// (Spec.WriteInfo), ACL categories, shedding and backed mode all read the
// row; nothing keys behaviour on a command's name elsewhere, and a
// handler learns which command it runs from Ctx.Spec, never from args[0].
// Tables are built by functions (each family's Specs), never at init.
//
// # The handler's context
//
// A Handler gets a Ctx: the reply Writer, the tenant's partition and
// selected db, the clock, the tier's default TTL, a reusable scratch
// buffer, the tenant's collection-encoding thresholds (Enc), and Conn, the
// server's side of the connection for what a handler cannot do with the
// partition alone (checkpoints of long commands, blocking, waking blocked
// clients, mapping errors to replies).
// One Ctx lives in each connection and dispatch refreshes it before every
// command, so running a handler allocates nothing.
//
// # Shared by the families
//
// The read-modify-write helper for collections (coll.go: CollWrite, for
// every collection type, each with a compact and a big encoding: it plans
// an in-place edit of a big value and commits it once the partition
// reserved its growth) and CollEntry for reads, the tenant's encoding thresholds
// (encodings.go: CONFIG SET hash-max-listpack-entries and friends, read
// through Ctx.Limits), Redis's number
// parsing (parse.go: string2ll, string2ld and ld2string), glob matching
// (glob.go, a port of stringmatchlen with its nesting limit), SCAN's
// options (scan.go), HELP replies (help.go), the shed-read answers
// (miss.go), and the data commands' reply strings, spelled exactly as
// Redis 7 spells them (errors.go).
package command
