package fake

import (
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"

	"github.com/nephoran/porchkit/internal/eventually"
)

var errBroken = errors.New("listener broke")

// brokenListener fails every Accept, so Serve ends with an error.
type brokenListener struct{ net.Listener }

func (brokenListener) Accept() (net.Conn, error) { return nil, errBroken }

// TestServeErrorIsReported: when the HTTP server stops serving with an
// error, the error is logged and returned by Stop and Close, not dropped.
func TestServeErrorIsReported(t *testing.T) {
	var mu sync.Mutex
	var logged []string
	log := funcr.New(func(_, args string) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, args)
	}, funcr.Options{})
	s := newServer(config{deletionProtection: true}, log, nil)
	s.listen = func(network, addr string) (net.Listener, error) {
		l, err := net.Listen(network, addr)
		return brokenListener{l}, err
	}
	if err := s.serve("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 10*time.Second, func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return len(logged) > 0, "nothing logged"
	})
	if err := s.Stop(); !errors.Is(err, errBroken) {
		t.Fatalf("Stop: %v, want the serve error", err)
	}
	if err := s.Close(); !errors.Is(err, errBroken) {
		t.Fatalf("Close: %v, want the serve error", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logged) != 1 || !strings.Contains(logged[0], "listener broke") {
		t.Fatalf("logged %q", logged)
	}
}

// TestCleanStopReportsNothing: a server stopped and closed normally
// returns no error.
func TestCleanStopReportsNothing(t *testing.T) {
	s, err := NewClientBuilder().BuildServer()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
