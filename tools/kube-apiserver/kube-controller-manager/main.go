// Command kube-controller-manager is the upstream controller manager, built
// from the same module (and so the same pins) as kube-apiserver: the test
// cluster needs its namespace controller and garbage collector to behave like
// a real one when a namespace is deleted or an owner goes away.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
