// Package pubsub is one tenant's pub/sub registry: which subscribers hold
// which channels and patterns, and the framing of the messages PUBLISH
// hands them. Package server owns the rest (the commands, each
// subscriber's bounded output queue and its writer, client memory); this
// package only routes, so it can be tested without a socket.
//
// Every tenant has its own Registry: a channel or pattern name is the
// tenant's, and PUBLISH reaches only the publisher's tenant. A pattern is
// a Redis glob (command.GlobMatch), matched against every published
// channel, as Redis does.
package pubsub

import (
	"sort"
	"strconv"
	"sync"

	"github.com/tcached/tcached/command"
)

// Subscriber receives messages. Deliver gets the message's element count
// (3 for message, 4 for pmessage) and its elements as RESP bulk strings;
// the subscriber writes the header (a push in RESP3, an array in RESP2).
// It must not block: PUBLISH runs on the publisher's goroutine.
//
// Settled reports whether the subscriber's connection has no input it
// sent that its server has not run yet. An unsettled subscriber may have
// an UNSUBSCRIBE on its way: Publish leaves it to the caller, who waits
// for it to settle and then finishes with PublishLate (see Publish). It
// must be cheap and must not block.
type Subscriber interface {
	comparable
	Deliver(n int, body []byte)
	Settled() bool
}

// Registry is one tenant's channels and patterns. The zero value is ready
// to use; it is safe for concurrent use.
type Registry[S Subscriber] struct {
	mu       sync.RWMutex // guards channels and patterns
	channels map[string]map[S]struct{}
	patterns map[string]*patternSubs[S]
}

type patternSubs[S Subscriber] struct {
	pat  []byte
	subs map[S]struct{}
}

// AddChannel subscribes s to ch.
func (r *Registry[S]) AddChannel(ch string, s S) {
	r.mu.Lock()
	if r.channels == nil {
		r.channels = make(map[string]map[S]struct{})
	}
	m := r.channels[ch]
	if m == nil {
		m = make(map[S]struct{}, 1)
		r.channels[ch] = m
	}
	m[s] = struct{}{}
	r.mu.Unlock()
}

// RemoveChannel unsubscribes s from ch.
func (r *Registry[S]) RemoveChannel(ch string, s S) {
	r.mu.Lock()
	if m := r.channels[ch]; m != nil {
		delete(m, s)
		if len(m) == 0 {
			delete(r.channels, ch)
		}
	}
	r.mu.Unlock()
}

// AddPattern subscribes s to the glob p.
func (r *Registry[S]) AddPattern(p string, s S) {
	r.mu.Lock()
	if r.patterns == nil {
		r.patterns = make(map[string]*patternSubs[S])
	}
	e := r.patterns[p]
	if e == nil {
		e = &patternSubs[S]{pat: []byte(p), subs: make(map[S]struct{}, 1)}
		r.patterns[p] = e
	}
	e.subs[s] = struct{}{}
	r.mu.Unlock()
}

// RemovePattern unsubscribes s from the glob p.
func (r *Registry[S]) RemovePattern(p string, s S) {
	r.mu.Lock()
	if e := r.patterns[p]; e != nil {
		delete(e.subs, s)
		if len(e.subs) == 0 {
			delete(r.patterns, p)
		}
	}
	r.mu.Unlock()
}

// Publish delivers the message to every settled subscriber of ch and of
// every pattern subscription matching it, and returns how many it
// delivered to (a subscriber of the channel and of a matching pattern
// counts twice, as in Redis), with the unsettled ones appended to late.
//
// # Ordering across connections
//
// A client that sends PUNSUBSCRIBE on one connection and, without reading
// its reply, PUBLISH on another expects the message not to be delivered
// (Redis's test suite does): Redis runs both on one thread, in the order
// they arrived. A goroutine per connection may run the PUBLISH first, so a
// subscriber whose connection still holds unrun input is not delivered to
// here: the caller waits until it has run what it had sent, then calls
// PublishLate, which delivers to those still subscribed.
func (r *Registry[S]) Publish(ch, payload []byte, late []S) (int, []S) {
	return r.PublishAs(msgKind, ch, payload, late)
}

var msgKind = []byte("message")

// PublishAs is Publish with kind as the message's first element (Redis's
// "smessage" for a registry of shard channels, which holds no patterns).
func (r *Registry[S]) PublishAs(kind, ch, payload []byte, late []S) (int, []S) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	n := 0
	if subs := r.channels[string(ch)]; len(subs) > 0 {
		body := AppendBulks(nil, kind, ch, payload)
		for s := range subs {
			if !s.Settled() {
				late = append(late, s)
				continue
			}
			s.Deliver(3, body)
			n++
		}
	}
	for _, e := range r.patterns {
		if !command.GlobMatch(e.pat, ch, false) {
			continue
		}
		body := AppendBulks(nil, []byte("pmessage"), e.pat, ch, payload)
		for s := range e.subs {
			if !s.Settled() {
				late = append(late, s)
				continue
			}
			s.Deliver(4, body)
			n++
		}
	}
	return n, late
}

// PublishLate finishes a Publish for the subscribers it left in late (a
// subscriber may be there twice): each gets the message once per
// subscription it still holds, and the count is returned.
func (r *Registry[S]) PublishLate(ch, payload []byte, late []S) int {
	return r.PublishLateAs(msgKind, ch, payload, late)
}

// PublishLateAs is PublishLate with kind as the message's first element.
func (r *Registry[S]) PublishLateAs(kind, ch, payload []byte, late []S) int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	n := 0
	for i, s := range late {
		dup := false
		for _, t := range late[:i] {
			dup = dup || t == s
		}
		if dup {
			continue
		}
		if _, ok := r.channels[string(ch)][s]; ok {
			s.Deliver(3, AppendBulks(nil, kind, ch, payload))
			n++
		}
		for _, e := range r.patterns {
			if _, ok := e.subs[s]; ok && command.GlobMatch(e.pat, ch, false) {
				s.Deliver(4, AppendBulks(nil, []byte("pmessage"), e.pat, ch, payload))
				n++
			}
		}
	}
	return n
}

// Channels are the channels with at least one subscriber matching the
// glob pattern, sorted (PUBSUB CHANNELS).
func (r *Registry[S]) Channels(pattern []byte) []string {
	var out []string
	r.mu.RLock()
	for ch := range r.channels {
		if command.GlobMatch(pattern, []byte(ch), false) {
			out = append(out, ch)
		}
	}
	r.mu.RUnlock()
	sort.Strings(out)
	return out
}

// NumSub counts each channel's subscribers, pattern subscriptions not
// included (PUBSUB NUMSUB).
func (r *Registry[S]) NumSub(channels [][]byte) []int {
	counts := make([]int, len(channels))
	r.mu.RLock()
	for i, ch := range channels {
		counts[i] = len(r.channels[string(ch)])
	}
	r.mu.RUnlock()
	return counts
}

// NumPat counts the distinct patterns subscribed to (PUBSUB NUMPAT).
func (r *Registry[S]) NumPat() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.patterns)
}

// AppendBulks appends items to b as RESP bulk strings.
func AppendBulks(b []byte, items ...[]byte) []byte {
	for _, it := range items {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(it)), 10)
		b = append(b, '\r', '\n')
		b = append(b, it...)
		b = append(b, '\r', '\n')
	}
	return b
}

// Names is a connection's channels (or patterns): membership plus a
// stable order for UNSUBSCRIBE without arguments. The zero value is
// empty; it is not safe for concurrent use.
type Names struct {
	idx  map[string]int
	list []string
}

// Len is how many names the set holds.
func (n *Names) Len() int { return len(n.list) }

// List is the names, in an order that stays stable between changes. The
// caller must not keep it across Add or Remove.
func (n *Names) List() []string { return n.list }

// Add adds s; it reports false if s was there.
func (n *Names) Add(s string) bool {
	if _, ok := n.idx[s]; ok {
		return false
	}
	if n.idx == nil {
		n.idx = make(map[string]int)
	}
	n.idx[s] = len(n.list)
	n.list = append(n.list, s)
	return true
}

// Remove removes s; it reports false if s was not there.
func (n *Names) Remove(s string) bool {
	i, ok := n.idx[s]
	if !ok {
		return false
	}
	last := len(n.list) - 1
	n.list[i] = n.list[last]
	n.idx[n.list[i]] = i
	n.list = n.list[:last]
	delete(n.idx, s)
	return true
}
