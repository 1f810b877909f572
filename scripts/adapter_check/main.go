// Command adapter-check asks prometheus-adapter's own config loader and query builder what it
// would do with meshops's adapter rules: it loads the config file strictly (unknown keys fail),
// builds the external-metric namers exactly as the adapter does at start-up, and for each HPA
// metric request read as JSON from stdin prints the PromQL the adapter would send to
// Prometheus, or the error the HPA would get.
//
// Usage: adapter-check CONFIG.yaml < requests.json
// requests.json: [{"metric": "...", "namespace": "...", "selector": {"label": "value"}}]
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	prom "sigs.k8s.io/prometheus-adapter/pkg/client"
	"sigs.k8s.io/prometheus-adapter/pkg/config"
	"sigs.k8s.io/prometheus-adapter/pkg/naming"
)

type request struct {
	Metric    string            `json:"metric"`
	Namespace string            `json:"namespace"`
	Selector  map[string]string `json:"selector"`
}

type answer struct {
	Metric string `json:"metric"`
	Query  string `json:"query,omitempty"`
	Error  string `json:"error,omitempty"`
}

var seriesName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*`)

func main() {
	if len(os.Args) != 2 {
		fail(fmt.Errorf("usage: adapter-check CONFIG.yaml < requests.json"))
	}
	cfg, err := config.FromFile(os.Args[1])
	if err != nil {
		fail(err)
	}
	// The only resource meshops's rules map a label to is the namespace.
	mapper := apimeta.NewDefaultRESTMapper(nil)
	mapper.Add(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, apimeta.RESTScopeRoot)
	namers, err := naming.NamersFromConfig(cfg.ExternalRules, mapper)
	if err != nil {
		fail(err)
	}
	var requests []request
	if err := json.NewDecoder(os.Stdin).Decode(&requests); err != nil {
		fail(err)
	}
	out := json.NewEncoder(os.Stdout)
	for _, req := range requests {
		if err := out.Encode(resolve(namers, req)); err != nil {
			fail(err)
		}
	}
}

// resolve finds the namer serving req.Metric for the series its seriesQuery discovers (the
// selector's metric name) and builds the query, as the adapter does per HPA request.
func resolve(namers []naming.MetricNamer, req request) answer {
	for _, namer := range namers {
		series := seriesName.FindString(string(namer.Selector()))
		name, err := namer.MetricNameForSeries(prom.Series{Name: series})
		if err != nil || name != req.Metric {
			continue
		}
		query, err := namer.QueryForExternalSeries(series, req.Namespace, labels.SelectorFromSet(req.Selector))
		if err != nil {
			return answer{Metric: req.Metric, Error: err.Error()}
		}
		return answer{Metric: req.Metric, Query: string(query)}
	}
	return answer{Metric: req.Metric, Error: "no rule serves this metric"}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "adapter-check:", err)
	os.Exit(2)
}
