package blueprint_test

import (
	"context"
	"fmt"
	"testing/fstest"

	"github.com/nephoran/porchkit/blueprint"
)

// A catalog over an fs.FS (a go:embed tree works the same), resolving a
// constraint to the newest match and serving the Engine that generates
// packages.
func ExampleCatalog() {
	library := fstest.MapFS{ // or: //go:embed library; var library embed.FS
		"amf/v1/Kptfile":     {Data: []byte("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: amf\n")},
		"amf/v1.1.0/Kptfile": {Data: []byte("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: amf\n")},
		"amf/v1.1.0/cm.yaml": {Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: amf\ndata:\n  replicas: \"2\"\n")},
		"amf/v2/Kptfile":     {Data: []byte("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: amf\n")},
	}
	src, err := blueprint.NewFSSource("library", library)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	cat, err := blueprint.NewCatalog(ctx, blueprint.CatalogOptions{}, src)
	if err != nil {
		panic(err)
	}
	defer cat.Close()

	e, err := cat.Resolve(ctx, "amf", "^1")
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Name, e.Version, e.VersionFrom, e.Location)

	_, err = cat.Resolve(ctx, "amf", ">=3")
	fmt.Println(err)

	pkg, err := blueprint.NewEngine(cat).Generate(ctx, blueprint.Ref{Name: "amf", Version: "~1.1"}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(pkg.Blueprint, pkg.Files["cm.yaml"] != "")
	// Output:
	// amf 1.1.0 workspace amf/v1.1.0
	// blueprint: no version of amf satisfies ">=3"; published versions: v2.0.0, v1.1.0, v1.0.0
	// amf@v1.1.0 true
}
