// Command etcd runs the etcd server of go.etcd.io/etcd/server/v3 for
// porchkit's local test stack.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
