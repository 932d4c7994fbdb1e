// Package admission decides whether a tenant's command may start executing.
//
// This is request admission (may this command run now, given the tenant's
// limits and the server's load?), not cache-item admission (TinyLFU-style
// "is this key worth caching?"). It never looks at keys or values.
//
// # Shape
//
// One stage, acquire -> ticket -> release, in the style of CoreDNS's shed
// plugin:
//
//	tk, reason, ok := tenant.Admit(argBytes) // before the command runs
//	if !ok { reply with an error naming reason; the command never ran }
//	run the command
//	tenant.Done(tk)                          // exactly once per admitted ticket
//
// A Controller holds what is global (the total of in-flight commands across
// tenants and the shedding thresholds); a Tenant holds one tenant's Policy
// and counters. Every refusal is counted per tenant with its Reason. The
// package imports only tiers, the standard library and golang-lru (for
// AuthGuard), and reports plain values (Stats); metrics and reply strings
// belong to the layers above.
//
// # Order of checks
//
// Admit checks, in this fixed order:
//
//  1. rate: a token bucket of Policy.Rate commands per second holding
//     Policy.Burst tokens. Without a token the command waits for one, but
//     only if the wait fits in Policy.Timeout; a longer wait is refused at
//     once (ReasonRate), without consuming a token, and is never executed
//     late. If the sleep itself overruns the timeout (an overloaded
//     scheduler), the command is refused after waking rather than run late.
//  2. concurrency: at most Policy.MaxConcurrent admitted, not yet Done
//     commands (ReasonConcurrency). Refused at once, never queued.
//  3. argument bytes: the argument bytes of the tenant's in-flight commands
//     (this one included) stay within Policy.MaxArgBytes (ReasonArgBytes).
//     A single command larger than MaxArgBytes is therefore always refused:
//     the limit is predictable rather than dependent on what else happens to
//     be running.
//  4. shedding: the global in-flight count stays within the tenant's
//     priority threshold (ReasonShed; see below).
//
// The tenant's own limits come before the global one, so a refusal names
// the tenant's own limit whenever it was hit, and ReasonShed means the
// tenant was within its limits but the server was saturated.
//
// A command waiting for a token is not in flight: it holds no concurrency
// slot, no argument bytes and no share of the global count, so a
// rate-limited tenant sleeping on its bucket cannot push other tenants into
// shedding. Before it sleeps, the other three checks are tried read-only,
// so a command that would be refused anyway is refused without waiting and
// without taking a token. Only when they pass is the token reserved. If a
// later check then refuses after all (the state changed during the sleep),
// the token is spent; that race costs the tenant one token, never another
// tenant anything.
//
// A zero limit means unlimited everywhere, except Burst: with Rate > 0,
// Burst 0 means one second's worth of Rate (at least 1), because an
// unlimited burst would be no rate limit at all. Timeout 0 means a wait for
// a token is unbounded (and there is no SLA to count against).
//
// # Token bucket
//
// The bucket is GCRA (the generic cell rate algorithm, as in ATM networks
// and redis-cell): one atomic int64, the theoretical arrival time (TAT) of
// the next command. A command at time now gets TAT' = max(TAT, now) +
// 1/Rate and must wait TAT' - Burst/Rate - now if that is positive. Admit
// is one compare-and-swap, lock-free; a refusal never touches the TAT, so
// nothing has to be cancelled. golang.org/x/time/rate was measured first
// (go1.26, 2 cores): ReserveN does not allocate once inlined, but it takes a
// mutex on every call (37 ns alone, 126 ns per call from 2 goroutines with
// time.Now), and refusing after a reservation needs CancelAt, which takes
// the mutex again and restores tokens only approximately. The GCRA needs
// neither and is a dozen lines. Its one approximation: 1/Rate is kept in
// whole nanoseconds, so a Rate of 150000/s is enforced as 149993/s, and
// rates above 1e9/s behave as 1e9/s.
//
// # Shedding signal
//
// The overload signal is the number of commands in flight across all
// tenants (admitted and not yet Done), compared with Options.MaxInFlight.
// It is cheap (one shared atomic) and it is the quantity that grows when
// the server falls behind: by Little's law, in-flight = throughput x
// service time, and with one command at a time per connection it rises
// toward the number of busy connections as the CPU saturates and every
// command takes longer. A queueing-delay signal (CoDel) would need a clock
// read and a window per command; the in-flight count needs neither.
//
// Each distinct Priority among the open tenants gets a threshold: with k
// distinct priorities ranked 0 (lowest) to k-1, rank i is shed when the
// global in-flight count would exceed
//
//	MaxInFlight x (70% + 30% x i/(k-1))
//
// so with silver (1), gold (2) and platinum (3) present, silver is refused
// from 70% of MaxInFlight, gold from 85%, and platinum only at 100%; a lone
// priority gets 100%. Thresholds are ranks, not fixed per priority number,
// so custom tiers (bronze at 0, or a priority 7) slot in without
// configuration: the lowest priority present is always shed at 70% and the
// highest never before capacity. MaxInFlight 0 disables shedding.
//
// # SLA accounting
//
// A ticket remembers when Admit was called and the tenant's Timeout at
// that moment. Done compares the service time (admission wait plus
// execution, from Admit to Done) with that Timeout and counts a violation
// when it is longer. Network and parsing time before Admit are not seen.
//
// # Cost
//
// The admitted path allocates nothing and takes no lock. Admit plus Done,
// measured by BenchmarkAdmitDone (go1.26, 2-vCPU VM, one goroutine):
//
//	no limits, shedding off     25 ns  (3 atomic adds on the tenant's line)
//	no limits, shedding on      34 ns  (+2 on the global in-flight count)
//	built-in gold tier          71 ns  (+2 monotonic clock reads for the SLA)
//	gold with a rate limit      77 ns  (+1 compare-and-swap)
//
// The clock reads use time.Since on a monotonic epoch (21 ns here) rather
// than time.Now (38-45 ns), which also reads the wall clock. With two
// goroutines hammering one tenant in a tight loop (RunParallel) the figures
// were bimodal on this shared machine, 40-80 ns or 160-270 ns per command,
// the latter when both cores really ran at once and every atomic moved a
// contended cache line; the old single-counter Limiter measured 57 ns the
// same way. The tenant's per-command counters share one padded cache line
// and the global count is counted only while shedding is enabled, to keep
// that to two lines.
//
// # AUTH attempts
//
// AuthGuard admits AUTH attempts: failures are counted per client address
// and per user name in a bounded LRU, and a key past auth_max_failures is
// locked out for a doubling time (auth_lockout .. auth_lockout_max). The
// server answers a locked-out attempt exactly as a wrong password, after
// the same hashing work.
//
// # Time
//
// All time goes through Options.Clock (Now and Sleep), so tests drive the
// bucket, the waits and the SLA with a fake clock and never sleep.
package admission
