package admission

import (
	"net"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// AuthGuardSize bounds how many client addresses and user names the AUTH
// throttle remembers. Past it the least recently failing are forgotten, so
// spraying random user names costs bounded memory (about 100 B an entry).
const AuthGuardSize = 65536

// AuthGuard is the admission of AUTH attempts: it throttles failed ones
// per client IP and per user name. After maxFailures consecutive failures
// a key is locked out for lockout;
// each further failure doubles the lockout, up to max. A locked-out attempt
// gets the same WRONGPASS reply after the same hashing work, so a client
// cannot tell a lockout from a wrong password. Success clears the user
// name's record; an address's record decays after max without failures.
type AuthGuard struct {
	maxFailures int
	base, max   time.Duration
	now         func() time.Time

	mu   sync.Mutex // guards seen
	seen *simplelru.LRU[string, *authRecord]
}

type authRecord struct {
	failures    int
	lockout     time.Duration
	lockedUntil time.Time
	last        time.Time // latest failure
}

// NewAuthGuard is a guard locking a key out after maxFailures (0: off)
// for base, doubling up to max; now is its clock.
func NewAuthGuard(maxFailures int, base, max time.Duration, now func() time.Time) *AuthGuard {
	seen, _ := simplelru.NewLRU[string, *authRecord](AuthGuardSize, nil)
	return &AuthGuard{maxFailures: maxFailures, base: base, max: max, now: now, seen: seen}
}

func guardKeys(addr, user string) (ipKey, userKey string) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	ipKey = "ip:" + host
	if user != "" && user != "default" {
		userKey = "user:" + user
	}
	return ipKey, userKey
}

// records calls fn under g.mu with the client address's key and then,
// when the attempt names a user, the user's key, until fn returns true
// (which records returns); nothing when the guard is off.
func (g *AuthGuard) records(addr, user string, fn func(k string, now time.Time) bool) bool {
	if g == nil || g.maxFailures <= 0 {
		return false
	}
	ipKey, userKey := guardKeys(addr, user)
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	return fn(ipKey, now) || userKey != "" && fn(userKey, now)
}

// Locked reports whether an attempt from addr for user must be refused.
func (g *AuthGuard) Locked(addr, user string) bool {
	return g.records(addr, user, func(k string, now time.Time) bool {
		r, ok := g.seen.Peek(k)
		return ok && now.Before(r.lockedUntil)
	})
}

// Failure counts a failed attempt from addr for user.
func (g *AuthGuard) Failure(addr, user string) {
	g.records(addr, user, func(k string, now time.Time) bool {
		r, ok := g.seen.Get(k)
		if !ok {
			r = &authRecord{}
			g.seen.Add(k, r)
		}
		// Failures older than the longest lockout are forgiven; nothing
		// else resets an address's count (see success).
		if !r.last.IsZero() && now.Sub(r.last) > g.max && now.After(r.lockedUntil) {
			*r = authRecord{}
		}
		r.last = now
		r.failures++
		if r.failures < g.maxFailures {
			return false
		}
		if r.lockout == 0 {
			r.lockout = g.base
		} else if r.lockout *= 2; r.lockout > g.max {
			r.lockout = g.max
		}
		r.lockedUntil = now.Add(r.lockout)
		return false // every key counts the failure
	})
}

// Success clears the user name's record only. An address's failures are
// not cleared by a success: otherwise anyone holding one valid login could
// alternate guesses (password-only AUTH tries every user at once) with
// their own AUTH and never be locked out. They decay instead, once no
// failure has come for auth_lockout_max.
func (g *AuthGuard) Success(addr, user string) {
	if g == nil || g.maxFailures <= 0 {
		return
	}
	_, userKey := guardKeys(addr, user)
	if userKey == "" {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.seen.Remove(userKey)
}
