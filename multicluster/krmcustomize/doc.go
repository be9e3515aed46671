// Package krmcustomize specialises a multicluster package for each cluster
// with KRM functions, the way Nephio specialises package variants.
//
// A Customizer is a multicluster.Customizer: for every cluster a rollout
// targets, it runs the functions Functions returns for that cluster, in
// order, over the package's resources plus an injected ConfigMap named
// ClusterContextName that holds the cluster's facts (name, region, zone,
// environment, capabilities and labels), so that functions such as
// apply-replacements can read them. Resources marked as local config, that
// ConfigMap among them, are dropped from what is delivered.
//
//	prop := multicluster.NewPropagator(manager, backend, multicluster.PropagatorConfig{
//		Customizer: &krmcustomize.Customizer{Executor: krm.NewRunner(krm.RunnerConfig{}), Functions: perCluster},
//	})
//
// It lives apart from multicluster so that a program that rolls packages
// out without KRM functions does not link the krm package.
package krmcustomize
