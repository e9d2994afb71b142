// promql-check reads rendered Kubernetes manifests (`helm template` output)
// on stdin, parses every PromQL expression in them with Prometheus's own
// parser, and prints the metric names they use, one per line, sorted.
//
// Expressions are taken from PrometheusRule objects (spec.groups[].rules[].expr)
// and from Grafana dashboards in ConfigMaps (every "expr" string in a data
// value that ends in .json). Grafana's range variables ($__rate_interval,
// $__interval, $__range) are replaced by 5m first: Grafana does that before
// a query reaches Prometheus. Exits 1 if any expression does not parse, or if
// there is no expression at all.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

type expression struct {
	source string
	expr   string
}

type manifest struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert  string `yaml:"alert"`
				Record string `yaml:"record"`
				Expr   string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	} `yaml:"spec"`
	Data map[string]string `yaml:"data"`
}

func main() {
	exprs, err := collect(os.Stdin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "promql-check: %v\n", err)
		os.Exit(1)
	}
	if len(exprs) == 0 {
		fmt.Fprintln(os.Stderr, "promql-check: no PromQL expression found")
		os.Exit(1)
	}
	names := map[string]bool{}
	failed := false
	for _, e := range exprs {
		if err := metricNames(e.expr, names); err != nil {
			fmt.Fprintf(os.Stderr, "promql-check: %s: %v\n  %s\n", e.source, err, e.expr)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		fmt.Println(n)
	}
	fmt.Fprintf(os.Stderr, "promql-check: %d expressions parse, %d metric names\n", len(exprs), len(sorted))
}

// collect finds every expression in the YAML documents of r.
func collect(r io.Reader) ([]expression, error) {
	var out []expression
	decoder := yaml.NewDecoder(r)
	for {
		var m manifest
		err := decoder.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading the manifests: %w", err)
		}
		switch m.Kind {
		case "PrometheusRule":
			for _, g := range m.Spec.Groups {
				for _, rule := range g.Rules {
					name := rule.Alert + rule.Record
					out = append(out, expression{fmt.Sprintf("%s/%s/%s", m.Metadata.Name, g.Name, name), rule.Expr})
				}
			}
		case "ConfigMap":
			for key, value := range m.Data {
				if !strings.HasSuffix(key, ".json") {
					continue
				}
				var doc any
				if err := json.Unmarshal([]byte(value), &doc); err != nil {
					return nil, fmt.Errorf("%s/%s: %w", m.Metadata.Name, key, err)
				}
				walk(doc, m.Metadata.Name+"/"+key, &out)
			}
		}
	}
}

// walk appends every string field named "expr" in a JSON document.
func walk(node any, source string, out *[]expression) {
	switch v := node.(type) {
	case map[string]any:
		title, _ := v["title"].(string)
		if title != "" {
			source = source + "/" + title
		}
		for key, child := range v {
			if s, ok := child.(string); ok && key == "expr" {
				*out = append(*out, expression{source, grafanaRanges.Replace(s)})
				continue
			}
			walk(child, source, out)
		}
	case []any:
		for _, child := range v {
			walk(child, source, out)
		}
	}
}

var grafanaRanges = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "5m", "$__range", "5m")

// metricNames parses expr and adds the metric names its selectors use.
func metricNames(expr string, names map[string]bool) error {
	parsed, err := parser.ParseExpr(expr)
	if err != nil {
		return err
	}
	parser.Inspect(parsed, func(node parser.Node, _ []parser.Node) error {
		selector, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		if selector.Name != "" {
			names[selector.Name] = true
			return nil
		}
		for _, m := range selector.LabelMatchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				names[m.Value] = true
			}
		}
		return nil
	})
	return nil
}
