//go:build !linux

package server

// watchHangup: without POLLRDHUP a blocked client's hang-up is noticed
// when its wait ends (hangup_linux.go).
func (c *client) watchHangup() (gone <-chan struct{}, stop func()) { return nil, func() {} }
