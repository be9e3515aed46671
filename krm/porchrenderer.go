package porchtest

import (
	"context"
	"errors"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"

	"github.com/nephoran/porchkit/krm"
)

// KRMRenderer renders packages through a krm executor, the way Porch renders
// the Kptfile pipeline on every change; pass it to WithRenderer. The results
// come back from Push as Porch's render status.
func KRMRenderer(exec krm.Executor) Renderer {
	return func(ctx context.Context, files map[string]string) (map[string]string, *porchapi.RenderStatus, error) {
		out, result, err := krm.Render(ctx, exec, files)
		if err != nil {
			return nil, nil, err
		}
		return out, renderStatus(result), nil
	}
}

// renderStatus converts krm's results to Porch's FunctionResultList shape.
func renderStatus(r *krm.RenderResult) *porchapi.RenderStatus {
	st := &porchapi.RenderStatus{}
	for _, run := range r.Runs {
		item := &porchapi.Result{Image: run.Function, ExitCode: run.Run.ExitCode}
		var fe *krm.FunctionError
		if errors.As(run.Err, &fe) {
			item.Stderr, item.ExitCode = fe.Stderr, fe.ExitCode
		}
		for _, res := range run.Results {
			item.Results = append(item.Results, resultItem(res))
		}
		st.Result.Items = append(st.Result.Items, item)
	}
	return st
}

func resultItem(r *framework.Result) porchapi.ResultItem {
	out := porchapi.ResultItem{Message: r.Message, Severity: string(r.Severity), Tags: r.Tags}
	if r.ResourceRef != nil {
		out.ResourceRef = &porchapi.ResourceIdentifier{NameMeta: porchapi.NameMeta{Name: r.ResourceRef.Name, Namespace: r.ResourceRef.Namespace}}
		out.ResourceRef.APIVersion, out.ResourceRef.Kind = r.ResourceRef.APIVersion, r.ResourceRef.Kind
	}
	if r.File != nil {
		out.File = &porchapi.File{Path: r.File.Path, Index: r.File.Index}
	}
	if r.Field != nil {
		out.Field = &porchapi.Field{Path: r.Field.Path}
	}
	return out
}
