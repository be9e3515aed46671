package porchobs_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"k8s.io/client-go/rest"

	"github.com/nephoran/porchkit/observability"
	"github.com/nephoran/porchkit/observability/porchobs"
	"github.com/nephoran/porchkit/porch"
)

// The porch client's operations counted by outcome. The server here knows no
// package revision; any Porch serves.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`)
	}))
	defer srv.Close()

	obs := observability.New(observability.Config{})
	client, err := porch.New(&rest.Config{Host: srv.URL}, porch.Options{Instrumentation: porchobs.New(obs)})
	if err != nil {
		panic(err)
	}
	defer client.Close()
	_, err = client.PackageRevisions("default").Get(context.Background(), "blueprints.app.v1")
	fmt.Println(porch.Outcome(err))

	families, err := obs.Registry().Gather()
	if err != nil {
		panic(err)
	}
	for _, f := range families {
		if f.GetName() == "porchkit_porch_operations_total" {
			for _, m := range f.GetMetric() {
				labels := map[string]string{}
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				fmt.Println(f.GetName(), labels["operation"], labels["resource"], labels["outcome"], m.GetCounter().GetValue())
			}
		}
	}
	// Output:
	// not_found
	// porchkit_porch_operations_total get packagerevisions not_found 1
}
