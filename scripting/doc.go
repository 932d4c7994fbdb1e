// Package scripting is tcached's Lua engine: EVAL scripts and FUNCTION
// libraries with Redis 7.0's semantics, one Engine per tenant, on
// gopher-lua (a Lua 5.1 VM written in Go). It imports resp only; the
// server (package server) runs the commands, implements Host (the
// redis.call bridge through its command table) and passes a Budget (the
// tenant's client_memory pool).
//
// # Why gopher-lua
//
// Redis embeds Lua 5.1, and scripts written for it depend on 5.1's
// semantics (unpack, table.getn, string patterns, numbers as doubles).
// gopher-lua is the maintained Lua 5.1 implementation for Go: pure Go
// (no cgo, so the race detector, cross-compilation and the Go scheduler
// see everything), with a compiler, the standard libraries and a debug
// API close to the C one. A VM written here would be a second, untested
// Lua.
//
// # What a tenant's scripts see
//
// Two Lua states per tenant, created on first use (EVAL's and the
// functions', as Redis keeps them apart), with Redis's library surface:
// base (no load, loadstring, dofile, loadfile, print, require: see below),
// string, table, math (Redis's lrand48 behind math.random), coroutine,
// cjson, cmsgpack, bit and struct (reimplemented here from Redis's C
// sources, which no Go package reproduces), and redis.* (call, pcall,
// log, setresp, sha1hex, error_reply, status_reply, set_repl,
// replicate_commands, acl_check_cmd, the REPL_* and LOG_* constants,
// REDIS_VERSION). The globals and every library table are read-only (see
// vm.go for how, without Redis's patched Lua). load and loadstring, which
// Redis 7.0 keeps, are absent: code that compiles code at run time is
// outside what a multi-tenant cache wants to run, and EVAL is the one
// way in. redis.breakpoint and redis.debug belong to the Lua debugger
// (SCRIPT DEBUG), which tcached does not have.
//
// Scripts and functions belong to their tenant: the script cache, the
// Lua states and the libraries are the Engine's, and the Engine is the
// tenant's, so another tenant's SHA is simply not there (NOSCRIPT).
//
// # Limits
//
// A run is checked every checkEvery instructions by a hook (run.go): the
// busy threshold (Host.Busy), SCRIPT KILL, script_max_time, the heap
// estimate (heap.go) and the server's fair-share checkpoint
// (Host.Yield). Functions that can allocate much in one step check first
// (string.rep, table.concat, string.format, string.gsub, cjson,
// cmsgpack, struct, coroutine.create, and every concatenation, which is
// compiled into a checked call: concat.go). A returned value is encoded
// within the connection's output limit. Calls nest at most maxCallDepth
// deep, and the register stack is bounded.
//
// String patterns (find, match, gmatch, gsub) run in a port of Lua 5.1's
// matcher (lstrlib.go) that counts its steps and reaches the hook's
// checkpoint every few thousand: a pathological pattern is stopped by
// SCRIPT KILL or script_max_time, where C Lua's (and gopher-lua's)
// matcher runs to its end.
//
// Deliberate differences from Redis: compile errors are gopher-lua's
// parser's messages ("Error compiling script (new function): " is kept),
// and so are the VM's own runtime errors; Lua numbers print as Lua 5.1
// does in tostring and concatenation, but gopher-lua's own string
// functions may print non-integers in Go's shortest form.
package scripting
