// Command argocd-health evaluates argocd/health.lua through Argo CD's own code:
// the script is installed as a resource customization for each coffer kind,
// as the argocd-cm ConfigMap does (`resource.customizations.health.coffer.dev_<Kind>`,
// no open libraries), and each object's health is what the application
// controller shows for it (gitops-engine's GetResourceHealth, which also
// decides about objects being deleted before any script runs).
//
// Usage: argocd-health <health.lua> < objects.jsonl > health.jsonl
// One JSON object per input line; one {"status","message"} or {"error"} per
// output line, in order.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/argoproj/gitops-engine/pkg/health"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	appv1 "github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v3/util/lua"
)

// kinds are coffer's kinds; argocd/README.md installs the script for each.
var kinds = []string{"ProviderConfig", "ClusterProviderConfig", "BackupVault", "Agency", "BackupShare"}

type result struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	Error   string `json:"error,omitempty"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: argocd-health <health.lua> < objects.jsonl")
		os.Exit(2)
	}
	script, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	overrides := lua.ResourceHealthOverrides{}
	for _, kind := range kinds {
		// The key argocd-cm's `coffer.dev_<Kind>` becomes in Argo CD's settings.
		overrides["coffer.dev/"+kind] = appv1.ResourceOverride{HealthLua: string(script)}
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		if err := out.Encode(evaluate(in.Bytes(), overrides)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func evaluate(line []byte, overrides lua.ResourceHealthOverrides) result {
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(line); err != nil {
		return result{Error: "decoding the object: " + err.Error()}
	}
	status, err := health.GetResourceHealth(obj, overrides)
	if err != nil {
		return result{Error: err.Error()}
	}
	if status == nil {
		return result{Error: "Argo CD has no health check for " + obj.GroupVersionKind().String()}
	}
	return result{Status: string(status.Status), Message: status.Message}
}
