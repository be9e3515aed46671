package porchenv

import (
	"context"
	"net"
)

// dialTCP succeeds when something accepts connections on addr.
func dialTCP(ctx context.Context, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}
