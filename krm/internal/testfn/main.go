// Command testfn is a KRM function executable for krm's tests and
// benchmarks. "testfn catalog NAME" runs a catalog function (for comparing
// in-process, exec and container runs of the same code); the other modes
// misbehave on purpose to exercise the sandbox. It builds without cgo, so a
// container image can hold it alone.
package main

import (
	"crypto/sha256"
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
				// Like the catalog's images, keep every annotation as it
				// came, the index and path included.
				rw := &kio.ByteReadWriter{OmitReaderAnnotations: true, KeepReaderAnnotations: true}
				if err := framework.Execute(fn, rw); err != nil {
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
	case "spin":
		h := sha256.Sum256(nil)
		for {
			h = sha256.Sum256(h[:])
		}
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
	case "read":
		if _, err := os.ReadFile(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "read failed:", err)
			os.Exit(6)
		}
		_, _ = io.Copy(os.Stdout, os.Stdin)
	case "write":
		if err := os.WriteFile(os.Args[2], []byte("written by a function\n"), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "write failed:", err)
			os.Exit(7)
		}
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
