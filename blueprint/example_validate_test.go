package blueprint_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/nephoran/porchkit/blueprint"
)

// Validate reports every violation of every layer at once, each with its
// path, value, rule and a fix, and as kpt function results.
func ExampleValidate() {
	bp := &blueprint.Blueprint{Name: "amf", Files: map[string]string{
		"Kptfile": "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: amf\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\n",
		"parameters.yaml": `apiVersion: blueprint.porchkit.io/v1alpha1
kind: Parameters
metadata:
  name: amf
  annotations:
    config.kubernetes.io/local-config: "true"
spec:
  schema:
    type: object
    required: [region]
    properties:
      replicas: {type: integer, minimum: 1, default: 1}
      region: {type: string, enum: [us-east-1, eu-west-1]}
`}}
	_, err := blueprint.Validate(context.Background(), bp, blueprint.Values{"replicas": 0, "region": "us-east1", "replica": 2})
	var vs blueprint.Violations
	if errors.As(err, &vs) {
		for _, v := range vs {
			fmt.Printf("%s %s = %v: rule %s at %s; fix: %s\n", v.Layer, v.Path, v.Value, v.Rule, v.DeclaredAt, v.Fix.Description)
		}
		r := vs[0].Result()
		fmt.Println(r.Field.Path, r.Field.CurrentValue, r.Field.ProposedValue)
	}
	fmt.Println(errors.Is(err, blueprint.ErrInvalidValues))
	// Output:
	// values /region = us-east1: rule enum at parameters.yaml#/properties/region/enum; fix: use "us-east-1", the closest allowed value (allowed: "us-east-1", "eu-west-1")
	// values /replica = 2: rule additionalProperties at parameters.yaml#/properties; fix: remove the key, or rename it to "replicas" (the closest declared key)
	// values /replicas = 0: rule minimum at parameters.yaml#/properties/replicas/minimum; fix: use 1, the minimum
	// /region us-east1 us-east-1
	// true
}
