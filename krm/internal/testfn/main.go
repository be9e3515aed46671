// Command testfn is a KRM function executable for krm's tests and
// benchmarks. "testfn catalog NAME" runs a catalog function (for comparing
// in-process and exec runs of the same code); the other modes misbehave on
// purpose to exercise the sandbox.
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"

	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/kio"

	"github.com/nephoran/porchkit/krm/catalog"
)

// hog holds what the "alloc" mode allocates, so that none of it is freed.
var hog [][]byte

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: testfn MODE")
		os.Exit(2)
	}
	switch mode := os.Args[1]; mode {
	case "catalog":
		for image, fn := range catalog.Functions() {
			if strings.HasPrefix(image, os.Args[2]+":") {
				if err := framework.Execute(fn, &kio.ByteReadWriter{}); err != nil {
					os.Exit(1)
				}
				return
			}
		}
		fmt.Fprintln(os.Stderr, "no such catalog function")
		os.Exit(2)
	case "echo":
		if _, err := io.Copy(os.Stdout, os.Stdin); err != nil {
			os.Exit(1)
		}
	case "fail":
		_, _ = io.Copy(io.Discard, os.Stdin)
		fmt.Print("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nresults:\n- message: the input is wrong\n  severity: error\n")
		fmt.Fprintln(os.Stderr, "failing on purpose")
		os.Exit(1)
	case "garbage":
		fmt.Print("this is not a resource list: [")
	case "hang":
		time.Sleep(time.Hour)
	case "alloc":
		for {
			b := make([]byte, 64<<20)
			for i := range b {
				b[i] = 1
			}
			hog = append(hog, b)
		}
	case "fork":
		for {
			if err := exec.Command(os.Args[0], "hang").Start(); err != nil {
				fmt.Fprintln(os.Stderr, "fork failed:", err)
				os.Exit(3)
			}
		}
	case "network":
		conn, err := net.DialTimeout("tcp", os.Args[2], 2*time.Second)
		if err != nil {
			fmt.Fprintln(os.Stderr, "dial failed:", err)
			os.Exit(4)
		}
		conn.Close()
		_, _ = io.Copy(os.Stdout, os.Stdin)
	case "flood":
		chunk := strings.Repeat("x", 1<<20)
		for {
			if _, err := os.Stdout.WriteString(chunk); err != nil {
				os.Exit(5)
			}
		}
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", mode)
		os.Exit(2)
	}
}
