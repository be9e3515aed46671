package multicluster

import (
	"context"
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// ColorLabel is the label blue-green puts on workload copies and in
// Service selectors.
const ColorLabel = "porchkit.io/color"

var workloadKinds = map[string]bool{"Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true}

// colorOf is the color the revision's Services select ("" when it has
// none: a plain, not blue-green, revision).
func colorOf(rev *Revision) string {
	if rev == nil {
		return ""
	}
	for _, n := range rev.Resources {
		if n.GetKind() == "Service" {
			if v, err := n.Pipe(yaml.Lookup("spec", "selector", ColorLabel)); err == nil && v != nil && v.YNode().Value != "" {
				return v.YNode().Value
			}
		}
	}
	return ""
}

// colored returns copies of the workloads of resources renamed
// "<name>-<color>" and labelled with the color (selector and pod
// template), the Services selecting color, and the rest unchanged.
func colored(resources []*yaml.RNode, color string) (workloads, services, rest []*yaml.RNode, err error) {
	for _, n := range resources {
		c := n.Copy()
		switch {
		case workloadKinds[c.GetKind()]:
			if err := c.SetName(n.GetName() + "-" + color); err != nil {
				return nil, nil, nil, err
			}
			if err := c.PipeE(yaml.LookupCreate(yaml.MappingNode, "spec", "selector", "matchLabels"), yaml.SetField(ColorLabel, yaml.NewStringRNode(color))); err != nil {
				return nil, nil, nil, err
			}
			if err := c.PipeE(yaml.LookupCreate(yaml.MappingNode, "spec", "template", "metadata", "labels"), yaml.SetField(ColorLabel, yaml.NewStringRNode(color))); err != nil {
				return nil, nil, nil, err
			}
			workloads = append(workloads, c)
		case c.GetKind() == "Service":
			if sel, _ := c.Pipe(yaml.Lookup("spec", "selector")); sel != nil {
				if err := sel.PipeE(yaml.SetField(ColorLabel, yaml.NewStringRNode(color))); err != nil {
					return nil, nil, nil, err
				}
			}
			services = append(services, c)
		default:
			rest = append(rest, c)
		}
	}
	return workloads, services, rest, nil
}

// oldWorkloads are the workloads of the revision a cluster runs.
func oldWorkloads(prev *Revision) []*yaml.RNode {
	if prev == nil {
		return nil
	}
	var out []*yaml.RNode
	for _, n := range prev.Resources {
		if workloadKinds[n.GetKind()] {
			out = append(out, n.Copy())
		}
	}
	return out
}

func oldServices(prev *Revision) []*yaml.RNode {
	var out []*yaml.RNode
	for _, n := range prev.Resources {
		if n.GetKind() == "Service" {
			out = append(out, n.Copy())
		}
	}
	return out
}

func concatNodes(lists ...[]*yaml.RNode) []*yaml.RNode {
	var out []*yaml.RNode
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// blueGreenSteps returns the revisions blue-green delivers in order: the
// green workloads beside blue (Services unchanged), the Services switched
// to green, and the final revision without blue. A cluster without a
// current revision gets the final one directly.
func blueGreenSteps(pkg string, prev, rev *Revision) (steps []*Revision, err error) {
	color := "blue"
	if colorOf(prev) == "blue" {
		color = "green"
	}
	workloads, services, rest, err := colored(rev.Resources, color)
	if err != nil {
		return nil, err
	}
	base := rev.ID
	final, err := NewRevision(pkg, base, concatNodes(rest, workloads, services))
	if err != nil {
		return nil, err
	}
	if prev == nil {
		return []*Revision{final}, nil
	}
	stage, err := NewRevision(pkg, base+"-stage", concatNodes(rest, oldWorkloads(prev), workloads, oldServices(prev)))
	if err != nil {
		return nil, err
	}
	switchover, err := NewRevision(pkg, base+"-switch", concatNodes(rest, oldWorkloads(prev), workloads, services))
	if err != nil {
		return nil, err
	}
	return []*Revision{stage, switchover, final}, nil
}

// blueGreen rolls rev out to one cluster blue-green: green beside blue,
// verified Available, then the Services switch, then blue goes. If green
// fails, the cluster returns to prev (green removed; the Services never
// left blue).
func (r *rollout) blueGreen(ctx context.Context, c *Cluster, prev, rev *Revision) {
	steps, err := blueGreenSteps(r.pkg.Name, prev, rev)
	if err != nil {
		r.set(c.Name, ClusterFailed, fmt.Sprintf("blue-green: %v", err))
		return
	}
	final := steps[len(steps)-1]
	if prev != nil && diffRevisions(prev, final) == "" {
		r.mu.Lock()
		r.clusters[c.Name].revision = prev.ID
		r.mu.Unlock()
		r.set(c.Name, ClusterSucceeded, "already at "+prev.ID)
		return
	}
	r.touch(c.Name, final.ID)
	names := []string{"green beside blue", "Services switched", "blue removed"}
	if len(steps) == 1 {
		names = []string{"first deployment"}
	}
	for i, step := range steps {
		if err := r.p.backend.Deliver(ctx, c, step); err != nil {
			r.fail(ctx, c.Name, fmt.Sprintf("blue-green step %q: %v", names[i], err), err)
			return
		}
		state, msg := r.await(ctx, c, step)
		if state == ClusterSucceeded {
			continue
		}
		if state == ClusterProgressing || prev == nil { // stopped, or nothing to fall back to
			r.set(c.Name, state, fmt.Sprintf("blue-green step %q: %s", names[i], msg))
			return
		}
		back := "blue kept serving"
		if err := r.p.backend.Deliver(ctx, c, prev); err != nil {
			back = fmt.Sprintf("switching back to %s failed: %v", prev.ID, err)
		} else if st, m := r.await(ctx, c, prev); st != ClusterSucceeded {
			back = fmt.Sprintf("switching back to %s: %s", prev.ID, m)
		} else {
			r.mu.Lock()
			r.clusters[c.Name].touched = false // back where it was
			r.mu.Unlock()
		}
		r.set(c.Name, state, fmt.Sprintf("blue-green step %q: %s; %s", names[i], msg, back))
		return
	}
	r.set(c.Name, ClusterSucceeded, final.ID+" serving")
}
